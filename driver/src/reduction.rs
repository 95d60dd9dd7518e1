//! Reductions over any axes, run as a streamed tree: each task combines at
//! most `split_every` blocks per reduced axis, reading one block at a time,
//! so memory per task is bounded whatever the number of chunks.
//!
//! Every function follows numpy 2 for result types, NaN, ties and empty axes:
//! sums and products accumulate in numpy's types ([`DType::sum_type`]);
//! `var` and `std` merge (count, sum, M2) partials (Chan et al.), never sums
//! of squares; `argmax` and friends keep (value, index) pairs and give the
//! first occurrence; the `nan` versions skip NaN.

use cubed_task::kernel::reduce::{no_identity, Finish};
use cubed_task::kernel::ReduceFunc;
use cubed_task::DType;

use crate::array::{Array, LogicalOp};
use crate::error::{CubedError, Result};

/// Cubed's default fan-in of one reduction task.
pub const DEFAULT_SPLIT_EVERY: u64 = 4;

/// The axes `axes` name in an array of `ndim` dimensions (negative count
/// from the end; `None` for all), sorted; out of range or repeated axes are
/// errors.
pub(crate) fn normalize_axes(ndim: usize, axes: Option<&[i64]>) -> Result<Vec<usize>> {
    let n = ndim as i64;
    let mut out: Vec<usize> = match axes {
        None => (0..ndim).collect(),
        Some(axes) => axes
            .iter()
            .map(|&k| {
                let j = if k < 0 { k + n } else { k };
                if (0..n).contains(&j) {
                    Ok(j as usize)
                } else {
                    Err(CubedError::Invalid(format!("axis {k} is out of bounds for an array of {n} dimensions")))
                }
            })
            .collect::<Result<_>>()?,
    };
    out.sort_unstable();
    if out.windows(2).any(|w| w[0] == w[1]) {
        return Err(CubedError::Invalid(format!("repeated axis in {axes:?}")));
    }
    Ok(out)
}

/// How a reduction runs: over which axes, whether reduced axes are kept as
/// length-1 axes (numpy's `keepdims`), and how many blocks one task combines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reduce {
    /// Axes to reduce (negative count from the end); `None` for all.
    pub axis: Option<Vec<i64>>,
    /// Keep reduced axes with length 1.
    pub keepdims: bool,
    /// Blocks one task combines per reduced axis (default [`DEFAULT_SPLIT_EVERY`]).
    pub split_every: Option<u64>,
}

impl Reduce {
    /// Over every axis.
    pub fn all() -> Reduce {
        Reduce::default()
    }

    /// Over the given axes.
    pub fn axis(axes: &[i64]) -> Reduce {
        Reduce { axis: Some(axes.to_vec()), ..Reduce::default() }
    }

    /// Keeps the reduced axes as length-1 axes.
    pub fn keepdims(mut self) -> Reduce {
        self.keepdims = true;
        self
    }

    /// Sets the fan-in of one task.
    pub fn split_every(mut self, n: u64) -> Reduce {
        self.split_every = Some(n);
        self
    }
}

/// A reduction as the planner emits it: its rounds (see `planner.rs`).
#[derive(Debug, Clone)]
pub(crate) struct Reduction {
    /// The user-facing name (`nanvar`, `count_nonzero`, ...) for plans and errors.
    pub name: &'static str,
    /// The function of the first round.
    pub func: ReduceFunc,
    /// The accumulation type (arg reductions: the type of the values).
    pub acc: DType,
    /// Divide the final sum by the number of elements reduced (`mean`).
    pub mean: bool,
    /// How the last round finishes partials with several fields.
    pub finish: Option<Finish>,
    /// The reduced axes, sorted.
    pub axes: Vec<usize>,
    /// Blocks one task combines per reduced axis.
    pub split_every: u64,
}

/// What a public function asks of [`reduce`].
struct Kind {
    name: &'static str,
    func: ReduceFunc,
    acc: DType,
    /// The result type.
    dtype: DType,
    mean: bool,
    finish: Option<Finish>,
}

impl Kind {
    fn new(name: &'static str, func: ReduceFunc, acc: DType, dtype: DType) -> Kind {
        Kind { name, func, acc, dtype, mean: false, finish: None }
    }
}

