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

use cubed_task::kernel::{Node, ReduceFunc};
use cubed_task::plan::{checked_product, ArrayMeta, OpKind, Plan, ScanStage};
use cubed_task::DType;

/// Extra chunk-sized buffers alive while one chunk is read (the encoded bytes).
pub const READ_COPIES: u64 = 1;
/// Extra chunk-sized buffers alive while one chunk is written (the encoded bytes).
pub const WRITE_COPIES: u64 = 1;
/// Small allocations of a task besides array data (metadata, keys, codec state).
pub const TASK_OVERHEAD: u64 = 8 << 20;
/// Bytes a copy task holds per chunk it reads or writes, besides the data:
/// the piece descriptor (block coordinates, local range, offset) of each
/// chunk of its region, plus [`PIECE_BYTES_PER_AXIS`] per dimension. Measured:
/// a 1-d rechunk into 1.5 million chunks of 2 elements peaked at about 100 B
/// per chunk over the projection without it.
pub const PIECE_BYTES: u64 = 96;
/// See [`PIECE_BYTES`].
pub const PIECE_BYTES_PER_AXIS: u64 = 48;

/// (peak, resident) bytes of evaluating a kernel node over a block of `block`
/// elements per axis; `None` when a count does not fit in a `u64`. `aligned`:
/// the block is one chunk of every input it reads (an op's own blocks); under
/// a view it is any region, which reads parts of the chunks it straddles.
fn kernel_cost(node: &Node, block: &[u64], inputs: &[&ArrayMeta], aligned: bool) -> Option<(u64, u64)> {
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
            let m = inputs[*input];
            let resident = leaf_elems(&m.shape)?.checked_mul(m.dtype.itemsize())?;
            if aligned {
                // One chunk per read, decoded into the result.
                (resident.checked_mul(1 + READ_COPIES)?, resident)
            } else {
                // The region, and one straddled chunk at a time (decoded, with its encoded copy).
                let chunk = checked_product(&m.chunks)?.checked_mul(m.dtype.itemsize())?;
                (resident.checked_add(chunk.checked_mul(1 + READ_COPIES)?)?, resident)
            }
        }
        Node::View { view, arg } => view_cost(view, arg, &extent_of(node, block, inputs), inputs, bytes(node)?)?,
        Node::Reshape { reshape, arg } => reshape_cost(reshape, arg, &extent_of(node, block, inputs), inputs, aligned, bytes(node)?)?,
        Node::Dot { dot, lhs, rhs } => dot_cost(dot, lhs, rhs, &extent_of(node, block, inputs), inputs, bytes(node)?)?,
        Node::Concat { concat, parts } => {
            // The region, and one part's piece at a time (read from any region of its chunks).
            let ext = extent_of(node, block, inputs);
            let mut peak = 0u64;
            for (p, &len) in parts.iter().zip(&concat.lens) {
                let mut piece = ext.clone();
                piece[concat.axis] = piece[concat.axis].min(len).max(1);
                let (pp, _) = kernel_cost(p, &piece, inputs, false)?;
                peak = peak.max(pp);
            }
            let out = bytes(node)?;
            (sum(&[out, peak])?, out)
        }
        Node::Halo { halo, arg } => {
            use cubed_task::kernel::HaloOp;
            let ext = extent_of(node, block, inputs);
            let src = halo.source_region(&ext.iter().map(|&l| (0, l)).collect::<Vec<_>>());
            // The region plus its margins, wherever it starts.
            let (before, after) = halo.margins();
            let mut lens: Vec<u64> = src.iter().map(|&(a, b)| b - a).collect();
            lens[halo.axis] = ext[halo.axis].saturating_add(before).saturating_add(after).min(halo.source_shape[halo.axis]).max(1);
            let (p, r) = kernel_cost(arg, &lens, inputs, false)?;
            let dtypes: Vec<DType> = inputs.iter().map(|m| m.dtype).collect();
            let src_bytes = checked_product(&lens)?.checked_mul(arg.dtype(&dtypes).itemsize())?;
            let out = bytes(node)?;
            let work = match halo.op {
                // Each round: two slices and their difference.
                HaloOp::Diff { .. } => src_bytes.checked_mul(3)?,
                // float64 values, the float64 result, then its cast.
                _ => sum(&[checked_product(&lens)?.checked_mul(8)?, checked_product(&ext)?.checked_mul(8)?, out])?,
            };
            (p.max(sum(&[r.max(src_bytes), work])?), out)
        }
        // Generated in their type, for the leaf's part of the block only.
        Node::Full { .. } | Node::ArangeFill { .. } | Node::Index { .. } => (bytes(node)?, bytes(node)?),
        Node::Arange { dtype, .. } | Node::Random { dtype, .. } => {
            let b = bytes(node)?;
            // f64 values, then a cast to another type (random: and a slice when the block is partial).
            let f64_bytes = out_elems(node)?.checked_mul(8)?;
            (f64_bytes.checked_add(if *dtype == DType::Float64 { 0 } else { b })?, b)
        }
        Node::Literal { values, .. } => (sum(&[(values.len() as u64).checked_mul(16)?, bytes(node)?])?, bytes(node)?),
        Node::Cast { arg, .. } => {
            let (p, r) = kernel_cost(arg, block, inputs, aligned)?;
            (p.max(sum(&[r, bytes(node)?])?), bytes(node)?)
        }
        Node::Unary { op, arg } => {
            // In place, unless the table declares result buffers (e.g. a bool result).
            let (p, r) = kernel_cost(arg, block, inputs, aligned)?;
            match op.temporaries() {
                0 => (p, r),
                t => (p.max(sum(&[r, bytes(node)?.checked_mul(t)?])?), bytes(node)?),
            }
        }
        Node::Binary { op, compute, lhs, rhs } => {
            let (pl, rl) = kernel_cost(lhs, block, inputs, aligned)?;
            let (pr, rr) = kernel_cost(rhs, block, inputs, aligned)?;
            // Operands not of the compute type are cast (a new buffer each); the kernel
            // then reuses an operand of the full shape unless the table declares
            // result buffers (comparisons: a bool result).
            let cast = |n: &Node| -> Option<u64> {
                if n.dtype(&dtypes) == *compute {
                    Some(0)
                } else {
                    out_elems(n)?.checked_mul(compute.itemsize())
                }
            };
            let full = out_elems(node)?;
            let in_place = op.temporaries() == 0 && (out_elems(lhs)? == full || out_elems(rhs)? == full);
            let result = if in_place { 0 } else { bytes(node)?.checked_mul(op.temporaries().max(1))? };
            (pl.max(sum(&[rl, pr])?).max(sum(&[rl, rr, cast(lhs)?, cast(rhs)?, result])?), bytes(node)?)
        }
        Node::Where { cond, x, y } => {
            let (pc, rc) = kernel_cost(cond, block, inputs, aligned)?;
            let (px, rx) = kernel_cost(x, block, inputs, aligned)?;
            let (py, ry) = kernel_cost(y, block, inputs, aligned)?;
            (pc.max(sum(&[rc, px])?).max(sum(&[rc, rx, py])?).max(sum(&[rc, rx, ry, bytes(node)?])?), bytes(node)?)
        }
    })
}

