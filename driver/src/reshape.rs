//! `reshape` (numpy's, row-major) and what needs it: flattening.
//!
//! A reshape pairs runs of input axes with runs of result axes holding the
//! same elements ([`cubed_task::kernel::reshape::groups`]). Each result chunk
//! reads exactly one input chunk when, in every group, the input's chunks
//! hold whole rows (full on all but the group's first axis) and their length
//! on the first axis is a multiple of `q = lcm(Tin, Tout) / Tin`, `Tin` and
//! `Tout` being the products of the group's other input and result axes.
//! The result's chunk on the group's first axis is then `c * Tin / Tout`,
//! full on the others. The input is rechunked only when its chunks are not
//! of that form, keeping about the bytes of its chunks; a reshape whose
//! smallest such chunk exceeds the memory budget is refused before launch.

use cubed_task::kernel::reshape::{groups, Group};
use cubed_task::kernel::Reshape;
use cubed_task::plan::saturating_product;

use crate::array::{Array, LogicalOp, Regional};
use crate::error::{CubedError, Result};

/// Buffers of a chunk's size a reshape task holds at once at the least (the
/// chunk read with its encoded bytes, the result with its encoded bytes).
const CHUNK_COPIES: u64 = 4;

fn invalid(message: String) -> CubedError {
    CubedError::Invalid(message)
}

/// `x` with its elements in row-major order laid out in `shape` (numpy
/// `reshape`; one length may be `-1`, inferred from the others).
///
/// ```
/// # fn main() -> cubed::Result<()> {
/// let spec = cubed::Spec::new("/tmp/cubed-work");
/// // A 360-day year in chunks of 30 days as (month, day, lat, lon): no rechunk.
/// let t = cubed::random(&spec, &[360, 90, 180], &[30, 90, 180], 0, cubed::DType::Float32)?;
/// let months = cubed::reshape(&t, &[12, 30, 90, 180])?;
/// assert_eq!((months.shape(), months.chunks()), (&[12, 30, 90, 180][..], &[1, 30, 90, 180][..]));
/// // Flattening needs whole rows: chunks of (30, 90, 180) are, so 486,000 elements each.
/// assert_eq!(cubed::reshape(&t, &[-1])?.chunks(), &[486_000]);
/// assert!(cubed::reshape(&t, &[7, -1]).is_err());
/// # Ok(()) }
/// ```
pub fn reshape(x: &Array, shape: &[i64]) -> Result<Array> {
    let shape = resolve_shape(x, shape)?;
    if shape == x.shape() {
        return Ok(x.clone());
    }
    let gs = groups(x.shape(), &shape);
    let (in_chunks, out_chunks) = if x.shape().contains(&0) {
        (x.chunks().to_vec(), shape.iter().map(|&n| n.max(1)).collect())
    } else {
        chunking(x, &shape, &gs)?
    };
    let arg = crate::rechunk(x, &in_chunks)?;
    // Axes that stand alone keep their name.
    let sources = (0..shape.len()).map(|j| {
        let g = gs.iter().find(|g| g.axes.contains(&j))?;
        (g.source.len() == 1 && g.axes.len() == 1).then_some(g.source.start)
    });
    let labels = crate::labels::from_axes(x, sources, true);
    let node = Regional::Reshape(Reshape { source_shape: x.shape().to_vec(), shape: shape.clone() });
    Ok(Array::new(x.spec_arc(), shape, out_chunks, x.dtype(), LogicalOp::Regional { node, args: vec![arg], name: "reshape" }).labelled(labels))
}

/// `x` as a 1-d array (row-major), as numpy's `ravel`; what numpy's
/// functions without an axis (`roll`, `repeat`, `take`, `outer`) work on.
pub fn flatten(x: &Array) -> Result<Array> {
    reshape(x, &[-1])
}

/// `shape` with its `-1` inferred, checked against `x`'s size with numpy's messages.
fn resolve_shape(x: &Array, shape: &[i64]) -> Result<Vec<u64>> {
    let size = saturating_product(x.shape());
    let given = || format!("({})", shape.iter().map(i64::to_string).collect::<Vec<_>>().join(", ") + if shape.len() == 1 { "," } else { "" });
    let cannot = || invalid(format!("reshape: cannot reshape array of size {size} (shape {:?}) into shape {}", x.shape(), given()));
    if shape.iter().filter(|&&n| n == -1).count() > 1 {
        return Err(invalid(format!("reshape: can only specify one unknown dimension (-1), got shape {}", given())));
    }
    if let Some(n) = shape.iter().find(|&&n| n < -1) {
        return Err(invalid(format!("reshape: negative dimension {n} in shape {}; lengths are non-negative, or -1 for one to be inferred", given())));
    }
    let known = shape.iter().filter(|&&n| n >= 0).try_fold(1u64, |acc, &n| acc.checked_mul(n as u64)).ok_or_else(cannot)?;
    let mut out: Vec<u64> = shape.iter().map(|&n| n.max(0) as u64).collect();
    if let Some(k) = shape.iter().position(|&n| n == -1) {
        if known == 0 || !size.is_multiple_of(known) {
            return Err(cannot());
        }
        out[k] = size / known;
    } else if known != size {
        return Err(cannot());
    }
    Ok(out)
}

