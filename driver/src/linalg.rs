//! Linear algebra: `matmul` (`@`), `tensordot`, `vecdot`, `inner`, `outer`.
//!
//! Each is a contraction ([`cubed_task::kernel::Dot`]): per output block and
//! block of the contracted axes, the product of one block of each operand;
//! then a sum over the contracted blocks, in rounds of `split_every`
//! ([`crate::reduction`]). The product is fused into the sum's first round,
//! so no product array is written, and a task holds one block of each
//! operand (plus the partial sum) whatever the contraction's length.

use cubed_task::kernel::Dot;
use cubed_task::DType;

use crate::array::{Array, LogicalOp, Regional};
use crate::error::{CubedError, Result};
use crate::reduction::Reduce;
use crate::view::{distinct_axes, normalize_axis};

fn invalid(message: String) -> CubedError {
    CubedError::Invalid(message)
}

/// The type a product of `a` and `b` is computed in (numeric types only).
fn compute_type(name: &str, a: &Array, b: &Array) -> Result<DType> {
    let t = crate::result_type(a, b);
    if !t.is_numeric() {
        return Err(invalid(format!("{name}: the operands are {} and {}; cubed-rs contracts numeric types only (cast with astype)", a.dtype(), b.dtype())));
    }
    Ok(t)
}

/// The contraction of `lhs` (axes: `lhs_batch` batch, free, `contracted`)
/// with `rhs` (`rhs_batch` batch, contracted, free), summed over its blocks.
fn contract(name: &'static str, lhs: &Array, rhs: &Array, (lhs_batch, rhs_batch): (usize, usize), contracted: usize, compute: DType) -> Result<Array> {
    let batch = lhs_batch.max(rhs_batch);
    let dot = Dot {
        lhs_shape: lhs.shape().to_vec(),
        rhs_shape: rhs.shape().to_vec(),
        batch,
        lhs_batch,
        rhs_batch,
        // Blocks of the left operand's contracted axes.
        blocks: lhs.chunks()[lhs.ndim() - contracted..].to_vec(),
        compute,
    };
    dot.check().map_err(|e| invalid(format!("{name}: {e}")))?;
    let shape = dot.shape();
    // Chunks: batch axes from whichever operand spans them, then the left
    // free axes' chunks, one block per contracted axis, the right free axes'.
    let mut chunks = Vec::with_capacity(shape.len());
    for d in 0..batch {
        let of = |x: &Array, nb: usize| -> Option<u64> {
            let skip = batch - nb;
            (d >= skip && x.shape()[d - skip] == shape[d]).then(|| x.chunks()[d - skip])
        };
        chunks.push(of(lhs, lhs_batch).or_else(|| of(rhs, rhs_batch)).unwrap_or(1));
    }
    chunks.extend(&lhs.chunks()[lhs_batch..lhs.ndim() - contracted]);
    chunks.extend(std::iter::repeat_n(1, contracted));
    chunks.extend(&rhs.chunks()[rhs_batch + contracted..]);
    let kb_axis = batch + lhs.ndim() - lhs_batch - contracted;
    // Names: the batch axes' (as elementwise), then each operand's free axes'.
    let name_of = |x: &Array, k: usize| x.labels().dimension_names.as_ref().and_then(|n| n[k].clone());
    let names_of = |x: &Array, range: std::ops::Range<usize>| -> Vec<Option<String>> { range.map(|k| name_of(x, k)).collect() };
    let batch_name = |d: usize| -> Option<String> {
        let spans = |x: &Array, nb: usize| (d + nb >= batch && x.shape()[d + nb - batch] == shape[d]).then(|| name_of(x, d + nb - batch)).flatten();
        spans(lhs, lhs_batch).or_else(|| spans(rhs, rhs_batch))
    };
    let mut names: Vec<Option<String>> = (0..batch).map(batch_name).collect();
    names.extend(names_of(lhs, lhs_batch..lhs.ndim() - contracted));
    names.extend(std::iter::repeat_n(None, contracted));
    names.extend(names_of(rhs, rhs_batch + contracted..rhs.ndim()));
    let labels = crate::labels::from_names(names);
    let products = Array::new(lhs.spec_arc(), shape, chunks, compute, LogicalOp::Regional { node: Regional::Dot(dot), args: vec![lhs.clone(), rhs.clone()], name }).labelled(labels);
    if contracted == 0 {
        return Ok(products);
    }
    let axes: Vec<i64> = (kb_axis..kb_axis + contracted).map(|k| k as i64).collect();
    crate::sum_as(&products, compute, &Reduce::axis(&axes))
}