/// Elements of the broadcast region a node produces for a block (`None` on overflow).
fn leaf_elems_of(node: &Node, block: &[u64], inputs: &[&ArrayMeta]) -> Option<u64> {
    checked_product(&extent_of(node, block, inputs))
}

/// The length per axis of the block of the region a node produces for a
/// block: 1 where all its leaves broadcast (length 1 or a missing leading
/// axis), else the block's length clipped to the leaves' shape. Operands
/// broadcast against each other, so a row times a column covers the block.
fn extent_of(node: &Node, block: &[u64], inputs: &[&ArrayMeta]) -> Vec<u64> {
    let leaf = |shape: &[u64]| -> Vec<u64> {
        let skip = block.len().saturating_sub(shape.len());
        let mut lens = vec![1; skip];
        lens.extend(shape.iter().zip(&block[skip..]).map(|(&s, &b)| if s == 1 { 1 } else { b.min(s) }));
        lens
    };
    let widest = |nodes: &[&Node]| -> Vec<u64> {
        let mut lens = vec![1; block.len()];
        for n in nodes {
            for (l, e) in lens.iter_mut().zip(extent_of(n, block, inputs)) {
                *l = (*l).max(e);
            }
        }
        lens
    };
    match node {
        Node::Input { input } => leaf(&inputs[*input].shape),
        Node::Full { shape, .. } | Node::Random { shape, .. } | Node::Literal { shape, .. } | Node::Index { shape, .. } => leaf(shape),
        Node::Arange { len, .. } | Node::ArangeFill { len, .. } => leaf(&[*len]),
        Node::Cast { arg, .. } | Node::Unary { arg, .. } => extent_of(arg, block, inputs),
        Node::Binary { lhs, rhs, .. } => widest(&[lhs, rhs]),
        Node::Where { cond, x, y } => widest(&[cond, x, y]),
        Node::View { view, .. } => leaf(&view.shape),
        Node::Dot { dot, .. } => leaf(&dot.shape()),
        Node::Concat { concat, .. } => leaf(&concat.shape),
        Node::Halo { halo, .. } => leaf(&halo.shape()),
        Node::Reshape { reshape, .. } => leaf(&reshape.shape),
    }
}

