//! Projected memory per task, computed before anything runs.
//!
//! Start from Cubed's model — reserved + inputs × (1 + read copies) +
//! temporaries + output × (1 + write copies) — but follow what a task of this
//! stack really does: a kernel is evaluated node by node, so the peak is the
//! largest set of chunk-sized buffers alive at once. Measured on this stack
//! (zarrs decodes into the buffer that becomes the typed array; see
//! `tests/tests/memory.rs` and BENCHMARKS.md): reading a chunk holds its
//! encoded bytes next to the decoded array (one copy); writing holds the
//! encoded bytes next to the array (one copy).

use cubed_task::kernel::Node;
use cubed_task::plan::{checked_product, ArrayMeta, OpKind, Plan};
use cubed_task::DType;

/// Extra chunk-sized buffers alive while one chunk is read (the encoded bytes).
pub const READ_COPIES: u64 = 1;
/// Extra chunk-sized buffers alive while one chunk is written (the encoded bytes).
pub const WRITE_COPIES: u64 = 1;
/// Small allocations of a task besides array data (metadata, keys, codec state).
pub const TASK_OVERHEAD: u64 = 8 << 20;

/// (peak, resident) bytes of evaluating a kernel node over a block of `block`
/// elements per axis; `None` when a count does not fit in a `u64`.
fn kernel_cost(node: &Node, block: &[u64], inputs: &[&ArrayMeta]) -> Option<(u64, u64)> {
    let leaf_elems = |shape: &[u64]| -> Option<u64> {
        let skip = block.len().checked_sub(shape.len())?;
        let lens: Vec<u64> = shape.iter().zip(&block[skip..]).map(|(&s, &b)| if s == 1 { 1 } else { b.min(s) }).collect();
        checked_product(&lens)
    };
    let dtypes: Vec<DType> = inputs.iter().map(|m| m.dtype).collect();
    let out_elems = |n: &Node| -> Option<u64> { Some(checked_product(block)?.max(1).min(leaf_elems_of(n, block, inputs)?)) };
    let bytes = |n: &Node| out_elems(n)?.checked_mul(n.dtype(&dtypes).itemsize());
    let sum = |terms: &[u64]| terms.iter().try_fold(0u64, |acc, &t| acc.checked_add(t));
    Some(match node {
        Node::Input { input } => {
            // Kernel inputs are aligned to the op's blocks: one chunk per read.
            let m = inputs[*input];
            let resident = leaf_elems(&m.shape)?.checked_mul(m.dtype.itemsize())?;
            (resident.checked_mul(1 + READ_COPIES)?, resident)
        }
        Node::Full { .. } | Node::Arange { .. } => (bytes(node)?, bytes(node)?),
        Node::Random { dtype, .. } => {
            let b = bytes(node)?;
            // f64 values, then a cast for float32 (and a slice when the block is partial).
            let f64_bytes = out_elems(node)?.checked_mul(8)?;
            (f64_bytes.checked_add(if *dtype == DType::Float64 { 0 } else { b })?, b)
        }
        Node::Literal { values, .. } => (sum(&[(values.len() as u64).checked_mul(16)?, bytes(node)?])?, bytes(node)?),
        Node::Cast { arg, .. } => {
            let (p, r) = kernel_cost(arg, block, inputs)?;
            (p.max(sum(&[r, bytes(node)?])?), bytes(node)?)
        }
        Node::Unary { arg, .. } => kernel_cost(arg, block, inputs)?,
        Node::Binary { op, compute, lhs, rhs } => {
            let (pl, rl) = kernel_cost(lhs, block, inputs)?;
            let (pr, rr) = kernel_cost(rhs, block, inputs)?;
            // Operands not of the compute type are cast (a new buffer each); arithmetic
            // then reuses an operand of the full shape, comparisons allocate the result.
            let cast = |n: &Node| -> Option<u64> {
                if n.dtype(&dtypes) == *compute {
                    Some(0)
                } else {
                    out_elems(n)?.checked_mul(compute.itemsize())
                }
            };
            let full = out_elems(node)?;
            let in_place = !op.is_comparison() && (out_elems(lhs)? == full || out_elems(rhs)? == full);
            let result = if in_place { 0 } else { bytes(node)? };
            (pl.max(sum(&[rl, pr])?).max(sum(&[rl, rr, cast(lhs)?, cast(rhs)?, result])?), bytes(node)?)
        }
        Node::Where { cond, x, y } => {
            let (pc, rc) = kernel_cost(cond, block, inputs)?;
            let (px, rx) = kernel_cost(x, block, inputs)?;
            let (py, ry) = kernel_cost(y, block, inputs)?;
            (pc.max(sum(&[rc, px])?).max(sum(&[rc, rx, py])?).max(sum(&[rc, rx, ry, bytes(node)?])?), bytes(node)?)
        }
    })
}

