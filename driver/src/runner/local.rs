//! The embedded default: tasks run in this process on blocking worker threads.

use cubed_task::TaskError;
use futures::future::BoxFuture;

use super::{Runner, TaskBatch, TaskOutcome};

/// Runs tasks in-process, at most `workers` at a time.
pub struct LocalRunner {
    workers: usize,
}

impl LocalRunner {
    /// A runner with an explicit number of workers (at least 1).
    pub fn new(workers: usize) -> LocalRunner {
        LocalRunner { workers: workers.max(1) }
    }

    /// As many workers as there are cores, but no more than fit in memory:
    /// `floor(available memory / allowed_mem)`.
    pub fn for_machine(allowed_mem: u64) -> LocalRunner {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let by_mem = available_memory().map_or(cores, |m| (m / allowed_mem.max(1)) as usize);
        LocalRunner::new(cores.min(by_mem).max(1))
    }

    /// Number of concurrent tasks.
    pub fn workers(&self) -> usize {
        self.workers
    }
}

/// `MemAvailable` from /proc/meminfo, in bytes.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line["MemAvailable:".len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

impl Runner for LocalRunner {
    fn name(&self) -> &'static str {
        "local"
    }

    fn max_concurrency(&self) -> usize {
        self.workers
    }

    fn run(&self, batch: TaskBatch) -> BoxFuture<'_, Vec<TaskOutcome>> {
        Box::pin(async move {
            let range = batch.start..batch.stop;
            let joined = tokio::task::spawn_blocking(move || {
                let op = &batch.plan.plan.ops[batch.op];
                (batch.start..batch.stop)
                    .map(|index| TaskOutcome { index, result: batch.plan.run_task(op, index, batch.attempt) })
                    .collect::<Vec<_>>()
            })
            .await;
            joined.unwrap_or_else(|e| {
                let error = TaskError::retryable(format!("task crashed: {e}"));
                range.map(|index| TaskOutcome { index, result: Err(error.clone()) }).collect()
            })
        })
    }
}
