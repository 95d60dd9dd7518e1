//! The scheduler: runs a plan's ops as soon as their inputs are complete
//! (independent ops concurrently), bounds how many tasks run at once (and
//! runs fewer while the service throttles: [`crate::limiter`]), retries
//! failed tasks with exponential backoff and jitter, launches backup copies of
//! stragglers, skips chunks already written (resume), and streams a history of
//! every task to the work dir ([`crate::history`]). It is the only place these
//! concerns live; runners just run tasks.
//!
//! Its memory does not grow with what was already done beyond a few dozen
//! bytes per task: batches are submitted as slots free up (at most twice the
//! ceiling wait at once), the stragglers are looked for among the running
//! tasks only, and finished durations are kept as a histogram.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cubed_task::{LoadedPlan, Plan, TaskStats};
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

mod op;

use crate::destination::{Claims, Lease, OutputPolicy};
use crate::error::{CubedError, Result};
use crate::history::History;
use crate::limiter::Limiter;
use crate::progress::Progress;
use crate::runner::Runner;

pub use op::{
    default_task_timeout, BACKUP_MIN_FINISHED, BACKUP_MIN_STARTED, BACKUP_SLOW_FACTOR, MAX_FREE_THROTTLES, RUNNER_LIMIT_MARGIN, TASK_TIMEOUT_BYTES_PER_SECOND,
    TASK_TIMEOUT_FLOOR, THROTTLE_BASE_DELAY, THROTTLE_MAX_DELAY,
};
use op::OpContext;

/// How to run.
#[derive(Debug, Clone)]
pub struct ComputeOptions {
    /// Attempts per task (Cubed: 3).
    pub attempts: u32,
    /// First retry delay; doubles per attempt, with ±50 % jitter.
    pub backoff: Duration,
    /// Launch backup copies of straggling tasks.
    pub backups: bool,
    /// Skip tasks whose output chunks exist from an earlier run of the same plan.
    pub resume: bool,
    /// No progress output.
    pub quiet: bool,
    /// Replace existing outputs that are Zarr arrays or groups (their old data
    /// is deleted before the run starts).
    pub overwrite: bool,
    /// Break a lease on an output held by another run (one known to be dead).
    pub break_lease: bool,
    /// Keep the intermediates after a successful run (by default the ones
    /// that ops read are deleted; results without a URL stay).
    pub keep_intermediates: bool,
    /// Intermediate arrays to keep anyway (results that another op also reads).
    pub keep_arrays: Vec<usize>,
    /// How long one task may take before it is abandoned and tried again
    /// (`None`: [`default_task_timeout`] of its op).
    pub task_timeout: Option<Duration>,
    /// List each op's output chunks before publishing it, and rerun the tasks
    /// whose chunks are missing (on by default; off only for a runner whose
    /// tasks write nothing, as the fleet model of the benchmarks).
    pub verify: bool,
}

impl Default for ComputeOptions {
    fn default() -> Self {
        ComputeOptions {
            attempts: 3,
            backoff: Duration::from_millis(200),
            backups: true,
            resume: false,
            quiet: false,
            overwrite: false,
            break_lease: false,
            keep_intermediates: false,
            keep_arrays: Vec::new(),
            task_timeout: None,
            verify: true,
        }
    }
}

/// What one op did.
#[derive(Debug, Clone, Serialize)]
pub struct OpSummary {
    /// Op id.
    pub id: String,
    /// Kind name.
    pub kind: &'static str,
    /// Fused logical operations.
    pub fused: Vec<String>,
    /// Number of tasks.
    pub tasks: u64,
    /// Tasks skipped because their chunks already existed (resume).
    pub skipped: u64,
    /// Wall time of the op, in seconds.
    pub wall_s: f64,
    /// Projected memory per task.
    pub projected_mem: u64,
    /// Largest measured task peak (reserved_mem added, to compare with the projection).
    pub measured_mem: Option<u64>,
    /// Retries performed.
    pub retries: u64,
    /// Backup copies launched.
    pub backups: u64,
    /// Batches the service throttled (sent again without spending an attempt).
    pub throttles: u64,
    /// Task attempts abandoned at their deadline (no answer in time), then retried.
    pub abandoned: u64,
    /// Bytes read (uncompressed).
    pub bytes_read: u64,
    /// Bytes written (uncompressed).
    pub bytes_written: u64,
    /// Tasks whose output chunks were found in storage before the output's
    /// metadata was written (every task of the op, or of the partition).
    pub verified: u64,
    /// Batches submitted to the runner (Lambda: invocations), retries and backups included.
    pub invocations: u64,
    /// Seconds spent in task attempts, successful or not, as the tasks measured them.
    pub task_seconds: f64,
}