fn reduce(a: &Array, k: Kind, opts: &Reduce) -> Result<Array> {
    let axes = normalize_axes(a.ndim(), opts.axis.as_deref())?;
    let split_every = opts.split_every.unwrap_or(DEFAULT_SPLIT_EVERY);
    if split_every < 2 {
        return Err(CubedError::Invalid(format!("split_every must be at least 2, got {split_every}")));
    }
    let no_identity_over = |&j: &usize| a.shape()[j] == 0 && !has_identity(k.func);
    if let Some(j) = axes.iter().find(|j| no_identity_over(j)) {
        return Err(CubedError::Invalid(format!("{} over axis {j} of an array of shape {:?}: {}", k.name, a.shape(), no_identity(k.func))));
    }
    let keep = |v: &[u64]| -> Vec<u64> {
        v.iter().enumerate().filter_map(|(j, &x)| if !axes.contains(&j) { Some(x) } else if opts.keepdims { Some(1) } else { None }).collect()
    };
    let (shape, chunks) = (keep(a.shape()), keep(a.chunks()));
    let reduction = Reduction { name: k.name, func: k.func, acc: k.acc, mean: k.mean, finish: k.finish, axes, split_every };
    // Reduced axes lose their names unless kept (keepdims).
    let kept: Vec<Option<usize>> = (0..a.ndim()).filter(|j| opts.keepdims || !reduction.axes.contains(j)).map(|j| (!reduction.axes.contains(&j)).then_some(j)).collect();
    let labels = crate::labels::from_axes(a, kept, false);
    Ok(Array::new(a.spec_arc(), shape, chunks, k.dtype, LogicalOp::Reduce { reduction, arg: a.clone() }).labelled(labels))
}

/// Whether reducing an empty axis gives a value (numpy's identity, or NaN).
fn has_identity(func: ReduceFunc) -> bool {
    !matches!(
        func,
        ReduceFunc::Min | ReduceFunc::Max | ReduceFunc::NanMin | ReduceFunc::NanMax | ReduceFunc::ArgMax | ReduceFunc::ArgMin | ReduceFunc::NanArgMax | ReduceFunc::NanArgMin
    )
}

/// The type of a mean or variance (numpy: float64 for integers and bools,
/// floats keep theirs).
pub(crate) fn mean_type(d: DType) -> DType {
    if d.is_float() {
        d
    } else {
        DType::Float64
    }
}

/// A sum or product accumulating in `dtype` (default numpy's, see
/// [`DType::sum_type`]); in bool it is numpy's logical or / and.
fn sum_or_prod(a: &Array, name: &'static str, dtype: Option<DType>, opts: &Reduce) -> Result<Array> {
    let dtype = dtype.unwrap_or(a.dtype().sum_type());
    let func = match (name, dtype) {
        ("sum", DType::Bool) => ReduceFunc::Any,
        (_, DType::Bool) => ReduceFunc::All,
        ("sum", _) => ReduceFunc::Sum,
        _ => ReduceFunc::Prod,
    };
    reduce(a, Kind::new(name, func, dtype, dtype), opts)
}

/// Sum over the axes (numpy's accumulation types: int64 for bools and signed
/// integers, uint64 for unsigned ones; integers wrap on overflow). An empty
/// axis sums to 0.
pub fn sum(a: &Array, opts: &Reduce) -> Result<Array> {
    sum_or_prod(a, "sum", None, opts)
}

/// Sum accumulating in, and giving, `dtype` (the Array API's `dtype=`:
/// values are cast to it first; bool gives numpy's logical or).
pub fn sum_as(a: &Array, dtype: DType, opts: &Reduce) -> Result<Array> {
    sum_or_prod(a, "sum", Some(dtype), opts)
}

/// Product over the axes, in numpy's accumulation types (as [`sum`]); an
/// empty axis gives 1.
pub fn prod(a: &Array, opts: &Reduce) -> Result<Array> {
    sum_or_prod(a, "prod", None, opts)
}

/// Product accumulating in, and giving, `dtype` (bool: numpy's logical and).
pub fn prod_as(a: &Array, dtype: DType, opts: &Reduce) -> Result<Array> {
    sum_or_prod(a, "prod", Some(dtype), opts)
}

/// Arithmetic mean over the axes (float64 for integers); NaN over an empty axis.
pub fn mean(a: &Array, opts: &Reduce) -> Result<Array> {
    let d = mean_type(a.dtype());
    reduce(a, Kind { mean: true, ..Kind::new("mean", ReduceFunc::Sum, d, d) }, opts)
}

/// Minimum over the axes; NaN propagates; bools give bools. An empty axis
/// is an error, as in numpy.
pub fn min(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, Kind::new("min", ReduceFunc::Min, a.dtype(), a.dtype()), opts)
}

/// Maximum over the axes; NaN propagates; bools give bools.
pub fn max(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, Kind::new("max", ReduceFunc::Max, a.dtype(), a.dtype()), opts)
}

/// Minimum ignoring NaN (NaN where every value is NaN, as numpy's `nanmin`).
pub fn nanmin(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, Kind::new("nanmin", ReduceFunc::NanMin, a.dtype(), a.dtype()), opts)
}

/// Maximum ignoring NaN (NaN where every value is NaN).
pub fn nanmax(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, Kind::new("nanmax", ReduceFunc::NanMax, a.dtype(), a.dtype()), opts)
}

/// Sum treating NaN as 0 (numpy's `nansum`, in numpy's accumulation types).
pub fn nansum(a: &Array, opts: &Reduce) -> Result<Array> {
    let d = a.dtype().sum_type();
    reduce(a, Kind::new("nansum", ReduceFunc::NanSum, d, d), opts)
}

