//! Validation of a plan read from outside: sizes within the limits, and
//! everything an op's fields imply re-derived and compared.

use super::*;

impl Op {
    /// Checks the sizes of an op whose arrays exist and pass
    /// [`ArrayMeta::check_sizes`]: at most [`MAX_TASKS_PER_OP`] tasks, byte
    /// counts within [`MAX_ARRAY_BYTES`], a copy region or reduction domain
    /// that fits the output, and a reduction fan-in of at least 2, so that
    /// every index a task computes from them fits in a `u64`.
    pub fn check_sizes(&self, plan: &Plan) -> Result<(), PlanError> {
        let out = &plan.arrays[self.output];
        let fail = |m: String| Err(PlanError::Size(format!("{} (writing {}): {m}", self.id, out.describe())));
        if self.num_tasks > MAX_TASKS_PER_OP {
            return fail(format!("{} tasks, more than MAX_TASKS_PER_OP ({MAX_TASKS_PER_OP}); use larger chunks", self.num_tasks));
        }
        if self.bytes_read > MAX_ARRAY_BYTES || self.bytes_written > MAX_ARRAY_BYTES {
            return fail(format!("reads {} and writes {} bytes, more than cubed-rs can address (2^63 bytes)", self.bytes_read, self.bytes_written));
        }
        match &self.kind {
            OpKind::Blockwise { .. } => {}
            OpKind::Copy { region } => {
                if region.len() != out.shape.len() {
                    return fail(format!("copy region {region:?} has {} dimensions but the output has {}", region.len(), out.shape.len()));
                }
                check_array_sizes(&out.shape, region, out.dtype).map_err(|e| PlanError::Size(format!("{} (writing {}): copy region: {e}", self.id, out.describe())))?;
            }
            OpKind::Reduce { domain_shape, domain_chunks, func, axes, split_every, acc_dtype, divide_by, squeeze, partial_in, finish, .. } => {
                check_array_sizes(domain_shape, domain_chunks, *acc_dtype).map_err(|e| PlanError::Size(format!("{} (writing {}): reduction domain: {e}", self.id, out.describe())))?;
                if let Some(&k) = axes.iter().find(|&&k| k >= domain_shape.len()) {
                    return fail(format!("reduces axis {k} of a {}-dimensional domain", domain_shape.len()));
                }
                if axes.windows(2).any(|w| w[0] >= w[1]) {
                    return fail(format!("reduced axes {axes:?} are not strictly increasing"));
                }
                if let Err(m) = check_reduce_fields(*func, *acc_dtype, *partial_in, *finish, divide_by.is_some(), *squeeze, domain_shape, domain_chunks, axes) {
                    return fail(m);
                }
                let kept = if *squeeze { domain_shape.len() - axes.len() } else { domain_shape.len() };
                // With several fields per partial: out of data into partials adds the field axis, finishing drops it.
                let kept = match (func.fields(), partial_in, finish) {
                    (Some(_), false, None) => kept + 1,
                    (Some(_), true, Some(_)) => kept - 1,
                    _ => kept,
                };
                if out.shape.len() != kept {
                    return fail(format!("output has {} dimensions but reducing axes {axes:?} of a {}-dimensional domain gives {kept}", out.shape.len(), domain_shape.len()));
                }
                if *split_every < 2 {
                    return fail(format!("split_every is {split_every}; it must be at least 2"));
                }
            }
            OpKind::Scan { domain_shape, domain_chunks, axis, acc_dtype, .. } => {
                check_array_sizes(domain_shape, domain_chunks, *acc_dtype).map_err(|e| PlanError::Size(format!("{} (writing {}): scan domain: {e}", self.id, out.describe())))?;
                if *axis >= domain_shape.len() {
                    return fail(format!("scans axis {axis} of a {}-dimensional domain", domain_shape.len()));
                }
                if out.shape.len() != domain_shape.len() {
                    return fail(format!("output has {} dimensions but a scan of a {}-dimensional domain keeps them all", out.shape.len(), domain_shape.len()));
                }
                if !acc_dtype.is_numeric() || out.dtype != *acc_dtype {
                    return fail(format!("scans compute in a numeric type and write it: acc_dtype {acc_dtype}, output {}", out.dtype));
                }
            }
        }
        Ok(())
    }

