//! Values of the expression language while it is evaluated, and Python's
//! arithmetic on plain numbers (so `x + (1 + 2)` keeps a weak scalar).

use cubed_task::kernel::BinaryOp;
use cubed_task::plan::Spec;
use cubed_task::DType;

use super::err;
use super::parse::{Span, SyntaxError, UnaryOp as SynUnary};
use crate::array::Array;

/// A value while evaluating.
#[derive(Clone)]
pub(crate) enum Value {
    Array(Array),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    None,
    Tuple(Vec<Value>),
    DType(DType),
}

impl Value {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Value::Array(_) => "an array",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a bool",
            Value::Str(_) => "a string",
            Value::None => "None",
            Value::Tuple(_) => "a tuple",
            Value::DType(_) => "a dtype",
        }
    }
}

/// A number operand of scalar arithmetic (booleans count as integers, as in Python).
#[derive(Clone, Copy)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub(crate) fn of(v: &Value) -> Option<Number> {
        match *v {
            Value::Int(i) => Some(Number::Int(i)),
            Value::Bool(b) => Some(Number::Int(i64::from(b))),
            Value::Float(f) => Some(Number::Float(f)),
            _ => None,
        }
    }

    fn to_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// A prefix operator on a number, as Python computes it.
pub(crate) fn fold_unary(op: SynUnary, x: Number) -> Result<Value, String> {
    Ok(match (op, x) {
        (SynUnary::Pos, Number::Int(i)) => Value::Int(i),
        (SynUnary::Pos, Number::Float(f)) => Value::Float(f),
        (SynUnary::Neg, Number::Int(i)) => Value::Int(i.checked_neg().ok_or_else(|| format!("-({i}) does not fit a 64-bit integer"))?),
        (SynUnary::Neg, Number::Float(f)) => Value::Float(-f),
        (SynUnary::Invert, Number::Int(i)) => Value::Int(!i),
        (SynUnary::Invert, Number::Float(_)) => return Err("bad operand type for unary ~: 'float'".into()),
    })
}

