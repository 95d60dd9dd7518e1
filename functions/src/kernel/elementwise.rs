//! Elementwise kernels, generated from the declarations in
//! [`crate::table::elementwise`]: the [`UnaryOp`] and [`BinaryOp`] enums
//! (serialised in plans by their Array API names), their dtype rules, and one
//! whole-chunk loop per element type.

use ndarray::{ArrayD, IxDyn, Zip};
use serde::{Deserialize, Serialize};

use super::scalar::{FloatMath, IntMath};
use crate::chunk::{broadcast_shape, ChunkData, KernelError};
use crate::dtype::{DType, Kind};

/// How a unary function's result type follows from its operand's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryRule {
    /// The operand's type.
    Same,
    /// `bool`.
    ToBool,
    /// The operand cast to [`DType::to_float`] first.
    Float,
    /// The operand cast to `bool` first.
    Logical,
}

/// How a binary function's computation and result types follow from its operands'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryRule {
    /// Both promoted ([`DType::promote`]); the result of that type.
    Promote,
    /// Both promoted; the result is `bool`.
    Compare,
    /// Both promoted; integers and bools computed in `float64`.
    TrueDivide,
    /// Both promoted, then cast to [`DType::to_float`].
    Float,
    /// Both cast to `bool`.
    Logical,
}

/// True when a kernel class (`float`, `int`, ...) covers element kind `k`.
macro_rules! class_has {
    (float, $k:expr) => { $k == Kind::Float };
    (signed, $k:expr) => { $k == Kind::Signed };
    (unsigned, $k:expr) => { $k == Kind::Unsigned };
    (int, $k:expr) => { matches!($k, Kind::Signed | Kind::Unsigned) };
    (bool, $k:expr) => { $k == Kind::Bool };
}

/// `Ok(result)` when `$data` has a type of `$class`, else `Err($data)`.
macro_rules! unary_class {
    (@arms $mode:ident, $data:expr, $f:expr, $($v:ident),*) => {
        match $data {
            $(ChunkData::$v(a) => Ok(unary_class!(@out $mode, $v, a, $f)),)*
            other => Err(other),
        }
    };
    (@out ToBool, $v:ident, $a:ident, $f:expr) => { ChunkData::Bool($a.mapv($f)) };
    (@out $other:ident, $v:ident, $a:ident, $f:expr) => { ChunkData::$v($a.mapv_into($f)) };
    ($mode:ident, float, $data:expr, $f:expr) => { unary_class!(@arms $mode, $data, $f, Float32, Float64) };
    ($mode:ident, signed, $data:expr, $f:expr) => { unary_class!(@arms $mode, $data, $f, Int8, Int16, Int32, Int64) };
    ($mode:ident, unsigned, $data:expr, $f:expr) => { unary_class!(@arms $mode, $data, $f, Uint8, Uint16, Uint32, Uint64) };
    ($mode:ident, int, $data:expr, $f:expr) => { unary_class!(@arms $mode, $data, $f, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64) };
    ($mode:ident, bool, $data:expr, $f:expr) => { unary_class!(@arms $mode, $data, $f, Bool) };
}

