//! Joining and padding: `concat`, `stack`, `unstack` and `pad`.
//!
//! A concatenation is one kernel node ([`cubed_task::kernel::Concat`]): each
//! output chunk reads, from each part it overlaps, just that region, so the
//! parts may be chunked differently and it fuses like an elementwise step.
//! `stack` concatenates new axes, `pad` constant blocks, `unstack` is views.

use cubed_task::kernel::Concat;

use crate::array::{Array, LogicalOp, Regional};
use crate::error::{CubedError, Result};
use crate::view::normalize_axis;

fn invalid(message: String) -> CubedError {
    CubedError::Invalid(message)
}

/// The arrays joined along `axis` (numpy `concatenate`; the result type is
/// their promoted type; chunks are the first array's).
pub fn concat(arrays: &[&Array], axis: i64) -> Result<Array> {
    let Some(first) = arrays.first() else {
        return Err(invalid("concat: need at least one array to concatenate".into()));
    };
    if first.ndim() == 0 {
        return Err(invalid("concat: zero-dimensional arrays cannot be concatenated".into()));
    }
    let k = normalize_axis(axis, first.ndim(), "concat")?;
    let mut dtype = first.dtype();
    let mut weak = first.is_weak();
    for (i, a) in arrays.iter().enumerate().skip(1) {
        if a.ndim() != first.ndim() {
            return Err(invalid(format!(
                "concat: all the input arrays must have the same number of dimensions, but the array at index 0 has {} and the array at index {i} has {}",
                first.ndim(),
                a.ndim()
            )));
        }
        if let Some(d) = (0..a.ndim()).find(|&d| d != k && a.shape()[d] != first.shape()[d]) {
            return Err(invalid(format!(
                "concat: all the input array dimensions except for the concatenation axis must match exactly, but along dimension {d}, the array at index 0 has size {} and the array at index {i} has size {}",
                first.shape()[d],
                a.shape()[d]
            )));
        }
        dtype = match (weak, a.is_weak()) {
            (true, false) => a.dtype(),
            (false, true) => dtype,
            _ => dtype.promote(a.dtype()),
        };
        weak &= a.is_weak();
    }
    let parts: Vec<Array> = arrays.iter().map(|a| crate::astype(a, dtype)).collect::<Result<_>>()?;
    if let [only] = parts.as_slice() {
        return Ok(only.clone());
    }
    let lens: Vec<u64> = parts.iter().map(|a| a.shape()[k]).collect();
    let mut shape = first.shape().to_vec();
    shape[k] = lens.iter().try_fold(0u64, |s, &l| s.checked_add(l)).ok_or_else(|| invalid("concat: the total length does not fit in 64 bits".into()))?;
    let node = Regional::Concat(Concat { axis: k, lens, shape: shape.clone(), dtype });
    // The first array's chunks, but along the axis the longest of the parts'
    // (a short first part, as diff's prepend, must not make tiny chunks).
    let mut chunks = first.chunks().to_vec();
    chunks[k] = parts.iter().map(|a| a.chunks()[k]).max().unwrap_or(1);
    // The first part's names; the attributes when every part has the same.
    let same = parts.iter().all(|p| p.labels().attributes == parts[0].labels().attributes);
    let labels = crate::labels::from_axes(&parts[0], (0..shape.len()).map(Some), same);
    Ok(Array::new(first.spec_arc(), shape, chunks, dtype, LogicalOp::Regional { node, args: parts, name: "concat" }).labelled(labels))
}

/// The arrays (all of one shape) joined along a new axis `axis` of the result.
pub fn stack(arrays: &[&Array], axis: i64) -> Result<Array> {
    let Some(first) = arrays.first() else {
        return Err(invalid("stack: need at least one array to stack".into()));
    };
    if let Some((i, a)) = arrays.iter().enumerate().find(|(_, a)| a.shape() != first.shape()) {
        return Err(invalid(format!("stack: all input arrays must have the same shape: the array at index 0 has {:?}, the array at index {i} {:?}", first.shape(), a.shape())));
    }
    let k = normalize_axis(axis, first.ndim() + 1, "stack")? as i64;
    let expanded: Vec<Array> = arrays.iter().map(|a| crate::expand_dims(a, &[k])).collect::<Result<_>>()?;
    concat(&expanded.iter().collect::<Vec<_>>(), k)
}

/// The arrays along `axis`, one per position (the Array API's `unstack`).
pub fn unstack(x: &Array, axis: i64) -> Result<Vec<Array>> {
    if x.ndim() == 0 {
        return Err(invalid("unstack: a zero-dimensional array has no axis to unstack".into()));
    }
    let k = normalize_axis(axis, x.ndim(), "unstack")?;
    (0..x.shape()[k])
        .map(|i| {
            let mut index = vec![crate::Index::Slice(crate::Slice::default()); k];
            index.push(crate::Index::Int(i as i64));
            crate::getitem(x, &index)
        })
        .collect()
}

/// `x` padded with `value`: `widths[k]` = (before, after) elements on axis
/// `k` (numpy `pad` in `constant` mode; the value is converted to x's type
/// and must fit it).
pub fn pad(x: &Array, widths: &[(u64, u64)], value: f64) -> Result<Array> {
    if widths.len() != x.ndim() {
        return Err(invalid(format!("pad: {} (before, after) widths for an array of {} dimensions", widths.len(), x.ndim())));
    }
    let mut out = x.clone();
    for (k, &(before, after)) in widths.iter().enumerate() {
        let block = |width: u64| -> Result<Option<Array>> {
            let mut shape = out.shape().to_vec();
            shape[k] = width;
            (width > 0).then(|| crate::full(out.spec(), &shape, value, out.chunks(), out.dtype())).transpose()
        };
        let (pre, post) = (block(before)?, block(after)?);
        let list: Vec<&Array> = pre.iter().chain(std::iter::once(&out)).chain(post.iter()).collect();
        out = concat(&list, k as i64)?;
    }
    Ok(out)
}
