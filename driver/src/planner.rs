//! Turning a graph of lazy arrays into a [`Plan`]: fusion, reduction rounds,
//! rechunk stages, array placement, projected memory.
//!
//! Fusion follows Cubed's rules: an elementwise (or creation) node is inlined
//! into its consumer's kernel when it has a single consumer and is not a
//! requested output, as long as the fused kernel reads at most
//! [`PlanOptions::max_fused_sources`] arrays and its projected memory stays
//! within `allowed_mem`. Otherwise it is written to the work dir.

use std::collections::{BTreeMap, HashMap, HashSet};

use cubed_task::kernel::Node;
use cubed_task::plan::{
    checked_product, clip_chunks, grid_shape, saturating_product, ArrayId, ArrayMeta, Codec, Location, Op, OpKind, Plan, ScanStage, Spec,
    MAX_ARRAY_BYTES, MAX_TASKS_PER_OP, PLAN_VERSION,
};
use cubed_task::DType;

use crate::array::{Array, LogicalOp};
use crate::cumulative::Scan;
use crate::error::{CubedError, Result};
use crate::memory_model::projected_mem;
use crate::reduction::Reduction;
use crate::rechunk::plan_rechunk;

/// The deepest chain of elementwise operations fused into one kernel. Kernels
/// are nested JSON in a plan, and every reader (`cubed run`, batch jobs, the
/// Lambda handler) parses JSON at most 128 levels deep: a longer chain is
/// split into several ops.
pub const MAX_FUSED_DEPTH: usize = 64;

/// A requested result: an array and where to write it (`None`: a scratch array in the work dir).
#[derive(Clone)]
pub struct Output {
    /// The array.
    pub array: Array,
    /// Destination URL or path.
    pub url: Option<String>,
}

/// Planning knobs.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Codec of requested outputs.
    pub output_codec: Codec,
    /// Codec of intermediates.
    pub intermediate_codec: Codec,
    /// Fuse elementwise chains into their consumers.
    pub fuse: bool,
    /// Most source arrays one fused kernel may read (Cubed: 4).
    pub max_fused_sources: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { output_codec: Codec::OUTPUT_DEFAULT, intermediate_codec: Codec::INTERMEDIATE_DEFAULT, fuse: true, max_fused_sources: 4 }
    }
}

/// A plan and the array ids of the requested outputs, in request order.
pub struct BuiltPlan {
    /// The plan.
    pub plan: Plan,
    /// Output array ids.
    pub outputs: Vec<ArrayId>,
}

struct Graph {
    nodes: BTreeMap<u64, Array>,
    consumers: HashMap<u64, Vec<u64>>,
}

fn args_of(a: &Array) -> Vec<Array> {
    match &a.node.op {
        LogicalOp::Stored { .. } | LogicalOp::Create { .. } => vec![],
        LogicalOp::Map { args, .. } => args.clone(),
        LogicalOp::Regional { args, .. } => args.clone(),
        LogicalOp::Reduce { arg, .. } | LogicalOp::Scan { arg, .. } | LogicalOp::Rechunk { arg } => vec![arg.clone()],
    }
}

impl Graph {
    fn collect(outputs: &[Output]) -> Graph {
        let mut nodes = BTreeMap::new();
        let mut consumers: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut stack: Vec<Array> = outputs.iter().map(|o| o.array.clone()).collect();
        while let Some(a) = stack.pop() {
            if nodes.contains_key(&a.node.id) {
                continue;
            }
            for arg in args_of(&a) {
                let list = consumers.entry(arg.node.id).or_default();
                if !list.contains(&a.node.id) {
                    list.push(a.node.id);
                }
                stack.push(arg);
            }
            nodes.insert(a.node.id, a);
        }
        Graph { nodes, consumers }
    }
}

struct Planner<'a> {
    graph: Graph,
    opts: &'a PlanOptions,
    spec: Spec,
    /// Nodes written to storage (or already stored).
    stored: HashSet<u64>,
    outputs: HashMap<u64, Option<String>>,
    plan: Plan,
    array_of: HashMap<u64, ArrayId>,
}

