//! numpy's scalar semantics where Rust's operators differ: floor division and
//! remainder with the divisor's sign, division by zero, shifts past the width,
//! NaN-propagating maximum and minimum, `sign`, `logaddexp`, `nextafter`.
//! The elementwise kernels (see [`super::elementwise`]) call these.

/// Integer operations as numpy computes them (wrapping on overflow, as its
/// arrays do; division and remainder by zero give 0, as numpy's do after
/// warning).
pub trait IntMath: Copy + Ord {
    /// `x // y` (rounds towards negative infinity).
    fn floor_div(self, y: Self) -> Self;
    /// `x % y` (the sign of the divisor, as Python).
    fn py_mod(self, y: Self) -> Self;
    /// `x ** y` for `y >= 0`, wrapping (the caller refuses negative exponents).
    fn pow_wrapping(self, y: Self) -> Self;
    /// `x << y`: 0 once `y` reaches the width (or is negative).
    fn shl_np(self, y: Self) -> Self;
    /// `x >> y`: arithmetic; past the width, 0 or -1 by the sign of `x`.
    fn shr_np(self, y: Self) -> Self;
    /// -1, 0 or 1.
    fn sign(self) -> Self;
    /// `|x|` (`abs` of the smallest signed integer wraps to itself, as numpy).
    fn abs_np(self) -> Self;
    /// `-x`, wrapping (also for unsigned types, as numpy).
    fn neg_np(self) -> Self;
    /// True when negative.
    fn negative(self) -> bool;
}

