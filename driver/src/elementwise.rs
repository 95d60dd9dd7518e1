//! Elementwise operations with numpy broadcasting and type promotion. Inputs
//! whose chunking differs from the result's are rechunked to match, so every
//! output chunk reads exactly one chunk of each input.
//!
//! Which functions exist, their dtype rules and kernels come from the function
//! table ([`cubed_task::table`]); this module applies the rules to lazy arrays
//! and generates one Rust function per table entry (`cubed::floor`, ...).

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

/// NEP 50: a Python scalar takes the array's type when it is of the same or a
/// lower kind (bool < int < float); else the default type of its own kind.
fn weak_with(scalar: DType, array: DType) -> DType {
    let rank = |d: DType| if d == DType::Bool { 0 } else if d.is_integer() { 1 } else { 2 };
    if rank(scalar) <= rank(array) {
        array
    } else {
        scalar
    }
}

pub(crate) fn broadcast_shapes(args: &[&Array]) -> Result<Vec<u64>> {
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
    let labels = crate::labels::elementwise(args, &shape, matches!(kind, MapKind::Cast(_)));
    Ok(Array::new(args[0].spec_arc(), shape, chunks, dtype, LogicalOp::Map { kind, args: unified }).labelled(labels))
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
    let fits = |d: DType| d.int_range().is_some_and(|(lo, hi)| (lo as f64..=hi as f64).contains(&value));
    if fits(compute) {
        return Ok(compute);
    }
    if op.is_comparison() {
        if let Some(wide) = [DType::Int64, DType::Float64].into_iter().find(|&d| d == DType::Float64 || fits(d)) {
            return Ok(wide);
        }
    }
    Err(CubedError::Invalid(format!(
        "{}: Python integer {value} out of bounds for {compute} (the type of the {} array it is combined with); \
         cast the array first, e.g. astype(x, {})",
        op.name(),
        array.dtype(),
        if compute.itemsize() < 8 && fits(DType::Int64) { "int64" } else { "float64" },
    )))
}

/// numpy 2 compares a signed integer with a `uint64` exactly, although
/// their promoted type is float64 (which would make `2**63 - 2 == 2**63 - 1`
/// true): the signed side is negative, or compares as `uint64`. Covers arrays
/// of any signed type and Python integers against `uint64` arrays.
fn compare_signed_with_uint64(op: BinaryOp, a: &Array, b: &Array) -> Result<Option<Array>> {
    use BinaryOp as B;
    if !op.is_comparison() {
        return Ok(None);
    }
    let signed = |x: &Array, other: &Array| {
        x.dtype().kind() == cubed_task::dtype::Kind::Signed && other.dtype() == DType::Uint64 && !other.is_weak() && (!x.is_weak() || constant_value(x).is_some_and(|v| v < 0.0))
    };
    // Put the signed operand on the left, mirroring the comparison.
    let (s, u, op) = if signed(a, b) {
        (a, b, op)
    } else if signed(b, a) {
        let mirrored = match op {
            B::Less => B::Greater,
            B::LessEqual => B::GreaterEqual,
            B::Greater => B::Less,
            B::GreaterEqual => B::LessEqual,
            other => other,
        };
        (b, a, mirrored)
    } else {
        return Ok(None);
    };
    let s = if s.is_weak() { astype(s, DType::Int64)? } else { s.clone() };
    let zero = crate::scalar(s.spec(), 0.0, DType::Int64);
    let negative = binary(B::Less, &s, &zero)?;
    let as_unsigned = binary(op, &astype(&s, DType::Uint64)?, u)?;
    // A negative value is less than (and not equal to) every uint64.
    Ok(Some(match op {
        B::Less | B::LessEqual | B::NotEqual => binary(B::LogicalOr, &negative, &as_unsigned)?,
        _ => binary(B::LogicalAnd, &logical_not(&negative)?, &as_unsigned)?,
    }))
}

/// The types a function accepts, for error messages.
fn accepted(accepts: impl Fn(DType) -> bool) -> String {
    let names: Vec<&str> = DType::ALL.into_iter().filter(|&d| accepts(d)).map(DType::name).collect();
    names.join(", ")
}

