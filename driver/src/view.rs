//! Building views: arrays that read another through a per-axis index map
//! ([`cubed_task::kernel::View`]). Indexing ([`crate::indexing`]) and the
//! manipulation functions that only move elements ([`crate::manipulation`])
//! all end here, so they fuse with what comes before and after them, and a
//! slice reads only the chunks it touches.

use cubed_task::kernel::{AxisMap, Fixed, View};
use cubed_task::plan::saturating_product;

use crate::array::{Array, LogicalOp, Regional};
use crate::error::{CubedError, Result};

/// Largest chunk, in bytes, a new axis grows a chunk to when it broadcasts
/// (`broadcast_to`): as the creation functions' automatic chunks.
const BROADCAST_CHUNK_BYTES: u64 = 32 << 20;

/// The view of `x` with one [`AxisMap`] per result axis (lengths `shape`)
/// and the source axes in `fixed` held at an index; `name` labels it in plans.
///
/// Chunks follow the source: an axis reading a source axis keeps its chunk
/// length; a new axis of length 1 has chunks of 1; a new axis that
/// broadcasts grows the chunk up to the larger of the source's chunk and
/// 32 MB. A view that reads `x` as it is returns `x`.
pub(crate) fn view(x: &Array, name: &'static str, shape: Vec<u64>, axes: Vec<AxisMap>, fixed: Vec<Fixed>) -> Result<Array> {
    let identity = fixed.is_empty()
        && shape == x.shape()
        && axes.iter().enumerate().all(|(j, m)| matches!(m, AxisMap::Range { source, start: 0, step: 1 } if *source == j));
    if identity {
        return Ok(x.clone());
    }
    view_with_lists(x, name, shape, axes, fixed, vec![])
}

/// [`view`] with the index lists of [`AxisMap::Take`] axes.
pub(crate) fn view_with_lists(x: &Array, name: &'static str, shape: Vec<u64>, axes: Vec<AxisMap>, fixed: Vec<Fixed>, lists: Vec<Vec<u64>>) -> Result<Array> {
    let v = View { source_shape: x.shape().to_vec(), source_chunks: x.chunks().to_vec(), shape, axes, fixed, lists };
    v.check().map_err(|e| CubedError::Invalid(format!("{name}: internal error building a view: {e}")))?;
    let mut chunks: Vec<u64> = v.axes.iter().map(|m| m.source().map_or(1, |s| x.chunks()[s])).collect();
    let target = (BROADCAST_CHUNK_BYTES / x.dtype().itemsize()).max(saturating_product(x.chunks()));
    for (j, m) in v.axes.iter().enumerate() {
        if *m == AxisMap::New && v.shape[j] > 1 {
            let rest = saturating_product(&chunks).max(1);
            chunks[j] = (target / rest).clamp(1, v.shape[j]);
        }
    }
    let shape = v.shape.clone();
    let labels = crate::labels::from_axes(x, v.axes.iter().map(|m| m.source()), true);
    Ok(Array::new(x.spec_arc(), shape, chunks, x.dtype(), LogicalOp::Regional { node: Regional::View(v), args: vec![x.clone()], name }).labelled(labels))
}

/// An axis map reading source axis `source` whole and in order.
pub(crate) fn whole(source: usize) -> AxisMap {
    AxisMap::Range { source, start: 0, step: 1 }
}

/// Normalised, distinct axes of an `ndim`-dimensional array, in the order
/// given; a repeated axis is an error naming the caller.
pub(crate) fn distinct_axes(axes: &[i64], ndim: usize, what: &str) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let k = normalize_axis(a, ndim, what)?;
        if out.contains(&k) {
            return Err(CubedError::Invalid(format!("{what}: repeated axis {a} in {axes:?}")));
        }
        out.push(k);
    }
    Ok(out)
}

/// Normalises an axis that may count from the end (`-1` is the last of
/// `ndim`), as numpy's `normalize_axis_index`; `what` names the caller.
pub(crate) fn normalize_axis(axis: i64, ndim: usize, what: &str) -> Result<usize> {
    let n = ndim as i64;
    if axis < -n || axis >= n {
        return Err(CubedError::Invalid(format!("{what}: axis {axis} is out of bounds for an array of dimension {ndim}")));
    }
    Ok(if axis < 0 { (axis + n) as usize } else { axis as usize })
}
