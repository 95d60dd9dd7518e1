//! The driver's error type: every message says what is wrong and how to fix it.

use cubed_task::TaskError;

/// Errors building, checking or running a computation.
#[derive(Debug, thiserror::Error)]
pub enum CubedError {
    /// Arguments that do not fit together (shapes, axes, types).
    #[error("{0}")]
    Invalid(String),
    /// A storage URL or array that cannot be used.
    #[error(transparent)]
    Storage(#[from] cubed_task::storage::StoreError),
    /// A plan file that cannot be read.
    #[error(transparent)]
    Plan(#[from] cubed_task::plan::PlanError),
    /// An op whose tasks would need more memory than allowed.
    #[error("{0}")]
    OverBudget(String),
    /// A task failed for good.
    #[error("{op} failed: task {task} (attempt {attempt}): {error}")]
    TaskFailed {
        /// Op id.
        op: String,
        /// Task index.
        task: u64,
        /// The attempt that failed last.
        attempt: u32,
        /// The error.
        error: TaskError,
    },
    /// Anything else from a runner (spawn failures, ...).
    #[error("runner error: {0}")]
    Runner(String),
}

impl From<TaskError> for CubedError {
    fn from(e: TaskError) -> Self {
        CubedError::Runner(e.message)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = CubedError> = std::result::Result<T, E>;