macro_rules! int_math {
    ($($t:ty),*) => {$(
        impl IntMath for $t {
            fn floor_div(self, y: Self) -> Self {
                if y == 0 {
                    return 0;
                }
                let q = self.wrapping_div(y);
                if self.wrapping_rem(y) != 0 && (self.negative() != y.negative()) { q.wrapping_sub(1) } else { q }
            }
            fn py_mod(self, y: Self) -> Self {
                if y == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(y);
                if r != 0 && (r.negative() != y.negative()) { r.wrapping_add(y) } else { r }
            }
            fn pow_wrapping(self, y: Self) -> Self {
                // Exponentiation by squaring over the whole exponent: `wrapping_pow`
                // takes a `u32`, which would truncate large exponents.
                let (mut base, mut exp, mut acc) = (self, y as u64, 1 as $t);
                while exp > 0 {
                    if exp & 1 == 1 {
                        acc = acc.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    exp >>= 1;
                }
                acc
            }
            fn shl_np(self, y: Self) -> Self {
                if y.negative() || (y as u64) >= <$t>::BITS as u64 { 0 } else { self << (y as u32) }
            }
            fn shr_np(self, y: Self) -> Self {
                if y.negative() || (y as u64) >= <$t>::BITS as u64 {
                    if self.negative() { (0 as $t).wrapping_sub(1) } else { 0 }
                } else {
                    self >> (y as u32)
                }
            }
            fn sign(self) -> Self {
                if self.negative() { (0 as $t).wrapping_sub(1) } else if self == 0 { 0 } else { 1 }
            }
            fn abs_np(self) -> Self {
                if self.negative() { self.neg_np() } else { self }
            }
            fn neg_np(self) -> Self {
                self.wrapping_neg()
            }
            fn negative(self) -> bool {
                (self as i128) < 0
            }
        }
    )*};
}

int_math!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Float operations as numpy computes them.
pub trait FloatMath: Copy {
    /// `x // y` (numpy's `npy_floor_divide`; by zero gives `x / y`).
    fn floor_div(self, y: Self) -> Self;
    /// `x % y` with the sign of the divisor (numpy's `npy_remainder`).
    fn py_mod(self, y: Self) -> Self;
    /// `maximum`: NaN if either is NaN.
    fn nan_max(self, y: Self) -> Self;
    /// `minimum`: NaN if either is NaN.
    fn nan_min(self, y: Self) -> Self;
    /// -1, 0 or 1 (NaN stays NaN).
    fn sign(self) -> Self;
    /// `log(exp(x) + exp(y))` without overflow.
    fn logaddexp(self, y: Self) -> Self;
    /// The next representable value after `x` towards `y`.
    fn next_after(self, y: Self) -> Self;
}

macro_rules! float_math {
    ($($t:ty),*) => {$(
        impl FloatMath for $t {
            fn floor_div(self, y: Self) -> Self {
                if y == 0.0 {
                    return self / y;
                }
                let m = self % y;
                let mut div = (self - m) / y;
                if m != 0.0 && ((y < 0.0) != (m < 0.0)) {
                    div -= 1.0;
                }
                if div == 0.0 {
                    return (0.0 as $t).copysign(self / y);
                }
                let floor = div.floor();
                if div - floor > 0.5 { floor + 1.0 } else { floor }
            }
            fn py_mod(self, y: Self) -> Self {
                if y == 0.0 {
                    return self % y;
                }
                let m = self % y;
                if m != 0.0 {
                    if (y < 0.0) != (m < 0.0) { m + y } else { m }
                } else {
                    (0.0 as $t).copysign(y)
                }
            }
            fn nan_max(self, y: Self) -> Self {
                if self.is_nan() || y.is_nan() { <$t>::NAN } else if y > self { y } else { self }
            }
            fn nan_min(self, y: Self) -> Self {
                if self.is_nan() || y.is_nan() { <$t>::NAN } else if y < self { y } else { self }
            }
            fn sign(self) -> Self {
                if self > 0.0 { 1.0 } else if self < 0.0 { -1.0 } else if self == 0.0 { 0.0 } else { self }
            }
            fn logaddexp(self, y: Self) -> Self {
                if self == y {
                    // Also infinities of the same sign.
                    return self + std::f64::consts::LN_2 as $t;
                }
                let d = self - y;
                if d > 0.0 {
                    self + (-d).exp().ln_1p()
                } else if d <= 0.0 {
                    y + d.exp().ln_1p()
                } else {
                    d
                }
            }
            fn next_after(self, y: Self) -> Self {
                if self.is_nan() || y.is_nan() {
                    return <$t>::NAN;
                }
                if self == y {
                    return y;
                }
                if self == 0.0 {
                    return <$t>::from_bits(1).copysign(y);
                }
                let bits = self.to_bits();
                let up = (y > self) == (self > 0.0);
                <$t>::from_bits(if up { bits + 1 } else { bits - 1 })
            }
        }
    )*};
}
float_math!(f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_division_follows_python() {
        // numpy: np.array([7, -7, 7, -7]) // [2, 2, -2, -2] == [3, -4, -4, 3]; % == [1, 1, -1, -1]
        let cases = [(7i64, 2i64, 3, 1), (-7, 2, -4, 1), (7, -2, -4, -1), (-7, -2, 3, -1), (5, 0, 0, 0), (i64::MIN, -1, i64::MIN, 0)];
        for (x, y, q, r) in cases {
            assert_eq!((x.floor_div(y), x.py_mod(y)), (q, r), "{x} {y}");
        }
        assert_eq!((7u8.floor_div(0), 7u8.py_mod(0), 7u8.floor_div(2)), (0, 0, 3));
        assert_eq!((-3i8).pow_wrapping(3), -27);
        assert_eq!(2i64.pow_wrapping((1 << 32) + 1), 0);
    }

    #[test]
    fn shifts_past_the_width_and_signs_follow_numpy() {
        assert_eq!((1i32.shl_np(31), 1i32.shl_np(32), 1i32.shl_np(-1)), (i32::MIN, 0, 0));
        assert_eq!(((-8i16).shr_np(1), (-8i16).shr_np(16), 8i16.shr_np(99)), (-4, -1, 0));
        assert_eq!((255u8.shl_np(1), 255u8.shr_np(8)), (254, 0));
        assert_eq!(((-5i8).sign(), 0i8.sign(), 9u16.sign()), (-1, 0, 1));
        assert_eq!(((-128i8).abs_np(), 3u8.neg_np()), (-128, 253));
    }

    #[test]
    fn float_division_remainder_and_friends_follow_numpy() {
        // np.floor_divide([7., -7., 7., 1.], [2., 2., -2., 0.]) == [3, -4, -4, inf]
        assert_eq!((7.0f64.floor_div(2.0), (-7.0f64).floor_div(2.0), 7.0f64.floor_div(-2.0)), (3.0, -4.0, -4.0));
        assert!(1.0f64.floor_div(0.0).is_infinite() && 0.0f64.floor_div(0.0).is_nan());
        // np.remainder([7., -7., 7., 0.], [2., 2., -2., -3.]) == [1, 1, -1, -0.]
        assert_eq!(((-7.0f64).py_mod(2.0), 7.0f64.py_mod(-2.0)), (1.0, -1.0));
        assert!(0.0f64.py_mod(-3.0).is_sign_negative() && 1.0f64.py_mod(0.0).is_nan());
        assert!(1.0f64.nan_max(f64::NAN).is_nan() && f64::NAN.nan_min(1.0).is_nan());
        assert_eq!(((-0.5f32).sign(), 0.0f32.sign()), (-1.0, 0.0));
        assert!((1000.0f64.logaddexp(1000.0) - (1000.0 + std::f64::consts::LN_2)).abs() < 1e-12);
        assert_eq!(1.0f64.next_after(2.0), 1.0 + f64::EPSILON);
        assert_eq!(0.0f32.next_after(-1.0), -f32::from_bits(1));
        assert_eq!(1.0f64.next_after(0.0), 1.0 - f64::EPSILON / 2.0);
    }
}