    /// Re-derives what the op's own fields imply and refuses disagreement: the
    /// task count, the kernel's input references and leaf shapes, a reduction's
    /// output grid, a copy's shapes and whole-chunk regions. Call after
    /// [`Op::check_sizes`] (sizes are then known not to overflow).
    pub fn check_consistency(&self, plan: &Plan) -> Result<(), PlanError> {
        let out = &plan.arrays[self.output];
        let fail = |m: String| Err(PlanError::Inconsistent(format!("{} (writing '{}'): {m}", self.id, out.name)));
        let derived = self.derived_tasks(plan);
        if self.num_tasks != derived {
            return fail(format!("claims {} tasks but its output needs {derived}", self.num_tasks));
        }
        let check_kernel = |kernel: &Node, domain: &[u64]| self.check_kernel(plan, kernel, domain);
        match &self.kind {
            OpKind::Blockwise { kernel } => check_kernel(kernel, &out.shape)?,
            OpKind::Reduce { kernel, domain_shape, domain_chunks, func, axes, split_every, squeeze, partial_in, finish, .. } => {
                check_kernel(kernel, domain_shape)?;
                if *partial_in {
                    self.check_partials_read(plan, kernel, domain_shape, *func)?;
                }
                let grid = grid_shape(domain_shape, domain_chunks);
                let (mut shape, mut chunks) = (Vec::new(), Vec::new());
                for k in 0..domain_shape.len() {
                    match (axes.contains(&k), squeeze) {
                        (true, true) if grid[k].div_ceil(*split_every) > 1 => {
                            return fail(format!("is a last round but axis {k} still has {} blocks, more than split_every {split_every}", grid[k]));
                        }
                        (true, true) => {}
                        (true, false) => {
                            // An empty reduced axis still gives one partial (the identity).
                            shape.push(grid[k].div_ceil(*split_every).max(1));
                            chunks.push(1);
                        }
                        (false, _) => {
                            shape.push(domain_shape[k]);
                            chunks.push(domain_chunks[k]);
                        }
                    }
                }
                if let (Some((_, dtype)), None) = (func.fields(), finish) {
                    if out.dtype != dtype {
                        return fail(format!("writes {} partials as {}; they are {dtype}", func.name(), out.dtype));
                    }
                }
                match (func.fields(), partial_in, finish) {
                    (Some((n, _)), false, None) => {
                        shape.push(n);
                        chunks.push(n);
                    }
                    (Some(_), true, Some(_)) => {
                        shape.pop();
                        chunks.pop();
                    }
                    _ => {}
                }
                let got = clip_chunks(&out.shape, &out.chunks);
                let want = clip_chunks(&shape, &chunks);
                if out.shape != shape || got != want {
                    return fail(format!(
                        "reducing axes {axes:?} of domain {domain_shape:?} in blocks {domain_chunks:?} gives shape {shape:?} in chunks {want:?}, but the output is {:?} in chunks {:?}",
                        out.shape, out.chunks
                    ));
                }
            }
            OpKind::Scan { kernel, domain_shape, domain_chunks, axis, acc_dtype, stage, .. } => {
                check_kernel(kernel, domain_shape)?;
                let blocks = grid_shape(domain_shape, domain_chunks)[*axis];
                let (mut shape, mut chunks) = (domain_shape.clone(), domain_chunks.clone());
                match stage {
                    ScanStage::Totals => {
                        shape[*axis] = blocks;
                        chunks[*axis] = 1;
                    }
                    ScanStage::Cumulative { include_initial, .. } => shape[*axis] += u64::from(*include_initial),
                }
                let (got, want) = (clip_chunks(&out.shape, &out.chunks), clip_chunks(&shape, &chunks));
                if out.shape != shape || got != want {
                    return fail(format!(
                        "a scan along axis {axis} of domain {domain_shape:?} in blocks {domain_chunks:?} writes shape {shape:?} in chunks {want:?}, but the output is {:?} in chunks {:?}",
                        out.shape, out.chunks
                    ));
                }
                if let ScanStage::Cumulative { carry, .. } = stage {
                    self.check_carry(plan, *carry, *axis, blocks, *acc_dtype)?;
                }
            }
            OpKind::Copy { region } => {
                let [input] = self.inputs[..] else {
                    return fail(format!("a copy reads exactly one array, not {}", self.inputs.len()));
                };
                let src = &plan.arrays[input];
                if src.shape != out.shape || src.dtype != out.dtype {
                    return fail(format!("copies '{}' ({:?} {}) into {:?} {}", src.name, src.shape, src.dtype, out.shape, out.dtype));
                }
                if let Some(k) = (0..region.len()).find(|&k| region[k] < out.shape[k] && region[k] % out.chunks[k] != 0) {
                    return fail(format!("copy region {region:?} is not a whole number of output chunks {:?} on axis {k}", out.chunks));
                }
            }
        }
        Ok(())
    }
}