/// The input's chunks and the result's (see the module docs).
fn chunking(x: &Array, shape: &[u64], gs: &[Group]) -> Result<(Vec<u64>, Vec<u64>)> {
    let src = x.shape();
    // Per group with axes on both sides: (first input axis, Tin, Tout, q).
    struct Split {
        first: usize,
        t_in: u64,
        t_out: u64,
        q: u64,
    }
    let splits: Vec<Option<Split>> = gs
        .iter()
        .map(|g| {
            if g.source.is_empty() || g.axes.is_empty() {
                return None;
            }
            let (t_in, t_out) = (saturating_product(&src[g.source.start + 1..g.source.end]), saturating_product(&shape[g.axes.start + 1..g.axes.end]));
            let lcm = u128::from(t_in) / gcd(t_in, t_out) as u128 * u128::from(t_out);
            Some(Split { first: g.source.start, t_in, t_out, q: u64::try_from(lcm / u128::from(t_in)).unwrap_or(u64::MAX) })
        })
        .collect();
    // Each group's first axis: a multiple of q (or whole); its other axes whole.
    let mut chunks = x.chunks().to_vec();
    for s in splits.iter().flatten() {
        let n = src[s.first];
        let c = if chunks[s.first] >= n { n } else { (chunks[s.first] / s.q * s.q).max(s.q).min(n) };
        chunks[s.first] = c;
    }
    for g in gs {
        for k in g.source.clone().skip(1) {
            chunks[k] = src[k];
        }
    }
    let itemsize = x.dtype().itemsize();
    let minimal: Vec<u64> = (0..src.len())
        .map(|k| match splits.iter().flatten().find(|s| s.first == k) {
            Some(s) => s.q.min(src[k]),
            None => chunks[k],
        })
        .collect();
    let min_bytes = saturating_product(&minimal).saturating_mul(itemsize);
    let budget = x.spec().allowed_mem.saturating_sub(x.spec().reserved_mem);
    if min_bytes.saturating_mul(CHUNK_COPIES) > budget {
        return Err(invalid(format!(
            "reshape: reshaping shape {src:?} into {shape:?} needs input chunks of at least {minimal:?} ({}; a task holds about {CHUNK_COPIES} of them), \
             more than allowed_mem {} allows: raise --allowed-mem, or reshape fewer axes at once (e.g. keep the leading axes as they are)",
            crate::size::format_size(min_bytes),
            crate::size::format_size(x.spec().allowed_mem)
        )));
    }
    // About the bytes of the input's chunks: shrink the first groups' rows first.
    let target = saturating_product(x.chunks()).max(saturating_product(&minimal));
    for s in splits.iter().flatten() {
        let elems = saturating_product(&chunks);
        if elems <= target {
            break;
        }
        let others = elems / chunks[s.first];
        let allowed = (target / others.max(1)) / s.q * s.q;
        chunks[s.first] = allowed.max(s.q).min(src[s.first]);
    }
    let mut out: Vec<u64> = shape.iter().map(|&n| n.max(1)).collect();
    for (g, s) in gs.iter().zip(&splits) {
        if let Some(s) = s {
            let c = chunks[s.first];
            out[g.axes.start] = if c >= src[s.first] { shape[g.axes.start] } else { (u128::from(c) * u128::from(s.t_in) / u128::from(s.t_out)) as u64 };
        }
    }
    Ok((chunks, out.iter().zip(shape).map(|(&c, &n)| c.min(n).max(1)).collect()))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, Spec};

    fn chunks_of(shape: &[u64], chunks: &[u64], to: &[i64]) -> Result<(Vec<u64>, Vec<u64>)> {
        let spec = Spec::new("/tmp/cubed-work").with_allowed_mem(1_000_000_000);
        let x = crate::random(&spec, shape, chunks, 0, DType::Float64)?;
        let y = reshape(&x, to)?;
        let arg = match &y.node.op {
            LogicalOp::Regional { args, .. } => args[0].chunks().to_vec(),
            _ => x.chunks().to_vec(),
        };
        Ok((arg, y.chunks().to_vec()))
    }

    #[test]
    fn chunks_hold_whole_rows_and_about_the_inputs_bytes() {
        // A merge: rows of 9 whole, as many as fit in 12 elements.
        assert_eq!(chunks_of(&[7, 9], &[3, 4], &[-1]).unwrap(), (vec![1, 9], vec![9]));
        // A split: the input's chunk of 6 rounded to a multiple of 3 (q).
        assert_eq!(chunks_of(&[12], &[7], &[4, 3]).unwrap(), (vec![6], vec![2, 3]));
        // Both: (6, 4) -> (4, 6) needs multiples of 3 rows; result rows 2 per 3.
        assert_eq!(chunks_of(&[6, 4], &[3, 4], &[4, 6]).unwrap(), (vec![3, 4], vec![2, 6]));
        // Axes that stand alone keep their chunks; no rechunk when none is needed.
        assert_eq!(chunks_of(&[10, 6, 4], &[5, 6, 4], &[10, 24]).unwrap(), (vec![5, 6, 4], vec![5, 24]));
        // A single chunk stays one.
        assert_eq!(chunks_of(&[5, 6], &[8, 8], &[3, 10]).unwrap(), (vec![5, 6], vec![3, 10]));
    }

    #[test]
    fn bad_shapes_are_refused_with_numpys_reasons() {
        let msg = |to: &[i64]| chunks_of(&[4, 6], &[2, 3], to).unwrap_err().to_string();
        assert!(msg(&[5, -1]).contains("cannot reshape array of size 24"), "{}", msg(&[5, -1]));
        assert!(msg(&[-1, -1]).contains("only specify one unknown dimension"));
        assert!(msg(&[-2, 12]).contains("negative dimension -2"));
        assert!(msg(&[25]).contains("into shape (25,)"));
        // Rows that cannot fit the budget are refused before anything is planned.
        let spec = Spec::new("/tmp/cubed-work").with_allowed_mem(200_000_000);
        let x = crate::random(&spec, &[1000, 10_000_000], &[10, 1000], 0, DType::Float64).unwrap();
        assert!(reshape(&x, &[-1]).unwrap_err().to_string().contains("needs input chunks of at least [1, 10000000]"));
    }
}