/// Lambda prices used for the cost estimate (arm64, us-east-1, 2026).
pub const LAMBDA_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// See [`LAMBDA_USD_PER_GB_SECOND`].
pub const LAMBDA_USD_PER_REQUEST: f64 = 0.20 / 1_000_000.0;

/// What the run would cost on Lambda with functions of `allowed_mem`.
#[derive(Debug, Clone, Serialize)]
pub struct CostEstimate {
    /// GB-seconds of task time.
    pub gb_seconds: f64,
    /// Invocations.
    pub requests: u64,
    /// Dollars at [`LAMBDA_USD_PER_GB_SECOND`] and [`LAMBDA_USD_PER_REQUEST`].
    pub usd: f64,
}

/// What a whole run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Per op, in plan order.
    pub ops: Vec<OpSummary>,
    /// Total wall time, in seconds.
    pub wall_s: f64,
    /// Process peak RSS at the end, when known.
    pub peak_rss: Option<u64>,
    /// Where the task history was saved.
    pub history: Option<String>,
    /// Task attempts it records.
    pub history_events: u64,
    /// Its size in bytes.
    pub history_bytes: u64,
    /// Seconds the end of the run waited for it to be written (parts are
    /// written in the background during the run).
    pub history_wait_s: f64,
    /// The runner's name.
    pub runner: &'static str,
    /// Lambda cost of the task time (GB-seconds at allowed_mem, requests).
    pub cost: CostEstimate,
    /// Objects of intermediate arrays deleted after success (`None`: kept).
    pub intermediates_deleted: Option<u64>,
}

fn cost_estimate(ops: &[OpSummary], allowed_mem: u64) -> CostEstimate {
    let gb_seconds = ops.iter().map(|o| o.task_seconds).sum::<f64>() * allowed_mem as f64 / (1u64 << 30) as f64;
    let requests = ops.iter().map(|o| o.invocations).sum();
    CostEstimate { gb_seconds, requests, usd: gb_seconds * LAMBDA_USD_PER_GB_SECOND + requests as f64 * LAMBDA_USD_PER_REQUEST }
}

/// One attempt of one task, as recorded in the history.
#[derive(Debug, Clone, Serialize)]
pub struct TaskEvent {
    /// Op id.
    pub op: String,
    /// Task index.
    pub task: u64,
    /// Attempt number (from 1).
    pub attempt: u32,
    /// True for a backup copy.
    pub backup: bool,
    /// Seconds from the start of the run to the start of the attempt.
    pub start_s: f64,
    /// Seconds from the start of the run to its result.
    pub end_s: f64,
    /// The error, when it failed.
    pub error: Option<String>,
    /// True when this result was ignored (its twin finished first).
    pub ignored: bool,
    /// Task stats, when it succeeded.
    pub stats: Option<TaskStats>,
}

/// Runs `plan` on `runner`. Before anything is written it refuses a plan
/// that is over budget or whose outputs overlap an input, the work dir or each
/// other, and claims every output (see [`crate::destination`]): an existing
/// destination is refused unless `overwrite` (Zarr only) or `resume` (same
/// plan) allows it, and an output another run holds is refused. The claims
/// are released when the run ends, successfully or not.
pub async fn execute(plan: Plan, runner: Arc<dyn Runner>, options: &ComputeOptions) -> Result<RunSummary> {
    crate::planner::check_memory(&plan)?;
    crate::destination::check_locations(&plan)?;
    let lp = Arc::new(LoadedPlan::new(plan));
    let policy = OutputPolicy { overwrite: options.overwrite, resume: options.resume, break_lease: options.break_lease };
    let lease = Lease::for_this_process(&lp.digest);
    let (lp2, resume) = (lp.clone(), options.resume);
    let mut claims = tokio::task::spawn_blocking(move || -> Result<Claims> {
        // Read-only when resuming; checked before any output is touched.
        crate::workdir::record_or_check_inputs(&lp2, resume)?;
        crate::destination::claim_outputs(&lp2, &policy, lease)
    })
    .await
    .map_err(|e| CubedError::Runner(e.to_string()))??;
    let result = execute_claimed(&lp, runner, options).await;
    tokio::task::spawn_blocking(move || claims.release()).await.map_err(|e| CubedError::Runner(e.to_string()))?;
    result
}