/// (peak, resident) bytes of a contraction over `block` (its extent, of
/// `out_bytes`): one block of each operand (read from any region of their
/// chunks), each cast to the compute type when it is not, the result, and
/// one matrix product at a time. A block spanning several blocks of the
/// contracted axes (never planned: reductions take one at a time) computes
/// them one by one into the result.
fn dot_cost(dot: &cubed_task::kernel::Dot, lhs: &Node, rhs: &Node, block: &[u64], inputs: &[&ArrayMeta], out_bytes: u64) -> Option<(u64, u64)> {
    let dtypes: Vec<DType> = inputs.iter().map(|m| m.dtype).collect();
    let shape = dot.shape();
    let k0 = dot.batch + dot.lhs_shape.len() - dot.lhs_batch - dot.blocks.len();
    let kb = k0..k0 + dot.blocks.len();
    // One block along each contracted axis.
    let region: Vec<(u64, u64)> = block.iter().enumerate().map(|(j, &len)| (0, if kb.contains(&j) { 1 } else { len.min(shape[j]) })).collect();
    let (lr, rr) = dot.operand_boxes(&region);
    let lens = |r: &[(u64, u64)]| -> Vec<u64> { r.iter().map(|&(a, b)| (b - a).max(1)).collect() };
    let (ll, rl) = (lens(&lr), lens(&rr));
    let (pl, al) = kernel_cost(lhs, &ll, inputs, false)?;
    let (pr, ar) = kernel_cost(rhs, &rl, inputs, false)?;
    let size = dot.compute.itemsize();
    let cast = |n: &Node, l: &[u64]| -> Option<u64> { if n.dtype(&dtypes) == dot.compute { Some(0) } else { checked_product(l)?.checked_mul(size) } };
    // Also the broadcast of an operand to its block (a scalar or a row).
    let full = |n: &Node, l: &[u64]| -> Option<u64> { if leaf_elems_of(n, l, inputs)? < checked_product(l)? { checked_product(l)?.checked_mul(size) } else { Some(0) } };
    let (cl, cr) = (cast(lhs, &ll)?.checked_add(full(lhs, &ll)?)?, cast(rhs, &rl)?.checked_add(full(rhs, &rl)?)?);
    let sum = |terms: &[u64]| terms.iter().try_fold(0u64, |acc, &t| acc.checked_add(t));
    let product = checked_product(&region.iter().map(|&(a, b)| b - a).collect::<Vec<_>>())?.checked_mul(size)?;
    let peak = pl.max(sum(&[al, pr])?).max(sum(&[al, ar, cl, cr, product.checked_mul(2)?])?);
    let several = block.iter().enumerate().any(|(j, &len)| kb.contains(&j) && len.min(shape[j]) > 1);
    Some(if several { (sum(&[peak, out_bytes])?, out_bytes) } else { (peak, product) })
}

