//! Reductions (`sum`, `mean`, `min`, `max`) over any axes, run as a streamed
//! tree: each task combines at most `split_every` blocks per reduced axis,
//! reading one block at a time, so memory per task is bounded whatever the
//! number of chunks.

use cubed_task::kernel::ReduceFunc;

use crate::array::{Array, LogicalOp};
use crate::error::{CubedError, Result};

/// Cubed's default fan-in of one reduction task.
pub const DEFAULT_SPLIT_EVERY: u64 = 4;

fn normalize_axes(a: &Array, axes: Option<&[i64]>) -> Result<Vec<usize>> {
    let n = a.ndim() as i64;
    let mut out: Vec<usize> = match axes {
        None => (0..a.ndim()).collect(),
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

fn reduce(a: &Array, func: ReduceFunc, mean: bool, opts: &Reduce) -> Result<Array> {
    let axes = normalize_axes(a, opts.axis.as_deref())?;
    let split_every = opts.split_every.unwrap_or(DEFAULT_SPLIT_EVERY);
    if split_every < 2 {
        return Err(CubedError::Invalid(format!("split_every must be at least 2, got {split_every}")));
    }
    let dtype = match (mean, func) {
        (true, _) => crate::planner::mean_type(a.dtype()),
        (false, ReduceFunc::Sum) => a.dtype().sum_type(),
        (false, _) => a.dtype(),
    };
    let keep = |v: &[u64]| -> Vec<u64> {
        v.iter().enumerate().filter_map(|(k, &x)| if !axes.contains(&k) { Some(x) } else if opts.keepdims { Some(1) } else { None }).collect()
    };
    let (shape, chunks) = (keep(a.shape()), keep(a.chunks()));
    if let Some(k) = axes.iter().copied().find(|&k| a.shape()[k] == 0).filter(|_| func != ReduceFunc::Sum) {
        let name = if func == ReduceFunc::Min { ("min", "minimum") } else { ("max", "maximum") };
        return Err(CubedError::Invalid(format!(
            "{} over axis {k} of an array of shape {:?}: zero-size array to reduction operation {} which has no identity",
            name.0,
            a.shape(),
            name.1
        )));
    }
    Ok(Array::new(a.spec_arc(), shape, chunks, dtype, LogicalOp::Reduce { func, mean, axes, split_every, arg: a.clone() }))
}

/// Sum over the axes (numpy's accumulation types: int64 for bools and signed
/// integers, uint64 for unsigned ones; integers wrap on overflow).
pub fn sum(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, ReduceFunc::Sum, false, opts)
}

/// Arithmetic mean over the axes (float64 for integers).
pub fn mean(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, ReduceFunc::Sum, true, opts)
}

/// Minimum over the axes; NaN propagates.
pub fn min(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, ReduceFunc::Min, false, opts)
}

/// Maximum over the axes; NaN propagates.
pub fn max(a: &Array, opts: &Reduce) -> Result<Array> {
    reduce(a, ReduceFunc::Max, false, opts)
}
