//! The elementwise functions, each declared once.
//!
//! Every entry gives: the doc line, the kernel enum variant, the Array API
//! name (also the Rust function's name), numpy aliases, the operator it is spelt with (if any), its dtype rule,
//! the temporaries one chunk needs beyond its operands (the memory model's
//! cost, in result-sized buffers), and its kernel per kind of element type:
//! `float` (float32, float64), `signed`, `unsigned`, `int` (both), `bool`.
//! A function accepts exactly the kinds it has a kernel for, except under the
//! `Float` rule, where integers and bools are first cast to the float type
//! `DType::to_float` gives (so `sqrt(int16)` is float32, as numpy).
//!
//! Rules (unary): `Same` (result has the operand's type), `ToBool` (result is
//! bool), `Float` (see above), `Logical` (the operand is cast to bool first).
//! Rules (binary): `Promote` (both operands promoted, result of that type),
//! `Compare` (promoted, result bool), `TrueDivide` (promoted; integers and
//! bools to float64, as numpy's `/`), `Float` (promoted, then to a float
//! type), `Logical` (both cast to bool).
//!
//! From these two lists come the kernel enums ([`crate::kernel::UnaryOp`],
//! [`crate::kernel::BinaryOp`]) with their kernels, the table rows
//! ([`crate::table::FUNCTIONS`]), and, in the `cubed` crate, the Rust API
//! functions and the expression language's names and operators. Adding a
//! unary elementwise function is one entry in `unary_functions!`.

/// The unary elementwise functions; calls `$callback! { entries }`.
#[macro_export]
#[doc(hidden)]
macro_rules! unary_functions {
    ($callback:ident) => {
        $callback! {
            /// Absolute value, elementwise.
            Abs abs ["absolute"] rule Same temps 0 { float => |x| x.abs(), int => |x| x.abs_np(), bool => |x| x };
            /// Inverse cosine, elementwise.
            Acos acos ["arccos"] rule Float temps 0 { float => |x| x.acos() };
            /// Inverse hyperbolic cosine, elementwise.
            Acosh acosh ["arccosh"] rule Float temps 0 { float => |x| x.acosh() };
            /// Inverse sine, elementwise.
            Asin asin ["arcsin"] rule Float temps 0 { float => |x| x.asin() };
            /// Inverse hyperbolic sine, elementwise.
            Asinh asinh ["arcsinh"] rule Float temps 0 { float => |x| x.asinh() };
            /// Inverse tangent, elementwise.
            Atan atan ["arctan"] rule Float temps 0 { float => |x| x.atan() };
            /// Inverse hyperbolic tangent, elementwise.
            Atanh atanh ["arctanh"] rule Float temps 0 { float => |x| x.atanh() };
            /// Bitwise NOT of integers (logical NOT of bools), elementwise.
            BitwiseInvert bitwise_invert ["invert", "bitwise_not"] op "~" rule Same temps 0 { int => |x| !x, bool => |x| !x };
            /// Smallest integer not below x, elementwise (integers unchanged).
            Ceil ceil [] rule Same temps 0 { float => |x| x.ceil(), int => |x| x };
            /// Cosine, elementwise.
            Cos cos [] rule Float temps 0 { float => |x| x.cos() };
            /// Hyperbolic cosine, elementwise.
            Cosh cosh [] rule Float temps 0 { float => |x| x.cosh() };
            /// e to the power x, elementwise.
            Exp exp [] rule Float temps 0 { float => |x| x.exp() };
            /// exp(x) - 1, accurate for small x, elementwise.
            Expm1 expm1 [] rule Float temps 0 { float => |x| x.exp_m1() };
            /// Largest integer not above x, elementwise (integers unchanged).
            Floor floor [] rule Same temps 0 { float => |x| x.floor(), int => |x| x };
            /// True where x is neither infinite nor NaN.
            Isfinite isfinite [] rule ToBool temps 1 { float => |x| x.is_finite(), int => |_x| true, bool => |_x| true };
            /// True where x is positive or negative infinity.
            Isinf isinf [] rule ToBool temps 1 { float => |x| x.is_infinite(), int => |_x| false, bool => |_x| false };
            /// True where x is NaN.
            Isnan isnan [] rule ToBool temps 1 { float => |x| x.is_nan(), int => |_x| false, bool => |_x| false };
            /// Natural logarithm, elementwise.
            Log log [] rule Float temps 0 { float => |x| x.ln() };
            /// log(1 + x), accurate for small x, elementwise.
            Log1p log1p [] rule Float temps 0 { float => |x| x.ln_1p() };
            /// Base-2 logarithm, elementwise.
            Log2 log2 [] rule Float temps 0 { float => |x| x.log2() };
            /// Base-10 logarithm, elementwise.
            Log10 log10 [] rule Float temps 0 { float => |x| x.log10() };
            /// Logical NOT (any type: non-zero is true), elementwise.
            LogicalNot logical_not [] rule Logical temps 0 { bool => |x| !x };
            /// Numerical negative, elementwise (integers wrap, as numpy).
            Negative negative [] op "-" rule Same temps 0 { float => |x| -x, int => |x| x.neg_np() };
            /// Numerical positive (a copy), elementwise.
            Positive positive [] op "+" rule Same temps 0 { float => |x| x, int => |x| x };
            /// 1 / x, elementwise.
            Reciprocal reciprocal [] rule Float temps 0 { float => |x| x.recip() };
            /// Rounds to the nearest integer, halves to even (as numpy), elementwise.
            Round round [] rule Same temps 0 { float => |x| x.round_ties_even(), int => |x| x };
            /// Rounds to the nearest integer, halves to even, as a float (numpy's rint).
            Rint rint [] rule Float temps 0 { float => |x| x.round_ties_even() };
            /// -1, 0 or 1 by the sign of x (NaN stays NaN), elementwise.
            Sign sign [] rule Same temps 0 { float => |x| FloatMath::sign(x), int => |x| IntMath::sign(x) };
            /// True where the sign bit is set (also -0.0 and negative NaN).
            Signbit signbit [] rule ToBool temps 1 { float => |x| x.is_sign_negative(), int => |x| x.negative() };
            /// Sine, elementwise.
            Sin sin [] rule Float temps 0 { float => |x| x.sin() };
            /// Hyperbolic sine, elementwise.
            Sinh sinh [] rule Float temps 0 { float => |x| x.sinh() };
            /// x * x, elementwise (integers wrap).
            Square square [] rule Same temps 0 { float => |x| x * x, int => |x| x.wrapping_mul(x) };
            /// Square root, elementwise.
            Sqrt sqrt [] rule Float temps 0 { float => |x| x.sqrt() };
            /// Tangent, elementwise.
            Tan tan [] rule Float temps 0 { float => |x| x.tan() };
            /// Hyperbolic tangent, elementwise.
            Tanh tanh [] rule Float temps 0 { float => |x| x.tanh() };
            /// Rounds towards zero, elementwise (integers unchanged).
            Trunc trunc ["fix"] rule Same temps 0 { float => |x| x.trunc(), int => |x| x };
        }
    };
}