/// (peak, resident) bytes of a view over `block` (its extent, `out_bytes` of
/// result): its argument is evaluated one piece at a time (see
/// [`cubed_task::kernel::View`]) over at most a source chunk per strided axis,
/// each piece picked, reordered and broadcast (a copy or two of the piece),
/// and assembled into the result when there are several.
fn view_cost(view: &cubed_task::kernel::View, arg: &Node, block: &[u64], inputs: &[&ArrayMeta], out_bytes: u64) -> Option<(u64, u64)> {
    use cubed_task::kernel::AxisMap;
    let dtypes: Vec<DType> = inputs.iter().map(|m| m.dtype).collect();
    let itemsize = arg.dtype(&dtypes).itemsize();
    let (piece_out, piece_src) = view.piece_bounds(block);
    let (mut peak, mut resident) = kernel_cost(arg, &piece_src, inputs, false)?;
    // The argument's result is broadcast to the piece's source box.
    let src_bytes = checked_product(&piece_src)?.checked_mul(itemsize)?;
    if leaf_elems_of(arg, &piece_src, inputs)? < checked_product(&piece_src)? {
        peak = peak.max(resident.checked_add(src_bytes)?);
        resident = src_bytes;
    }
    let piece_bytes = checked_product(&piece_out)?.checked_mul(itemsize)?;
    let order: Vec<usize> = view.axes.iter().filter_map(|m| m.source()).collect();
    let transforms = view.axes.iter().zip(&view.shape).any(|(m, &len)| match m {
        AxisMap::Range { step, .. } => *step != 1,
        AxisMap::Repeat { repeats, .. } => *repeats > 1,
        AxisMap::Wrap { .. } => false,
        AxisMap::Take { .. } => true,
        AxisMap::New => len > 1,
    }) || order.windows(2).any(|w| w[0] > w[1]);
    if transforms {
        peak = peak.max(resident.checked_add(piece_bytes.checked_mul(2)?)?);
        resident = piece_bytes;
    }
    let pieces = view.axes.iter().any(|m| matches!(m, AxisMap::Range { step, .. } if step.unsigned_abs() > 1) || matches!(m, AxisMap::Wrap { .. } | AxisMap::Take { .. }));
    Some(if pieces { (out_bytes.checked_add(peak)?, out_bytes) } else { (peak, resident) })
}

/// (peak, resident) bytes of a reshape over `block` (its extent, of
/// `out_bytes`): its argument over the source rows the block spans (see
/// [`cubed_task::kernel::Reshape`]), then the block's elements picked from
/// them (a copy) unless those rows are the block. `aligned`: the block is
/// one of the reshape's own chunks, which start on a row and hold whole
/// rows (the chunking `cubed::reshape` gives); any other block may start
/// mid-row and so span one row more.
fn reshape_cost(reshape: &cubed_task::kernel::Reshape, arg: &Node, block: &[u64], inputs: &[&ArrayMeta], aligned: bool, out_bytes: u64) -> Option<(u64, u64)> {
    let dtypes: Vec<DType> = inputs.iter().map(|m| m.dtype).collect();
    let src = &reshape.source_shape;
    let mut rows: Vec<u64> = src.iter().map(|&n| n.max(1)).collect();
    for g in reshape.groups() {
        let Some(first) = g.source.clone().next() else { continue };
        let t_in = checked_product(&src[first + 1..g.source.end])?.max(1);
        // The linear length the block spans in the group.
        let mut span = 1u64;
        for j in g.axes.clone() {
            let stride = checked_product(&reshape.shape[j + 1..g.axes.end])?;
            span = span.checked_add(block[j].min(reshape.shape[j]).saturating_sub(1).checked_mul(stride)?)?;
        }
        let spanned = if aligned { span.div_ceil(t_in) } else { (span + t_in - 2) / t_in + 1 };
        rows[first] = spanned.min(src[first]).max(1);
    }
    let (mut peak, mut resident) = kernel_cost(arg, &rows, inputs, aligned)?;
    let itemsize = arg.dtype(&dtypes).itemsize();
    let cover = checked_product(&rows)?;
    let cover_bytes = cover.checked_mul(itemsize)?;
    // The argument's result is broadcast to the rows read.
    if leaf_elems_of(arg, &rows, inputs)? < cover {
        peak = peak.max(resident.checked_add(cover_bytes)?);
        resident = cover_bytes;
    }
    if cover_bytes != out_bytes {
        peak = peak.max(resident.checked_add(out_bytes)?);
        resident = out_bytes;
    }
    Some((peak, resident))
}

