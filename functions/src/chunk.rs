//! In-memory chunk data of any supported element type, and the whole-chunk
//! kernels (casts, arithmetic, comparisons, reductions) that run over it.
//!
//! Every kernel works on whole `ndarray` arrays with `Zip` loops over
//! contiguous memory, never per-element dynamic dispatch: the `match` on the
//! element type happens once per chunk.

use ndarray::{ArrayD, Axis, IxDyn, Slice, Zip};

use crate::dtype::DType;
use crate::kernel::{BinaryOp, ReduceFunc, UnaryOp};

/// One chunk (or region) of an array, with its element type.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkData {
    /// Booleans.
    Bool(ArrayD<bool>),
    /// 32-bit integers.
    Int32(ArrayD<i32>),
    /// 64-bit integers.
    Int64(ArrayD<i64>),
    /// 32-bit floats.
    Float32(ArrayD<f32>),
    /// 64-bit floats.
    Float64(ArrayD<f64>),
}

/// Applies `$body` to the inner array whatever its element type.
macro_rules! each {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            ChunkData::Bool($a) => $body,
            ChunkData::Int32($a) => $body,
            ChunkData::Int64($a) => $body,
            ChunkData::Float32($a) => $body,
            ChunkData::Float64($a) => $body,
        }
    };
}

/// Applies `$body` to the inner array and wraps the result in the same variant.
macro_rules! map_same {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            ChunkData::Bool($a) => ChunkData::Bool($body),
            ChunkData::Int32($a) => ChunkData::Int32($body),
            ChunkData::Int64($a) => ChunkData::Int64($body),
            ChunkData::Float32($a) => ChunkData::Float32($body),
            ChunkData::Float64($a) => ChunkData::Float64($body),
        }
    };
}

/// Scalar element operations shared by all element types.
pub trait Element: Copy + PartialOrd + Send + Sync + 'static {
    /// Converts to `f64` (booleans as 0 / 1).
    fn to_f64(self) -> f64;
    /// Converts from `f64` with numpy `astype` semantics: truncation towards
    /// zero. Where numpy's result is platform-defined (NaN, infinities and
    /// values outside an integer type's range), cubed-rs saturates on every
    /// platform, as numpy does on arm64 (where Lambda runs): NaN gives 0,
    /// values above the range the largest integer, values below it the
    /// smallest. (numpy on x86-64 gives the smallest integer for all of them.)
    fn from_f64(v: f64) -> Self;
    /// Converts to `i64` exactly where representable.
    fn to_i64(self) -> i64;
    /// Converts from `i64`.
    fn from_i64(v: i64) -> Self;
    /// True when the value is NaN (floats only).
    fn is_nan(self) -> bool {
        false
    }
}