/// The binary elementwise functions; calls `$callback! { entries }`.
#[macro_export]
#[doc(hidden)]
macro_rules! binary_functions {
    ($callback:ident) => {
        $callback! {
            /// x1 + x2, elementwise (bools: logical or, as numpy).
            Add add [] op "+" rule Promote temps 0 { float => |x, y| x + y, int => |x, y| x.wrapping_add(y), bool => |x, y| x | y };
            /// Inverse tangent of x1 / x2, choosing the quadrant, elementwise.
            Atan2 atan2 ["arctan2"] rule Float temps 0 { float => |x, y| x.atan2(y) };
            /// Bitwise AND of integers or bools, elementwise.
            BitwiseAnd bitwise_and [] op "&" rule Promote temps 0 { int => |x, y| x & y, bool => |x, y| x & y };
            /// x1 shifted left by x2 bits, elementwise (0 once x2 reaches the width).
            BitwiseLeftShift bitwise_left_shift ["left_shift"] op "<<" rule Promote temps 0 { int => |x, y| x.shl_np(y) };
            /// Bitwise OR of integers or bools, elementwise.
            BitwiseOr bitwise_or [] op "|" rule Promote temps 0 { int => |x, y| x | y, bool => |x, y| x | y };
            /// x1 shifted right by x2 bits (arithmetic), elementwise.
            BitwiseRightShift bitwise_right_shift ["right_shift"] op ">>" rule Promote temps 0 { int => |x, y| x.shr_np(y) };
            /// Bitwise XOR of integers or bools, elementwise.
            BitwiseXor bitwise_xor [] op "^" rule Promote temps 0 { int => |x, y| x ^ y, bool => |x, y| x ^ y };
            /// x1 with the sign of x2, elementwise.
            Copysign copysign [] rule Float temps 0 { float => |x, y| x.copysign(y) };
            /// x1 / x2 (true division: integers give float64), elementwise.
            Divide divide ["true_divide"] op "/" rule TrueDivide temps 0 { float => |x, y| x / y };
            /// True where x1 == x2.
            Equal equal [] op "==" rule Compare temps 1 { float => |x, y| x == y, int => |x, y| x == y, bool => |x, y| x == y };
            /// x1 // x2, rounding towards negative infinity (integer division by zero gives 0), elementwise.
            FloorDivide floor_divide [] op "//" rule Promote temps 0 { float => |x, y| FloatMath::floor_div(x, y), int => |x, y| IntMath::floor_div(x, y) };
            /// True where x1 > x2.
            Greater greater [] op ">" rule Compare temps 1 { float => |x, y| x > y, int => |x, y| x > y, bool => |x, y| x > y };
            /// True where x1 >= x2.
            GreaterEqual greater_equal [] op ">=" rule Compare temps 1 { float => |x, y| x >= y, int => |x, y| x >= y, bool => |x, y| x >= y };
            /// sqrt(x1**2 + x2**2) without overflow, elementwise.
            Hypot hypot [] rule Float temps 0 { float => |x, y| x.hypot(y) };
            /// True where x1 < x2.
            Less less [] op "<" rule Compare temps 1 { float => |x, y| x < y, int => |x, y| x < y, bool => |x, y| x < y };
            /// True where x1 <= x2.
            LessEqual less_equal [] op "<=" rule Compare temps 1 { float => |x, y| x <= y, int => |x, y| x <= y, bool => |x, y| x <= y };
            /// log(exp(x1) + exp(x2)) without overflow, elementwise.
            Logaddexp logaddexp [] rule Float temps 0 { float => |x, y| x.logaddexp(y) };
            /// Logical AND (any type: non-zero is true), elementwise.
            LogicalAnd logical_and [] rule Logical temps 0 { bool => |x, y| x & y };
            /// Logical OR (any type: non-zero is true), elementwise.
            LogicalOr logical_or [] rule Logical temps 0 { bool => |x, y| x | y };
            /// Logical XOR (any type: non-zero is true), elementwise.
            LogicalXor logical_xor [] rule Logical temps 0 { bool => |x, y| x ^ y };
            /// The larger of x1 and x2 (NaN if either is NaN), elementwise.
            Maximum maximum [] rule Promote temps 0 { float => |x, y| x.nan_max(y), int => |x, y| x.max(y), bool => |x, y| x | y };
            /// The smaller of x1 and x2 (NaN if either is NaN), elementwise.
            Minimum minimum [] rule Promote temps 0 { float => |x, y| x.nan_min(y), int => |x, y| x.min(y), bool => |x, y| x & y };
            /// x1 * x2, elementwise (bools: logical and, as numpy).
            Multiply multiply [] op "*" rule Promote temps 0 { float => |x, y| x * y, int => |x, y| x.wrapping_mul(y), bool => |x, y| x & y };
            /// The next float after x1 towards x2, elementwise.
            Nextafter nextafter [] rule Float temps 0 { float => |x, y| x.next_after(y) };
            /// True where x1 != x2.
            NotEqual not_equal [] op "!=" rule Compare temps 1 { float => |x, y| x != y, int => |x, y| x != y, bool => |x, y| x != y };
            /// x1 to the power x2, elementwise (integers wrap; negative integer exponents are refused, as numpy).
            Pow pow ["power"] op "**" rule Promote temps 0 { float => |x, y| if y == 2.0 { x * x } else { x.powf(y) }, int => |x, y| x.pow_wrapping(y) };
            /// x1 % x2 with the sign of x2 (integer remainder by zero gives 0), elementwise.
            Remainder remainder ["mod"] op "%" rule Promote temps 0 { float => |x, y| FloatMath::py_mod(x, y), int => |x, y| IntMath::py_mod(x, y) };
            /// x1 - x2, elementwise.
            Subtract subtract [] op "-" rule Promote temps 0 { float => |x, y| x - y, int => |x, y| x.wrapping_sub(y) };
        }
    };
}