/// Peak bytes of one reduce task besides writing its output chunk, from the
/// (peak, resident) cost of evaluating its kernel over one block:
///
/// - the partial accumulated so far stays alive throughout;
/// - each block is cast to the accumulation type (round 1; float64 for
///   variances) or, in later rounds of partials with several fields,
///   decoded into states; folding the reduced axis the block is longest
///   along leaves at most the block divided by that axis's chunk length of
///   states (the shortest reduced chunk length bounds it), and the next axis
///   may copy that once more while the block's own partial is made;
/// - at the end the partial is encoded or finished and cast to the output type.
#[allow(clippy::too_many_arguments)]
fn reduce_cost(peak: u64, resident: u64, domain_chunks: &[u64], axes: &[usize], func: ReduceFunc, acc: cubed_task::DType, partial_in: bool, out_chunk: u64) -> Option<u64> {
    let sum = |terms: &[u64]| terms.iter().try_fold(0u64, |acc, &t| acc.checked_add(t));
    let fields = func.fields().map_or(1, |(n, _)| n);
    let state = func.state_bytes(acc);
    let block = checked_product(domain_chunks)?;
    let kept: Vec<u64> = domain_chunks.iter().enumerate().filter(|(k, _)| !axes.contains(k)).map(|(_, &c)| c).collect();
    let kept = checked_product(&kept)?;
    // A later round over partials with several fields counts records of `fields` values.
    let (block_states, kept_states) = if partial_in { (block / fields, kept / fields) } else { (block, kept) };
    let read_size = if partial_in { state } else if func.fields() == Some((3, cubed_task::DType::Float64)) { 8 } else { acc.itemsize() };
    let x = block_states.checked_mul(read_size)?;
    let part = kept_states.checked_mul(state)?;
    // Folding the reduced axis a block is longest along leaves at most the block over that axis's chunk length.
    let shortest = axes.iter().filter_map(|&k| domain_chunks.get(k)).min().copied().unwrap_or(1).max(1);
    let folded = (block_states / shortest).max(kept_states).checked_mul(state)?;
    let reduce = peak.max(sum(&[resident, x, part])?).max(sum(&[x, folded.checked_mul(2)?, part])?);
    let end = sum(&[kept_states.checked_mul((fields * 8).max(acc.itemsize()))?, out_chunk])?;
    sum(&[part, reduce, end])
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
            let (peak, resident) = kernel_cost(kernel, &out.chunks, &ins, true)?;
            peak.max(sum(&[resident, write])?)
        }
        OpKind::Reduce { kernel, domain_chunks, axes, acc_dtype, func, partial_in, .. } => {
            let (peak, resident) = kernel_cost(kernel, domain_chunks, &ins, true)?;
            reduce_cost(peak, resident, domain_chunks, axes, *func, *acc_dtype, *partial_in, chunk_bytes(out)?)?.checked_add(write)?
        }
        OpKind::Scan { kernel, domain_chunks, axis, acc_dtype, stage, .. } => {
            let (peak, resident) = kernel_cost(kernel, domain_chunks, &ins, true)?;
            // The block cast to the scan's type.
            let cast = checked_product(domain_chunks)?.checked_mul(acc_dtype.itemsize())?;
            let evaluated = peak.max(sum(&[resident, cast])?);
            let task = match stage {
                // The total along the axis: at most the block again (an axis of length 1 is copied).
                ScanStage::Totals => evaluated.max(cast.checked_mul(2)?),
                ScanStage::Cumulative { include_initial, carry } => {
                    // Inclusive scans work in place; include_initial writes a new block.
                    let scanned = if *include_initial { chunk_bytes(out)? } else { 0 };
                    // The carry: one value per position across the axis, sliced from a decoded chunk.
                    let carry = match carry.map(|c| ins.get(c).copied()) {
                        Some(Some(m)) => sum(&[chunk_bytes(m)?.checked_mul(1 + READ_COPIES)?, (chunk_bytes(out)? / out.chunks[*axis].max(1)).max(acc_dtype.itemsize())])?,
                        _ => 0,
                    };
                    evaluated.max(sum(&[cast, scanned, carry])?)
                }
            };
            task.checked_add(write)?
        }
        OpKind::Copy { region } => {
            let src = ins[0];
            let lens: Vec<u64> = region.iter().zip(&out.shape).map(|(&r, &s)| r.min(s)).collect();
            let region_bytes = checked_product(&lens)?.checked_mul(out.dtype.itemsize())?;
            // Chunks of the region: written (whole), and read (a region may straddle one more per axis).
            let written: Vec<u64> = lens.iter().zip(&out.chunks).map(|(&l, &c)| l.div_ceil(c)).collect();
            let read: Vec<u64> = lens.iter().zip(&src.chunks).map(|(&l, &c)| l.div_ceil(c).saturating_add(1)).collect();
            let per_piece = PIECE_BYTES.checked_add(PIECE_BYTES_PER_AXIS.checked_mul(lens.len() as u64)?)?;
            let pieces = checked_product(&written)?.checked_add(checked_product(&read)?)?.checked_mul(per_piece)?;
            sum(&[region_bytes, pieces, chunk_bytes(src)?.checked_mul(1 + READ_COPIES)?, write])?
        }
    };
    sum(&[plan.spec.reserved_mem, TASK_OVERHEAD, task])
}