macro_rules! int_element {
    ($t:ty) => {
        impl Element for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn from_i64(v: i64) -> Self {
                v as $t
            }
        }
    };
}
macro_rules! float_element {
    ($t:ty) => {
        impl Element for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}
int_element!(i32);
int_element!(i64);
float_element!(f32);
float_element!(f64);

impl Element for bool {
    fn to_f64(self) -> f64 {
        u8::from(self) as f64
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
    fn from_i64(v: i64) -> Self {
        v != 0
    }
}

/// Arithmetic on numeric element types.
pub trait Numeric: Element + Default {
    /// Addition (integers wrap on overflow, as numpy's do).
    fn add(self, o: Self) -> Self;
    /// Subtraction (integers wrap on overflow).
    fn sub(self, o: Self) -> Self;
    /// Multiplication (integers wrap on overflow).
    fn mul(self, o: Self) -> Self;
    /// Division (integer division truncates; the planner routes `/` on integers through float64).
    fn div(self, o: Self) -> Self;
    /// Power. Integers wrap on overflow, as numpy's do; a negative integer
    /// exponent is refused before this is called ([`ChunkData::binary`]).
    fn pow(self, o: Self) -> Self;
    /// Absolute value (`abs` of the smallest integer wraps to itself, as in numpy).
    fn abs(self) -> Self;
    /// Smallest value (reduction identity of `max`).
    const LOWEST: Self;
    /// Largest value (reduction identity of `min`).
    const HIGHEST: Self;
}

macro_rules! int_numeric {
    ($t:ty) => {
        impl Numeric for $t {
            fn add(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            fn sub(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
            fn mul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
            fn div(self, o: Self) -> Self {
                if o == 0 { 0 } else { self.wrapping_div(o) }
            }
            fn pow(self, o: Self) -> Self {
                // Exponentiation by squaring over the whole (non-negative) exponent:
                // `wrapping_pow` takes a `u32`, which would truncate large exponents.
                let (mut base, mut exp, mut acc) = (self, o.max(0) as u64, 1 as $t);
                while exp > 0 {
                    if exp & 1 == 1 {
                        acc = acc.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    exp >>= 1;
                }
                acc
            }
            fn abs(self) -> Self {
                self.wrapping_abs()
            }
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
        }
    };
}
macro_rules! float_numeric {
    ($t:ty) => {
        impl Numeric for $t {
            fn add(self, o: Self) -> Self {
                self + o
            }
            fn sub(self, o: Self) -> Self {
                self - o
            }
            fn mul(self, o: Self) -> Self {
                self * o
            }
            fn div(self, o: Self) -> Self {
                self / o
            }
            fn pow(self, o: Self) -> Self {
                if o == 2.0 { self * self } else { self.powf(o) }
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
        }
    };
}
int_numeric!(i32);
int_numeric!(i64);
float_numeric!(f32);
float_numeric!(f64);

/// The error for an operation that the planner should never have produced.
#[derive(Debug, thiserror::Error)]
#[error("kernel error: {0}")]
pub struct KernelError(pub String);

fn cast_array<S: Element, T: Element>(a: &ArrayD<S>, float_target: bool) -> ArrayD<T> {
    if float_target {
        a.mapv(|x| T::from_f64(x.to_f64()))
    } else {
        a.mapv(|x| T::from_i64(x.to_i64()))
    }
}

impl ChunkData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            ChunkData::Bool(_) => DType::Bool,
            ChunkData::Int32(_) => DType::Int32,
            ChunkData::Int64(_) => DType::Int64,
            ChunkData::Float32(_) => DType::Float32,
            ChunkData::Float64(_) => DType::Float64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// Size of the elements in bytes.
    pub fn nbytes(&self) -> u64 {
        self.shape().iter().product::<usize>() as u64 * self.dtype().itemsize()
    }

    /// An array of `shape` filled with `value` converted to `dtype`.
    pub fn full(dtype: DType, shape: &[usize], value: f64) -> ChunkData {
        let shape = IxDyn(shape);
        match dtype {
            DType::Bool => ChunkData::Bool(ArrayD::from_elem(shape, value != 0.0)),
            DType::Int32 => ChunkData::Int32(ArrayD::from_elem(shape, value as i32)),
            DType::Int64 => ChunkData::Int64(ArrayD::from_elem(shape, value as i64)),
            DType::Float32 => ChunkData::Float32(ArrayD::from_elem(shape, value as f32)),
            DType::Float64 => ChunkData::Float64(ArrayD::from_elem(shape, value)),
        }
    }

    /// Builds an array of `dtype` from `f64` values (used by generators).
    pub fn from_f64_values(dtype: DType, shape: &[usize], values: Vec<f64>) -> Result<ChunkData, KernelError> {
        let a = ArrayD::from_shape_vec(IxDyn(shape), values)
            .map_err(|e| KernelError(format!("values do not fit shape {shape:?}: {e}")))?;
        Ok(ChunkData::Float64(a).cast(dtype))
    }

    /// Converts to `dtype` (numpy `astype`); a no-op when the type already matches.
    pub fn cast(self, dtype: DType) -> ChunkData {
        if self.dtype() == dtype {
            return self;
        }
        let float = self.dtype().is_float() || dtype.is_float();
        match dtype {
            DType::Bool => ChunkData::Bool(each!(&self, a => a.mapv(|x| x.to_f64() != 0.0))),
            DType::Int32 => ChunkData::Int32(each!(&self, a => cast_array(a, float))),
            DType::Int64 => ChunkData::Int64(each!(&self, a => cast_array(a, float))),
            DType::Float32 => ChunkData::Float32(each!(&self, a => cast_array(a, true))),
            DType::Float64 => ChunkData::Float64(each!(&self, a => cast_array(a, true))),
        }
    }

    /// Broadcasts to `shape` (materialising the result) unless it already has it.
    pub fn broadcast_to(self, shape: &[usize]) -> Result<ChunkData, KernelError> {
        if self.shape() == shape {
            return Ok(self);
        }
        let err = || KernelError(format!("cannot broadcast a chunk to {shape:?}"));
        Ok(map_same!(self, a => a.broadcast(IxDyn(shape)).ok_or_else(err)?.to_owned()))
    }

    /// The elements inside `region` (start/stop per axis, relative to this chunk).
    pub fn slice(&self, region: &[(usize, usize)]) -> ChunkData {
        map_same!(self, a => {
            let mut v = a.view();
            for (k, &(start, stop)) in region.iter().enumerate() {
                v.slice_axis_inplace(Axis(k), Slice::from(start..stop));
            }
            v.to_owned()
        })
    }

    /// Copies `src` into this chunk at `offset` (per axis). Types must match.
    pub fn assign_at(&mut self, offset: &[usize], src: &ChunkData) -> Result<(), KernelError> {
        macro_rules! assign {
            ($dst:expr, $src:expr) => {{
                let mut v = $dst.view_mut();
                for (k, (&o, &n)) in offset.iter().zip($src.shape()).enumerate() {
                    v.slice_axis_inplace(Axis(k), Slice::from(o..o + n));
                }
                v.assign($src);
                Ok(())
            }};
        }
        match (self, src) {
            (ChunkData::Bool(d), ChunkData::Bool(s)) => assign!(d, s),
            (ChunkData::Int32(d), ChunkData::Int32(s)) => assign!(d, s),
            (ChunkData::Int64(d), ChunkData::Int64(s)) => assign!(d, s),
            (ChunkData::Float32(d), ChunkData::Float32(s)) => assign!(d, s),
            (ChunkData::Float64(d), ChunkData::Float64(s)) => assign!(d, s),
            (d, s) => Err(KernelError(format!("cannot assign {} into {}", s.dtype(), d.dtype()))),
        }
    }

    /// Applies a unary operation. The planner has already cast the operand to
    /// the operation's type (floats for transcendental functions).
    pub fn unary(self, op: UnaryOp) -> Result<ChunkData, KernelError> {
        macro_rules! float_fn {
            ($a:expr, $f:ident) => {{
                let mut a = $a;
                a.mapv_inplace(|x| x.$f());
                a
            }};
        }
        Ok(match (op, self) {
            (UnaryOp::Not, ChunkData::Bool(mut a)) => {
                a.mapv_inplace(|x| !x);
                ChunkData::Bool(a)
            }
            (UnaryOp::Neg, ChunkData::Int32(mut a)) => { a.mapv_inplace(|x| x.wrapping_neg()); ChunkData::Int32(a) }
            (UnaryOp::Neg, ChunkData::Int64(mut a)) => { a.mapv_inplace(|x| x.wrapping_neg()); ChunkData::Int64(a) }
            (UnaryOp::Neg, ChunkData::Float32(mut a)) => { a.mapv_inplace(|x| -x); ChunkData::Float32(a) }
            (UnaryOp::Neg, ChunkData::Float64(mut a)) => { a.mapv_inplace(|x| -x); ChunkData::Float64(a) }
            (UnaryOp::Abs, ChunkData::Int32(mut a)) => { a.mapv_inplace(Numeric::abs); ChunkData::Int32(a) }
            (UnaryOp::Abs, ChunkData::Int64(mut a)) => { a.mapv_inplace(Numeric::abs); ChunkData::Int64(a) }
            (UnaryOp::Abs, ChunkData::Float32(mut a)) => { a.mapv_inplace(f32::abs); ChunkData::Float32(a) }
            (UnaryOp::Abs, ChunkData::Float64(mut a)) => { a.mapv_inplace(f64::abs); ChunkData::Float64(a) }
            (op, ChunkData::Float32(a)) => ChunkData::Float32(match op {
                UnaryOp::Sqrt => float_fn!(a, sqrt),
                UnaryOp::Exp => float_fn!(a, exp),
                UnaryOp::Log => float_fn!(a, ln),
                UnaryOp::Sin => float_fn!(a, sin),
                UnaryOp::Cos => float_fn!(a, cos),
                other => return Err(KernelError(format!("{other:?} is not defined on float32"))),
            }),
            (op, ChunkData::Float64(a)) => ChunkData::Float64(match op {
                UnaryOp::Sqrt => float_fn!(a, sqrt),
                UnaryOp::Exp => float_fn!(a, exp),
                UnaryOp::Log => float_fn!(a, ln),
                UnaryOp::Sin => float_fn!(a, sin),
                UnaryOp::Cos => float_fn!(a, cos),
                other => return Err(KernelError(format!("{other:?} is not defined on float64"))),
            }),
            (op, data) => return Err(KernelError(format!("{op:?} is not defined on {}", data.dtype()))),
        })
    }

    /// Applies a binary operation after casting both operands to `compute`,
    /// broadcasting them against each other. Reuses an operand's buffer for the
    /// result when it can, so `a*a + b*b` allocates no more than it must.
    pub fn binary(op: BinaryOp, lhs: ChunkData, rhs: ChunkData, compute: DType) -> Result<ChunkData, KernelError> {
        let (lhs, rhs) = (lhs.cast(compute), rhs.cast(compute));
        let shape = broadcast_shape(lhs.shape(), rhs.shape())?;
        if op.is_comparison() {
            return Ok(ChunkData::Bool(match (lhs, rhs) {
                (ChunkData::Bool(a), ChunkData::Bool(b)) => compare(op, &a, &b, &shape),
                (ChunkData::Int32(a), ChunkData::Int32(b)) => compare(op, &a, &b, &shape),
                (ChunkData::Int64(a), ChunkData::Int64(b)) => compare(op, &a, &b, &shape),
                (ChunkData::Float32(a), ChunkData::Float32(b)) => compare(op, &a, &b, &shape),
                (ChunkData::Float64(a), ChunkData::Float64(b)) => compare(op, &a, &b, &shape),
                _ => unreachable!("both operands were cast to {compute}"),
            }));
        }
        Ok(match (lhs, rhs) {
            (ChunkData::Bool(a), ChunkData::Bool(b)) if matches!(op, BinaryOp::Add | BinaryOp::Mul) => {
                // numpy: `+` of bools is logical or, `*` logical and.
                ChunkData::Bool(zip_reusing(a, b, &shape, move |x, y| if op == BinaryOp::Add { x | y } else { x & y }))
            }
            (ChunkData::Int32(a), ChunkData::Int32(b)) => ChunkData::Int32(arith(op, a, int_exponent(op, b)?, &shape)),
            (ChunkData::Int64(a), ChunkData::Int64(b)) => ChunkData::Int64(arith(op, a, int_exponent(op, b)?, &shape)),
            (ChunkData::Float32(a), ChunkData::Float32(b)) => ChunkData::Float32(arith(op, a, b, &shape)),
            (ChunkData::Float64(a), ChunkData::Float64(b)) => ChunkData::Float64(arith(op, a, b, &shape)),
            (a, _) => return Err(KernelError(format!("{op:?} is not defined on {}", a.dtype()))),
        })
    }

    /// `where(cond, x, y)`: both branches already cast to the same type.
    pub fn select(cond: ChunkData, x: ChunkData, y: ChunkData) -> Result<ChunkData, KernelError> {
        let ChunkData::Bool(cond) = cond else {
            return Err(KernelError("where() needs a boolean condition".into()));
        };
        let shape = broadcast_shape(&broadcast_shape(cond.shape(), x.shape())?, y.shape())?;
        let c = cond.broadcast(IxDyn(&shape)).expect("shape checked");
        macro_rules! pick {
            ($x:expr, $y:expr) => {{
                let xv = $x.broadcast(IxDyn(&shape)).expect("shape checked");
                let yv = $y.broadcast(IxDyn(&shape)).expect("shape checked");
                Zip::from(&c).and(&xv).and(&yv).map_collect(|&c, &x, &y| if c { x } else { y })
            }};
        }
        Ok(match (x, y) {
            (ChunkData::Bool(x), ChunkData::Bool(y)) => ChunkData::Bool(pick!(x, y)),
            (ChunkData::Int32(x), ChunkData::Int32(y)) => ChunkData::Int32(pick!(x, y)),
            (ChunkData::Int64(x), ChunkData::Int64(y)) => ChunkData::Int64(pick!(x, y)),
            (ChunkData::Float32(x), ChunkData::Float32(y)) => ChunkData::Float32(pick!(x, y)),
            (ChunkData::Float64(x), ChunkData::Float64(y)) => ChunkData::Float64(pick!(x, y)),
            (x, y) => return Err(KernelError(format!("where() branches differ: {} and {}", x.dtype(), y.dtype()))),
        })
    }

    /// Reduces over `axes`, keeping them as length-1 axes. Sums are taken in the
    /// chunk's own type (the planner casts to the accumulation type first).
    pub fn reduce(&self, func: ReduceFunc, axes: &[usize]) -> Result<ChunkData, KernelError> {
        fn go<T: Numeric>(a: &ArrayD<T>, func: ReduceFunc, axes: &[usize]) -> ArrayD<T> {
            // Combine whole sub-arrays along each axis: contiguous, vectorisable loops.
            let one = |v: ndarray::ArrayViewD<T>, k: usize| {
                let mut acc = v.index_axis(Axis(k), 0).to_owned();
                for i in 1..v.len_of(Axis(k)) {
                    Zip::from(&mut acc).and(v.index_axis(Axis(k), i)).for_each(|x, &y| *x = combine(func, *x, y));
                }
                acc.insert_axis(Axis(k))
            };
            let mut out: Option<ArrayD<T>> = None;
            for &k in axes {
                out = Some(match out {
                    None => one(a.view(), k),
                    Some(o) => one(o.view(), k),
                });
            }
            out.unwrap_or_else(|| a.to_owned())
        }
        Ok(match self {
            ChunkData::Int32(a) => ChunkData::Int32(go(a, func, axes)),
            ChunkData::Int64(a) => ChunkData::Int64(go(a, func, axes)),
            ChunkData::Float32(a) => ChunkData::Float32(go(a, func, axes)),
            ChunkData::Float64(a) => ChunkData::Float64(go(a, func, axes)),
            ChunkData::Bool(_) => return Err(KernelError("reductions over bool need a cast to int64 first".into())),
        })
    }

    /// Combines two partial reductions of the same shape elementwise.
    pub fn combine(self, other: ChunkData, func: ReduceFunc) -> Result<ChunkData, KernelError> {
        fn go<T: Numeric>(mut a: ArrayD<T>, b: &ArrayD<T>, func: ReduceFunc) -> ArrayD<T> {
            Zip::from(&mut a).and(b).for_each(|x, &y| *x = combine(func, *x, y));
            a
        }
        if self.shape() != other.shape() {
            return Err(KernelError(format!("cannot combine partial results of shapes {:?} and {:?}", self.shape(), other.shape())));
        }
        Ok(match (self, other) {
            (ChunkData::Int32(a), ChunkData::Int32(b)) => ChunkData::Int32(go(a, &b, func)),
            (ChunkData::Int64(a), ChunkData::Int64(b)) => ChunkData::Int64(go(a, &b, func)),
            (ChunkData::Float32(a), ChunkData::Float32(b)) => ChunkData::Float32(go(a, &b, func)),
            (ChunkData::Float64(a), ChunkData::Float64(b)) => ChunkData::Float64(go(a, &b, func)),
            (a, b) => return Err(KernelError(format!("cannot combine {} with {}", a.dtype(), b.dtype()))),
        })
    }

    /// Removes the given length-1 axes.
    pub fn squeeze(self, axes: &[usize]) -> ChunkData {
        let mut sorted = axes.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        map_same!(self, a => {
            let mut a = a;
            for &k in &sorted {
                a = a.index_axis_move(Axis(k), 0);
            }
            a
        })
    }

    /// Values as `f64` in row-major order (for printing small results and tests).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        each!(self, a => a.iter().map(|x| x.to_f64()).collect())
    }
}

fn combine<T: Numeric>(func: ReduceFunc, x: T, y: T) -> T {
    match func {
        ReduceFunc::Sum => x.add(y),
        ReduceFunc::Min => nan_min(x, y),
        ReduceFunc::Max => nan_max(x, y),
    }
}

fn nan_min<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        if a.is_nan() { a } else { b }
    } else if b < a {
        b
    } else {
        a
    }
}

fn nan_max<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        if a.is_nan() { a } else { b }
    } else if b > a {
        b
    } else {
        a
    }
}

