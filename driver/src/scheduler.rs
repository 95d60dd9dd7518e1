//! The scheduler: runs a plan's ops as soon as their inputs are complete
//! (independent ops concurrently), bounds how many tasks run at once, retries
//! failed tasks with exponential backoff and jitter, and reports progress and a
//! summary. It is the only place these concerns live; runners just run tasks.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cubed_task::{LoadedPlan, Plan, TaskStats};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Semaphore;

use crate::error::{CubedError, Result};
use crate::progress::Progress;
use crate::runner::{Runner, TaskBatch, TaskOutcome};

/// How to run.
#[derive(Debug, Clone)]
pub struct ComputeOptions {
    /// Attempts per task (Cubed: 3).
    pub attempts: u32,
    /// First retry delay; doubles per attempt, with ±50 % jitter.
    pub backoff: Duration,
    /// No progress output.
    pub quiet: bool,
}

impl Default for ComputeOptions {
    fn default() -> Self {
        ComputeOptions { attempts: 3, backoff: Duration::from_millis(200), quiet: false }
    }
}

/// What one op did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpSummary {
    /// Op id.
    pub id: String,
    /// Kind name.
    pub kind: &'static str,
    /// Fused logical operations.
    pub fused: Vec<String>,
    /// Number of tasks.
    pub tasks: u64,
    /// Wall time of the op, in seconds.
    pub wall_s: f64,
    /// Projected memory per task.
    pub projected_mem: u64,
    /// Largest measured task peak (reserved_mem added, to compare with the projection).
    pub measured_mem: Option<u64>,
    /// Retries performed.
    pub retries: u64,
    /// Bytes read (uncompressed).
    pub bytes_read: u64,
    /// Bytes written (uncompressed).
    pub bytes_written: u64,
}

/// What a whole run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    /// Per op, in plan order.
    pub ops: Vec<OpSummary>,
    /// Total wall time, in seconds.
    pub wall_s: f64,
    /// Process peak RSS at the end, when known.
    pub peak_rss: Option<u64>,
}

/// Runs `plan` on `runner`: refuses it first if any op is over budget.
pub async fn execute(plan: Plan, runner: Arc<dyn Runner>, options: &ComputeOptions) -> Result<RunSummary> {
    crate::planner::check_memory(&plan)?;
    let started = Instant::now();
    let lp = Arc::new(LoadedPlan::new(plan));
    let create = lp.clone();
    tokio::task::spawn_blocking(move || create.create_arrays())
        .await
        .map_err(|e| CubedError::Runner(format!("create-arrays crashed: {e}")))??;

    runner.prepare(&lp).await?;
    let progress = Progress::auto(options.quiet);
    let semaphore = Arc::new(Semaphore::new(runner.max_concurrency()));
    let ops = &lp.plan.ops;
    let producers: Vec<Option<usize>> = lp.plan.arrays.iter().enumerate().map(|(a, _)| ops.iter().position(|o| o.output == a)).collect();
    let deps: Vec<Vec<usize>> = ops.iter().map(|o| o.inputs.iter().filter_map(|&i| producers[i]).collect()).collect();

    let mut done: HashSet<usize> = HashSet::new();
    let mut started_ops: HashSet<usize> = HashSet::new();
    let mut summaries: Vec<Option<OpSummary>> = vec![None; ops.len()];
    let mut running = FuturesUnordered::new();
    loop {
        for (i, d) in deps.iter().enumerate() {
            if !started_ops.contains(&i) && d.iter().all(|x| done.contains(x)) {
                started_ops.insert(i);
                let label = format!("{} {} ({})", ops[i].id, ops[i].kind.name(), ops[i].fused.join("+"));
                let bar = progress.op(label, ops[i].num_tasks);
                running.push(run_op(lp.clone(), i, runner.clone(), semaphore.clone(), options.clone(), bar));
            }
        }
        match running.next().await {
            None => break,
            Some((i, result)) => {
                summaries[i] = Some(result?);
                done.insert(i);
            }
        }
    }
    Ok(RunSummary {
        ops: summaries.into_iter().map(|s| s.expect("every op ran")).collect(),
        wall_s: started.elapsed().as_secs_f64(),
        peak_rss: cubed_task::memory::peak_rss_bytes(),
    })
}

async fn run_op(
    lp: Arc<LoadedPlan>,
    index: usize,
    runner: Arc<dyn Runner>,
    semaphore: Arc<Semaphore>,
    options: ComputeOptions,
    mut bar: crate::progress::OpProgress,
) -> (usize, Result<OpSummary>) {
    let op = &lp.plan.ops[index];
    let started = Instant::now();
    let per_batch = runner.tasks_per_batch(&lp.plan, op).max(1);
    let submit = |start: u64, stop: u64, attempt: u32, delay: Duration| -> BoxFuture<'_, (Vec<TaskOutcome>, u32)> {
        let (lp, runner, semaphore) = (lp.clone(), runner.clone(), semaphore.clone());
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            let _permit = semaphore.acquire().await.expect("semaphore never closed");
            (runner.run(TaskBatch { plan: lp, op: index, start, stop, attempt }).await, attempt)
        })
    };
    let mut pending = FuturesUnordered::new();
    let mut start = 0;
    while start < op.num_tasks {
        let stop = (start + per_batch).min(op.num_tasks);
        pending.push(submit(start, stop, 1, Duration::ZERO));
        start = stop;
    }
    let mut stats: Vec<TaskStats> = Vec::with_capacity(op.num_tasks as usize);
    let mut retries = 0;
    while let Some((outcomes, attempt)) = pending.next().await {
        for outcome in outcomes {
            match outcome.result {
                Ok(s) => {
                    stats.push(s);
                    bar.inc();
                }
                // Retry the failed task on its own, after a backoff.
                Err(e) if e.retryable && attempt < options.attempts => {
                    retries += 1;
                    let delay = backoff(options.backoff, attempt, outcome.index);
                    pending.push(submit(outcome.index, outcome.index + 1, attempt + 1, delay));
                }
                Err(error) => {
                    bar.finish();
                    return (index, Err(CubedError::TaskFailed { op: op.id.clone(), task: outcome.index, attempt, error }));
                }
            }
        }
    }
    bar.finish();
    let measured = stats.iter().filter_map(|s| s.peak_mem).max().map(|m| m + lp.plan.spec.reserved_mem);
    (
        index,
        Ok(OpSummary {
            id: op.id.clone(),
            kind: op.kind.name(),
            fused: op.fused.clone(),
            tasks: op.num_tasks,
            wall_s: started.elapsed().as_secs_f64(),
            projected_mem: op.projected_mem,
            measured_mem: measured,
            retries,
            bytes_read: stats.iter().map(|s| s.bytes_read).sum(),
            bytes_written: stats.iter().map(|s| s.bytes_written).sum(),
        }),
    )
}

/// `base × 2^(attempt-1)`, scaled by a jitter factor in [0.5, 1.5).
fn backoff(base: Duration, attempt: u32, salt: u64) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64);
    let mut z = nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let jitter = 0.5 + (z >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(2f64.powi(attempt as i32 - 1) * jitter)
}