#[cfg(test)]
mod tests {
    use cubed_task::kernel::BinaryOp;
    use cubed_task::plan::{Codec, Location, Spec, PLAN_VERSION};

    use super::*;

    fn array(shape: &[u64], chunks: &[u64], dtype: DType) -> ArrayMeta {
        ArrayMeta { name: "a".into(), location: Location::Intermediate, shape: shape.to_vec(), chunks: chunks.to_vec(), dtype, codec: Some(Codec::None), labels: Default::default() }
    }

    fn copy_mem(src: &[u64], dst: &[u64], region: &[u64]) -> Option<u64> {
        let shape = [3_000_000];
        let spec = Spec::new("memory://w").with_reserved_mem(0);
        let plan = Plan { version: PLAN_VERSION, spec, arrays: vec![array(&shape, src, DType::Bool), array(&shape, dst, DType::Bool)], ops: vec![] };
        projected_mem(&plan, &OpKind::Copy { region: region.to_vec() }, &[0], 1)
    }

    #[test]
    fn a_copy_into_many_chunks_projects_their_descriptors() {
        // 1.5 million chunks of 2 elements written by one task: 144 B each.
        let many = copy_mem(&[1_000_000], &[2], &[3_000_000]).unwrap();
        assert!(many >= TASK_OVERHEAD + 3_000_000 + 1_500_000 * (PIECE_BYTES + PIECE_BYTES_PER_AXIS), "{many}");
        // The same region in 4 chunks (3 written, 4 read): the data and encoded copies dominate.
        let few = copy_mem(&[1_000_000], &[1_000_000], &[3_000_000]).unwrap();
        assert!(few < TASK_OVERHEAD + 3_000_000 + 4_000_000 + 2_000, "{few}");
    }

    #[test]
    fn broadcast_operands_cover_the_block_they_combine_into() {
        // tril's kernel: the column index [1000] compared with the row index [1000, 1]
        // gives a bool block of 1000 x 1000, which the where then reads.
        let spec = Spec::new("memory://w").with_reserved_mem(0);
        let x = array(&[4000, 3000], &[1000, 1000], DType::Float64);
        let out = array(&[4000, 3000], &[1000, 1000], DType::Float64);
        let plan = Plan { version: PLAN_VERSION, spec, arrays: vec![x, out], ops: vec![] };
        let index = |axis, shape: &[u64]| Box::new(Node::Index { axis, shape: shape.to_vec(), dtype: DType::Int64 });
        let cond = Node::Binary { op: BinaryOp::LessEqual, compute: DType::Int64, lhs: index(0, &[3000]), rhs: index(0, &[4000, 1]) };
        assert_eq!(leaf_elems_of(&cond, &[1000, 1000], &[&plan.arrays[0]]), Some(1_000_000));
        let zero = Box::new(Node::Full { value: 0.0, dtype: DType::Float64, shape: vec![] });
        let kernel = Node::Where { cond: Box::new(cond), x: Box::new(Node::Input { input: 0 }), y: zero };
        // At the where: the bool block, the input block (read, its encoded copy freed) and the result.
        let (peak, _) = kernel_cost(&kernel, &[1000, 1000], &[&plan.arrays[0]], true).unwrap();
        assert!(peak >= 1_000_000 + 2 * 8_000_000, "{peak}");
        assert!(projected_mem(&plan, &OpKind::Blockwise { kernel }, &[0], 1).unwrap() >= TASK_OVERHEAD + peak);
        // Each index holds one chunk's worth along its own axis only.
        let rows = Node::Index { axis: 0, shape: vec![4000, 1], dtype: DType::Int64 };
        assert_eq!(kernel_cost(&rows, &[1000, 1000], &[], true), Some((8000, 8000)));
    }

