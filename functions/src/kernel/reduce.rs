//! Reduction kernels: reduce one block over some axes into a partial result,
//! merge partial results (the tree steps of a reduce op) and finish them.
//!
//! Most reductions keep one value per output element ([`Partial::Plain`]).
//! Variances keep (count, sum, M2) per element ([`moments`]) and arg
//! reductions keep (value, index) ([`arg`]): between rounds such partials are
//! stored as arrays with one more, trailing axis holding the fields (see
//! [`ReduceFunc::fields`]). Scans ([`scan`]) reuse the block totals.

pub mod arg;
pub mod moments;
pub mod scan;

use ndarray::{ArrayD, ArrayViewD, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkData, Element, KernelError, Numeric};
use crate::dtype::DType;
use crate::error::TaskError;

/// Reduction functions: how one block is reduced and partials are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReduceFunc {
    /// Sum (also the first stage of `mean`).
    Sum,
    /// Minimum (NaN propagates).
    Min,
    /// Maximum (NaN propagates).
    Max,
    /// Product.
    Prod,
    /// Logical or of bools (the data is cast to bool first).
    Any,
    /// Logical and of bools.
    All,
    /// Sum ignoring NaN (later rounds are plain sums).
    #[serde(rename = "nansum")]
    NanSum,
    /// Product ignoring NaN (later rounds are plain products).
    #[serde(rename = "nanprod")]
    NanProd,
    /// Minimum ignoring NaN (NaN only when every value is NaN).
    #[serde(rename = "nanmin")]
    NanMin,
    /// Maximum ignoring NaN.
    #[serde(rename = "nanmax")]
    NanMax,
    /// (count, sum, M2) in float64, NaN propagating: `var`, `std`.
    Moments,
    /// (count, sum, M2) of the values that are not NaN: `nanvar`, `nanstd`, `nanmean`.
    #[serde(rename = "nanmoments")]
    NanMoments,
    /// (value, flat index) of the first maximum; the first NaN wins.
    #[serde(rename = "argmax")]
    ArgMax,
    /// (value, flat index) of the first minimum; the first NaN wins.
    #[serde(rename = "argmin")]
    ArgMin,
    /// (value, flat index) of the first maximum ignoring NaN.
    #[serde(rename = "nanargmax")]
    NanArgMax,
    /// (value, flat index) of the first minimum ignoring NaN.
    #[serde(rename = "nanargmin")]
    NanArgMin,
}

impl ReduceFunc {
    /// The name in messages (numpy's).
    pub fn name(self) -> &'static str {
        match self {
            ReduceFunc::Sum => "sum",
            ReduceFunc::Min => "min",
            ReduceFunc::Max => "max",
            ReduceFunc::Prod => "prod",
            ReduceFunc::Any => "any",
            ReduceFunc::All => "all",
            ReduceFunc::NanSum => "nansum",
            ReduceFunc::NanProd => "nanprod",
            ReduceFunc::NanMin => "nanmin",
            ReduceFunc::NanMax => "nanmax",
            ReduceFunc::Moments => "moments",
            ReduceFunc::NanMoments => "nanmoments",
            ReduceFunc::ArgMax => "argmax",
            ReduceFunc::ArgMin => "argmin",
            ReduceFunc::NanArgMax => "nanargmax",
            ReduceFunc::NanArgMin => "nanargmin",
        }
    }

    /// The trailing axis of this function's stored partial results: its
    /// length (the number of fields) and their element type. `None` when a
    /// partial is one value per element, of the op's `acc_dtype`.
    pub fn fields(self) -> Option<(u64, DType)> {
        match self {
            ReduceFunc::Moments | ReduceFunc::NanMoments => Some((3, DType::Float64)),
            ReduceFunc::ArgMax | ReduceFunc::ArgMin | ReduceFunc::NanArgMax | ReduceFunc::NanArgMin => Some((2, DType::Int64)),
            _ => None,
        }
    }

    /// The function later rounds apply to this function's partials: NaN is
    /// gone after the first round of `nansum` and `nanprod`, so their partials
    /// merge as plain sums and products (an infinite sum minus another stays NaN).
    pub fn merge_func(self) -> ReduceFunc {
        match self {
            ReduceFunc::NanSum => ReduceFunc::Sum,
            ReduceFunc::NanProd => ReduceFunc::Prod,
            f => f,
        }
    }

    /// The accumulation type this function requires, when it has one.
    pub fn required_acc(self) -> Option<DType> {
        match self {
            ReduceFunc::Any | ReduceFunc::All => Some(DType::Bool),
            ReduceFunc::Moments | ReduceFunc::NanMoments => Some(DType::Float64),
            _ => None,
        }
    }

    /// Whether the last round of this function may end with `finish`
    /// (multi-field partials must be finished; others take none).
    pub fn takes(self, finish: Finish) -> bool {
        match finish {
            Finish::Var { .. } | Finish::Std { .. } | Finish::Mean => self.fields().is_some_and(|(_, d)| d == DType::Float64),
            Finish::Index => self.fields().is_some_and(|(_, d)| d == DType::Int64),
        }
    }

    /// Bytes one partial result takes in memory while a task runs: the
    /// accumulation type, (count, sum, M2) or (value, index).
    pub fn state_bytes(self, acc_dtype: DType) -> u64 {
        match self.fields() {
            None => acc_dtype.itemsize(),
            Some((n, _)) => n * 8,
        }
    }
}