/// Plans the computation of `outputs`.
pub fn build_plan(outputs: &[Output], opts: &PlanOptions) -> Result<BuiltPlan> {
    let first = outputs.first().ok_or_else(|| CubedError::Invalid("nothing to compute: no outputs requested".into()))?;
    let spec = first.array.spec().clone();
    let mut out_map: HashMap<u64, Option<String>> = HashMap::new();
    for o in outputs {
        if let Some(prev) = out_map.insert(o.array.node.id, o.url.clone()) {
            if prev != o.url {
                return Err(CubedError::Invalid("the same array is requested twice with different outputs; compute it once and copy".into()));
            }
        }
    }
    let mut seen_urls = HashSet::new();
    for url in outputs.iter().filter_map(|o| o.url.as_ref()) {
        if !seen_urls.insert(url) {
            return Err(CubedError::Invalid(format!("output '{url}' is requested twice")));
        }
    }
    let graph = Graph::collect(outputs);
    let plan = Plan { version: PLAN_VERSION, spec: spec.clone(), arrays: vec![], ops: vec![] };
    let mut p = Planner { graph, opts, spec, stored: HashSet::new(), outputs: out_map, plan, array_of: HashMap::new() };
    p.check_sizes()?;
    p.decide_storage();
    let ids: Vec<u64> = p.graph.nodes.keys().copied().collect();
    for id in ids {
        if p.stored.contains(&id) {
            p.emit(id)?;
        }
    }
    let outputs = outputs.iter().map(|o| p.array_of[&o.array.node.id]).collect();
    p.plan.validate()?;
    crate::destination::check_locations(&p.plan)?;
    Ok(BuiltPlan { plan: p.plan, outputs })
}