/// Product treating NaN as 1 (numpy's `nanprod`).
pub fn nanprod(a: &Array, opts: &Reduce) -> Result<Array> {
    let d = a.dtype().sum_type();
    reduce(a, Kind::new("nanprod", ReduceFunc::NanProd, d, d), opts)
}

/// (count, sum, M2) reductions: variances, standard deviations, `nanmean`.
fn moments(a: &Array, name: &'static str, nan: bool, finish: Finish, opts: &Reduce) -> Result<Array> {
    let func = if nan { ReduceFunc::NanMoments } else { ReduceFunc::Moments };
    reduce(a, Kind { finish: Some(finish), ..Kind::new(name, func, DType::Float64, mean_type(a.dtype())) }, opts)
}

/// Variance over the axes with `correction` degrees of freedom subtracted
/// from the count (numpy's `ddof`; 0 the population variance, 1 the sample
/// variance). Computed in float64 from merged (count, sum, M2) partials, so
/// it stays accurate for data far from 0; float64 for integers, float32 stays
/// float32. `correction` at least the count gives inf or NaN, as numpy.
pub fn var(a: &Array, correction: f64, opts: &Reduce) -> Result<Array> {
    moments(a, "var", false, Finish::Var { correction }, opts)
}

/// Standard deviation: the square root of [`var`].
pub fn std(a: &Array, correction: f64, opts: &Reduce) -> Result<Array> {
    moments(a, "std", false, Finish::Std { correction }, opts)
}

/// Variance of the values that are not NaN (numpy's `nanvar`: NaN where no
/// more than `correction` values remain).
pub fn nanvar(a: &Array, correction: f64, opts: &Reduce) -> Result<Array> {
    moments(a, "nanvar", true, Finish::Var { correction }, opts)
}

/// Standard deviation of the values that are not NaN (numpy's `nanstd`).
pub fn nanstd(a: &Array, correction: f64, opts: &Reduce) -> Result<Array> {
    moments(a, "nanstd", true, Finish::Std { correction }, opts)
}

/// Mean of the values that are not NaN (numpy's `nanmean`: NaN where every
/// value is NaN).
pub fn nanmean(a: &Array, opts: &Reduce) -> Result<Array> {
    moments(a, "nanmean", true, Finish::Mean, opts)
}

/// Arg reductions: one axis or all (then a flat, row-major index).
fn arg(a: &Array, name: &'static str, func: ReduceFunc, opts: &Reduce) -> Result<Array> {
    if let Some(axes) = opts.axis.as_ref().filter(|axes| axes.len() != 1) {
        return Err(CubedError::Invalid(format!("{name}: axis must be an integer or None, not {axes:?} (numpy reduces one axis, or the flattened array)")));
    }
    reduce(a, Kind { finish: Some(Finish::Index), ..Kind::new(name, func, a.dtype(), DType::Int64) }, opts)
}

/// Index (int64) of the maximum along `axis`, or into the flattened array
/// (row-major) when `axis` is None; the first occurrence on ties, the first
/// NaN when there is one, as numpy.
pub fn argmax(a: &Array, opts: &Reduce) -> Result<Array> {
    arg(a, "argmax", ReduceFunc::ArgMax, opts)
}

/// Index of the minimum (see [`argmax`]).
pub fn argmin(a: &Array, opts: &Reduce) -> Result<Array> {
    arg(a, "argmin", ReduceFunc::ArgMin, opts)
}

/// Index of the maximum ignoring NaN; a slice of NaN only fails the task
/// ("All-NaN slice encountered", numpy's ValueError).
pub fn nanargmax(a: &Array, opts: &Reduce) -> Result<Array> {
    arg(a, "nanargmax", ReduceFunc::NanArgMax, opts)
}

/// Index of the minimum ignoring NaN (see [`nanargmax`]).
pub fn nanargmin(a: &Array, opts: &Reduce) -> Result<Array> {
    arg(a, "nanargmin", ReduceFunc::NanArgMin, opts)
}

/// Whether any element is nonzero (true; NaN counts), as bool; false over
/// an empty axis.
pub fn any(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, Kind::new("any", ReduceFunc::Any, DType::Bool, DType::Bool), opts)
}

/// Whether every element is nonzero, as bool; true over an empty axis.
pub fn all(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, Kind::new("all", ReduceFunc::All, DType::Bool, DType::Bool), opts)
}

/// Number of nonzero elements (int64): the sum of `astype(a, bool)`.
pub fn count_nonzero(a: &Array, opts: &Reduce) -> Result<Array> {
    let nonzero = crate::astype(a, DType::Bool)?;
    reduce(&nonzero, Kind::new("count_nonzero", ReduceFunc::Sum, DType::Int64, DType::Int64), opts)
}
