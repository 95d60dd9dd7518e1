//! The manipulation functions that only move elements: transposes, new and
//! dropped axes, flips, broadcasts, rolls, tiles and repeats. Each is one
//! view ([`crate::view`]), with numpy's semantics and error messages.

use cubed_task::kernel::{AxisMap, Fixed};

use crate::array::Array;
use crate::error::{CubedError, Result};
use crate::view::{distinct_axes, normalize_axis, view, whole};

fn invalid(message: String) -> CubedError {
    CubedError::Invalid(message)
}

/// `x` with its axes reordered: axis `k` of the result is axis `axes[k]` of
/// `x` (numpy `transpose(x, axes)`; negative axes count from the end).
pub fn permute_dims(x: &Array, axes: &[i64]) -> Result<Array> {
    if axes.len() != x.ndim() {
        return Err(invalid(format!("permute_dims: axes {axes:?} do not match an array of dimension {}: give each axis once", x.ndim())));
    }
    let order = distinct_axes(axes, x.ndim(), "permute_dims")?;
    let shape = order.iter().map(|&k| x.shape()[k]).collect();
    view(x, "permute_dims", shape, order.into_iter().map(whole).collect(), vec![])
}

/// The last two axes swapped (`x.mT`); `x` needs at least two.
pub fn matrix_transpose(x: &Array) -> Result<Array> {
    let n = x.ndim();
    if n < 2 {
        return Err(invalid(format!("matrix_transpose: x has {n} dimension(s) (shape {:?}); it needs at least 2", x.shape())));
    }
    let mut axes: Vec<i64> = (0..n as i64).collect();
    axes.swap(n - 2, n - 1);
    permute_dims(x, &axes)
}

/// All axes reversed (`x.T`, numpy's `transpose(x)`).
pub fn transpose(x: &Array) -> Result<Array> {
    let axes: Vec<i64> = (0..x.ndim() as i64).rev().collect();
    permute_dims(x, &axes)
}

/// Axes `source` moved to positions `destination`, the others keeping their order.
pub fn moveaxis(x: &Array, source: &[i64], destination: &[i64]) -> Result<Array> {
    if source.len() != destination.len() {
        return Err(invalid(format!("moveaxis: `source` {source:?} and `destination` {destination:?} must have the same number of elements")));
    }
    let n = x.ndim();
    let src = distinct_axes(source, n, "moveaxis (source)")?;
    let dst = distinct_axes(destination, n, "moveaxis (destination)")?;
    let mut rest = (0..n).filter(|k| !src.contains(k));
    let mut order = vec![usize::MAX; n];
    for (&s, &d) in src.iter().zip(&dst) {
        order[d] = s;
    }
    for slot in order.iter_mut().filter(|s| **s == usize::MAX) {
        *slot = rest.next().expect("as many axes left as free places");
    }
    permute_dims(x, &order.iter().map(|&k| k as i64).collect::<Vec<_>>())
}

/// Axes `axis1` and `axis2` interchanged.
pub fn swapaxes(x: &Array, axis1: i64, axis2: i64) -> Result<Array> {
    let a = normalize_axis(axis1, x.ndim(), "swapaxes")?;
    let b = normalize_axis(axis2, x.ndim(), "swapaxes")?;
    let mut order: Vec<i64> = (0..x.ndim() as i64).collect();
    order.swap(a, b);
    permute_dims(x, &order)
}

/// New axes of length 1 at positions `axes` of the result (numpy
/// `expand_dims`; negative positions count from the result's end).
pub fn expand_dims(x: &Array, axes: &[i64]) -> Result<Array> {
    let n = x.ndim() + axes.len();
    let new = distinct_axes(axes, n, "expand_dims")?;
    let (mut shape, mut maps) = (vec![], vec![]);
    let mut source = 0;
    for j in 0..n {
        if new.contains(&j) {
            shape.push(1);
            maps.push(AxisMap::New);
        } else {
            shape.push(x.shape()[source]);
            maps.push(whole(source));
            source += 1;
        }
    }
    view(x, "expand_dims", shape, maps, vec![])
}

/// Axes of length 1 removed: those in `axes` (each must have length 1), or
/// all of them when `axes` is `None`.
pub fn squeeze(x: &Array, axes: Option<&[i64]>) -> Result<Array> {
    let drop = match axes {
        Some(a) => {
            let drop = distinct_axes(a, x.ndim(), "squeeze")?;
            if let Some(&k) = drop.iter().find(|&&k| x.shape()[k] != 1) {
                return Err(invalid(format!(
                    "squeeze: cannot select an axis to squeeze out which has size not equal to one (axis {k} has length {} in shape {:?})",
                    x.shape()[k],
                    x.shape()
                )));
            }
            drop
        }
        None => (0..x.ndim()).filter(|&k| x.shape()[k] == 1).collect(),
    };
    let kept: Vec<usize> = (0..x.ndim()).filter(|k| !drop.contains(k)).collect();
    let shape = kept.iter().map(|&k| x.shape()[k]).collect();
    let fixed = drop.into_iter().map(|axis| Fixed { axis, index: 0 }).collect();
    view(x, "squeeze", shape, kept.into_iter().map(whole).collect(), fixed)
}

/// The order of elements reversed along `axes` (all axes when `None`).
pub fn flip(x: &Array, axes: Option<&[i64]>) -> Result<Array> {
    let flipped = match axes {
        Some(a) => distinct_axes(a, x.ndim(), "flip")?,
        None => (0..x.ndim()).collect(),
    };
    let maps = (0..x.ndim())
        .map(|k| {
            let n = x.shape()[k];
            if flipped.contains(&k) && n > 0 {
                AxisMap::Range { source: k, start: n - 1, step: -1 }
            } else {
                whole(k)
            }
        })
        .collect();
    view(x, "flip", x.shape().to_vec(), maps, vec![])
}