/// `Ok(result)` when both operands have a type of `$class`, else `Err((lhs, rhs))`.
macro_rules! binary_class {
    (@arms $mode:ident, $l:expr, $r:expr, $shape:expr, $f:expr, $($v:ident),*) => {
        match ($l, $r) {
            $((ChunkData::$v(a), ChunkData::$v(b)) => Ok(binary_class!(@out $mode, $v, a, b, $shape, $f)),)*
            other => Err(other),
        }
    };
    (@out Compare, $v:ident, $a:ident, $b:ident, $shape:expr, $f:expr) => { ChunkData::Bool(zip_new($a, $b, $shape, $f)) };
    (@out $other:ident, $v:ident, $a:ident, $b:ident, $shape:expr, $f:expr) => { ChunkData::$v(zip_reusing($a, $b, $shape, $f)) };
    ($mode:ident, float, $l:expr, $r:expr, $shape:expr, $f:expr) => { binary_class!(@arms $mode, $l, $r, $shape, $f, Float32, Float64) };
    ($mode:ident, signed, $l:expr, $r:expr, $shape:expr, $f:expr) => { binary_class!(@arms $mode, $l, $r, $shape, $f, Int8, Int16, Int32, Int64) };
    ($mode:ident, unsigned, $l:expr, $r:expr, $shape:expr, $f:expr) => { binary_class!(@arms $mode, $l, $r, $shape, $f, Uint8, Uint16, Uint32, Uint64) };
    ($mode:ident, int, $l:expr, $r:expr, $shape:expr, $f:expr) => { binary_class!(@arms $mode, $l, $r, $shape, $f, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64) };
    ($mode:ident, bool, $l:expr, $r:expr, $shape:expr, $f:expr) => { binary_class!(@arms $mode, $l, $r, $shape, $f, Bool) };
}

/// The metadata methods both kernel enums have, from their declarations.
macro_rules! op_metadata {
    ($op:ident, $rule_type:ident, $( $(#[doc = $doc:literal])+ $v:ident $name:ident [$($alias:literal),*] $(op $sym:literal)? rule $rule:ident temps $temps:literal { $($class:ident => $f:expr),+ $(,)? } ;)*) => {
        impl $op {
            /// Every function of this arity, in table order.
            pub const ALL: &'static [$op] = &[$($op::$v),*];

            /// The Array API name.
            pub fn name(self) -> &'static str {
                match self { $($op::$v => stringify!($name),)* }
            }

            /// Other names accepted (numpy's).
            pub fn aliases(self) -> &'static [&'static str] {
                match self { $($op::$v => &[$($alias),*],)* }
            }

            /// The operator spelling this function, if any.
            pub fn operator(self) -> Option<&'static str> {
                match self { $($op::$v => None$(.or(Some($sym)))?,)* }
            }

            /// The dtype rule.
            pub fn rule(self) -> $rule_type {
                match self { $($op::$v => $rule_type::$rule,)* }
            }

            /// Extra result-sized buffers one chunk needs (the memory model's cost).
            pub fn temporaries(self) -> u64 {
                match self { $($op::$v => $temps,)* }
            }

            /// The one-line description.
            pub fn doc(self) -> &'static str {
                match self { $($op::$v => concat!($($doc),+).trim_ascii(),)* }
            }

            /// True when the kernel runs on elements of kind `k` (after the rule's cast).
            pub fn has_kernel(self, k: Kind) -> bool {
                match self { $($op::$v => false $(|| class_has!($class, k))+,)* }
            }
        }
    };
}

