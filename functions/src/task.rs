//! Running one task of an op: read the input chunks it needs, compute, write
//! whole output chunks. The same code runs in the local runner, the Lambda
//! handler and batch partitions.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::chunk::ChunkData;
use crate::error::TaskError;
use crate::faults::{self, Fault, Faults};
use crate::kernel::reduce::{scan, BlockReduce, Partial};
use crate::kernel::{KernelInputs, Node};
use crate::memory::TaskMemory;
use crate::plan::{block_pieces, block_region, grid_shape, unravel, ArrayId, Op, OpKind, Plan, ScanStage, MAX_TASKS_PER_OP};
use crate::storage::{read_region, write_chunk, StoreUrl, ZarrArray};

/// A plan with its digest, resolved URLs and lazily opened arrays; cheap to
/// share between tasks (and, in a warm function, between invocations).
pub struct LoadedPlan {
    /// The plan.
    pub plan: Plan,
    /// Its content digest.
    pub digest: String,
    urls: Vec<String>,
    arrays: Vec<OnceLock<Arc<ZarrArray>>>,
}

/// Object next to an array's chunks naming the plan (digest) that writes them.
pub const PLAN_MARKER: &str = "cubed-plan-digest";

/// What one task did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskStats {
    /// Uncompressed bytes read.
    pub bytes_read: u64,
    /// Uncompressed bytes written.
    pub bytes_written: u64,
    /// Wall time in seconds.
    pub duration_s: f64,
    /// Peak heap bytes the task allocated (when the counting allocator is installed).
    pub peak_mem: Option<u64>,
    /// How many tasks its invocation ran at once, itself included (Lambda;
    /// `None` elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_once: Option<u64>,
}

impl LoadedPlan {
    /// Resolves URLs; opens nothing yet.
    pub fn new(plan: Plan) -> LoadedPlan {
        let digest = plan.digest();
        let dir = crate::plan::intermediate_dir_name(&digest);
        let urls = plan
            .arrays
            .iter()
            .map(|a| match &a.location {
                crate::plan::Location::Url { url } => url.clone(),
                crate::plan::Location::Intermediate => {
                    format!("{}/{}/{}", plan.spec.work_dir.trim_end_matches('/'), dir, a.name)
                }
            })
            .collect();
        let arrays = plan.arrays.iter().map(|_| OnceLock::new()).collect();
        LoadedPlan { plan, digest, urls, arrays }
    }

    /// The URL of array `id`.
    pub fn url(&self, id: ArrayId) -> &str {
        &self.urls[id]
    }

    /// The zarrs array `id`: built from plan metadata for arrays the plan
    /// writes, opened from storage for inputs.
    pub fn array(&self, id: ArrayId) -> Result<Arc<ZarrArray>, TaskError> {
        if let Some(a) = self.arrays[id].get() {
            return Ok(a.clone());
        }
        let url = &self.urls[id];
        let store = StoreUrl::parse(url)?;
        let meta = &self.plan.arrays[id];
        let array = if meta.is_written() { store.array_handle(meta)? } else { store.open_array(url)? };
        Ok(self.arrays[id].get_or_init(|| Arc::new(array)).clone())
    }

    /// Writes the Zarr metadata of array `id`. The scheduler does this when the
    /// op writing the array has finished, so an incomplete array has none and
    /// cannot be mistaken for a result.
    pub fn write_metadata(&self, id: ArrayId) -> Result<(), TaskError> {
        StoreUrl::parse(&self.urls[id])?.create_array(&self.plan.arrays[id])?;
        Ok(())
    }

    /// Prepares array `id` for an op about to write it: removes any Zarr
    /// metadata left by an earlier run (the array is incomplete until the op
    /// ends) and records which plan the chunks belong to.
    pub fn begin_array(&self, id: ArrayId) -> Result<(), TaskError> {
        let store = StoreUrl::parse(&self.urls[id])?;
        for name in ["zarr.json", ".zarray", ".zattrs"] {
            store.delete(name)?;
        }
        store.put(PLAN_MARKER, self.digest.clone().into_bytes())?;
        Ok(())
    }