/// How the last round turns multi-field partials into results.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finish {
    /// `M2 / (count - correction)` (numpy's `var` with `ddof=correction`).
    Var {
        /// Subtracted from the count (numpy's `ddof`).
        #[serde(with = "crate::float_json")]
        correction: f64,
    },
    /// The square root of [`Finish::Var`].
    Std {
        /// Subtracted from the count (numpy's `ddof`).
        #[serde(with = "crate::float_json")]
        correction: f64,
    },
    /// `sum / count`, NaN without values (`nanmean`).
    Mean,
    /// The flat index of the chosen element (`argmax`, ...).
    Index,
}

/// The partial result of reducing some blocks: one state per output element.
#[derive(Debug, Clone, PartialEq)]
pub enum Partial {
    /// One value per element (sums, minima, ...) in the accumulation type.
    Plain(ChunkData),
    /// (count, sum, M2) per element.
    Moments(ArrayD<moments::State>),
    /// (value, flat index) per element.
    Arg(arg::ArgPartial),
}

/// How one task reduces its blocks.
#[derive(Debug, Clone, Copy)]
pub struct BlockReduce<'a> {
    /// The function.
    pub func: ReduceFunc,
    /// The reduced axes of the domain.
    pub axes: &'a [usize],
    /// The accumulation type (for arg reductions: the type of the values).
    pub acc_dtype: DType,
    /// True when the blocks are partial results of an earlier round (with
    /// the trailing field axis); false when they are data.
    pub partial_in: bool,
    /// The shape of the domain (flat indices of arg reductions count in it).
    pub domain_shape: &'a [u64],
}

impl BlockReduce<'_> {
    /// Reduces one block whose first element is at `offset` of the domain.
    /// Data is cast to the accumulation type first; partials are decoded.
    pub fn block(&self, data: ChunkData, offset: &[u64]) -> Result<Partial, KernelError> {
        use ReduceFunc::{ArgMax, ArgMin, Moments, NanArgMax, NanArgMin, NanMoments};
        let (func, axes) = (self.func, self.axes);
        Ok(match (func, self.partial_in) {
            (Moments | NanMoments, false) => Partial::Moments(moments::block(float64(data), axes, func == NanMoments)?),
            (Moments | NanMoments, true) => Partial::Moments(moments::merge_block(moments::decode(data)?.view(), axes)?),
            (ArgMax | ArgMin | NanArgMax | NanArgMin, false) => {
                let strides = arg::flat_strides(self.domain_shape, axes)?;
                Partial::Arg(arg::block(&data.cast(self.acc_dtype), axes, offset, &strides, arg::Pick::of(func))?)
            }
            (ArgMax | ArgMin | NanArgMax | NanArgMin, true) => Partial::Arg(arg::merge_block(arg::decode(data, self.acc_dtype)?, axes, arg::Pick::of(func))?),
            (_, false) => Partial::Plain(plain(&data.cast(self.acc_dtype), func, axes)?),
            (_, true) => return Err(KernelError(format!("{} partial results are single values, not blocks with a field axis", func.name()))),
        })
    }

    /// The partial result of an empty group of blocks (a reduced axis of
    /// length 0), with `dims` elements per axis: numpy's identity (0 for sums,
    /// 1 for products, false for `any`, true for `all`, no values for
    /// variances); minima, maxima and arg reductions have none, as in numpy.
    pub fn identity(&self, dims: &[usize]) -> Result<Partial, TaskError> {
        let value = match self.func {
            ReduceFunc::Sum | ReduceFunc::NanSum | ReduceFunc::Any => 0.0,
            ReduceFunc::Prod | ReduceFunc::NanProd | ReduceFunc::All => 1.0,
            ReduceFunc::Moments | ReduceFunc::NanMoments => return Ok(Partial::Moments(ArrayD::from_elem(dims, [0.0; 3]))),
            f => return Err(TaskError::fatal(no_identity(f))),
        };
        Ok(Partial::Plain(ChunkData::full(self.acc_dtype, dims, value)))
    }
}

