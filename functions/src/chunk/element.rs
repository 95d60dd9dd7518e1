//! The element types of chunk data as Rust types: conversions with numpy's
//! `astype` semantics, and the few facts kernels need about each type.

use crate::dtype::DType;

/// A Rust type that holds the elements of one [`DType`].
pub trait Element: Copy + PartialOrd + Default + Send + Sync + std::fmt::Debug + 'static {
    /// The element type this Rust type holds.
    const DTYPE: DType;
    /// Converts to `f64` (booleans as 0 / 1; `u64` and `i64` rounded to nearest).
    fn to_f64(self) -> f64;
    /// Converts an integer or bool value exactly to `i128` (floats truncate).
    fn to_i128(self) -> i128;
    /// Converts from `f64` with numpy `astype` semantics: truncation towards
    /// zero. Where numpy's result is platform-defined (NaN, infinities and
    /// values outside an integer type's range), cubed-rs saturates on every
    /// platform, as numpy does on arm64 (where Lambda runs): NaN gives 0,
    /// values above the range the largest integer, values below it the
    /// smallest. (numpy on x86-64 gives the smallest integer for all of them.)
    fn from_f64(v: f64) -> Self;
    /// Converts from an integer: integers wrap (keep the low bits, as numpy's
    /// `astype` between integer types), floats round to nearest, bool is `v != 0`.
    fn from_i128(v: i128) -> Self;
    /// True when the value is NaN (floats only).
    fn is_nan(self) -> bool {
        false
    }
}

macro_rules! element {
    ($($t:ty => $d:ident, $is_nan:expr);*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn to_i128(self) -> i128 {
                self as i128
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn from_i128(v: i128) -> Self {
                v as $t
            }
            #[allow(clippy::redundant_closure_call)]
            fn is_nan(self) -> bool {
                ($is_nan)(self)
            }
        }
    )*};
}
element!(
    i8 => Int8, |_| false; i16 => Int16, |_| false; i32 => Int32, |_| false; i64 => Int64, |_| false;
    u8 => Uint8, |_| false; u16 => Uint16, |_| false; u32 => Uint32, |_| false; u64 => Uint64, |_| false;
    f32 => Float32, f32::is_nan; f64 => Float64, f64::is_nan
);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        u8::from(self) as f64
    }
    fn to_i128(self) -> i128 {
        i128::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn from_i128(v: i128) -> Self {
        v != 0
    }
}

/// Converts one element to another type with numpy `astype` semantics.
pub fn cast<S: Element, T: Element>(x: S) -> T {
    if S::DTYPE.is_float() {
        T::from_f64(x.to_f64())
    } else {
        T::from_i128(x.to_i128())
    }
}

/// Numeric types with the identities and limits reductions need.
pub trait Numeric: Element {
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Smallest value (the identity of `max`; `-inf` for floats).
    const LOWEST: Self;
    /// Largest value (the identity of `min`; `+inf` for floats).
    const HIGHEST: Self;
    /// Addition (integers wrap on overflow, as numpy's do).
    fn add(self, o: Self) -> Self;
    /// Multiplication (integers wrap on overflow).
    fn mul(self, o: Self) -> Self;
}

macro_rules! int_numeric {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            fn add(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            fn mul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
        }
    )*};
}
int_numeric!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! float_numeric {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            fn add(self, o: Self) -> Self {
                self + o
            }
            fn mul(self, o: Self) -> Self {
                self * o
            }
        }
    )*};
}
float_numeric!(f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_numpy_astype() {
        // Integers wrap between integer types.
        assert_eq!(cast::<i64, i8>(300), 44);
        assert_eq!(cast::<i32, u8>(-1), 255);
        assert_eq!(cast::<u64, i64>(u64::MAX), -1);
        // Floats truncate, saturating where numpy's answer is platform-defined.
        assert_eq!(cast::<f64, i16>(-1.7), -1);
        assert_eq!(cast::<f64, u8>(1e9), 255);
        assert_eq!(cast::<f64, i32>(f64::NAN), 0);
        // Large integers to floats round to nearest, directly.
        assert_eq!(cast::<u64, f32>(u64::MAX), u64::MAX as f32);
        assert_eq!(cast::<u64, f64>(u64::MAX), 18446744073709551615.0);
        assert!(cast::<f64, bool>(f64::NAN));
        assert_eq!(cast::<bool, f32>(true), 1.0);
    }
}