    /// The tasks of `op` whose output chunks all exist from an earlier run of
    /// this same plan (chunk-level resume); none when the output was written
    /// by another plan. Refuses an op with more than [`MAX_TASKS_PER_OP`]
    /// tasks (a plan that skipped [`Plan::validate`]) before allocating.
    pub fn finished_tasks(&self, op: &Op) -> Result<Vec<bool>, TaskError> {
        if op.num_tasks > MAX_TASKS_PER_OP {
            return Err(TaskError::fatal(format!(
                "{} has {} tasks, more than MAX_TASKS_PER_OP ({MAX_TASKS_PER_OP}); validate the plan (Plan::validate) before running it",
                op.id, op.num_tasks
            )));
        }
        let store = StoreUrl::parse(&self.urls[op.output])?;
        let mut done = vec![false; op.num_tasks as usize];
        if store.get(PLAN_MARKER)?.as_deref() != Some(self.digest.as_bytes()) {
            return Ok(done);
        }
        let listed: std::collections::HashSet<String> = store.list_keys("")?.into_iter().collect();
        let out = self.array(op.output)?;
        let prefix = format!("{}/", store.path);
        let exists = |coords: &[u64]| {
            let key = out.chunk_key(coords);
            listed.contains(key.as_str().strip_prefix(&prefix).unwrap_or(key.as_str()))
        };
        let meta = &self.plan.arrays[op.output];
        for (index, flag) in done.iter_mut().enumerate() {
            let coords = op.task_block(&self.plan, index as u64);
            *flag = match &op.kind {
                OpKind::Copy { region } => {
                    block_pieces(&block_region(&coords, region, &meta.shape), &meta.chunks).iter().all(|p| exists(&p.coords))
                }
                _ => exists(&coords),
            };
        }
        Ok(done)
    }

    /// Runs attempt `attempt` of task `index` of `op`, measuring its time,
    /// bytes and peak memory (and applying injected faults, see [`crate::faults`]).
    pub fn run_task(&self, op: &Op, index: u64, attempt: u32) -> Result<TaskStats, TaskError> {
        if index >= op.num_tasks {
            return Err(TaskError::fatal(format!("task {index} is out of range for {} ({} tasks)", op.id, op.num_tasks)));
        }
        let fault = Faults::from_env()?.map_or(Fault::None, |f| f.draw(&op.id, index, attempt));
        let what = format!("{} task {index}", op.id);
        faults::before(fault, &what)?;
        let start = Instant::now();
        let memory = TaskMemory::start();
        let mut stats = self.run(op, index).map_err(|e| e.context(&what))?;
        stats.peak_mem = memory.finish();
        faults::after(fault, start.elapsed());
        stats.duration_s = start.elapsed().as_secs_f64();
        Ok(stats)
    }

