//! Elementwise operations with numpy broadcasting and type promotion. Inputs
//! whose chunking differs from the result's are rechunked to match, so every
//! output chunk reads exactly one chunk of each input.

use cubed_task::kernel::{BinaryOp, Node, UnaryOp};
use cubed_task::DType;

use crate::array::{Array, LogicalOp, MapKind};
use crate::error::{CubedError, Result};

/// The type of `a op b` where one side may be a weak (Python) scalar.
pub fn result_type(a: &Array, b: &Array) -> DType {
    match (a.is_weak(), b.is_weak()) {
        (true, false) => weak_with(a.dtype(), b.dtype()),
        (false, true) => weak_with(b.dtype(), a.dtype()),
        _ => a.dtype().promote(b.dtype()),
    }
}

fn weak_with(scalar: DType, array: DType) -> DType {
    if scalar.is_float() && !array.is_float() {
        DType::Float64
    } else if scalar.is_integer() && array == DType::Bool {
        DType::Int64
    } else {
        array
    }
}

fn broadcast_shapes(args: &[&Array]) -> Result<Vec<u64>> {
    let n = args.iter().map(|a| a.ndim()).max().unwrap_or(0);
    let mut shape = vec![1u64; n];
    for a in args {
        let off = n - a.ndim();
        for (k, &s) in a.shape().iter().enumerate() {
            let d = &mut shape[off + k];
            if *d == 1 {
                *d = s;
            } else if s != 1 && s != *d {
                let shapes: Vec<_> = args.iter().map(|a| format!("{:?}", a.shape())).collect();
                return Err(CubedError::Invalid(format!(
                    "shapes {} cannot be broadcast together (axis {} has lengths {} and {})",
                    shapes.join(" and "),
                    off + k,
                    *d,
                    s
                )));
            }
        }
    }
    Ok(shape)
}

/// Builds an elementwise node over `args`, unifying their chunks.
pub(crate) fn map(kind: MapKind, args: &[&Array], dtype: DType) -> Result<Array> {
    let shape = broadcast_shapes(args)?;
    let n = shape.len();
    // Output chunks: from the first stored-or-computed argument spanning each axis.
    let mut chunks: Vec<Option<u64>> = vec![None; n];
    for pass in 0..2 {
        for a in args {
            let is_created = matches!(a.node.op, LogicalOp::Create { .. });
            if (pass == 0) == is_created {
                continue;
            }
            let off = n - a.ndim();
            for (k, (&s, &c)) in a.shape().iter().zip(a.chunks()).enumerate() {
                if s == shape[off + k] && chunks[off + k].is_none() {
                    chunks[off + k] = Some(c);
                }
            }
        }
    }
    let chunks: Vec<u64> = chunks.iter().zip(&shape).map(|(c, &s)| c.unwrap_or(s.max(1))).collect();
    let mut unified = Vec::with_capacity(args.len());
    for a in args {
        let off = n - a.ndim();
        let want: Vec<u64> = a
            .shape()
            .iter()
            .zip(a.chunks())
            .enumerate()
            .map(|(k, (&s, &c))| if s == 1 { c } else { chunks[off + k] })
            .collect();
        unified.push(if want == a.chunks() { (*a).clone() } else { crate::rechunk_array(a, &want)? });
    }
    Ok(Array::new(args[0].spec_arc(), shape, chunks, dtype, LogicalOp::Map { kind, args: unified }))
}

/// The value of an array known at plan time to hold one value everywhere
/// (a scalar, `full`, `zeros`, `ones`).
fn constant_value(a: &Array) -> Option<f64> {
    match &a.node.op {
        LogicalOp::Create { leaf: Node::Full { value, .. }, .. } => Some(*value),
        _ => None,
    }
}

/// numpy 2 (NEP 50): a Python integer combined with an integer array must fit
/// the array's type (`OverflowError` in numpy), except in comparisons, which
/// compare exactly. Returns the compute type to use instead, if any.
fn check_weak_integer(op: BinaryOp, a: &Array, b: &Array, compute: DType) -> Result<DType> {
    let (scalar, array) = match (a.is_weak(), b.is_weak()) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return Ok(compute),
    };
    let Some(value) = constant_value(scalar) else { return Ok(compute) };
    if !scalar.dtype().is_integer() || !compute.is_integer() {
        return Ok(compute);
    }
    let fits = |d: DType| match d {
        DType::Int32 => (i32::MIN as f64..=i32::MAX as f64).contains(&value),
        _ => (-(2f64.powi(63))..2f64.powi(63)).contains(&value),
    };
    if fits(compute) {
        return Ok(compute);
    }
    if op.is_comparison() && fits(DType::Int64) {
        return Ok(DType::Int64);
    }
    Err(CubedError::Invalid(format!(
        "{}: Python integer {value} out of bounds for {compute} (the type of the {} array it is combined with); \
         cast the array first, e.g. astype(x, {})",
        op.name(),
        array.dtype(),
        if compute == DType::Int32 { "int64" } else { "float64" },
    )))
}