/// numpy's `matmul` (`a @ b`): matrices in the last two axes, the others
/// stacks that broadcast; a 1-d operand is a row (left) or a column (right)
/// vector, its axis removed from the result.
pub fn matmul(a: &Array, b: &Array) -> Result<Array> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err(invalid(format!("matmul: operands need at least one dimension (shapes {:?} and {:?}); use multiply for scalars", a.shape(), b.shape())));
    }
    let compute = compute_type("matmul", a, b)?;
    let a2 = if a.ndim() == 1 { crate::expand_dims(a, &[0])? } else { a.clone() };
    let b2 = if b.ndim() == 1 { crate::expand_dims(b, &[-1])? } else { b.clone() };
    let (k1, k2) = (a2.shape()[a2.ndim() - 1], b2.shape()[b2.ndim() - 2]);
    if k1 != k2 {
        return Err(invalid(format!(
            "matmul: shapes {:?} and {:?} do not align: the last axis of the first ({k1}) must match the second-to-last of the second ({k2})",
            a.shape(),
            b.shape()
        )));
    }
    let (ba, bb) = (&a2.shape()[..a2.ndim() - 2], &b2.shape()[..b2.ndim() - 2]);
    let batch = ba.len().max(bb.len());
    for d in 0..batch {
        let get = |s: &[u64]| if d + s.len() >= batch { s[d + s.len() - batch] } else { 1 };
        let (x, y) = (get(ba), get(bb));
        if x != y && x != 1 && y != 1 {
            return Err(invalid(format!("matmul: the stacks of shapes {:?} and {:?} do not broadcast (lengths {x} and {y})", a.shape(), b.shape())));
        }
    }
    let c = contract("matmul", &a2, &b2, (ba.len(), bb.len()), 1, compute)?;
    let mut drop = vec![];
    if a.ndim() == 1 {
        drop.push(c.ndim() as i64 - 2);
    }
    if b.ndim() == 1 {
        drop.push(c.ndim() as i64 - 1);
    }
    if drop.is_empty() { Ok(c) } else { crate::squeeze(&c, Some(&drop)) }
}

/// numpy's `tensordot`: the sum of products over axes `a_axes` of `a` and
/// `b_axes` of `b` (pairwise of equal lengths); the result has `a`'s other
/// axes, then `b`'s.
pub fn tensordot(a: &Array, b: &Array, a_axes: &[i64], b_axes: &[i64]) -> Result<Array> {
    if a_axes.len() != b_axes.len() {
        return Err(invalid(format!("tensordot: {} axes of the first operand for {} of the second", a_axes.len(), b_axes.len())));
    }
    let compute = compute_type("tensordot", a, b)?;
    let (ca, cb) = (distinct_axes(a_axes, a.ndim(), "tensordot")?, distinct_axes(b_axes, b.ndim(), "tensordot")?);
    for (&i, &j) in ca.iter().zip(&cb) {
        if a.shape()[i] != b.shape()[j] {
            return Err(invalid(format!(
                "tensordot: shape-mismatch for sum: axis {i} of {:?} has length {}, axis {j} of {:?} has {}",
                a.shape(),
                a.shape()[i],
                b.shape(),
                b.shape()[j]
            )));
        }
    }
    let free_a: Vec<usize> = (0..a.ndim()).filter(|k| !ca.contains(k)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|k| !cb.contains(k)).collect();
    let order_a: Vec<i64> = free_a.iter().chain(&ca).map(|&k| k as i64).collect();
    let order_b: Vec<i64> = cb.iter().chain(&free_b).map(|&k| k as i64).collect();
    let (pa, pb) = (crate::permute_dims(a, &order_a)?, crate::permute_dims(b, &order_b)?);
    contract("tensordot", &pa, &pb, (0, 0), ca.len(), compute)
}

/// `tensordot` over the last `n` axes of `a` and the first `n` of `b`.
pub fn tensordot_n(a: &Array, b: &Array, n: usize) -> Result<Array> {
    if n > a.ndim() || n > b.ndim() {
        return Err(invalid(format!("tensordot: axes={n}, but the operands have shapes {:?} and {:?}", a.shape(), b.shape())));
    }
    let a_axes: Vec<i64> = (a.ndim() - n..a.ndim()).map(|k| k as i64).collect();
    let b_axes: Vec<i64> = (0..n as i64).collect();
    tensordot(a, b, &a_axes, &b_axes)
}

/// The Array API's `vecdot`: the dot product along `axis` (of the
/// broadcast shape, negative from the end), the other axes broadcasting.
pub fn vecdot(x1: &Array, x2: &Array, axis: i64) -> Result<Array> {
    if axis >= 0 {
        return Err(invalid(format!("vecdot: axis {axis}: give a negative axis (counted from the end, as the Array API requires)")));
    }
    let compute = compute_type("vecdot", x1, x2)?;
    let arrays = crate::broadcast_arrays(&[x1, x2])?;
    let ndim = arrays[0].ndim();
    let k = normalize_axis(axis, ndim, "vecdot")?;
    let moved: Vec<Array> = arrays.iter().map(|x| crate::moveaxis(x, &[k as i64], &[-1])).collect::<Result<_>>()?;
    contract("vecdot", &moved[0], &moved[1], (ndim - 1, ndim - 1), 1, compute)
}

/// numpy's `inner`: the sum of products over the last axes (scalars multiply).
pub fn inner(a: &Array, b: &Array) -> Result<Array> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return crate::multiply(a, b);
    }
    tensordot(a, b, &[-1], &[-1])
}

/// numpy's `outer`: every product of an element of `a` with one of `b`,
/// both flattened first ([`crate::flatten`]) when they are not vectors.
pub fn outer(a: &Array, b: &Array) -> Result<Array> {
    let vector = |x: &Array| if x.ndim() == 1 { Ok(x.clone()) } else { crate::flatten(x) };
    tensordot(&vector(a)?, &vector(b)?, &[], &[])
}