    fn run(&self, op: &Op, index: u64) -> Result<TaskStats, TaskError> {
        let out_meta = &self.plan.arrays[op.output];
        let out = self.array(op.output)?;
        let inputs = OpInputs::new(self, op)?;
        let coords = op.task_block(&self.plan, index);
        let bytes_written = match &op.kind {
            OpKind::Blockwise { kernel } => {
                let region = block_region(&coords, &out_meta.chunks, &out_meta.shape);
                let data = kernel.evaluate(&region, &inputs)?.cast(out_meta.dtype);
                write_chunk(&out, &out_meta.chunks, &coords, data)?
            }
            OpKind::Reduce { kernel, domain_shape, domain_chunks, func, axes, split_every, acc_dtype, divide_by, squeeze, partial_in, finish } => {
                // Output block coordinates with the reduced axes kept.
                let mut keep = coords.clone();
                if *squeeze {
                    for &k in axes {
                        keep.insert(k, 0);
                    }
                }
                // Partials with several fields have a trailing field axis the domain
                // lacks (first round) or the output lacks (last round).
                match (func.fields(), partial_in, finish) {
                    (Some(_), false, None) => {
                        keep.pop();
                    }
                    (Some(_), true, Some(_)) => keep.push(0),
                    _ => {}
                }
                let grid = grid_shape(domain_shape, domain_chunks);
                let (first, spans) = reduce_group(&keep, &grid, axes, *split_every).ok_or_else(|| {
                    TaskError::fatal(format!(
                        "output block {coords:?} of {} lies outside the reduction domain {domain_shape:?} in chunks {domain_chunks:?} (split_every {split_every})",
                        op.id
                    ))
                })?;
                let ctx = BlockReduce { func: *func, axes, acc_dtype: *acc_dtype, partial_in: *partial_in, domain_shape };
                let mut acc: Option<Partial> = None;
                for i in 0..spans.iter().product::<u64>() {
                    let rel = unravel(i, &spans);
                    let block: Vec<u64> = first.iter().zip(&rel).map(|(&f, &r)| f + r).collect();
                    let region = block_region(&block, domain_chunks, domain_shape);
                    let offset: Vec<u64> = region.iter().map(|&(a, _)| a).collect();
                    let part = ctx.block(kernel.evaluate(&region, &inputs)?, &offset)?;
                    acc = Some(match acc {
                        None => part,
                        Some(a) => a.merge(part, *func)?,
                    });
                }
                let partial = match acc {
                    Some(a) => a,
                    // Only an empty reduced axis gives an empty group (see `reduce_group`).
                    None => {
                        let mut dims = group_dims(&keep, axes, domain_chunks, domain_shape);
                        if *partial_in {
                            dims.pop();
                        }
                        ctx.identity(&dims)?
                    }
                };
                let mut result = partial.finish(*func, *finish)?;
                if let Some(n) = divide_by {
                    let n = ChunkData::full(out_meta.dtype, &[], *n);
                    result = crate::kernel::BinaryOp::Divide.apply(result, n, out_meta.dtype)?;
                }
                if *squeeze {
                    result = result.squeeze(axes);
                }
                write_chunk(&out, &out_meta.chunks, &coords, result.cast(out_meta.dtype))?
            }
            OpKind::Scan { kernel, domain_shape, domain_chunks, axis, func, acc_dtype, stage } => {
                let region = block_region(&coords, domain_chunks, domain_shape);
                let data = if region.iter().any(|&(a, b)| a == b) {
                    // The extra last block of an include_initial scan reads nothing.
                    ChunkData::full(*acc_dtype, &region.iter().map(|&(a, b)| (b - a) as usize).collect::<Vec<_>>(), 0.0)
                } else {
                    kernel.evaluate(&region, &inputs)?.cast(*acc_dtype)
                };
                let result = match stage {
                    ScanStage::Totals => scan::total(&data, *func, *axis)?,
                    ScanStage::Cumulative { include_initial, carry } => {
                        let mut out_region = block_region(&coords, &out_meta.chunks, &out_meta.shape);
                        let (a, b) = out_region[*axis];
                        let mut result = scan::scan(data, *func, *axis, *include_initial, (b - a) as usize)?;
                        if let Some(c) = carry {
                            // The carry of this block: the total of every block before it.
                            out_region[*axis] = (coords[*axis], coords[*axis] + 1);
                            result = scan::add_carry(result, &inputs.read(*c, &out_region)?.cast(*acc_dtype), *func, *axis)?;
                        }
                        result
                    }
                };
                write_chunk(&out, &out_meta.chunks, &coords, result.cast(out_meta.dtype))?
            }
            OpKind::Copy { region } => {
                // The region is a whole number of output chunks: write each one whole.
                let r = block_region(&coords, region, &out_meta.shape);
                let data = inputs.read(0, &r)?;
                let mut written = 0;
                for piece in block_pieces(&r, &out_meta.chunks) {
                    let within: Vec<(usize, usize)> = piece
                        .offset
                        .iter()
                        .zip(&piece.local)
                        .map(|(&o, &(a, b))| (o as usize, (o + b - a) as usize))
                        .collect();
                    written += write_chunk(&out, &out_meta.chunks, &piece.coords, data.slice(&within))?;
                }
                written
            }
        };
        Ok(TaskStats { bytes_read: inputs.bytes_read.get(), bytes_written, ..Default::default() })
    }
}