    #[test]
    fn a_projection_that_does_not_fit_in_64_bits_is_none() {
        let spec = Spec::new("memory://w");
        let huge = array(&[1 << 62, 1 << 62], &[1 << 62, 1 << 62], DType::Float64);
        let plan = Plan { version: PLAN_VERSION, spec, arrays: vec![huge.clone(), huge], ops: vec![] };
        assert_eq!(projected_mem(&plan, &OpKind::Blockwise { kernel: Node::Input { input: 0 } }, &[0], 1), None);
        assert_eq!(projected_mem(&plan, &OpKind::Copy { region: vec![1 << 62, 1 << 62] }, &[0], 1), None);
    }

    fn reduce_kind(func: ReduceFunc, chunks: &[u64], acc: DType) -> OpKind {
        OpKind::Reduce {
            kernel: Node::Input { input: 0 },
            domain_shape: vec![4, 4_000_000],
            domain_chunks: chunks.to_vec(),
            func,
            axes: vec![0],
            split_every: 2,
            acc_dtype: acc,
            divide_by: None,
            squeeze: false,
            partial_in: false,
            finish: None,
        }
    }

    #[test]
    fn reductions_project_the_states_they_fold_and_keep() {
        // Blocks of 2 x 4 million float64 (64 MB), reduced over axis 0.
        let spec = Spec::new("memory://w").with_reserved_mem(0);
        let input = array(&[4, 4_000_000], &[2, 4_000_000], DType::Float64);
        let mem = |func: ReduceFunc, acc: DType, fields: u64, dtype: DType| {
            let out = array(&[2, 4_000_000, fields], &[1, 4_000_000, fields], dtype);
            let plan = Plan { version: PLAN_VERSION, spec: spec.clone(), arrays: vec![input.clone(), out], ops: vec![] };
            projected_mem(&plan, &reduce_kind(func, &[2, 4_000_000], acc), &[0], 1).unwrap() - TASK_OVERHEAD
        };
        let block = 64_000_000;
        let sum = mem(ReduceFunc::Sum, DType::Float64, 1, DType::Float64);
        // Read (with its encoded copy), then the partial of the block and the one accumulated.
        assert!(sum >= 2 * block + block, "{sum}");
        // (count, sum, M2) states, 24 B per output element, several alive at once.
        let var = mem(ReduceFunc::Moments, DType::Float64, 3, DType::Float64);
        assert!(var >= block + 4 * 4_000_000 * 24, "{var}");
        // (value, index) pairs, 16 B each.
        let arg = mem(ReduceFunc::ArgMax, DType::Float64, 2, DType::Int64);
        assert!(arg >= block + 4 * 4_000_000 * 16 && arg < var, "{arg} vs {var}");
    }

    #[test]
    fn a_scan_projects_its_carry_and_its_include_initial_block() {
        use cubed_task::kernel::reduce::scan::ScanFunc;
        let spec = Spec::new("memory://w").with_reserved_mem(0);
        // 1000 x 1000 float64 blocks; the carry is read from chunks of 7 x 1000.
        let arrays = vec![array(&[4000, 1000], &[1000, 1000], DType::Float64), array(&[5, 1000], &[7, 1000], DType::Float64), array(&[4001, 1000], &[1000, 1000], DType::Float64)];
        let plan = Plan { version: PLAN_VERSION, spec, arrays, ops: vec![] };
        let mem = |include_initial: bool, carry: Option<usize>| {
            let stage = ScanStage::Cumulative { include_initial, carry };
            let kind = OpKind::Scan { kernel: Node::Input { input: 0 }, domain_shape: vec![4000, 1000], domain_chunks: vec![1000, 1000], axis: 0, func: ScanFunc::Sum, acc_dtype: DType::Float64, stage };
            projected_mem(&plan, &kind, &[0, 1], 2).unwrap()
        };
        let block = 8_000_000;
        // include_initial: the block and the scan into a new one, then the write (with its encoded copy).
        assert!(mem(true, None) >= TASK_OVERHEAD + 2 * block + 2 * block, "{}", mem(true, None));
        // The carry's chunk (decoded, with its encoded copy) and the slice of it, besides the two blocks.
        assert_eq!(mem(true, Some(1)) - mem(true, None), 2 * 7 * 1000 * 8 + 1000 * 8);
    }
}