/// numpy's error for a reduction without identity over an empty axis.
pub fn no_identity(func: ReduceFunc) -> String {
    let op = match func {
        ReduceFunc::Min => "minimum",
        ReduceFunc::Max => "maximum",
        ReduceFunc::NanMin => "fmin",
        ReduceFunc::NanMax => "fmax",
        ReduceFunc::ArgMax | ReduceFunc::NanArgMax => return "attempt to get argmax of an empty sequence".into(),
        ReduceFunc::ArgMin | ReduceFunc::NanArgMin => return "attempt to get argmin of an empty sequence".into(),
        f => f.name(),
    };
    format!("zero-size array to reduction operation {op} which has no identity")
}

impl Partial {
    /// Merges another partial of the same shape into this one.
    pub fn merge(self, other: Partial, func: ReduceFunc) -> Result<Partial, KernelError> {
        match (self, other) {
            (Partial::Plain(a), Partial::Plain(b)) => Ok(Partial::Plain(merge_plain(a, b, func.merge_func())?)),
            (Partial::Moments(a), Partial::Moments(b)) => Ok(Partial::Moments(moments::merge_all(a, &b)?)),
            (Partial::Arg(a), Partial::Arg(b)) => Ok(Partial::Arg(a.merge(b, arg::Pick::of(func))?)),
            _ => Err(KernelError(format!("cannot merge partial results of different kinds ({})", func.name()))),
        }
    }

    /// The partial as stored between rounds: plain values, or the fields
    /// along a trailing axis.
    pub fn into_chunk(self) -> ChunkData {
        match self {
            Partial::Plain(c) => c,
            Partial::Moments(m) => moments::encode(&m),
            Partial::Arg(a) => a.encode(),
        }
    }

    /// The result of the last round: [`Partial::into_chunk`] without a
    /// finish, else the finished values (float64 for variances and means,
    /// int64 indices). `func` names the reduction in errors (`nanargmax` of
    /// an all-NaN slice).
    pub fn finish(self, func: ReduceFunc, finish: Option<Finish>) -> Result<ChunkData, TaskError> {
        match (self, finish) {
            (p, None) => Ok(p.into_chunk()),
            (Partial::Moments(m), Some(f @ (Finish::Var { .. } | Finish::Std { .. } | Finish::Mean))) => {
                Ok(ChunkData::Float64(moments::finish(&m, f, func == ReduceFunc::NanMoments)))
            }
            (Partial::Arg(a), Some(Finish::Index)) => a.finish(func),
            (_, Some(f)) => Err(TaskError::fatal(format!("{} partial results cannot be finished as {f:?}", func.name()))),
        }
    }
}

/// The values of `data` as float64.
fn float64(data: ChunkData) -> ArrayD<f64> {
    match data {
        ChunkData::Float64(a) => a,
        other => crate::each!(&other, a => a.mapv(|x| x.to_f64())),
    }
}

fn same_shape(a: &[usize], b: &[usize]) -> Result<(), KernelError> {
    if a == b {
        Ok(())
    } else {
        Err(KernelError(format!("cannot merge partial results of shapes {a:?} and {b:?}")))
    }
}

