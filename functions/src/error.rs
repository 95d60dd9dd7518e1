//! Task errors, classified so the scheduler knows whether a retry can help.

use serde::{Deserialize, Serialize};

/// Why a task failed, and whether trying again may succeed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct TaskError {
    /// True for transient failures (I/O, throttling, timeouts, crashes);
    /// false for errors in the plan or payload that a retry would repeat.
    pub retryable: bool,
    /// What went wrong.
    pub message: String,
    /// True when the service refused to start the work for lack of capacity
    /// (Lambda's 429 TooManyRequestsException): retried without spending an
    /// attempt, and the scheduler runs fewer at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub throttled: bool,
}

impl TaskError {
    /// A transient failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> Self {
        TaskError { retryable: true, message: message.into(), throttled: false }
    }

    /// The service had no capacity to start the work (see [`TaskError::throttled`]).
    pub fn throttled(message: impl Into<String>) -> Self {
        TaskError { retryable: true, message: message.into(), throttled: true }
    }

    /// A failure a retry would repeat.
    pub fn fatal(message: impl Into<String>) -> Self {
        TaskError { retryable: false, message: message.into(), throttled: false }
    }

    /// Prefixes the message with context, keeping the classification.
    pub fn context(self, what: impl std::fmt::Display) -> Self {
        TaskError { message: format!("{what}: {}", self.message), ..self }
    }
}

impl From<crate::chunk::KernelError> for TaskError {
    fn from(e: crate::chunk::KernelError) -> Self {
        TaskError::fatal(e.to_string())
    }
}

impl From<zarrs::storage::StorageError> for TaskError {
    fn from(e: zarrs::storage::StorageError) -> Self {
        TaskError::retryable(format!("storage error: {e}"))
    }
}

impl From<zarrs::array::ArrayError> for TaskError {
    fn from(e: zarrs::array::ArrayError) -> Self {
        match e {
            zarrs::array::ArrayError::StorageError(s) => s.into(),
            other => TaskError::fatal(format!("zarr error: {other}")),
        }
    }
}