/// The domain blocks one reduction task combines: the first block and the
/// number of blocks per axis, from the task's output block `keep` (reduced
/// axes kept, with length 1), the domain's block grid and the fan-in. A
/// reduced axis of length 0 gives a span of 0 (an empty group); `None` when
/// the block lies outside the domain or an index would overflow.
fn reduce_group(keep: &[u64], grid: &[u64], axes: &[usize], split_every: u64) -> Option<(Vec<u64>, Vec<u64>)> {
    if keep.len() != grid.len() {
        return None;
    }
    let mut first = Vec::with_capacity(grid.len());
    let mut spans = Vec::with_capacity(grid.len());
    for (k, (&b, &g)) in keep.iter().zip(grid).enumerate() {
        if !axes.contains(&k) {
            (b < g).then_some(())?;
            first.push(b);
            spans.push(1);
        } else if g == 0 {
            (b == 0).then_some(())?;
            first.push(0);
            spans.push(0);
        } else {
            let f = b.checked_mul(split_every)?;
            let left = g.checked_sub(f).filter(|&n| n > 0)?;
            first.push(f);
            spans.push(left.min(split_every));
        }
    }
    Some((first, spans))
}

/// The shape of a reduction's partial result for an empty group (a reduced
/// axis of length 0): the output block `keep` (reduced axes kept) with
/// length 1 along the reduced axes.
fn group_dims(keep: &[u64], axes: &[usize], chunks: &[u64], shape: &[u64]) -> Vec<usize> {
    block_region(keep, chunks, shape).iter().enumerate().map(|(k, &(a, b))| if axes.contains(&k) { 1 } else { (b - a) as usize }).collect()
}

/// The inputs of one op as seen by its kernel. An input the kernel uses more
/// than once (`a*a`) is read once per region: later uses get a copy, the last
/// use takes the cached data itself.
struct OpInputs<'a> {
    plan: &'a LoadedPlan,
    op: &'a Op,
    arrays: Vec<Arc<ZarrArray>>,
    /// How many `Input` leaves of the kernel refer to each input.
    uses: Vec<usize>,
    /// Data read for the current region, with the number of uses left.
    cache: RefCell<HashMap<usize, (ChunkData, usize)>>,
    bytes_read: Cell<u64>,
}

impl<'a> OpInputs<'a> {
    fn new(plan: &'a LoadedPlan, op: &'a Op) -> Result<Self, TaskError> {
        let arrays = op.inputs.iter().map(|&id| plan.array(id)).collect::<Result<_, _>>()?;
        let mut uses = vec![0; op.inputs.len()];
        let kernel = match &op.kind {
            OpKind::Blockwise { kernel } | OpKind::Reduce { kernel, .. } | OpKind::Scan { kernel, .. } => Some(kernel),
            OpKind::Copy { .. } => None,
        };
        // Leaves of the same input read the same region, so a read is kept
        // for the others; except under a node that reads other regions than
        // its own (a view, a reshape, a concatenation, a stencil, a contraction: `a @ a`
        // reads two different blocks of `a`), whose reads are never shared.
        let mut elsewhere = vec![false; op.inputs.len()];
        for node in kernel.map(Node::walk).unwrap_or_default() {
            let below: Vec<&Node> = match node {
                Node::Input { input } => {
                    uses[*input] += 1;
                    continue;
                }
                Node::View { arg, .. } | Node::Halo { arg, .. } | Node::Reshape { arg, .. } => arg.walk(),
                Node::Dot { lhs, rhs, .. } => lhs.walk().into_iter().chain(rhs.walk()).collect(),
                Node::Concat { parts, .. } => parts.iter().flat_map(Node::walk).collect(),
                _ => continue,
            };
            for leaf in below {
                if let Node::Input { input } = leaf {
                    elsewhere[*input] = true;
                }
            }
        }
        for (u, _) in uses.iter_mut().zip(&elsewhere).filter(|(_, &e)| e) {
            *u = 1;
        }
        Ok(OpInputs { plan, op, arrays, uses, cache: RefCell::new(HashMap::new()), bytes_read: Cell::new(0) })
    }
}