/// Folds `a` over `axes`, which stay as length-1 axes. Along the longest of
/// them each element is mapped by `init` and folded in by `step`; the other
/// axes then merge the accumulated states with `merge`. Starting with the
/// longest axis keeps the intermediate states to the block divided by that
/// axis's length (the result itself when every reduced axis has length 1).
pub(crate) fn fold_axes<T: Copy, A: Clone>(
    a: ArrayViewD<T>,
    axes: &[usize],
    init: impl Fn(T) -> A,
    step: impl Fn(&mut A, T),
    merge: impl Fn(&mut A, &A),
) -> Result<ArrayD<A>, KernelError> {
    check_axes(a.shape(), axes)?;
    let Some(&first) = axes.iter().max_by_key(|&&k| a.len_of(Axis(k))) else {
        return Ok(a.map(|&x| init(x)));
    };
    let mut acc = a.index_axis(Axis(first), 0).map(|&x| init(x));
    for i in 1..a.len_of(Axis(first)) {
        Zip::from(&mut acc).and(a.index_axis(Axis(first), i)).for_each(|s, &x| step(s, x));
    }
    let mut acc = acc.insert_axis(Axis(first));
    for &k in axes.iter().filter(|&&k| k != first) {
        acc = merge_axis(acc, k, &merge);
    }
    Ok(acc)
}

/// Merges the states of `acc` along axis `k` into one (kept with length 1).
fn merge_axis<A: Clone>(acc: ArrayD<A>, k: usize, merge: &impl Fn(&mut A, &A)) -> ArrayD<A> {
    if acc.len_of(Axis(k)) == 1 {
        return acc;
    }
    let mut out = acc.index_axis(Axis(k), 0).to_owned();
    for i in 1..acc.len_of(Axis(k)) {
        Zip::from(&mut out).and(acc.index_axis(Axis(k), i)).for_each(merge);
    }
    out.insert_axis(Axis(k))
}

/// Refuses axes a block does not have, and blocks empty along a reduced axis
/// (an empty group is reduced to its identity instead).
pub(crate) fn check_axes(shape: &[usize], axes: &[usize]) -> Result<(), KernelError> {
    match axes.iter().find(|&&k| k >= shape.len() || shape[k] == 0) {
        Some(&k) if k >= shape.len() => Err(KernelError(format!("cannot reduce axis {k} of a block of shape {shape:?}"))),
        Some(&k) => Err(KernelError(format!("cannot reduce a block of shape {shape:?}: axis {k} is empty"))),
        None => Ok(()),
    }
}

/// The elementwise operation of a plain reduction (after NaN was replaced
/// by the identity, for `nansum` and `nanprod`).
#[derive(Clone, Copy)]
enum Op {
    Add,
    Mul,
    Min,
    Max,
    /// Minimum ignoring NaN.
    FMin,
    /// Maximum ignoring NaN.
    FMax,
}

impl Op {
    fn of(func: ReduceFunc) -> Result<Op, KernelError> {
        Ok(match func {
            ReduceFunc::Sum | ReduceFunc::NanSum => Op::Add,
            ReduceFunc::Prod | ReduceFunc::NanProd => Op::Mul,
            ReduceFunc::Min | ReduceFunc::All => Op::Min,
            ReduceFunc::Max | ReduceFunc::Any => Op::Max,
            ReduceFunc::NanMin => Op::FMin,
            ReduceFunc::NanMax => Op::FMax,
            f => return Err(KernelError(format!("{} does not reduce to one value per element", f.name()))),
        })
    }

    fn apply<T: Numeric>(self, x: T, y: T) -> T {
        match self {
            Op::Add => x.add(y),
            Op::Mul => x.mul(y),
            Op::Min | Op::Max | Op::FMin | Op::FMax => self.compare(x, y),
        }
    }

    /// The comparison operations, for any element type (bool: and / or).
    fn compare<T: Element>(self, x: T, y: T) -> T {
        let nan = |a: T, b: T| if a.is_nan() { a } else { b };
        let skip = |a: T, b: T| if a.is_nan() { b } else { a };
        match self {
            Op::Min if x.is_nan() || y.is_nan() => nan(x, y),
            Op::Max if x.is_nan() || y.is_nan() => nan(x, y),
            Op::FMin | Op::FMax if x.is_nan() || y.is_nan() => skip(x, y),
            Op::Min | Op::FMin => {
                if y < x {
                    y
                } else {
                    x
                }
            }
            _ => {
                if y > x {
                    y
                } else {
                    x
                }
            }
        }
    }
}