/// A binary elementwise function (see [`cubed_task::table::elementwise`]),
/// with numpy's promotion and weak scalars.
pub fn binary(op: BinaryOp, a: &Array, b: &Array) -> Result<Array> {
    if let Some(exact) = compare_signed_with_uint64(op, a, b)? {
        return Ok(exact);
    }
    let promoted = check_weak_integer(op, a, b, result_type(a, b))?;
    let compute = if a.is_weak() || b.is_weak() { op.compute_type(promoted) } else { op.compute_type_of(a.dtype(), b.dtype()) };
    if !op.accepts(compute) {
        let hint = match (op, promoted) {
            (BinaryOp::Subtract, DType::Bool) => "; numpy boolean subtract, the `-` operator, is not supported: use the bitwise_xor, the `^` operator, or the logical_xor function instead, or cast first, e.g. astype(a, int64) - b",
            (BinaryOp::Pow, DType::Bool) => "; numpy gives int8 for bool ** bool: cast first, e.g. astype(a, int8) ** b",
            _ => "; cast first, e.g. astype(x, int64)",
        };
        return Err(CubedError::Invalid(format!(
            "{} is not defined for {} and {} arrays (it accepts {}){hint}",
            op.name(),
            a.dtype(),
            b.dtype(),
            accepted(|d| op.accepts(op.compute_type(d))),
        )));
    }
    if op == BinaryOp::Pow && !compute.is_float() && constant_value(b).is_some_and(|v| v < 0.0) {
        return Err(CubedError::Invalid(format!(
            "pow: Integers to negative integer powers are not allowed ({} ** {}); cast the base to float first, e.g. astype(x, float64) ** y",
            a.dtype(),
            constant_value(b).unwrap_or_default(),
        )));
    }
    map(MapKind::Binary { op, compute }, &[a, b], op.result_type(compute))
}

/// A unary elementwise function (see [`cubed_task::table::elementwise`]).
pub fn unary(op: UnaryOp, a: &Array) -> Result<Array> {
    if !op.accepts(a.dtype()) {
        let hint = match op {
            UnaryOp::Negative if a.dtype() == DType::Bool => "; for bools use logical_not",
            _ => "; cast first, e.g. astype(x, int64)",
        };
        return Err(CubedError::Invalid(format!(
            "{} is not defined for {} arrays (it accepts {}){hint}",
            op.name(),
            a.dtype(),
            accepted(|d| op.accepts(d))
        )));
    }
    let compute = op.compute_type(a.dtype());
    let arg = if compute == a.dtype() { a.clone() } else { astype(a, compute)? };
    map(MapKind::Unary(op), &[&arg], op.result_type(compute))
}

/// Converts to another element type (numpy `astype`).
pub fn astype(a: &Array, dtype: DType) -> Result<Array> {
    if a.dtype() == dtype && !a.is_weak() {
        return Ok(a.clone());
    }
    map(MapKind::Cast(dtype), &[a], dtype)
}

/// `where(cond, x, y)`: elements of `x` where `cond` is true, else of `y`. A
/// condition of another type counts non-zero as true, as numpy.
pub fn where_(cond: &Array, x: &Array, y: &Array) -> Result<Array> {
    let cond = &astype(cond, DType::Bool)?;
    let dtype = result_type(x, y);
    let (x, y) = (astype(x, dtype)?, astype(y, dtype)?);
    map(MapKind::Where, &[cond, &x, &y], dtype)
}

/// `clip(x, min, max)`: `x` limited to `[min, max]`, in `x`'s type (Array API);
/// either bound may be `None`. NaN in `x` or a bound propagates, as numpy.
pub fn clip(x: &Array, min: Option<&Array>, max: Option<&Array>) -> Result<Array> {
    let bound = |b: &Array, name: &str| -> Result<Array> {
        if b.is_weak() {
            // A Python scalar: numpy's weak promotion (and its range check) applies.
            Ok(b.clone())
        } else if x.dtype().promote(b.dtype()) == x.dtype() {
            astype(b, x.dtype())
        } else {
            Err(CubedError::Invalid(format!(
                "clip: {name} of type {} would change the result type of the {} array (the Array API keeps x's type); cast it first, e.g. astype({name}, {})",
                b.dtype(),
                x.dtype(),
                x.dtype()
            )))
        }
    };
    let mut out = x.clone();
    if let Some(lo) = min {
        out = binary(BinaryOp::Maximum, &out, &bound(lo, "min")?)?;
    }
    if let Some(hi) = max {
        out = binary(BinaryOp::Minimum, &out, &bound(hi, "max")?)?;
    }
    Ok(out)
}

/// One Rust function per unary table entry: `cubed::sqrt(&a)`, ...
macro_rules! unary_api {
    ($( $(#[doc = $doc:literal])+ $v:ident $name:ident [$($alias:literal),*] $(op $sym:literal)? rule $rule:ident temps $temps:literal { $($class:ident => $f:expr),+ $(,)? } ;)*) => {$(
        $(#[doc = $doc])+
        pub fn $name(x: &Array) -> Result<Array> {
            unary(UnaryOp::$v, x)
        }
    )*};
}
cubed_task::unary_functions!(unary_api);

/// One Rust function per binary table entry: `cubed::add(&a, &b)`, ...
macro_rules! binary_api {
    ($( $(#[doc = $doc:literal])+ $v:ident $name:ident [$($alias:literal),*] $(op $sym:literal)? rule $rule:ident temps $temps:literal { $($class:ident => $f:expr),+ $(,)? } ;)*) => {$(
        $(#[doc = $doc])+
        pub fn $name(x1: &Array, x2: &Array) -> Result<Array> {
            binary(BinaryOp::$v, x1, x2)
        }
    )*};
}
cubed_task::binary_functions!(binary_api);
