//! Reductions (`sum`, `mean`, `min`, `max`) over any axes, run as a streamed
//! tree: each task combines at most `split_every` blocks per reduced axis,
//! reading one block at a time, so memory per task is bounded whatever the
//! number of chunks.

use cubed_task::kernel::ReduceFunc;
use cubed_task::DType;

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

fn reduce(a: &Array, func: ReduceFunc, mean: bool, axes: Option<&[i64]>, split_every: Option<u64>) -> Result<Array> {
    let axes = normalize_axes(a, axes)?;
    let split_every = split_every.unwrap_or(DEFAULT_SPLIT_EVERY);
    if split_every < 2 {
        return Err(CubedError::Invalid(format!("split_every must be at least 2, got {split_every}")));
    }
    let dtype = if mean {
        a.dtype().to_float()
    } else {
        match (func, a.dtype()) {
            (ReduceFunc::Sum, DType::Bool | DType::Int32) => DType::Int64,
            (_, d) => d,
        }
    };
    let keep = |v: &[u64]| v.iter().enumerate().filter(|(k, _)| !axes.contains(k)).map(|(_, &x)| x).collect::<Vec<_>>();
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

/// Sum over `axes` (all when `None`); negative axes count from the end.
pub fn sum(a: &Array, axes: Option<&[i64]>, split_every: Option<u64>) -> Result<Array> {
    reduce(a, ReduceFunc::Sum, false, axes, split_every)
}

/// Arithmetic mean over `axes` (all when `None`).
pub fn mean(a: &Array, axes: Option<&[i64]>, split_every: Option<u64>) -> Result<Array> {
    reduce(a, ReduceFunc::Sum, true, axes, split_every)
}

/// Minimum over `axes` (all when `None`); NaN propagates.
pub fn min(a: &Array, axes: Option<&[i64]>, split_every: Option<u64>) -> Result<Array> {
    reduce(a, ReduceFunc::Min, false, axes, split_every)
}

/// Maximum over `axes` (all when `None`); NaN propagates.
pub fn max(a: &Array, axes: Option<&[i64]>, split_every: Option<u64>) -> Result<Array> {
    reduce(a, ReduceFunc::Max, false, axes, split_every)
}