impl KernelInputs for OpInputs<'_> {
    fn shape(&self, input: usize) -> &[u64] {
        &self.plan.plan.arrays[self.op.inputs[input]].shape
    }

    fn read(&self, input: usize, region: &[(u64, u64)]) -> Result<ChunkData, TaskError> {
        let mut cache = self.cache.borrow_mut();
        if let Some((data, left)) = cache.get_mut(&input) {
            *left -= 1;
            if *left == 0 {
                return Ok(cache.remove(&input).expect("present").0);
            }
            return Ok(data.clone());
        }
        let meta = &self.plan.plan.arrays[self.op.inputs[input]];
        let data = read_region(&self.arrays[input], meta.dtype, &meta.chunks, region)
            .map_err(|e| e.context(format!("reading '{}'", meta.name)))?;
        self.bytes_read.set(self.bytes_read.get() + data.nbytes());
        let uses = self.uses.get(input).copied().unwrap_or(1);
        if uses > 1 {
            cache.insert(input, (data.clone(), uses - 1));
        }
        Ok(data)
    }
}

/// Convenience for kernels with no inputs (tests, printing creation results).
pub fn evaluate_standalone(kernel: &Node, region: &[(u64, u64)]) -> Result<ChunkData, TaskError> {
    struct NoInputs;
    impl KernelInputs for NoInputs {
        fn shape(&self, _: usize) -> &[u64] {
            &[]
        }
        fn read(&self, input: usize, _: &[(u64, u64)]) -> Result<ChunkData, TaskError> {
            Err(TaskError::fatal(format!("kernel refers to input {input} but has none")))
        }
    }
    kernel.evaluate(region, &NoInputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reduction_group_is_the_blocks_of_one_output_block() {
        // Domain grid 10 × 3, reducing axis 0 four blocks at a time.
        assert_eq!(reduce_group(&[0, 2], &[10, 3], &[0], 4), Some((vec![0, 2], vec![4, 1])));
        assert_eq!(reduce_group(&[2, 1], &[10, 3], &[0], 4), Some((vec![8, 1], vec![2, 1])));
        // Outside the domain, or an index that would overflow: no group.
        assert_eq!(reduce_group(&[3, 0], &[10, 3], &[0], 4), None);
        assert_eq!(reduce_group(&[0, 3], &[10, 3], &[0], 4), None);
        assert_eq!(reduce_group(&[1 << 62, 0], &[10, 3], &[0], 4), None);
        assert_eq!(reduce_group(&[0], &[10, 3], &[0], 4), None);
        // An empty reduced axis gives an empty group.
        assert_eq!(reduce_group(&[1, 0], &[2, 0], &[1], 4), Some((vec![1, 0], vec![1, 0])));
    }

    #[test]
    fn resume_refuses_an_unvalidated_task_count_before_allocating() {
        use crate::dtype::DType;
        use crate::plan::{ArrayMeta, Codec, Location, Spec, PLAN_VERSION};
        let out = ArrayMeta { name: "out".into(), location: Location::Intermediate, shape: vec![4], chunks: vec![1], dtype: DType::Float64, codec: Some(Codec::None), labels: Default::default() };
        let kernel = Node::Full { value: 0.0, dtype: DType::Float64, shape: vec![] };
        let op = Op { id: "op-001".into(), kind: OpKind::Blockwise { kernel }, inputs: vec![], output: 0, num_tasks: 1 << 40, projected_mem: 0, fused: vec![], bytes_read: 0, bytes_written: 0 };
        let plan = Plan { version: PLAN_VERSION, spec: Spec::new("memory://resume-unvalidated/w"), arrays: vec![out], ops: vec![op.clone()] };
        let e = LoadedPlan::new(plan).finished_tasks(&op).unwrap_err();
        assert!(e.message.contains("op-001 has 1099511627776 tasks, more than MAX_TASKS_PER_OP (2097152)"), "{}", e.message);
    }

    #[test]
    fn an_empty_group_has_length_1_along_the_reduced_axes() {
        // Domain [5, 0] in chunks [2, 1], reducing axis 1: output block 2 holds one row.
        assert_eq!(group_dims(&[2, 0], &[1], &[2, 1], &[5, 0]), vec![1, 1]);
        assert_eq!(group_dims(&[0, 0], &[1], &[2, 1], &[5, 0]), vec![2, 1]);
    }
}
