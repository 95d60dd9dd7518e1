//! # cubed
//!
//! Bounded-memory array processing on Zarr: a numpy / Array-API style lazy
//! [`Array`], a planner that fuses operations and projects each task's memory
//! before launch, and a scheduler that runs the plan's tasks on a [`Runner`]
//! (in-process by default).
//!
//! ```no_run
//! # async fn demo() -> cubed::Result<()> {
//! use cubed::{Spec, DType};
//! let spec = Spec::new("/tmp/cubed-work").with_allowed_mem(2_000_000_000);
//! let a = cubed::random(&spec, &[10_000, 10_000], &[1000, 1000], 1, DType::Float64)?;
//! let b = cubed::random(&spec, &[10_000, 10_000], &[1000, 1000], 2, DType::Float64)?;
//! let aa = cubed::multiply(&a, &a)?;
//! let bb = cubed::multiply(&b, &b)?;
//! let m = cubed::mean(&cubed::add(&aa, &bb)?, &cubed::Reduce::axis(&[0]))?;
//! let summary = cubed::compute(&[cubed::Output { array: m, url: Some("/tmp/qm.zarr".into()) }]).await?;
//! cubed::print_summary(&summary);
//! # Ok(()) }
//! ```

pub mod array;
pub mod batch;
pub mod concat;
pub mod creation;
pub mod cumulative;
pub mod destination;
pub mod elementwise;
pub mod error;
pub mod expr;
pub(crate) mod history;
pub mod indexing;
pub(crate) mod labels;
pub mod limiter;
pub mod linalg;
pub mod manipulation;
pub mod memory_model;
pub mod planner;
pub mod progress;
pub mod rechunk;
pub mod reduction;
pub mod reshape;
pub mod runner;
pub mod scheduler;
pub mod size;
pub mod stencil;
pub mod summary;
pub mod view;
pub mod workdir;

use std::sync::Arc;

pub use array::Array;
pub use creation::{
    arange, asarray, empty, empty_like, eye, from_zarr, full, full_like, linspace, ones, ones_like, random, scalar, tril, triu, zeros, zeros_like,
};
pub use cubed_task::plan::{Codec, Plan, Spec};
pub use cubed_task::DType;
pub use elementwise::*;
pub use error::{CubedError, Result};
pub use concat::{concat, pad, stack, unstack};
pub use indexing::{getitem, take, take_array, Index, Slice};
pub use linalg::{inner, matmul, outer, tensordot, tensordot_n, vecdot};
pub use manipulation::*;
pub use planner::{build_plan, check_memory, BuiltPlan, Output, PlanOptions};
pub use cumulative::{cumulative_prod, cumulative_sum, Cumulative};
pub use reduction::{
    all, any, argmax, argmin, count_nonzero, max, mean, min, nanargmax, nanargmin, nanmax, nanmean, nanmin, nanprod, nanstd, nansum, nanvar, prod, prod_as, std, sum,
    sum_as, var, Reduce,
};
pub use runner::{LocalRunner, Runner};
pub use scheduler::{execute, ComputeOptions, RunSummary};
pub use reshape::{flatten, reshape};
pub use stencil::{diff, moving_mean, moving_sum};
pub use summary::print_summary;

use array::LogicalOp;

/// Changes the chunking of `a` (bounded memory: through intermediates when needed).
pub fn rechunk(a: &Array, chunks: &[u64]) -> Result<Array> {
    rechunk_array(a, chunks)
}

pub(crate) fn rechunk_array(a: &Array, chunks: &[u64]) -> Result<Array> {
    if chunks.len() != a.ndim() {
        return Err(CubedError::Invalid(format!(
            "rechunk: chunks {chunks:?} have {} dimensions but the array has {} (shape {:?})",
            chunks.len(),
            a.ndim(),
            a.shape()
        )));
    }
    if chunks.contains(&0) {
        return Err(CubedError::Invalid(format!("rechunk: chunk lengths must be positive, got {chunks:?}")));
    }
    let clipped = cubed_task::plan::clip_chunks(a.shape(), chunks);
    if clipped == a.chunks() {
        return Ok(a.clone());
    }
    let labels = a.labels().clone();
    let op = match &a.node.op {
        // Generated data can be produced in any chunking directly.
        LogicalOp::Create { leaf, name } => LogicalOp::Create { leaf: leaf.clone(), name },
        // So can a view: it reads its argument over any region.
        LogicalOp::Regional { node, args, name } if node.any_chunks() => LogicalOp::Regional { node: node.clone(), args: args.clone(), name },
        _ => LogicalOp::Rechunk { arg: a.clone() },
    };
    Ok(Array::new(a.spec_arc(), a.shape().to_vec(), clipped, a.dtype(), op).labelled(labels))
}

/// Plans and runs `outputs` on the local runner with default options.
pub async fn compute(outputs: &[Output]) -> Result<RunSummary> {
    let built = build_plan(outputs, &PlanOptions::default())?;
    let runner = Arc::new(LocalRunner::for_machine(built.plan.spec.allowed_mem));
    execute(built.plan, runner, &ComputeOptions::default()).await
}