/// Elements of the broadcast region a node produces for a block (`None` on overflow).
fn leaf_elems_of(node: &Node, block: &[u64], inputs: &[&ArrayMeta]) -> Option<u64> {
    let elems = |shape: &[u64]| -> Option<u64> {
        let skip = block.len().saturating_sub(shape.len());
        let lens: Vec<u64> = shape.iter().zip(&block[skip..]).map(|(&s, &b)| if s == 1 { 1 } else { b.min(s) }).collect();
        checked_product(&lens)
    };
    match node {
        Node::Input { input } => elems(&inputs[*input].shape),
        Node::Full { shape, .. } | Node::Random { shape, .. } | Node::Literal { shape, .. } => elems(shape),
        Node::Arange { len, .. } => elems(&[*len]),
        Node::Cast { arg, .. } | Node::Unary { arg, .. } => leaf_elems_of(arg, block, inputs),
        Node::Binary { lhs, rhs, .. } => Some(leaf_elems_of(lhs, block, inputs)?.max(leaf_elems_of(rhs, block, inputs)?)),
        Node::Where { cond, x, y } => {
            Some(leaf_elems_of(cond, block, inputs)?.max(leaf_elems_of(x, block, inputs)?).max(leaf_elems_of(y, block, inputs)?))
        }
    }
}

/// Projected peak bytes of one task of an op (including `reserved_mem`), or
/// `None` when the projection does not fit in a `u64` (chunks far too large
/// for any machine: the planner refuses the op).
pub fn projected_mem(plan: &Plan, kind: &OpKind, inputs: &[usize], output: usize) -> Option<u64> {
    let ins: Vec<&ArrayMeta> = inputs.iter().map(|&i| &plan.arrays[i]).collect();
    let out = &plan.arrays[output];
    let chunk_bytes = |m: &ArrayMeta| checked_product(&m.chunks)?.checked_mul(m.dtype.itemsize());
    let write = chunk_bytes(out)?.checked_mul(1 + WRITE_COPIES)?;
    let sum = |terms: &[u64]| terms.iter().try_fold(0u64, |acc, &t| acc.checked_add(t));
    let task = match kind {
        OpKind::Blockwise { kernel } => {
            let (peak, resident) = kernel_cost(kernel, &out.chunks, &ins)?;
            peak.max(sum(&[resident, write])?)
        }
        OpKind::Reduce { kernel, domain_chunks, axes, acc_dtype, .. } => {
            let (peak, resident) = kernel_cost(kernel, domain_chunks, &ins)?;
            let cast = checked_product(domain_chunks)?.checked_mul(acc_dtype.itemsize())?;
            let kept: Vec<u64> = domain_chunks.iter().enumerate().filter(|(k, _)| !axes.contains(k)).map(|(_, &c)| c).collect();
            let partial = checked_product(&kept)?.checked_mul(acc_dtype.itemsize())?;
            // acc + one partial alive while the next block is evaluated and reduced.
            sum(&[peak.max(sum(&[resident, cast, partial])?), partial.checked_mul(2)?, write])?
        }
        OpKind::Copy { region } => {
            let src = ins[0];
            let lens: Vec<u64> = region.iter().zip(&out.shape).map(|(&r, &s)| r.min(s)).collect();
            let region_bytes = checked_product(&lens)?.checked_mul(out.dtype.itemsize())?;
            sum(&[region_bytes, chunk_bytes(src)?.checked_mul(1 + READ_COPIES)?, write])?
        }
    };
    sum(&[plan.spec.reserved_mem, TASK_OVERHEAD, task])
}
