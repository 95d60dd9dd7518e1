//! Stencils along one axis: `diff`, `moving_sum`, `moving_mean`.
//!
//! Each is one halo node ([`cubed_task::kernel::Halo`]): an output chunk
//! reads its own region of the argument plus a margin from its neighbours
//! (Dask's and Cubed's `map_overlap`), so it fuses with what comes before
//! and after, and memory is the chunk plus its margins.

use cubed_task::kernel::{Halo, HaloOp};
use cubed_task::DType;

use crate::array::{Array, LogicalOp, Regional};
use crate::error::{CubedError, Result};
use crate::view::normalize_axis;

fn halo(name: &'static str, x: &Array, axis: usize, op: HaloOp, dtype: DType) -> Result<Array> {
    let h = Halo { axis, source_shape: x.shape().to_vec(), op, dtype };
    h.check().map_err(|e| CubedError::Invalid(format!("{name}: {e}")))?;
    let shape = h.shape();
    let labels = crate::labels::from_axes(x, (0..x.ndim()).map(Some), false);
    Ok(Array::new(x.spec_arc(), shape, x.chunks().to_vec(), dtype, LogicalOp::Regional { node: Regional::Halo(h), args: vec![x.clone()], name }).labelled(labels))
}

/// numpy's `diff`: the `n`-th forward difference along `axis` (`x[1:] -
/// x[:-1]`, n times; `not_equal` for bools), after joining `prepend` before
/// and `append` after `x` along the axis (a 0-d one is broadcast to length 1).
pub fn diff(x: &Array, n: i64, axis: i64, prepend: Option<&Array>, append: Option<&Array>) -> Result<Array> {
    if n < 0 {
        return Err(CubedError::Invalid(format!("diff: order must be non-negative but got {n}")));
    }
    if x.ndim() == 0 {
        return Err(CubedError::Invalid("diff: diff requires input that is at least one dimensional".into()));
    }
    let k = normalize_axis(axis, x.ndim(), "diff")?;
    if n == 0 {
        return Ok(x.clone());
    }
    let edge = |e: &Array| -> Result<Array> {
        // numpy takes them as arrays: a Python number's type does not yield to x's.
        let e = if e.is_weak() { crate::astype(e, e.dtype())? } else { e.clone() };
        if e.ndim() > 0 {
            return Ok(e);
        }
        let mut shape = x.shape().to_vec();
        shape[k] = 1;
        crate::broadcast_to(&e, &shape)
    };
    let mut parts: Vec<Array> = vec![];
    parts.extend(prepend.map(edge).transpose()?);
    parts.push(x.clone());
    parts.extend(append.map(edge).transpose()?);
    let joined = crate::concat(&parts.iter().collect::<Vec<_>>(), k as i64)?;
    let n = (n as u64).min(joined.shape()[k]);
    halo("diff", &joined, k, HaloOp::Diff { n }, joined.dtype())
}

fn window_type(name: &str, x: &Array) -> Result<DType> {
    match x.dtype() {
        DType::Float32 => Ok(DType::Float32),
        d if d.is_numeric() || d == DType::Bool => Ok(DType::Float64),
        d => Err(CubedError::Invalid(format!("{name}: cannot average {d}"))),
    }
}

fn window(name: &'static str, x: &Array, window: u64, axis: i64, op: HaloOp) -> Result<Array> {
    if window == 0 {
        return Err(CubedError::Invalid(format!("{name}: window must be at least 1")));
    }
    if x.ndim() == 0 {
        return Err(CubedError::Invalid(format!("{name}: x needs at least one dimension")));
    }
    let k = normalize_axis(axis, x.ndim(), name)?;
    halo(name, x, k, op, window_type(name, x)?)
}

/// The sum of each element and the `window - 1` before it along `axis`;
/// NaN where fewer than `window` elements exist or one is NaN (pandas'
/// `rolling(window).sum()`). float32 stays float32, other types give float64.
pub fn moving_sum(x: &Array, window_len: u64, axis: i64) -> Result<Array> {
    window("moving_sum", x, window_len, axis, HaloOp::MovingSum { window: window_len })
}

/// [`moving_sum`] divided by `window` (pandas' `rolling(window).mean()`).
pub fn moving_mean(x: &Array, window_len: u64, axis: i64) -> Result<Array> {
    window("moving_mean", x, window_len, axis, HaloOp::MovingMean { window: window_len })
}