/// The numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, KernelError> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], k: usize| if k + s.len() >= n { s[k + s.len() - n] } else { 1 };
    (0..n)
        .map(|k| match (get(a, k), get(b, k)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(KernelError(format!("shapes {a:?} and {b:?} do not broadcast (axis {k}: {x} vs {y})"))),
        })
        .collect()
}

/// numpy refuses integers to negative integer powers; so does `pow` on a
/// chunk whose exponents hold a negative value (the planner refuses the
/// cases it can see, e.g. a negative scalar exponent).
fn int_exponent<T: Numeric>(op: BinaryOp, b: ArrayD<T>) -> Result<ArrayD<T>, KernelError> {
    if op == BinaryOp::Pow && b.iter().any(|&x| x < T::default()) {
        return Err(KernelError(
            "Integers to negative integer powers are not allowed (an integer array raised to an exponent array that holds a negative value); cast the base to float first, e.g. astype(x, float64) ** y".into(),
        ));
    }
    Ok(b)
}

fn arith<T: Numeric>(op: BinaryOp, a: ArrayD<T>, b: ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    let f = move |x: T, y: T| match op {
        BinaryOp::Add => x.add(y),
        BinaryOp::Sub => x.sub(y),
        BinaryOp::Mul => x.mul(y),
        BinaryOp::Div => x.div(y),
        BinaryOp::Pow => x.pow(y),
        _ => unreachable!("comparisons handled by compare()"),
    };
    zip_reusing(a, b, shape, f)
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
        let av = a.broadcast(IxDyn(shape)).expect("shape checked");
        let bv = b.broadcast(IxDyn(shape)).expect("shape checked");
        Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y))
    }
}