/// Applies `$num` to the inner array of every numeric variant and `$bool`
/// to a bool one, wrapping each result in the same variant.
macro_rules! by_kind {
    ($data:expr, $a:ident => $num:expr, $b:ident => $bool:expr) => {
        match $data {
            ChunkData::Int8($a) => ChunkData::Int8($num),
            ChunkData::Int16($a) => ChunkData::Int16($num),
            ChunkData::Int32($a) => ChunkData::Int32($num),
            ChunkData::Int64($a) => ChunkData::Int64($num),
            ChunkData::Uint8($a) => ChunkData::Uint8($num),
            ChunkData::Uint16($a) => ChunkData::Uint16($num),
            ChunkData::Uint32($a) => ChunkData::Uint32($num),
            ChunkData::Uint64($a) => ChunkData::Uint64($num),
            ChunkData::Float32($a) => ChunkData::Float32($num),
            ChunkData::Float64($a) => ChunkData::Float64($num),
            ChunkData::Bool($b) => ChunkData::Bool($bool),
        }
    };
}

/// Reduces `data` over `axes` (kept as length-1 axes) with a plain function,
/// in the chunk's own type (the task casts to the accumulation type first).
pub fn plain(data: &ChunkData, func: ReduceFunc, axes: &[usize]) -> Result<ChunkData, KernelError> {
    fn num<T: Numeric>(a: &ArrayD<T>, func: ReduceFunc, op: Op, axes: &[usize]) -> Result<ArrayD<T>, KernelError> {
        // nansum and nanprod count NaN as their identity.
        let first = |x: T| match func {
            ReduceFunc::NanSum if x.is_nan() => T::ZERO,
            ReduceFunc::NanProd if x.is_nan() => T::ONE,
            _ => x,
        };
        fold_axes(a.view(), axes, first, |s, x| *s = op.apply(*s, first(x)), |s, b| *s = op.apply(*s, *b))
    }
    fn logical(a: &ArrayD<bool>, op: Op, axes: &[usize]) -> Result<ArrayD<bool>, KernelError> {
        fold_axes(a.view(), axes, |x| x, |s, x| *s = op.compare(*s, x), |s, b| *s = op.compare(*s, *b))
    }
    let op = Op::of(func)?;
    match (func, data.dtype(), op) {
        (ReduceFunc::Any | ReduceFunc::All, d, _) if d != DType::Bool => {
            return Err(KernelError(format!("{} reduces bools, not {d}: cast the data to bool first", func.name())))
        }
        (_, DType::Bool, Op::Add | Op::Mul) => return Err(KernelError(format!("{} over bool needs a cast to int64 first", func.name()))),
        _ => {}
    }
    Ok(by_kind!(data, a => num(a, func, op, axes)?, b => logical(b, op, axes)?))
}