/// A binary operation with promotion.
pub fn binary(op: BinaryOp, a: &Array, b: &Array) -> Result<Array> {
    let mut compute = result_type(a, b);
    compute = check_weak_integer(op, a, b, compute)?;
    // numpy: bool + bool is logical or, bool * bool logical and (both bool);
    // bool - bool is refused; bool ** bool gives int8, which cubed-rs lacks.
    match (compute, op) {
        (DType::Bool, BinaryOp::Sub) => {
            return Err(CubedError::Invalid(
                "numpy boolean subtract, the `-` operator, is not supported; use logical_not(a == b) for xor, or cast first, e.g. astype(a, int64) - b".into(),
            ))
        }
        (DType::Bool, BinaryOp::Pow) => {
            return Err(CubedError::Invalid("pow of two bool arrays gives int8 in numpy, which cubed-rs does not support; cast first, e.g. astype(a, int64) ** b".into()))
        }
        (DType::Bool, BinaryOp::Div) => compute = DType::Float64,
        _ => {}
    }
    if op == BinaryOp::Div && !compute.is_float() {
        compute = DType::Float64;
    }
    if op == BinaryOp::Pow && !compute.is_float() && constant_value(b).is_some_and(|v| v < 0.0) {
        return Err(CubedError::Invalid(format!(
            "pow: Integers to negative integer powers are not allowed ({} ** {}); cast the base to float first, e.g. astype(x, float64) ** y",
            a.dtype(),
            constant_value(b).unwrap_or_default(),
        )));
    }
    let dtype = if op.is_comparison() { DType::Bool } else { compute };
    map(MapKind::Binary { op, compute }, &[a, b], dtype)
}

/// A unary operation (transcendental functions give floats).
pub fn unary(op: UnaryOp, a: &Array) -> Result<Array> {
    let arg = if op.is_transcendental() && !a.dtype().is_float() {
        astype(a, DType::Float64)?
    } else if op == UnaryOp::Neg && a.dtype() == DType::Bool {
        return Err(CubedError::Invalid("negative is not defined for bool arrays; use logical_not".into()));
    } else if op == UnaryOp::Abs && a.dtype() == DType::Bool {
        return Ok(a.clone());
    } else {
        a.clone()
    };
    let dtype = arg.dtype();
    map(MapKind::Unary(op), &[&arg], dtype)
}

/// Converts to another element type (numpy `astype`).
pub fn astype(a: &Array, dtype: DType) -> Result<Array> {
    if a.dtype() == dtype && !a.is_weak() {
        return Ok(a.clone());
    }
    map(MapKind::Cast(dtype), &[a], dtype)
}

/// `where(cond, x, y)`: elements of `x` where `cond` is true, else of `y`.
pub fn where_(cond: &Array, x: &Array, y: &Array) -> Result<Array> {
    if cond.dtype() != DType::Bool {
        return Err(CubedError::Invalid(format!("where: the condition must be bool, got {} (compare it, e.g. a > 0)", cond.dtype())));
    }
    let dtype = result_type(x, y);
    let (x, y) = (astype(x, dtype)?, astype(y, dtype)?);
    map(MapKind::Where, &[cond, &x, &y], dtype)
}

macro_rules! binary_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(a: &Array, b: &Array) -> Result<Array> {
            binary(BinaryOp::$op, a, b)
        }
    )*};
}
binary_fns! {
    /// `a + b`
    add => Add,
    /// `a - b`
    subtract => Sub,
    /// `a * b`
    multiply => Mul,
    /// `a / b` (true division: integers give float64)
    divide => Div,
    /// `a ** b`
    pow => Pow,
    /// `a < b`
    less => Lt,
    /// `a <= b`
    less_equal => Le,
    /// `a > b`
    greater => Gt,
    /// `a >= b`
    greater_equal => Ge,
    /// `a == b`
    equal => Eq,
    /// `a != b`
    not_equal => Ne,
}

macro_rules! unary_fns {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(a: &Array) -> Result<Array> {
            unary(UnaryOp::$op, a)
        }
    )*};
}
unary_fns! {
    /// `-a`
    negative => Neg,
    /// `|a|`
    abs => Abs,
    /// Square root.
    sqrt => Sqrt,
    /// `e ** a`
    exp => Exp,
    /// Natural logarithm.
    log => Log,
    /// Sine.
    sin => Sin,
    /// Cosine.
    cos => Cos,
}

/// Logical not of a bool array.
pub fn logical_not(a: &Array) -> Result<Array> {
    if a.dtype() != DType::Bool {
        return Err(CubedError::Invalid(format!("logical_not needs a bool array, got {}", a.dtype())));
    }
    map(MapKind::Unary(UnaryOp::Not), &[a], DType::Bool)
}