fn compare<T: PartialOrd + Copy>(op: BinaryOp, a: &ArrayD<T>, b: &ArrayD<T>, shape: &[usize]) -> ArrayD<bool> {
    let av = a.broadcast(IxDyn(shape)).expect("shape checked");
    let bv = b.broadcast(IxDyn(shape)).expect("shape checked");
    Zip::from(&av).and(&bv).map_collect(|x, y| match op {
        BinaryOp::Lt => x < y,
        BinaryOp::Le => x <= y,
        BinaryOp::Gt => x > y,
        BinaryOp::Ge => x >= y,
        BinaryOp::Eq => x == y,
        BinaryOp::Ne => x != y,
        _ => unreachable!("arithmetic handled by arith()"),
    })
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
        let p = ChunkData::binary(BinaryOp::Pow, i64s(&[-1, 2, 3]), i64s(&[(1 << 32) + 1]), DType::Int64).unwrap();
        assert_eq!(p, i64s(&[-1, 0, 7473929035676909571]));
        // numpy: np.array([2**62, -2**63]) * 2 == [-2**63, 0]; sums wrap too.
        let p = ChunkData::binary(BinaryOp::Mul, i64s(&[1 << 62, i64::MIN]), i64s(&[2]), DType::Int64).unwrap();
        assert_eq!(p, i64s(&[i64::MIN, 0]));
        let s = i64s(&[i64::MAX, 1]).reduce(ReduceFunc::Sum, &[0]).unwrap();
        assert_eq!(s, i64s(&[i64::MIN]));
        let p = ChunkData::binary(BinaryOp::Pow, i64s(&[-3, 0, 5]), i64s(&[3, 0, 0]), DType::Int64).unwrap();
        assert_eq!(p, i64s(&[-27, 1, 1]));
        let e = ChunkData::binary(BinaryOp::Pow, i64s(&[2, 2]), i64s(&[1, -1]), DType::Int64).unwrap_err().to_string();
        assert!(e.contains("Integers to negative integer powers are not allowed"), "{e}");
        let e = ChunkData::binary(BinaryOp::Pow, i64s(&[2]), i64s(&[-1]), DType::Int32).unwrap_err().to_string();
        assert!(e.contains("Integers to negative integer powers are not allowed"), "{e}");
        // Float exponents may be negative.
        let p = ChunkData::binary(BinaryOp::Pow, i64s(&[2]), i64s(&[-1]), DType::Float64).unwrap();
        assert_eq!(p.to_f64_vec(), vec![0.5]);
    }

    #[test]
    fn bool_add_is_or_and_multiply_is_and() {
        let b = |v: &[bool]| ChunkData::Bool(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap());
        let (t, f) = (b(&[true, true, false, false]), b(&[true, false, true, false]));
        assert_eq!(ChunkData::binary(BinaryOp::Add, t.clone(), f.clone(), DType::Bool).unwrap(), b(&[true, true, true, false]));
        assert_eq!(ChunkData::binary(BinaryOp::Mul, t, f, DType::Bool).unwrap(), b(&[true, false, false, false]));
    }

    #[test]
    fn abs_of_the_smallest_integer_wraps_and_float_to_int_casts_saturate() {
        // numpy: np.abs(np.array([-2**31], dtype=np.int32)) == [-2147483648]
        let a = ChunkData::Int32(ArrayD::from_elem(IxDyn(&[1]), i32::MIN)).unary(UnaryOp::Abs).unwrap();
        assert_eq!(a.to_f64_vec(), vec![-2147483648.0]);
        let f = ChunkData::Float64(ArrayD::from_shape_vec(IxDyn(&[5]), vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e20, -1.7]).unwrap());
        assert_eq!(f.clone().cast(DType::Int32).to_f64_vec(), vec![0.0, i32::MAX as f64, i32::MIN as f64, i32::MAX as f64, -1.0]);
        assert_eq!(f.cast(DType::Bool).to_f64_vec(), vec![1.0, 1.0, 1.0, 1.0, 1.0]);
    }
}