async fn execute_claimed(lp: &Arc<LoadedPlan>, runner: Arc<dyn Runner>, options: &ComputeOptions) -> Result<RunSummary> {
    let started = Instant::now();
    runner.prepare(lp).await?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let history_url = format!("{}/run-{stamp}", history_location(lp));
    let events = Arc::new(Mutex::new(History::streamed(history_url.clone())));
    let runner_name = runner.name();
    let result = run_ops(lp, runner, options, started, &events).await;
    let (ok, error, summary) = match &result {
        Ok(ops) => (
            true,
            None,
            Some(RunSummary {
                ops: ops.clone(),
                wall_s: started.elapsed().as_secs_f64(),
                peak_rss: cubed_task::memory::peak_rss_bytes(),
                history: Some(history_url.clone()),
                history_events: 0,
                history_bytes: 0,
                history_wait_s: 0.0,
                runner: runner_name,
                cost: cost_estimate(ops, lp.plan.spec.allowed_mem),
                intermediates_deleted: None,
            }),
        ),
        Err(e) => (false, Some(e.to_string()), None),
    };
    let history = std::mem::replace(&mut *events.lock().expect("history lock"), History::in_memory());
    let saved = history.finish(&lp.digest, ok, error, summary.as_ref()).await;
    match (result, summary) {
        (Ok(_), Some(mut summary)) => {
            match saved {
                Ok(w) => (summary.history, summary.history_events, summary.history_bytes, summary.history_wait_s) = (Some(w.dir), w.events, w.bytes, w.wait_s),
                Err(e) => {
                    eprintln!("warning: could not save the task history: {e}");
                    summary.history = None;
                }
            }
            if !options.keep_intermediates {
                let (lp, keep) = (lp.clone(), options.keep_arrays.clone());
                match tokio::task::spawn_blocking(move || crate::workdir::delete_intermediates(&lp, &keep)).await {
                    Ok(Ok(n)) => summary.intermediates_deleted = Some(n),
                    Ok(Err(e)) => eprintln!("warning: could not delete the intermediates: {e}"),
                    Err(e) => eprintln!("warning: could not delete the intermediates: {e}"),
                }
            }
            Ok(summary)
        }
        (Err(e), _) => Err(e),
        (Ok(_), None) => unreachable!("a summary exists for every successful run"),
    }
}

fn history_location(lp: &LoadedPlan) -> String {
    format!("{}/history", crate::workdir::plan_dir(&lp.plan, &lp.digest))
}

async fn run_ops(
    lp: &Arc<LoadedPlan>,
    runner: Arc<dyn Runner>,
    options: &ComputeOptions,
    started: Instant,
    events: &Arc<Mutex<History>>,
) -> Result<Vec<OpSummary>> {
    let progress = Progress::auto(options.quiet);
    let limiter = Limiter::new(runner.max_concurrency());
    let ops = &lp.plan.ops;
    let producers: Vec<Option<usize>> = (0..lp.plan.arrays.len()).map(|a| ops.iter().position(|o| o.output == a)).collect();
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
                let ctx = OpContext { lp: lp.clone(), index: i, runner: runner.clone(), limiter: limiter.clone(), options: options.clone(), started, events: events.clone() };
                let whole = 0..ops[i].num_tasks;
                running.push(async move { (i, ctx.run(bar, whole, true).await) });
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
    Ok(summaries.into_iter().map(|s| s.expect("every op ran")).collect())
}

/// Runs the tasks `range` of op number `op` (a batch partition): skips the
/// tasks whose chunks exist, retries and backs up like a whole run, and
/// returns the op summary with the task history of this partition.
pub async fn run_partition(
    lp: Arc<LoadedPlan>,
    op: usize,
    range: std::ops::Range<u64>,
    runner: Arc<dyn Runner>,
    options: &ComputeOptions,
) -> (Result<OpSummary>, Vec<TaskEvent>) {
    let options = ComputeOptions { resume: true, ..options.clone() };
    let started = Instant::now();
    let events = Arc::new(Mutex::new(History::in_memory()));
    let progress = Progress::auto(options.quiet);
    let label = format!("{} {} ({}) tasks {}..{}", lp.plan.ops[op].id, lp.plan.ops[op].kind.name(), lp.plan.ops[op].fused.join("+"), range.start, range.end);
    let bar = progress.op(label, range.end - range.start);
    let ctx = OpContext { lp, index: op, limiter: Limiter::new(runner.max_concurrency()), runner, options, started, events: events.clone() };
    let result = ctx.run(bar, range, false).await;
    let events = std::mem::replace(&mut *events.lock().expect("history lock"), History::in_memory()).into_events();
    (result, events)
}