/// Arithmetic, bitwise operations and comparisons of two numbers, as Python
/// computes them, so the result is still a Python scalar (weak: `x + (1 + 2)`
/// keeps `x`'s type). Where Python would give a number cubed-rs cannot hold
/// (an integer beyond 64 bits, a complex number) or raise, the answer is a
/// clear error. `both_bool`: `True & False` stays a bool, as in Python.
pub(crate) fn fold(op: BinaryOp, x: Number, y: Number, both_bool: bool) -> Result<Value, String> {
    use BinaryOp as B;
    let (fx, fy) = (x.to_f64(), y.to_f64());
    if op.is_comparison() {
        let ord = match (x, y) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            _ => fx.partial_cmp(&fy),
        };
        return Ok(Value::Bool(match op {
            B::Less => ord.is_some_and(|o| o.is_lt()),
            B::LessEqual => ord.is_some_and(|o| o.is_le()),
            B::Greater => ord.is_some_and(|o| o.is_gt()),
            B::GreaterEqual => ord.is_some_and(|o| o.is_ge()),
            B::Equal => ord.is_some_and(|o| o.is_eq()),
            _ => !ord.is_some_and(|o| o.is_eq()),
        }));
    }
    let overflow = || format!("integer overflow: the result of {} does not fit a 64-bit integer", op.name());
    let bitwise = matches!(op, B::BitwiseAnd | B::BitwiseOr | B::BitwiseXor | B::BitwiseLeftShift | B::BitwiseRightShift);
    if bitwise {
        let (Number::Int(a), Number::Int(b)) = (x, y) else {
            return Err(format!("unsupported operand type(s) for {}: {} needs integers or bools", op.operator().unwrap_or(op.name()), op.name()));
        };
        let r = match op {
            B::BitwiseAnd => a & b,
            B::BitwiseOr => a | b,
            B::BitwiseXor => a ^ b,
            _ if b < 0 => return Err("negative shift count".into()),
            B::BitwiseLeftShift => u32::try_from(b).ok().and_then(|b| a.checked_shl(b)).filter(|r| r >> b == a).ok_or_else(overflow)?,
            _ => if b >= 64 { if a < 0 { -1 } else { 0 } } else { a >> b },
        };
        return Ok(if both_bool && !matches!(op, B::BitwiseLeftShift | B::BitwiseRightShift) { Value::Bool(r != 0) } else { Value::Int(r) });
    }
    let floats = matches!((x, y), (Number::Float(_), _) | (_, Number::Float(_)));
    if op == B::Divide || (op == B::Pow && matches!(y, Number::Int(b) if b < 0)) || floats {
        if matches!(op, B::Divide | B::FloorDivide | B::Remainder) && fy == 0.0 {
            return Err(match op {
                B::Divide => "division by zero",
                B::FloorDivide => "float floor division by zero",
                _ => "float modulo by zero",
            }
            .into());
        }
        if op == B::Pow && fx == 0.0 && fy < 0.0 {
            return Err("0.0 cannot be raised to a negative power".into());
        }
        if op == B::Pow && fx < 0.0 && fy.fract() != 0.0 {
            return Err(format!("{fx} ** {fy} is a complex number, which cubed-rs does not support"));
        }
        use cubed_task::kernel::scalar::FloatMath;
        let r = match op {
            B::Add => fx + fy,
            B::Subtract => fx - fy,
            B::Multiply => fx * fy,
            B::Divide => fx / fy,
            B::FloorDivide => fx.floor_div(fy),
            B::Remainder => fx.py_mod(fy),
            B::Pow => fx.powf(fy),
            _ => return Err(format!("operator {} on numbers is not supported", op.name())),
        };
        if op == B::Pow && r.is_infinite() && fx.is_finite() && fy.is_finite() {
            return Err(format!("{fx} ** {fy} is too large for a float"));
        }
        return Ok(Value::Float(r));
    }
    let (Number::Int(a), Number::Int(b)) = (x, y) else { unreachable!("floats handled above") };
    if matches!(op, B::FloorDivide | B::Remainder) && b == 0 {
        return Err("integer division or modulo by zero".into());
    }
    use cubed_task::kernel::scalar::IntMath;
    match op {
        B::Add => a.checked_add(b),
        B::Subtract => a.checked_sub(b),
        B::Multiply => a.checked_mul(b),
        B::FloorDivide => a.checked_div(b).map(|_| a.floor_div(b)),
        B::Remainder => Some(a.py_mod(b)),
        B::Pow => u32::try_from(b).ok().and_then(|b| a.checked_pow(b)).or(match a {
            0 | 1 => Some(a),
            -1 => Some(if b % 2 == 0 { 1 } else { -1 }),
            _ => None,
        }),
        _ => return Err(format!("operator {} on numbers is not supported", op.name())),
    }
    .map(Value::Int)
    .ok_or_else(overflow)
}

/// Every integer up to this magnitude is exact as a float64 (how plans hold numbers).
const MAX_EXACT_INT: i64 = 1 << 53;

/// An integer as the float64 a plan holds it in, refused when it would not be exact.
pub(crate) fn exact_int(i: i64, span: Span) -> Result<f64, SyntaxError> {
    if (i as f64) as i128 != i128::from(i) {
        return Err(err(
            format!("the integer {i} cannot be used exactly: cubed-rs holds numbers in plans as float64, exact for every integer up to 2**53 ({MAX_EXACT_INT})"),
            span,
        ));
    }
    Ok(i as f64)
}

/// Converts numbers to weak scalars; refuses non-numeric values.
pub(crate) fn to_array(spec: &Spec, v: Value, span: Span) -> Result<Array, SyntaxError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Int(i) => Ok(crate::scalar(spec, exact_int(i, span)?, DType::Int64)),
        Value::Float(f) => Ok(crate::scalar(spec, f, DType::Float64)),
        Value::Bool(b) => Ok(crate::scalar(spec, f64::from(u8::from(b)), DType::Bool)),
        other => Err(err(format!("expected an array or a number, found {}", other.describe()), span)),
    }
}

