//! Runners: where tasks execute. One small async trait — "run this batch of
//! tasks and report" — with one module per backend. Retries, concurrency
//! limits and progress live in the [`crate::scheduler`], never in a runner.

pub mod lambda;
pub mod local;

use std::sync::Arc;

use cubed_task::plan::{Op, Plan};
use cubed_task::{LoadedPlan, TaskError, TaskStats};
use futures::future::BoxFuture;

pub use lambda::{LambdaConfig, LambdaRunner};
pub use local::LocalRunner;

/// A contiguous range of tasks of one op.
#[derive(Clone)]
pub struct TaskBatch {
    /// The plan (shared, parsed once).
    pub plan: Arc<LoadedPlan>,
    /// Index of the op in `plan.ops`.
    pub op: usize,
    /// First task index.
    pub start: u64,
    /// One past the last task index.
    pub stop: u64,
    /// Attempt number, from 1.
    pub attempt: u32,
}

/// The result of one task.
#[derive(Debug, Clone)]
pub struct TaskOutcome {
    /// Task index.
    pub index: u64,
    /// Stats, or the classified error.
    pub result: Result<TaskStats, TaskError>,
}

/// Executes batches of tasks somewhere.
pub trait Runner: Send + Sync {
    /// A short name for messages (`local`, `lambda`).
    fn name(&self) -> &'static str;
    /// How many batches may run at once.
    fn max_concurrency(&self) -> usize;
    /// How many tasks of `op` to send in one batch (default 1).
    fn tasks_per_batch(&self, _plan: &Plan, _op: &Op) -> u64 {
        1
    }
    /// The longest the backend lets one batch run before it gives up on it
    /// itself (Lambda: the function's configured timeout, known after
    /// [`Runner::prepare`]); `None`: no such limit. The scheduler abandons a
    /// batch that has not answered by then (plus a margin), or by its tasks'
    /// deadlines, whichever comes first.
    fn batch_time_limit(&self) -> Option<std::time::Duration> {
        None
    }
    /// Checks and setup before the first task (e.g. publish the plan); default none.
    fn prepare<'a>(&'a self, _plan: &'a Arc<LoadedPlan>) -> BoxFuture<'a, crate::Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Runs every task of `batch` and reports each one. An error affecting the
    /// whole batch (e.g. a failed invocation) is reported for each task.
    fn run(&self, batch: TaskBatch) -> BoxFuture<'_, Vec<TaskOutcome>>;
}