/// Merges two plain partials of the same shape elementwise with `func`.
fn merge_plain(acc: ChunkData, other: ChunkData, func: ReduceFunc) -> Result<ChunkData, KernelError> {
    fn num<T: Numeric>(mut a: ArrayD<T>, b: &ArrayD<T>, op: Op) -> ArrayD<T> {
        Zip::from(&mut a).and(b).for_each(|x, &y| *x = op.apply(*x, y));
        a
    }
    same_shape(acc.shape(), other.shape())?;
    let op = Op::of(func)?;
    macro_rules! pairs {
        ($($v:ident),*) => {
            match (acc, other) {
                $((ChunkData::$v(a), ChunkData::$v(b)) => Ok(ChunkData::$v(num(a, &b, op))),)*
                (ChunkData::Bool(mut a), ChunkData::Bool(b)) if matches!(op, Op::Min | Op::Max | Op::FMin | Op::FMax) => {
                    Zip::from(&mut a).and(&b).for_each(|x, &y| *x = op.compare(*x, y));
                    Ok(ChunkData::Bool(a))
                }
                (a, b) => Err(KernelError(format!("cannot merge {} partial results of {} and {}", func.name(), a.dtype(), b.dtype()))),
            }
        };
    }
    pairs!(Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn f64s(shape: &[usize], v: Vec<f64>) -> ChunkData {
        ChunkData::Float64(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
    }

    #[test]
    fn integer_sums_wrap_and_min_max_propagate_nan() {
        let s = plain(&ChunkData::Int64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![i64::MAX, 1]).unwrap()), ReduceFunc::Sum, &[0]).unwrap();
        assert_eq!(s.to_f64_vec(), vec![i64::MIN as f64]);
        let f = ChunkData::Float32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, f32::NAN, 0.0]).unwrap());
        assert!(plain(&f, ReduceFunc::Max, &[0]).unwrap().to_f64_vec()[0].is_nan());
        assert_eq!(plain(&f, ReduceFunc::NanMax, &[0]).unwrap().to_f64_vec(), vec![1.0]);
        assert_eq!(plain(&f, ReduceFunc::NanMin, &[0]).unwrap().to_f64_vec(), vec![0.0]);
        assert_eq!(plain(&f, ReduceFunc::NanSum, &[0]).unwrap().to_f64_vec(), vec![1.0]);
        let a = ChunkData::Uint8(ArrayD::from_shape_vec(IxDyn(&[2]), vec![3, 9]).unwrap());
        let b = ChunkData::Uint8(ArrayD::from_shape_vec(IxDyn(&[2]), vec![5, 1]).unwrap());
        assert_eq!(merge_plain(a, b, ReduceFunc::Min).unwrap().to_f64_vec(), vec![3.0, 1.0]);
    }

    #[test]
    fn nan_reductions_ignore_nan_only_in_the_first_round() {
        let x = f64s(&[2, 2], vec![f64::NAN, f64::NAN, 2.0, f64::NAN]);
        // All-NaN column: nanmin gives NaN, nansum 0, nanprod 1.
        assert_eq!(plain(&x, ReduceFunc::NanSum, &[0]).unwrap().to_f64_vec(), vec![2.0, 0.0]);
        assert_eq!(plain(&x, ReduceFunc::NanProd, &[0]).unwrap().to_f64_vec(), vec![2.0, 1.0]);
        let m = plain(&x, ReduceFunc::NanMin, &[0]).unwrap().to_f64_vec();
        assert!(m[0] == 2.0 && m[1].is_nan(), "{m:?}");
        // Partials merge as plain sums: inf + -inf stays NaN, as numpy's nansum.
        let inf = Partial::Plain(f64s(&[1], vec![f64::INFINITY]));
        let merged = inf.merge(Partial::Plain(f64s(&[1], vec![f64::NEG_INFINITY])), ReduceFunc::NanSum).unwrap();
        assert!(merged.into_chunk().to_f64_vec()[0].is_nan());
        // nanmin partials: an all-NaN block does not hide the others.
        let merged = Partial::Plain(f64s(&[1], vec![f64::NAN])).merge(Partial::Plain(f64s(&[1], vec![3.0])), ReduceFunc::NanMin).unwrap();
        assert_eq!(merged.into_chunk().to_f64_vec(), vec![3.0]);
    }

    #[test]
    fn bools_reduce_natively_and_sums_of_bools_need_a_cast() {
        let b = ChunkData::Bool(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![true, false, true, true]).unwrap());
        assert_eq!(plain(&b, ReduceFunc::Min, &[0]).unwrap(), ChunkData::Bool(ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![true, false]).unwrap()));
        assert_eq!(plain(&b, ReduceFunc::Any, &[0, 1]).unwrap().to_f64_vec(), vec![1.0]);
        assert_eq!(plain(&b, ReduceFunc::All, &[1]).unwrap().to_f64_vec(), vec![0.0, 1.0]);
        assert!(plain(&b, ReduceFunc::Sum, &[0]).unwrap_err().0.contains("cast to int64"));
        assert!(plain(&f64s(&[1], vec![1.0]), ReduceFunc::Any, &[0]).unwrap_err().0.contains("cast the data to bool"));
    }

    #[test]
    fn folding_several_axes_matches_a_row_major_reference() {
        let v: Vec<f64> = (0..24).map(|i| ((i * 7) % 11) as f64).collect();
        let x = f64s(&[2, 3, 4], v.clone());
        for axes in [&[0][..], &[1], &[2], &[0, 2], &[1, 2], &[0, 1, 2]] {
            let got = plain(&x, ReduceFunc::Sum, axes).unwrap();
            let a = ArrayD::from_shape_vec(IxDyn(&[2, 3, 4]), v.clone()).unwrap();
            let mut want = a.clone();
            for &k in axes {
                want = want.sum_axis(Axis(k)).insert_axis(Axis(k));
            }
            assert_eq!(got, ChunkData::Float64(want), "axes {axes:?}");
        }
        // Axes the block lacks, and empty reduced axes, are errors, not panics.
        assert!(plain(&x, ReduceFunc::Sum, &[3]).unwrap_err().0.contains("axis 3"));
        assert!(plain(&f64s(&[0, 2], vec![]), ReduceFunc::Sum, &[0]).unwrap_err().0.contains("axis 0 is empty"));
    }

    #[test]
    fn empty_groups_give_numpy_identities_or_its_error() {
        let ctx = |func, acc| BlockReduce { func, axes: &[1], acc_dtype: acc, partial_in: false, domain_shape: &[5, 0] };
        let zero = ctx(ReduceFunc::Sum, DType::Int64).identity(&[2, 1]).unwrap().into_chunk();
        assert_eq!((zero.shape(), zero.dtype(), zero.to_f64_vec()), (&[2usize, 1][..], DType::Int64, vec![0.0, 0.0]));
        assert_eq!(ctx(ReduceFunc::Prod, DType::Float64).identity(&[1]).unwrap().into_chunk().to_f64_vec(), vec![1.0]);
        assert_eq!(ctx(ReduceFunc::All, DType::Bool).identity(&[1]).unwrap().into_chunk().to_f64_vec(), vec![1.0]);
        assert_eq!(ctx(ReduceFunc::Any, DType::Bool).identity(&[1]).unwrap().into_chunk().to_f64_vec(), vec![0.0]);
        let var = ctx(ReduceFunc::Moments, DType::Float64).identity(&[1]).unwrap().finish(ReduceFunc::Moments, Some(Finish::Var { correction: 0.0 })).unwrap();
        assert!(var.to_f64_vec()[0].is_nan());
        let e = ctx(ReduceFunc::Min, DType::Float64).identity(&[1]).unwrap_err();
        assert_eq!(e.message, "zero-size array to reduction operation minimum which has no identity");
        assert!(!e.retryable);
        assert!(ctx(ReduceFunc::NanMax, DType::Float64).identity(&[1]).unwrap_err().message.contains("fmax"));
        assert_eq!(ctx(ReduceFunc::ArgMin, DType::Float64).identity(&[1]).unwrap_err().message, "attempt to get argmin of an empty sequence");
    }

    #[test]
    fn partials_with_fields_round_trip_through_their_stored_layout() {
        let ctx = BlockReduce { func: ReduceFunc::NanMoments, axes: &[0], acc_dtype: DType::Float64, partial_in: false, domain_shape: &[3, 2] };
        let p = ctx.block(f64s(&[3, 2], vec![1.0, f64::NAN, 2.0, 5.0, 4.0, f64::NAN]), &[0, 0]).unwrap();
        let stored = p.clone().into_chunk();
        assert_eq!((stored.shape(), stored.dtype()), (&[1usize, 2, 3][..], DType::Float64));
        let again = BlockReduce { partial_in: true, ..ctx }.block(stored, &[0, 0, 0]).unwrap();
        assert_eq!(again, p);
        let mean = again.finish(ReduceFunc::NanMoments, Some(Finish::Mean)).unwrap();
        assert_eq!(mean.to_f64_vec(), vec![7.0 / 3.0, 5.0]);
        // A plain function never reads partials with fields.
        let plain_ctx = BlockReduce { func: ReduceFunc::Sum, partial_in: true, ..ctx };
        assert!(plain_ctx.block(f64s(&[1], vec![1.0]), &[0]).is_err());
    }
}