/// Checks that a kernel node's shape has few enough elements that every
/// index computed in it fits (as [`check_array_sizes`] of one-byte elements).
fn addressable(shape: &[u64]) -> Result<(), String> {
    let chunks: Vec<u64> = shape.iter().map(|&c| c.max(1)).collect();
    check_array_sizes(shape, &chunks, DType::Bool)
}

impl Op {
    /// Checks a kernel evaluated over `domain`: its input references, that
    /// every leaf broadcasts to the domain it is evaluated over (a view's
    /// argument: the view's source), and every view's index map.
    fn check_kernel(&self, plan: &Plan, node: &Node, domain: &[u64]) -> Result<(), PlanError> {
        let fail = |m: String| Err(PlanError::Inconsistent(format!("{} (writing '{}'): {m}", self.id, plan.arrays[self.output].name)));
        let broadcasts = |shape: &[u64], to: &[u64]| shape.len() <= to.len() && shape.iter().rev().zip(to.iter().rev()).all(|(&a, &b)| a == b || a == 1);
        let (what, shape): (String, Vec<u64>) = match node {
            Node::Input { input } => match self.inputs.get(*input) {
                Some(&id) => (format!("input {input} ('{}')", plan.arrays[id].name), plan.arrays[id].shape.clone()),
                None => return fail(format!("its kernel reads input {input}, but the op has {} input(s)", self.inputs.len())),
            },
            Node::Full { shape, .. } => ("a constant".into(), shape.clone()),
            Node::Arange { len, .. } | Node::ArangeFill { len, .. } => ("an arange".into(), vec![*len]),
            Node::Index { axis, shape, dtype } => {
                let Some(&n) = shape.get(*axis) else {
                    return fail(format!("an index along axis {axis} of shape {shape:?}, which has {} dimensions", shape.len()));
                };
                if dtype.int_range().is_some_and(|(_, hi)| i128::from(n) - 1 > hi) {
                    return fail(format!("an index along axis {axis} of shape {shape:?} counts to {}, more than {dtype} holds", n - 1));
                }
                ("an index".into(), shape.clone())
            }
            Node::Random { shape, chunks, .. } => {
                if chunks.len() != shape.len() || chunks.contains(&0) {
                    return fail(format!("random data of shape {shape:?} has blocks {chunks:?}"));
                }
                ("random data".into(), shape.clone())
            }
            Node::Literal { shape, values, .. } => {
                if checked_product(shape) != Some(values.len() as u64) {
                    return fail(format!("a literal of shape {shape:?} holds {} values", values.len()));
                }
                ("a literal".into(), shape.clone())
            }
            Node::View { view, arg } => {
                // Sizes first, so that every index the view computes fits.
                for (name, shape) in [("source", &view.source_shape), ("result", &view.shape)] {
                    addressable(shape).or_else(|e| fail(format!("a view's {name}: {e}")))?;
                }
                view.check().or_else(fail)?;
                self.check_kernel(plan, arg, &view.source_shape)?;
                ("a view".into(), view.shape.clone())
            }
            Node::Dot { dot, lhs, rhs } => {
                for (name, shape) in [("left operand", &dot.lhs_shape), ("right operand", &dot.rhs_shape)] {
                    addressable(shape).or_else(|e| fail(format!("a contraction's {name}: {e}")))?;
                }
                dot.check().or_else(fail)?;
                self.check_kernel(plan, lhs, &dot.lhs_shape)?;
                self.check_kernel(plan, rhs, &dot.rhs_shape)?;
                ("a contraction".into(), dot.shape())
            }
            Node::Concat { concat, parts } => {
                addressable(&concat.shape).or_else(|e| fail(format!("a concatenation: {e}")))?;
                concat.check(parts.len()).or_else(fail)?;
                for (i, p) in parts.iter().enumerate() {
                    self.check_kernel(plan, p, &concat.part_shape(i))?;
                    let dtypes: Vec<DType> = self.inputs.iter().map(|&id| plan.arrays[id].dtype).collect();
                    if p.dtype(&dtypes) != concat.dtype {
                        return fail(format!("a concatenation of {} has part {i} of {}", concat.dtype, p.dtype(&dtypes)));
                    }
                }
                ("a concatenation".into(), concat.shape.clone())
            }
            Node::Halo { halo, arg } => {
                addressable(&halo.source_shape).or_else(|e| fail(format!("a stencil's source: {e}")))?;
                halo.check().or_else(fail)?;
                self.check_kernel(plan, arg, &halo.source_shape)?;
                ("a stencil".into(), halo.shape())
            }
            Node::Reshape { reshape, arg } => {
                for (name, shape) in [("source", &reshape.source_shape), ("result", &reshape.shape)] {
                    addressable(shape).or_else(|e| fail(format!("a reshape's {name}: {e}")))?;
                }
                reshape.check().or_else(fail)?;
                self.check_kernel(plan, arg, &reshape.source_shape)?;
                ("a reshape".into(), reshape.shape.clone())
            }
            Node::Cast { arg, .. } | Node::Unary { arg, .. } => return self.check_kernel(plan, arg, domain),
            Node::Binary { lhs, rhs, .. } => {
                self.check_kernel(plan, lhs, domain)?;
                return self.check_kernel(plan, rhs, domain);
            }
            Node::Where { cond, x, y } => {
                for n in [cond, x, y] {
                    self.check_kernel(plan, n, domain)?;
                }
                return Ok(());
            }
        };
        if !broadcasts(&shape, domain) {
            return fail(format!("{what} has shape {shape:?}, which does not broadcast to the op's domain {domain:?}"));
        }
        Ok(())
    }