macro_rules! define_unary_ops {
    ($( $(#[doc = $doc:literal])+ $v:ident $name:ident [$($alias:literal),*] $(op $sym:literal)? rule $rule:ident temps $temps:literal { $($class:ident => $f:expr),+ $(,)? } ;)*) => {
        /// Elementwise one-argument functions (see [`crate::table::elementwise`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum UnaryOp {
            $( $(#[doc = $doc])+ $v, )*
        }

        op_metadata!(UnaryOp, UnaryRule, $( $(#[doc = $doc])+ $v $name [$($alias),*] $(op $sym)? rule $rule temps $temps { $($class => $f),+ } ;)*);

        impl UnaryOp {
            /// Applies the function to a chunk already of the type the rule gives.
            pub fn apply(self, data: ChunkData) -> Result<ChunkData, KernelError> {
                match self {
                    $(UnaryOp::$v => {
                        $(
                            #[allow(clippy::redundant_closure_call)]
                            let data = match unary_class!($rule, $class, data, $f) {
                                Ok(r) => return Ok(r),
                                Err(d) => d,
                            };
                        )+
                        Err(KernelError(format!("{} is not defined on {}", stringify!($name), data.dtype())))
                    })*
                }
            }
        }
    };
}
crate::unary_functions!(define_unary_ops);

macro_rules! define_binary_ops {
    ($( $(#[doc = $doc:literal])+ $v:ident $name:ident [$($alias:literal),*] $(op $sym:literal)? rule $rule:ident temps $temps:literal { $($class:ident => $f:expr),+ $(,)? } ;)*) => {
        /// Elementwise two-argument functions (see [`crate::table::elementwise`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum BinaryOp {
            $( $(#[doc = $doc])+ $v, )*
        }

        op_metadata!(BinaryOp, BinaryRule, $( $(#[doc = $doc])+ $v $name [$($alias),*] $(op $sym)? rule $rule temps $temps { $($class => $f),+ } ;)*);

        impl BinaryOp {
            fn apply_typed(self, l: ChunkData, r: ChunkData, shape: &[usize]) -> Result<ChunkData, KernelError> {
                match self {
                    $(BinaryOp::$v => {
                        $(
                            let (l, r) = match binary_class!($rule, $class, l, r, shape, $f) {
                                Ok(out) => return Ok(out),
                                Err(pair) => pair,
                            };
                        )+
                        Err(KernelError(format!("{} is not defined on {} and {}", stringify!($name), l.dtype(), r.dtype())))
                    })*
                }
            }
        }
    };
}
crate::binary_functions!(define_binary_ops);

/// Plans name kernel functions by their Array API names.
macro_rules! serde_by_name {
    ($t:ident) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = String::deserialize(d)?;
                $t::ALL.iter().copied().find(|op| op.name() == name).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} function '{name}'", if stringify!($t) == "UnaryOp" { "unary" } else { "binary" }))
                })
            }
        }
    };
}
serde_by_name!(UnaryOp);
serde_by_name!(BinaryOp);

impl UnaryOp {
    /// The type the operand is cast to before the kernel runs.
    pub fn compute_type(self, x: DType) -> DType {
        match self.rule() {
            UnaryRule::Float => x.to_float(),
            UnaryRule::Logical => DType::Bool,
            UnaryRule::Same | UnaryRule::ToBool => x,
        }
    }

    /// The result type for an operand of type `x`.
    pub fn result_type(self, x: DType) -> DType {
        match self.rule() {
            UnaryRule::ToBool => DType::Bool,
            _ => self.compute_type(x),
        }
    }

    /// True when this function is defined on operands of type `x`.
    pub fn accepts(self, x: DType) -> bool {
        self.has_kernel(self.compute_type(x).kind())
    }
}

impl BinaryOp {
    /// The type both operands are cast to, given their promoted type.
    pub fn compute_type(self, promoted: DType) -> DType {
        match self.rule() {
            BinaryRule::Promote | BinaryRule::Compare => promoted,
            BinaryRule::TrueDivide => if promoted.is_float() { promoted } else { DType::Float64 },
            BinaryRule::Float => promoted.to_float(),
            BinaryRule::Logical => DType::Bool,
        }
    }

    /// The result type, given the compute type.
    pub fn result_type(self, compute: DType) -> DType {
        match self.rule() {
            BinaryRule::Compare | BinaryRule::Logical => DType::Bool,
            _ => compute,
        }
    }

    /// The compute type for operands of types `a` and `b` (not weak scalars:
    /// see [`BinaryOp::compute_type`]). Under the `Float` rule numpy takes
    /// each operand to the smallest float holding it, then promotes those, so
    /// `atan2(uint16, int16)` is float32, not the float64 of their promoted int32.
    pub fn compute_type_of(self, a: DType, b: DType) -> DType {
        match self.rule() {
            BinaryRule::Float => a.to_float().promote(b.to_float()),
            _ => self.compute_type(a.promote(b)),
        }
    }

    /// True for functions whose result is boolean whatever the operands.
    pub fn is_comparison(self) -> bool {
        self.rule() == BinaryRule::Compare
    }

    /// True when this function is defined for the compute type `compute`.
    pub fn accepts(self, compute: DType) -> bool {
        self.has_kernel(compute.kind())
    }

    /// Applies the function after casting both operands to `compute`,
    /// broadcasting them against each other. Reuses an operand's buffer for
    /// the result when it can, so `a*a + b*b` allocates no more than it must.
    pub fn apply(self, lhs: ChunkData, rhs: ChunkData, compute: DType) -> Result<ChunkData, KernelError> {
        let (lhs, rhs) = (lhs.cast(compute), rhs.cast(compute));
        let shape = broadcast_shape(lhs.shape(), rhs.shape())?;
        if self == BinaryOp::Pow {
            check_int_exponent(&rhs)?;
        }
        self.apply_typed(lhs, rhs, &shape)
    }
}

/// numpy refuses integers to negative integer powers; so does `pow` on a
/// chunk whose exponents hold a negative value (the planner refuses the
/// cases it can see, e.g. a negative scalar exponent).
fn check_int_exponent(b: &ChunkData) -> Result<(), KernelError> {
    let negative = match b {
        ChunkData::Int8(a) => a.iter().any(|&x| x < 0),
        ChunkData::Int16(a) => a.iter().any(|&x| x < 0),
        ChunkData::Int32(a) => a.iter().any(|&x| x < 0),
        ChunkData::Int64(a) => a.iter().any(|&x| x < 0),
        _ => false,
    };
    if negative {
        return Err(KernelError(
            "Integers to negative integer powers are not allowed (an integer array raised to an exponent array that holds a negative value); cast the base to float first, e.g. astype(x, float64) ** y".into(),
        ));
    }
    Ok(())
}

/// `f` elementwise over `a` and `b` broadcast to `shape`, written into whichever
/// operand already has that shape (so no new buffer is allocated).
fn zip_reusing<T: Copy>(a: ArrayD<T>, b: ArrayD<T>, shape: &[usize], f: impl Fn(T, T) -> T) -> ArrayD<T> {
    if a.shape() == shape {
        let mut a = a;
        let bv = b.broadcast(IxDyn(shape)).expect("shape checked");
        Zip::from(&mut a).and(&bv).for_each(|x, &y| *x = f(*x, y));
        a
    } else if b.shape() == shape {
        let mut b = b;
        let av = a.broadcast(IxDyn(shape)).expect("shape checked");
        Zip::from(&mut b).and(&av).for_each(|y, &x| *y = f(x, *y));
        b
    } else {
        zip_new(a, b, shape, f)
    }
}

/// `f` elementwise over `a` and `b` broadcast to `shape`, into a new array.
fn zip_new<T: Copy, R>(a: ArrayD<T>, b: ArrayD<T>, shape: &[usize], f: impl Fn(T, T) -> R) -> ArrayD<R> {
    let av = a.broadcast(IxDyn(shape)).expect("shape checked");
    let bv = b.broadcast(IxDyn(shape)).expect("shape checked");
    Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y))
}

/// `where(cond, x, y)`: both branches already cast to the same type.
pub fn select(cond: ChunkData, x: ChunkData, y: ChunkData) -> Result<ChunkData, KernelError> {
    let ChunkData::Bool(cond) = cond else {
        return Err(KernelError("where() needs a boolean condition".into()));
    };
    let shape = broadcast_shape(&broadcast_shape(cond.shape(), x.shape())?, y.shape())?;
    let c = cond.broadcast(IxDyn(&shape)).expect("shape checked");
    crate::each_pair!(x, y, (xa, ya) => {
        let xv = xa.broadcast(IxDyn(&shape)).expect("shape checked");
        let yv = ya.broadcast(IxDyn(&shape)).expect("shape checked");
        Ok(crate::chunk::IntoChunk::into_chunk(Zip::from(&c).and(&xv).and(&yv).map_collect(|&c, &x, &y| if c { x } else { y })))
    }, (xa, ya) => Err(KernelError(format!("where() branches differ: {} and {}", xa.dtype(), ya.dtype()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i64s(v: &[i64]) -> ChunkData {
        ChunkData::Int64(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
    }

    #[test]
    fn integer_powers_wrap_like_numpy_and_refuse_negative_exponents() {
        // numpy: np.array([-1, 2, 3]) ** np.array([2**32 + 1]) == [-1, 0, 7473929035676909571]
        let p = BinaryOp::Pow.apply(i64s(&[-1, 2, 3]), i64s(&[(1 << 32) + 1]), DType::Int64).unwrap();
        assert_eq!(p, i64s(&[-1, 0, 7473929035676909571]));
        let p = BinaryOp::Multiply.apply(i64s(&[1 << 62, i64::MIN]), i64s(&[2]), DType::Int64).unwrap();
        assert_eq!(p, i64s(&[i64::MIN, 0]));
        let e = BinaryOp::Pow.apply(i64s(&[2, 2]), i64s(&[1, -1]), DType::Int64).unwrap_err().to_string();
        assert!(e.contains("Integers to negative integer powers are not allowed"), "{e}");
        let e = BinaryOp::Pow.apply(i64s(&[2]), i64s(&[-1]), DType::Int16).unwrap_err().to_string();
        assert!(e.contains("Integers to negative integer powers are not allowed"), "{e}");
        let p = BinaryOp::Pow.apply(i64s(&[2]), i64s(&[-1]), DType::Float64).unwrap();
        assert_eq!(p.to_f64_vec(), vec![0.5]);
    }

    #[test]
    fn bool_add_is_or_and_comparisons_give_bools() {
        let b = |v: &[bool]| ChunkData::Bool(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap());
        let (t, f) = (b(&[true, true, false, false]), b(&[true, false, true, false]));
        assert_eq!(BinaryOp::Add.apply(t.clone(), f.clone(), DType::Bool).unwrap(), b(&[true, true, true, false]));
        assert_eq!(BinaryOp::Multiply.apply(t.clone(), f.clone(), DType::Bool).unwrap(), b(&[true, false, false, false]));
        assert_eq!(BinaryOp::Less.apply(i64s(&[1, 5]), i64s(&[3]), DType::Int8).unwrap(), b(&[true, false]));
        assert!(BinaryOp::Subtract.apply(t, f, DType::Bool).is_err());
    }

    #[test]
    fn every_function_has_a_kernel_for_what_it_accepts_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for &op in UnaryOp::ALL {
            for d in DType::ALL {
                if op.accepts(d) {
                    let x = ChunkData::full(op.compute_type(d), &[3], 1.0);
                    let r = op.apply(x).unwrap_or_else(|e| panic!("{} on {d}: {e}", op.name()));
                    assert_eq!(r.dtype(), op.result_type(d), "{} on {d}", op.name());
                }
            }
            for n in std::iter::once(op.name()).chain(op.aliases().iter().copied()) {
                assert!(names.insert(n), "{n} twice");
            }
        }
        for &op in BinaryOp::ALL {
            for d in DType::ALL {
                let c = op.compute_type(d);
                if op.accepts(c) {
                    let x = ChunkData::full(c, &[2, 1], 1.0);
                    let y = ChunkData::full(c, &[3], 2.0);
                    let r = op.apply(x, y, c).unwrap_or_else(|e| panic!("{} on {d}: {e}", op.name()));
                    assert_eq!((r.dtype(), r.shape()), (op.result_type(c), &[2usize, 3][..]), "{} on {d}", op.name());
                }
            }
            for n in std::iter::once(op.name()).chain(op.aliases().iter().copied()) {
                assert!(names.insert(n), "{n} twice");
            }
        }
        // Unary and binary spellings of - and + differ by arity only.
        assert_eq!(UnaryOp::Negative.operator(), Some("-"));
        assert_eq!(BinaryOp::Subtract.operator(), Some("-"));
        assert_eq!(UnaryOp::Sqrt.doc(), "Square root, elementwise.");
    }
}