impl Planner<'_> {
    fn node(&self, id: u64) -> &Array {
        &self.graph.nodes[&id]
    }

    /// Checks every array of the graph against cubed-rs's size limits before
    /// anything is planned (broadcasting and reductions make shapes no
    /// creation function checked), naming the array as the plan will.
    fn check_sizes(&self) -> Result<()> {
        for (&id, a) in &self.graph.nodes {
            let Err(e) = cubed_task::plan::check_array_sizes(a.shape(), a.chunks(), a.dtype()) else { continue };
            let what = match &a.node.op {
                LogicalOp::Stored { url } => format!("array 'in-{id:03}' (input {url})"),
                LogicalOp::Create { name, .. } => format!("array 'arr-{id:03}' (the result of {name})"),
                LogicalOp::Map { kind, .. } => format!("array 'arr-{id:03}' (the result of {})", kind.name()),
                LogicalOp::Reduce { reduction, .. } => format!("array 'arr-{id:03}' (the result of {})", reduction.name),
                LogicalOp::Scan { scan, .. } => format!("array 'arr-{id:03}' (the result of {})", scan.name),
                LogicalOp::Rechunk { .. } => format!("array 'arr-{id:03}' (the result of rechunk)"),
                LogicalOp::Regional { name, .. } => format!("array 'arr-{id:03}' (the result of {name})"),
            };
            return Err(CubedError::Invalid(format!("{what}: {e}")));
        }
        Ok(())
    }

    /// Initial storage decisions, then splits fused kernels that break the guards.
    fn decide_storage(&mut self) {
        for (&id, a) in &self.graph.nodes {
            let consumers = self.graph.consumers.get(&id).map_or(0, Vec::len);
            let consumed_by_rechunk = self.graph.consumers.get(&id).is_some_and(|c| {
                c.iter().any(|cid| matches!(self.graph.nodes[cid].node.op, LogicalOp::Rechunk { .. }))
            });
            let store = match &a.node.op {
                LogicalOp::Stored { .. } | LogicalOp::Reduce { .. } | LogicalOp::Scan { .. } | LogicalOp::Rechunk { .. } => true,
                LogicalOp::Create { .. } => consumed_by_rechunk,
                LogicalOp::Map { .. } | LogicalOp::Regional { .. } => !self.opts.fuse || consumers > 1 || consumed_by_rechunk,
            };
            if store || self.outputs.contains_key(&id) {
                self.stored.insert(id);
            }
        }
        // Depth guard: a kernel is nested data in the plan, so no fused chain may
        // grow deeper than MAX_FUSED_DEPTH; a longer chain is stored every so
        // often. Ids ascend from arguments to consumers, so one pass suffices.
        let mut depth: HashMap<u64, usize> = HashMap::new();
        for (&id, a) in &self.graph.nodes {
            let below = args_of(a)
                .iter()
                .map(|x| if self.stored.contains(&x.node.id) { 0 } else { depth.get(&x.node.id).copied().unwrap_or(0) })
                .max()
                .unwrap_or(0);
            let mut d = below + 1;
            if d >= MAX_FUSED_DEPTH && matches!(a.node.op, LogicalOp::Map { .. } | LogicalOp::Regional { .. }) {
                self.stored.insert(id);
                d = 0;
            }
            depth.insert(id, d);
        }
        // Guards: split until every fused kernel reads few enough arrays and fits in memory.
        loop {
            let mut changed = false;
            let roots: Vec<u64> = self.graph.nodes.keys().copied().filter(|id| self.stored.contains(id)).collect();
            for id in roots {
                let kernel_root = match &self.node(id).node.op {
                    LogicalOp::Map { .. } | LogicalOp::Create { .. } | LogicalOp::Regional { .. } => Some(id),
                    LogicalOp::Reduce { arg, .. } | LogicalOp::Scan { arg, .. } if !self.stored.contains(&arg.node.id) => Some(arg.node.id),
                    _ => None,
                };
                let Some(root) = kernel_root else { continue };
                let (sources, inlined) = self.fused_sources(root);
                let over_mem = sources.len() <= self.opts.max_fused_sources && self.fused_over_budget(id, root);
                if (sources.len() > self.opts.max_fused_sources || over_mem) && !inlined.is_empty() {
                    // Store the inlined node that reads the most arrays.
                    let worst = *inlined.iter().max_by_key(|&&n| (self.fused_sources(n).0.len(), n)).expect("non-empty");
                    self.stored.insert(worst);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Stored nodes read by the kernel rooted at `root`, and the Map nodes inlined into it.
    fn fused_sources(&self, root: u64) -> (Vec<u64>, Vec<u64>) {
        let mut sources = Vec::new();
        let mut inlined = Vec::new();
        let mut stack: Vec<u64> = args_of(self.node(root)).iter().map(|a| a.node.id).collect();
        while let Some(id) = stack.pop() {
            if self.stored.contains(&id) {
                if !sources.contains(&id) {
                    sources.push(id);
                }
            } else {
                if matches!(self.node(id).node.op, LogicalOp::Map { .. } | LogicalOp::Regional { .. }) {
                    inlined.push(id);
                }
                stack.extend(args_of(self.node(id)).iter().map(|a| a.node.id));
            }
        }
        (sources, inlined)
    }

    /// Whether the op for stored node `id` with kernel rooted at `root` would exceed `allowed_mem`.
    fn fused_over_budget(&self, id: u64, root: u64) -> bool {
        let (sources, _) = self.fused_sources(root);
        let mut scratch = Plan { version: PLAN_VERSION, spec: self.spec.clone(), arrays: vec![], ops: vec![] };
        let mut index = HashMap::new();
        for &s in &sources {
            let a = self.node(s);
            index.insert(s, scratch.arrays.len());
            scratch.arrays.push(meta("src", Location::Intermediate, a.shape(), a.chunks(), a.dtype(), None));
        }
        let kernel = self.kernel(root, &index);
        let inputs: Vec<ArrayId> = sources.iter().map(|s| index[s]).collect();
        let a = self.node(id);
        let arg = self.node(root);
        let (domain_shape, domain_chunks) = (arg.shape().to_vec(), arg.chunks().to_vec());
        let kind = match &a.node.op {
            LogicalOp::Reduce { reduction: r, .. } => OpKind::Reduce {
                kernel,
                domain_shape,
                domain_chunks,
                func: r.func,
                axes: r.axes.clone(),
                split_every: 2,
                acc_dtype: r.acc,
                divide_by: None,
                squeeze: false,
                partial_in: false,
                finish: r.finish,
            },
            LogicalOp::Scan { scan, .. } => {
                let stage = ScanStage::Cumulative { include_initial: scan.include_initial, carry: None };
                OpKind::Scan { kernel, domain_shape, domain_chunks, axis: scan.axis, func: scan.func, acc_dtype: a.dtype(), stage }
            }
            _ => OpKind::Blockwise { kernel },
        };
        let out = scratch.arrays.len();
        scratch.arrays.push(meta("out", Location::Intermediate, a.shape(), a.chunks(), a.dtype(), Some(Codec::None)));
        // A projection that overflows is over any budget.
        projected_mem(&scratch, &kind, &inputs, out).is_none_or(|m| m > self.spec.allowed_mem)
    }

    /// The kernel computing node `id` from stored sources (`index`: node id → input number).
    fn kernel(&self, id: u64, index: &HashMap<u64, usize>) -> Node {
        let a = self.node(id);
        match &a.node.op {
            LogicalOp::Create { leaf, .. } => leaf.clone(),
            LogicalOp::Map { kind, args } => {
                let nodes = args.iter().map(|arg| self.leaf_or_kernel(arg.node.id, index)).collect();
                kind.apply(nodes)
            }
            LogicalOp::Regional { node, args, .. } => node.apply(args.iter().map(|arg| self.leaf_or_kernel(arg.node.id, index)).collect()),
            _ => Node::Input { input: index[&id] },
        }
    }

    fn leaf_or_kernel(&self, id: u64, index: &HashMap<u64, usize>) -> Node {
        if self.stored.contains(&id) {
            Node::Input { input: index[&id] }
        } else {
            self.kernel(id, index)
        }
    }

    /// Names of the logical operations a kernel rooted at `root` performs.
    fn fused_names(&self, root: u64) -> Vec<String> {
        let mut names = Vec::new();
        let mut stack = vec![root];
        let mut seen = HashSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let a = self.node(id);
            match &a.node.op {
                LogicalOp::Map { kind, args } => {
                    names.push(kind.name().to_string());
                    stack.extend(args.iter().map(|x| x.node.id).filter(|i| !self.stored.contains(i)));
                }
                LogicalOp::Create { name, .. } if *name != "scalar" => names.push((*name).to_string()),
                LogicalOp::Regional { name, .. } => {
                    names.push((*name).to_string());
                    stack.extend(args_of(a).iter().map(|x| x.node.id).filter(|i| !self.stored.contains(i)));
                }
                _ => {}
            }
        }
        names.reverse();
        names
    }

    /// Adds the array for node `id` at its final place (output URL or scratch).
    fn add_array(&mut self, id: u64, shape: &[u64], chunks: &[u64], dtype: DType) -> ArrayId {
        let (location, codec, name) = match self.outputs.get(&id).cloned().flatten() {
            Some(url) => (Location::Url { url }, self.opts.output_codec, format!("out-{id:03}")),
            None => (Location::Intermediate, self.opts.intermediate_codec, format!("arr-{id:03}")),
        };
        let mut m = meta(&name, location, shape, chunks, dtype, Some(codec));
        // Requested outputs carry their axis names and attributes (see crate::labels).
        if matches!(m.location, Location::Url { .. }) {
            m.labels = self.node(id).labels().clone();
        }
        self.push_array(m)
    }

    fn push_array(&mut self, m: ArrayMeta) -> ArrayId {
        self.plan.arrays.push(m);
        self.plan.arrays.len() - 1
    }

    /// Appends an op writing `output`, with its task count, byte counts and
    /// projected memory, all checked: an op that would have more than
    /// [`MAX_TASKS_PER_OP`] tasks or output chunks, or sizes that do not fit,
    /// is an error naming the array.
    fn push_op(&mut self, kind: OpKind, inputs: Vec<ArrayId>, output: ArrayId, fused: Vec<String>) -> Result<()> {
        let id = format!("op-{:03}", self.plan.ops.len() + 1);
        let out = &self.plan.arrays[output];
        let ops = fused.join("+");
        let label = if ops.is_empty() || ops == kind.name() { kind.name().to_string() } else { format!("{} {ops}", kind.name()) };
        let what = format!("{id} ({label}, writing {})", out.describe());
        out.check_sizes()?;
        let per = match &kind {
            OpKind::Copy { region } => format!("one per region {region:?}"),
            _ => format!("one per chunk {:?}", out.chunks),
        };
        let num_tasks = saturating_product(&kind.task_grid(out));
        if num_tasks > MAX_TASKS_PER_OP {
            return Err(CubedError::Invalid(format!(
                "{what}: shape {:?} needs {num_tasks} tasks ({per}), more than the {MAX_TASKS_PER_OP} one op may have (MAX_TASKS_PER_OP); use larger chunks",
                out.shape
            )));
        }
        // A rechunk stage writes several chunks per task: bound those too (see MAX_TASKS_PER_OP).
        if out.num_chunks() > MAX_TASKS_PER_OP {
            return Err(CubedError::Invalid(format!(
                "{what}: shape {:?} in chunks {:?} is {} chunks, more than the {MAX_TASKS_PER_OP} one array may have (MAX_TASKS_PER_OP); use larger chunks",
                out.shape,
                out.chunks,
                out.num_chunks()
            )));
        }
        let too_large = || CubedError::Invalid(format!("{what}: reads more than cubed-rs can address (2^63 bytes); use fewer or smaller inputs"));
        let bytes_written = out.nbytes();
        // What the kernel reads of each input: the chunks its box touches (a
        // slice reads only those); other inputs (a copy's, a scan's carry) whole.
        let (kernel, domain) = match &kind {
            OpKind::Blockwise { kernel } => (Some(kernel), out.shape.clone()),
            OpKind::Reduce { kernel, domain_shape, .. } | OpKind::Scan { kernel, domain_shape, .. } => (Some(kernel), domain_shape.clone()),
            OpKind::Copy { .. } => (None, out.shape.clone()),
        };
        let shapes: Vec<&[u64]> = inputs.iter().map(|&i| self.plan.arrays[i].shape.as_slice()).collect();
        let mut boxes = vec![None; inputs.len()];
        if let Some(k) = kernel {
            k.input_boxes(&domain.iter().map(|&s| (0, s)).collect::<Vec<_>>(), &shapes, &mut boxes);
        }
        let read_of = |(n, &i): (usize, &ArrayId)| -> Option<u64> {
            let a = &self.plan.arrays[i];
            let elems = match &boxes[n] {
                Some(b) => touched_elements(b, &a.shape, &a.chunks)?,
                None => checked_product(&a.shape)?,
            };
            elems.checked_mul(a.dtype.itemsize())
        };
        let bytes_read = inputs
            .iter()
            .enumerate()
            .try_fold(0u64, |sum, i| sum.checked_add(read_of(i)?))
            .filter(|&b| b <= MAX_ARRAY_BYTES)
            .ok_or_else(too_large)?;
        let projected = projected_mem(&self.plan, &kind, &inputs, output).ok_or_else(|| {
            CubedError::OverBudget(format!(
                "{what}: projected memory per task does not fit in 64 bits (chunks {:?} of {} bytes per element); use smaller chunks",
                out.chunks,
                out.dtype.itemsize()
            ))
        })?;
        self.plan.ops.push(Op { id, kind, inputs, output, num_tasks, projected_mem: projected, fused, bytes_read, bytes_written });
        Ok(())
    }

    fn emit(&mut self, id: u64) -> Result<()> {
        let a = self.node(id).clone();
        match &a.node.op {
            LogicalOp::Stored { url } => {
                let input = self.push_array(meta(&format!("in-{id:03}"), Location::Url { url: url.clone() }, a.shape(), a.chunks(), a.dtype(), None));
                if self.outputs.contains_key(&id) {
                    // Requested as an output: copy it.
                    let out = self.add_array(id, a.shape(), a.chunks(), a.dtype());
                    self.push_op(OpKind::Blockwise { kernel: Node::Input { input: 0 } }, vec![input], out, vec!["copy".into()])?;
                    self.array_of.insert(id, out);
                } else {
                    self.array_of.insert(id, input);
                }
            }
            LogicalOp::Create { .. } | LogicalOp::Map { .. } | LogicalOp::Regional { .. } => {
                let (sources, _) = self.fused_sources(id);
                let index: HashMap<u64, usize> = sources.iter().enumerate().map(|(i, &s)| (s, i)).collect();
                let kernel = self.kernel(id, &index);
                let inputs = sources.iter().map(|s| self.array_of[s]).collect();
                let out = self.add_array(id, a.shape(), a.chunks(), a.dtype());
                let names = self.fused_names(id);
                self.push_op(OpKind::Blockwise { kernel }, inputs, out, names)?;
                self.array_of.insert(id, out);
            }
            LogicalOp::Reduce { reduction, arg } => self.emit_reduce(&a, reduction, arg)?,
            LogicalOp::Scan { scan, arg } => self.emit_scan(&a, scan, arg)?,
            LogicalOp::Rechunk { arg } => {
                let src = self.array_of[&arg.node.id];
                let budget = self.spec.allowed_mem.saturating_sub(self.spec.reserved_mem.saturating_add(crate::memory_model::TASK_OVERHEAD));
                // Regions of budget / 5 (rechunker's rule), smaller while the memory
                // model says a stage would not fit (tiny chunks cost per chunk too).
                let mut max_mem = budget / 5;
                let stages = loop {
                    let stages = plan_rechunk(a.shape(), arg.chunks(), a.chunks(), a.dtype().itemsize(), max_mem, max_mem / 20);
                    if max_mem <= 1 || self.rechunk_fits(&a, arg.chunks(), &stages) {
                        break stages;
                    }
                    max_mem /= 2;
                };
                let mut input = src;
                for (i, stage) in stages.iter().enumerate() {
                    let out = if i + 1 == stages.len() {
                        self.add_array(id, a.shape(), &stage.chunks, a.dtype())
                    } else {
                        let m = meta(&format!("arr-{id:03}-stage{}", i + 1), Location::Intermediate, a.shape(), &stage.chunks, a.dtype(), Some(self.opts.intermediate_codec));
                        self.push_array(m)
                    };
                    self.push_op(OpKind::Copy { region: stage.region.clone() }, vec![input], out, vec!["rechunk".into()])?;
                    input = out;
                }
                self.array_of.insert(id, input);
            }
        }
        Ok(())
    }

    /// Whether every copy stage of a rechunk of `a` from `src_chunks` fits in `allowed_mem`.
    fn rechunk_fits(&self, a: &Array, src_chunks: &[u64], stages: &[crate::rechunk::Stage]) -> bool {
        let mut scratch = Plan { version: PLAN_VERSION, spec: self.spec.clone(), arrays: vec![], ops: vec![] };
        scratch.arrays.push(meta("src", Location::Intermediate, a.shape(), src_chunks, a.dtype(), None));
        stages.iter().enumerate().all(|(i, stage)| {
            scratch.arrays.push(meta("stage", Location::Intermediate, a.shape(), &stage.chunks, a.dtype(), Some(Codec::None)));
            let kind = OpKind::Copy { region: stage.region.clone() };
            projected_mem(&scratch, &kind, &[i], i + 1).is_some_and(|m| m <= self.spec.allowed_mem)
        })
    }

    /// The kernel a reduction or scan evaluates over its argument's domain:
    /// the stored argument itself, or its fused computation; the op inputs
    /// and the names of the fused operations.
    fn arg_kernel(&self, arg: &Array) -> (Node, Vec<ArrayId>, Vec<String>) {
        if self.stored.contains(&arg.node.id) {
            return (Node::Input { input: 0 }, vec![self.array_of[&arg.node.id]], vec![]);
        }
        let (sources, _) = self.fused_sources(arg.node.id);
        let index: HashMap<u64, usize> = sources.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        let kernel = self.kernel(arg.node.id, &index);
        (kernel, sources.iter().map(|s| self.array_of[s]).collect(), self.fused_names(arg.node.id))
    }

    /// The rounds of a reduction: each combines up to `split_every` blocks per
    /// reduced axis into partials (kept with length 1, plus a trailing field
    /// axis for partials with several fields), until one block remains.
    fn emit_reduce(&mut self, a: &Array, r: &Reduction, arg: &Array) -> Result<()> {
        let id = a.node.id;
        let (mut kernel, mut inputs, mut fused) = self.arg_kernel(arg);
        fused.push(r.name.to_string());
        let axes = &r.axes;
        let fields = r.func.fields();
        let partial_dtype = fields.map_or(r.acc, |(_, d)| d);
        let mut domain_shape = arg.shape().to_vec();
        let mut domain_chunks = arg.chunks().to_vec();
        // At most the argument's element count, which `check_sizes` bounded.
        let count: u64 = axes.iter().map(|&k| arg.shape()[k]).product();
        for round in 1.. {
            let grid = grid_shape(&domain_shape, &domain_chunks);
            let last = axes.iter().all(|&k| grid[k].div_ceil(r.split_every) <= 1);
            // An empty reduced axis still gives one partial (the identity).
            let mut keep_shape: Vec<u64> = (0..grid.len()).map(|k| if axes.contains(&k) { grid[k].div_ceil(r.split_every).max(1) } else { domain_shape[k] }).collect();
            let mut keep_chunks: Vec<u64> = (0..grid.len()).map(|k| if axes.contains(&k) { 1 } else { domain_chunks[k] }).collect();
            let partial_in = round > 1 && fields.is_some();
            if let (Some((n, _)), false) = (fields, partial_in) {
                keep_shape.push(n);
                keep_chunks.push(n);
            }
            let kind = OpKind::Reduce {
                kernel: kernel.clone(),
                domain_shape: domain_shape.clone(),
                domain_chunks: domain_chunks.clone(),
                // Later rounds merge partials: nansum's are plain sums.
                func: if round > 1 { r.func.merge_func() } else { r.func },
                axes: axes.clone(),
                split_every: r.split_every,
                acc_dtype: r.acc,
                divide_by: (last && r.mean).then_some(count as f64),
                // keepdims: the result keeps the reduced axes (length 1).
                squeeze: last && a.ndim() != arg.ndim(),
                partial_in,
                finish: if last { r.finish } else { None },
            };
            if last {
                let out = self.add_array(id, a.shape(), a.chunks(), a.dtype());
                self.push_op(kind, inputs, out, fused)?;
                self.array_of.insert(id, out);
                return Ok(());
            }
            let m = meta(&format!("arr-{id:03}-round{round}"), Location::Intermediate, &keep_shape, &keep_chunks, partial_dtype, Some(self.opts.intermediate_codec));
            let out = self.push_array(m);
            self.push_op(kind, inputs, out, std::mem::take(&mut fused))?;
            fused = vec![format!("{}-combine", r.name)];
            kernel = Node::Input { input: 0 };
            inputs = vec![out];
            domain_shape = keep_shape;
            domain_chunks = keep_chunks;
        }
        unreachable!("the loop returns on the last round")
    }

    /// A cumulative sum or product: the carries of the blocks (see
    /// [`Planner::emit_carry`]), then one scan task per block.
    fn emit_scan(&mut self, a: &Array, scan: &Scan, arg: &Array) -> Result<()> {
        let id = a.node.id;
        let (kernel, mut inputs, mut fused) = self.arg_kernel(arg);
        let domain = Domain { kernel, shape: arg.shape().to_vec(), chunks: arg.chunks().to_vec(), fused: fused.clone() };
        let carry = self.emit_carry(id, &domain, &inputs, scan, a.shape(), a.dtype(), 1)?;
        fused.push(scan.name.to_string());
        let stage = ScanStage::Cumulative { include_initial: scan.include_initial, carry: carry.map(|_| inputs.len()) };
        inputs.extend(carry);
        let out = self.add_array(id, a.shape(), a.chunks(), a.dtype());
        let kind = OpKind::Scan { kernel: domain.kernel, domain_shape: domain.shape, domain_chunks: domain.chunks, axis: scan.axis, func: scan.func, acc_dtype: a.dtype(), stage };
        self.push_op(kind, inputs, out, fused)?;
        self.array_of.insert(id, out);
        Ok(())
    }

    /// The carry of a scan of `domain` (read through `inputs`) into
    /// `out_shape`: per output block along the axis, the total of the domain
    /// blocks before it. `None` when the output has one block along the axis;
    /// else the include_initial scan of the block totals (one task per domain
    /// block), itself planned this way, so any number of blocks is scanned in
    /// bounded memory.
    #[allow(clippy::too_many_arguments)]
    fn emit_carry(&mut self, id: u64, domain: &Domain, inputs: &[ArrayId], scan: &Scan, out_shape: &[u64], dtype: DType, level: u32) -> Result<Option<ArrayId>> {
        let axis = scan.axis;
        if grid_shape(out_shape, &clip_chunks(out_shape, &domain.chunks))[axis] <= 1 {
            return Ok(None);
        }
        let codec = Some(self.opts.intermediate_codec);
        let blocks = grid_shape(&domain.shape, &domain.chunks)[axis];
        let (mut totals_shape, mut totals_chunks) = (domain.shape.clone(), domain.chunks.clone());
        totals_shape[axis] = blocks;
        totals_chunks[axis] = 1;
        let totals = self.push_array(meta(&format!("arr-{id:03}-totals{level}"), Location::Intermediate, &totals_shape, &totals_chunks, dtype, codec));
        let kind = OpKind::Scan {
            kernel: domain.kernel.clone(),
            domain_shape: domain.shape.clone(),
            domain_chunks: domain.chunks.clone(),
            axis,
            func: scan.func,
            acc_dtype: dtype,
            stage: ScanStage::Totals,
        };
        let mut names = domain.fused.clone();
        names.push(format!("{}-totals", scan.name));
        self.push_op(kind, inputs.to_vec(), totals, names)?;
        // Scan the totals as many at a time as the domain's blocks hold along the axis (at least 2).
        let mut chunks = domain.chunks.clone();
        chunks[axis] = domain.chunks[axis].max(2);
        let mut carry_shape = totals_shape.clone();
        carry_shape[axis] = blocks + 1;
        let of_totals = Domain { kernel: Node::Input { input: 0 }, shape: totals_shape, chunks, fused: vec![] };
        let initial = Scan { include_initial: true, ..*scan };
        let carry_of_totals = self.emit_carry(id, &of_totals, &[totals], &initial, &carry_shape, dtype, level + 1)?;
        let carry = self.push_array(meta(&format!("arr-{id:03}-carry{level}"), Location::Intermediate, &carry_shape, &of_totals.chunks, dtype, codec));
        let stage = ScanStage::Cumulative { include_initial: true, carry: carry_of_totals.map(|_| 1) };
        let kind = OpKind::Scan { kernel: of_totals.kernel, domain_shape: of_totals.shape, domain_chunks: of_totals.chunks, axis, func: scan.func, acc_dtype: dtype, stage };
        let mut carry_inputs = vec![totals];
        carry_inputs.extend(carry_of_totals);
        self.push_op(kind, carry_inputs, carry, vec![format!("{}-carry", scan.name)])?;
        Ok(Some(carry))
    }
}

/// What a scan op evaluates: its kernel over a domain of `shape` in blocks
/// of `chunks`, and the names of the operations fused into it.
struct Domain {
    kernel: Node,
    shape: Vec<u64>,
    chunks: Vec<u64>,
    fused: Vec<String>,
}

/// Elements of the chunks of an array of `shape` in `chunks` that the box
/// `[start, stop)` per axis touches (`None` on overflow).
fn touched_elements(region: &[(u64, u64)], shape: &[u64], chunks: &[u64]) -> Option<u64> {
    let lens: Vec<u64> = region
        .iter()
        .zip(shape.iter().zip(chunks))
        .map(|(&(a, b), (&n, &c))| if a >= b { 0 } else { ((b - 1) / c + 1).saturating_mul(c).min(n) - a / c * c })
        .collect();
    checked_product(&lens)
}

fn meta(name: &str, location: Location, shape: &[u64], chunks: &[u64], dtype: DType, codec: Option<Codec>) -> ArrayMeta {
    let chunks = cubed_task::plan::clip_chunks(shape, chunks);
    ArrayMeta { name: name.to_string(), location, shape: shape.to_vec(), chunks, dtype, codec, labels: Default::default() }
}

/// Refuses a plan that does not hold together or exceeds cubed-rs's sizes
/// ([`Plan::validate`]: [`crate::execute`] runs every plan through here, so
/// none reaches the scheduler unchecked), whose ops claim another projected
/// memory than the memory model derives, or whose ops would exceed
/// `allowed_mem`, naming them and what to change.
pub fn check_memory(plan: &Plan) -> Result<()> {
    plan.validate()?;
    // The projection is re-derived, not trusted: a plan that claims less than its
    // tasks need (edited, or made by another version) is refused.
    for op in &plan.ops {
        match projected_mem(plan, &op.kind, &op.inputs, op.output) {
            Some(m) if m == op.projected_mem => {}
            derived => {
                return Err(CubedError::Invalid(format!(
                    "{} claims a projected memory of {} per task, but its tasks need {}: the plan was edited or made by another version of cubed; create it again",
                    op.id,
                    crate::size::format_size(op.projected_mem),
                    derived.map_or_else(|| "more than can be counted".to_string(), crate::size::format_size),
                )))
            }
        }
    }
    let over: Vec<&Op> = plan.ops.iter().filter(|op| op.projected_mem > plan.spec.allowed_mem).collect();
    if over.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = over
        .iter()
        .map(|op| {
            let out = &plan.arrays[op.output];
            format!(
                "  {} ({}, {}): projected {} per task > allowed_mem {} (reserved_mem {}); its output chunks are {} each",
                op.id,
                op.kind.name(),
                op.fused.join("+"),
                crate::size::format_size(op.projected_mem),
                crate::size::format_size(plan.spec.allowed_mem),
                crate::size::format_size(plan.spec.reserved_mem),
                crate::size::format_size(out.chunk_bytes()),
            )
        })
        .collect();
    Err(CubedError::OverBudget(format!(
        "projected memory exceeds allowed_mem for {} op(s):\n{}\nA task holds several chunk-sized buffers at once (each input read, kernel temporaries, the encoded output), so it needs a few times the chunk size. Use smaller chunks (rechunk the inputs), or raise --allowed-mem (and give each worker/function at least that much memory).",
        over.len(),
        lines.join("\n")
    )))
}