    /// A later round of a reduction with several fields per partial reads the
    /// partial array of the round before as it is: the kernel is that input,
    /// of the partials' type and of the domain's shape.
    fn check_partials_read(&self, plan: &Plan, kernel: &Node, domain_shape: &[u64], func: crate::kernel::ReduceFunc) -> Result<(), PlanError> {
        let fail = |m: String| Err(PlanError::Inconsistent(format!("{} (writing '{}'): {m}", self.id, plan.arrays[self.output].name)));
        let Some((_, dtype)) = func.fields() else {
            return fail(format!("{} has single-value partials, so no round reads partials with a field axis", func.name()));
        };
        match (kernel, self.inputs.first().map(|&i| &plan.arrays[i])) {
            (Node::Input { input: 0 }, Some(a)) if a.dtype == dtype && a.shape == domain_shape => Ok(()),
            (_, a) => fail(format!(
                "a round over {} partials reads its input 0 as it is ({dtype} of the domain's shape {domain_shape:?}), not {}",
                func.name(),
                a.map_or("nothing".to_string(), |a| format!("'{}' ({} of shape {:?}) through kernel {kernel:?}", a.name, a.dtype, a.shape))
            )),
        }
    }

    /// The carry of a cumulative scan over `blocks` domain blocks along
    /// `axis`: an input of the output's shape but with `blocks + 1` values
    /// along the axis, in the scan's type; none only for a single output block.
    fn check_carry(&self, plan: &Plan, carry: Option<usize>, axis: usize, blocks: u64, acc_dtype: DType) -> Result<(), PlanError> {
        let out = &plan.arrays[self.output];
        let fail = |m: String| Err(PlanError::Inconsistent(format!("{} (writing '{}'): {m}", self.id, out.name)));
        let Some(c) = carry else {
            let out_blocks = out.grid_shape()[axis];
            return if out_blocks > 1 { fail(format!("scans {out_blocks} blocks along axis {axis} without a carry from the blocks before")) } else { Ok(()) };
        };
        let Some(&id) = self.inputs.get(c) else {
            return fail(format!("its carry is input {c}, but the op has {} input(s)", self.inputs.len()));
        };
        let a = &plan.arrays[id];
        let mut shape = out.shape.clone();
        shape[axis] = blocks + 1;
        if a.shape != shape || a.dtype != acc_dtype {
            return fail(format!("its carry '{}' is {:?} {}, but a scan of {blocks} blocks along axis {axis} needs {shape:?} {acc_dtype}", a.name, a.shape, a.dtype));
        }
        Ok(())
    }
}