/// `x` broadcast to `shape` (numpy's rules: `x`'s axes align with the last
/// ones of `shape`; each has the same length or length 1).
pub fn broadcast_to(x: &Array, shape: &[u64]) -> Result<Array> {
    let n = shape.len();
    if x.ndim() > n {
        return Err(invalid(format!("broadcast_to: cannot broadcast shape {:?} to {shape:?}, which has fewer dimensions", x.shape())));
    }
    let skip = n - x.ndim();
    let (mut maps, mut fixed) = (vec![AxisMap::New; skip], vec![]);
    for (k, (&s, &t)) in x.shape().iter().zip(&shape[skip..]).enumerate() {
        if s == t {
            maps.push(whole(k));
        } else if s == 1 {
            maps.push(AxisMap::New);
            fixed.push(Fixed { axis: k, index: 0 });
        } else {
            return Err(invalid(format!(
                "broadcast_to: cannot broadcast shape {:?} to {shape:?} (axis {} has length {s}, not 1 or {t})",
                x.shape(),
                skip + k
            )));
        }
    }
    view(x, "broadcast_to", shape.to_vec(), maps, fixed)
}

/// The arrays broadcast against each other (numpy `broadcast_arrays`).
pub fn broadcast_arrays(arrays: &[&Array]) -> Result<Vec<Array>> {
    let shape = crate::elementwise::broadcast_shapes(arrays)?;
    arrays.iter().map(|a| broadcast_to(a, &shape)).collect()
}

/// Elements shifted by `shift` along `axes`, those past the end coming back
/// at the start (numpy `roll`; one shift per axis, or one for all). Without
/// axes it rolls the flattened array and restores the shape, as numpy's.
pub fn roll(x: &Array, shift: &[i64], axes: Option<&[i64]>) -> Result<Array> {
    let axes: Vec<i64> = match axes {
        Some(a) => a.to_vec(),
        None if x.ndim() <= 1 => vec![0; x.ndim()],
        None => {
            let rolled = roll(&crate::flatten(x)?, shift, None)?;
            return crate::reshape(&rolled, &x.shape().iter().map(|&n| n as i64).collect::<Vec<_>>());
        }
    };
    if x.ndim() == 0 {
        return Ok(x.clone());
    }
    let shifts: Vec<i64> = match (shift.len(), axes.len()) {
        (1, n) => vec![shift[0]; n],
        (s, n) if s == n => shift.to_vec(),
        (s, n) => return Err(invalid(format!("roll: {s} shifts for {n} axes; give one shift, or one per axis"))),
    };
    // Shifts of the same axis add up, as numpy's.
    let mut total = vec![0i128; x.ndim()];
    for (&a, &s) in axes.iter().zip(&shifts) {
        total[normalize_axis(a, x.ndim(), "roll")?] += i128::from(s);
    }
    let maps = (0..x.ndim())
        .map(|k| {
            let n = i128::from(x.shape()[k]);
            if n == 0 || total[k] % n == 0 {
                return whole(k);
            }
            // Output i reads (i - shift) mod n.
            AxisMap::Wrap { source: k, shift: (-total[k]).rem_euclid(n) as u64 }
        })
        .collect();
    view(x, "roll", x.shape().to_vec(), maps, vec![])
}

/// `x` repeated `reps` times along each axis (numpy `tile`: a shorter
/// `reps` is padded with 1s in front, a longer one adds leading axes to `x`).
pub fn tile(x: &Array, reps: &[u64]) -> Result<Array> {
    let n = reps.len().max(x.ndim());
    let reps: Vec<u64> = std::iter::repeat_n(1, n - reps.len()).chain(reps.iter().copied()).collect();
    let skip = n - x.ndim();
    let (mut shape, mut maps) = (vec![], vec![]);
    for (j, &r) in reps.iter().enumerate() {
        if j < skip {
            shape.push(r);
            maps.push(AxisMap::New);
            continue;
        }
        let k = j - skip;
        let len = x.shape()[k].checked_mul(r).ok_or_else(|| invalid(format!("tile: {} x {r} elements along axis {j} do not fit in 64 bits", x.shape()[k])))?;
        shape.push(len);
        maps.push(if r == 1 || len == 0 { whole(k) } else { AxisMap::Wrap { source: k, shift: 0 } });
    }
    view(x, "tile", shape, maps, vec![])
}

/// Each element repeated `repeats` times along `axis` (numpy `repeat` with
/// one count; without an axis it repeats the flattened array, as numpy's).
pub fn repeat(x: &Array, repeats: u64, axis: Option<i64>) -> Result<Array> {
    let axis = match axis {
        Some(a) => normalize_axis(a, x.ndim(), "repeat")?,
        None if x.ndim() == 1 => 0,
        None => return repeat(&crate::flatten(x)?, repeats, Some(0)),
    };
    let mut shape = x.shape().to_vec();
    shape[axis] = shape[axis].checked_mul(repeats).ok_or_else(|| invalid(format!("repeat: {} x {repeats} elements do not fit in 64 bits", x.shape()[axis])))?;
    let maps = (0..x.ndim()).map(|k| if k == axis && repeats != 1 && shape[k] > 0 { AxisMap::Repeat { source: k, repeats } } else { whole(k) }).collect();
    view(x, "repeat", shape, maps, vec![])
}