/// The rules of a reduction's partials: the accumulation type a function
/// requires, and, for functions with several fields per partial, a domain of
/// partials that holds whole records in a trailing axis and a finish only on
/// the last round; single-value functions take neither.
#[allow(clippy::too_many_arguments)]
fn check_reduce_fields(
    func: crate::kernel::ReduceFunc,
    acc_dtype: DType,
    partial_in: bool,
    finish: Option<crate::kernel::reduce::Finish>,
    divides: bool,
    squeeze: bool,
    domain_shape: &[u64],
    domain_chunks: &[u64],
    axes: &[usize],
) -> Result<(), String> {
    if let Some(d) = func.required_acc().filter(|&d| d != acc_dtype) {
        return Err(format!("{} accumulates in {d}, not {acc_dtype}", func.name()));
    }
    let Some((n, _)) = func.fields() else {
        return match (partial_in, finish) {
            (false, None) => Ok(()),
            _ => Err(format!("{} has single-value partials: no partial_in or finish", func.name())),
        };
    };
    if divides {
        return Err(format!("{} partials are finished, not divided", func.name()));
    }
    match finish {
        Some(f) if !func.takes(f) => return Err(format!("{} partials cannot be finished as {f:?}", func.name())),
        None if squeeze => return Err(format!("a round writing {} partials keeps the reduced axes", func.name())),
        _ => {}
    }
    let last = domain_shape.len().checked_sub(1);
    if partial_in && (domain_shape.last() != Some(&n) || domain_chunks.last() != Some(&n) || axes.iter().any(|&k| Some(k) == last)) {
        return Err(format!("a round over {} partials needs a domain ending in one block of its {n} fields, not {domain_shape:?} in {domain_chunks:?} reducing {axes:?}", func.name()));
    }
    Ok(())
}

impl Plan {
    /// Checks that every reference resolves, every shape is consistent and
    /// every size is within cubed-rs's limits: each array passes
    /// [`ArrayMeta::check_sizes`], each array the plan writes has at most
    /// [`MAX_TASKS_PER_OP`] chunks, and each op has at most that many tasks and
    /// regions, domains and byte counts that fit (see [`Op::check_sizes`]).
    /// Every reader of a plan calls this before allocating anything per task.
    pub fn validate(&self) -> Result<(), PlanError> {
        let bad = |m: String| Err(PlanError::Inconsistent(m));
        for a in &self.arrays {
            if a.shape.len() != a.chunks.len() {
                return bad(format!("array '{}' has shape {:?} but chunks {:?}", a.name, a.shape, a.chunks));
            }
            if a.chunks.contains(&0) {
                return bad(format!("array '{}' has a zero chunk length", a.name));
            }
            a.check_sizes()?;
            if a.is_written() && a.num_chunks() > MAX_TASKS_PER_OP {
                return Err(PlanError::Size(format!(
                    "{}: shape {:?} in chunks {:?} is {} chunks, more than the {MAX_TASKS_PER_OP} one array may have (MAX_TASKS_PER_OP); use larger chunks",
                    a.describe(),
                    a.shape,
                    a.chunks,
                    a.num_chunks()
                )));
            }
        }
        let mut written = vec![false; self.arrays.len()];
        for op in &self.ops {
            if op.output >= self.arrays.len() || op.inputs.iter().any(|&i| i >= self.arrays.len()) {
                return bad(format!("{} refers to an array that does not exist", op.id));
            }
            if let Some(&i) = op.inputs.iter().find(|&&i| self.arrays[i].is_written() && !written[i]) {
                return bad(format!("{} reads '{}' before any op writes it", op.id, self.arrays[i].name));
            }
            if !self.arrays[op.output].is_written() {
                return bad(format!("{} writes '{}', which has no codec", op.id, self.arrays[op.output].name));
            }
            op.check_sizes(self)?;
            op.check_consistency(self)?;
            written[op.output] = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blockwise(kernel: Node, shape: &[u64]) -> Plan {
        let out = ArrayMeta { name: "out".into(), location: Location::Intermediate, shape: shape.to_vec(), chunks: shape.to_vec(), dtype: DType::Int64, codec: Some(Codec::None), labels: Default::default() };
        let op = Op { id: "op-001".into(), kind: OpKind::Blockwise { kernel }, inputs: vec![], output: 0, num_tasks: 1, projected_mem: 0, fused: vec![], bytes_read: 0, bytes_written: 0 };
        Plan { version: PLAN_VERSION, spec: Spec::new("memory://w"), arrays: vec![out], ops: vec![op] }
    }

    #[test]
    fn index_and_arange_leaves_are_checked() {
        let index = |axis, shape: &[u64], dtype| Node::Index { axis, shape: shape.to_vec(), dtype };
        assert!(blockwise(index(0, &[4, 1], DType::Int64), &[2, 4, 3]).validate().is_ok());
        let e = blockwise(index(2, &[4, 1], DType::Int64), &[4, 3]).validate().unwrap_err().to_string();
        assert!(e.contains("an index along axis 2 of shape [4, 1], which has 2 dimensions"), "{e}");
        let e = blockwise(index(0, &[4, 3], DType::Int64), &[4, 2]).validate().unwrap_err().to_string();
        assert!(e.contains("an index has shape [4, 3], which does not broadcast to the op's domain [4, 2]"), "{e}");
        let e = blockwise(index(0, &[300], DType::Uint8), &[300]).validate().unwrap_err().to_string();
        assert!(e.contains("counts to 299, more than uint8 holds"), "{e}");
        assert!(blockwise(index(0, &[256], DType::Uint8), &[256]).validate().is_ok());
        let arange = Node::ArangeFill { first: 0.0, second: 1.0, len: 5, dtype: DType::Int64 };
        assert!(blockwise(arange.clone(), &[5]).validate().is_ok());
        let e = blockwise(arange, &[6]).validate().unwrap_err().to_string();
        assert!(e.contains("an arange has shape [5]"), "{e}");
    }
}
