//! One op's run: its tasks submitted in batches as slots free up, retried,
//! backed up when they straggle, abandoned at their deadline, throttled
//! batches sent again, and the output verified before it is published.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cubed_task::LoadedPlan;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use super::{ComputeOptions, OpSummary, TaskEvent};
use crate::error::{CubedError, Result};
use crate::history::History;
use crate::limiter::Limiter;
use crate::runner::{Runner, TaskBatch, TaskOutcome};

/// Backups start once this many tasks of an op have started...
pub const BACKUP_MIN_STARTED: usize = 10;
/// ... and this fraction of them has finished; then a task running longer than
/// [`BACKUP_SLOW_FACTOR`] × the median finished duration gets one backup copy.
pub const BACKUP_MIN_FINISHED: f64 = 0.5;
/// See [`BACKUP_MIN_FINISHED`].
pub const BACKUP_SLOW_FACTOR: f64 = 3.0;

/// A task's default deadline: this long...
pub const TASK_TIMEOUT_FLOOR: Duration = Duration::from_secs(120);
/// ... plus its projected bytes (read and written) at this many bytes per
/// second, a throughput far below what any store gives (S3 from Lambda: about
/// 90 MB/s), so only a task that has stopped making progress reaches it.
pub const TASK_TIMEOUT_BYTES_PER_SECOND: f64 = 2_000_000.0;
/// A batch is abandoned this long after the runner's own limit (e.g. the
/// Lambda function's timeout), which answers by itself before then.
pub const RUNNER_LIMIT_MARGIN: Duration = Duration::from_secs(10);

/// The default deadline of one task of `op` (`cubed plan` prints it):
/// [`TASK_TIMEOUT_FLOOR`] plus its share of the op's projected bytes at
/// [`TASK_TIMEOUT_BYTES_PER_SECOND`].
pub fn default_task_timeout(op: &cubed_task::plan::Op) -> Duration {
    let bytes = op.bytes_read.saturating_add(op.bytes_written) / op.num_tasks.max(1);
    TASK_TIMEOUT_FLOOR + Duration::from_secs_f64(bytes as f64 / TASK_TIMEOUT_BYTES_PER_SECOND)
}

/// First delay before a throttled batch is sent again; doubles with each
/// throttle of the same task (with ±50 % jitter) up to [`THROTTLE_MAX_DELAY`].
pub const THROTTLE_BASE_DELAY: Duration = Duration::from_millis(50);
/// See [`THROTTLE_BASE_DELAY`].
pub const THROTTLE_MAX_DELAY: Duration = Duration::from_secs(5);
/// Throttles of one task that are free: beyond this many, a throttle spends
/// an attempt like any transient failure (a service that never has capacity,
/// or a runner that reports throttles wrongly, cannot stall a run forever).
pub const MAX_FREE_THROTTLES: u32 = 1000;

/// Everything one op's run needs.
pub(super) struct OpContext {
    pub lp: Arc<LoadedPlan>,
    pub index: usize,
    pub runner: Arc<dyn Runner>,
    pub limiter: Arc<Limiter>,
    pub options: ComputeOptions,
    pub started: Instant,
    pub events: Arc<Mutex<History>>,
}

/// The state of one task of the running op.
#[derive(Default, Clone)]
struct TaskState {
    done: bool,
    in_flight: u32,
    backed_up: bool,
    /// The attempt that last succeeded (0: none, or done before this run).
    attempt: u32,
    /// Times the service throttled it.
    throttles: u32,
}

/// The tasks of the running op, and when each running one started (its
/// oldest copy in flight, once it had a concurrency slot).
struct OpState {
    tasks: Vec<TaskState>,
    running: HashMap<u64, Instant>,
}

/// Finished task durations (from their slot to their answer) as a histogram
/// of 5 % wide bins (from 1 µs), so that the median costs the same after a
/// million tasks as after ten.
#[derive(Default)]
struct Durations {
    bins: Vec<u64>,
    count: u64,
}

impl Durations {
    const BASE: f64 = 1e-6;
    const GROWTH: f64 = 1.05;

    fn push(&mut self, seconds: f64) {
        let k = if seconds <= Self::BASE { 0 } else { ((seconds / Self::BASE).ln() / Self::GROWTH.ln()) as usize + 1 };
        let k = k.min(2000);
        if self.bins.len() <= k {
            self.bins.resize(k + 1, 0);
        }
        self.bins[k] += 1;
        self.count += 1;
    }

    /// The upper edge of the bin holding the median (within 5 %).
    fn median(&self) -> f64 {
        let mut seen = 0;
        for (k, &n) in self.bins.iter().enumerate() {
            seen += n;
            if seen * 2 > self.count {
                return Self::BASE * Self::GROWTH.powi(k as i32);
            }
        }
        0.0
    }
}

/// The result of one submitted batch.
struct BatchResult {
    outcomes: Vec<TaskOutcome>,
    attempt: u32,
    backup: bool,
    start_s: f64,
    /// It did not answer by its deadline.
    abandoned: bool,
}

impl OpContext {
    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&LoadedPlan) -> std::result::Result<T, cubed_task::TaskError> + Send + 'static) -> Result<T> {
        let lp = self.lp.clone();
        tokio::task::spawn_blocking(move || f(&lp)).await.map_err(|e| CubedError::Runner(e.to_string()))?.map_err(CubedError::from)
    }

    fn submit(&self, start: u64, stop: u64, attempt: u32, backup: bool, delay: Duration, states: &Arc<Mutex<OpState>>) -> BoxFuture<'static, BatchResult> {
        let (lp, runner, limiter, states, op, t0) = (self.lp.clone(), self.runner.clone(), self.limiter.clone(), states.clone(), self.index, self.started);
        let deadline = self.batch_deadline(stop - start);
        {
            let mut st = states.lock().expect("state lock");
            for s in &mut st.tasks[start as usize..stop as usize] {
                s.in_flight += 1;
            }
        }
        Box::pin(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let permit = limiter.acquire().await;
            let now = Instant::now();
            {
                let mut st = states.lock().expect("state lock");
                for t in start..stop {
                    st.running.entry(t).or_insert(now);
                }
            }
            // Never wait on a batch forever: past its deadline it is abandoned
            // (its tasks are tried again; a late answer is never read).
            let (outcomes, abandoned) = match tokio::time::timeout(deadline, runner.run(TaskBatch { plan: lp, op, start, stop, attempt })).await {
                Ok(outcomes) => (checked_outcomes(start, stop, outcomes), false),
                Err(_) => {
                    let error = cubed_task::TaskError::retryable(format!("abandoned: no answer within {:.1} s (the task deadline; see --task-timeout)", deadline.as_secs_f64()));
                    ((start..stop).map(|index| TaskOutcome { index, result: Err(error.clone()) }).collect(), true)
                }
            };
            // What the service said about capacity: a batch throttled whole is
            // a throttle; one that ran at all is a success.
            if outcomes.iter().all(|o| o.result.as_ref().is_err_and(|e| e.throttled)) {
                limiter.throttled(&permit);
            } else {
                limiter.succeeded();
            }
            drop(permit);
            BatchResult { outcomes, attempt, backup, start_s: (now - t0).as_secs_f64(), abandoned }
        })
    }

    /// How long a batch of `tasks` tasks of this op may take: each task's
    /// deadline, but never past the runner's own limit plus a margin.
    fn batch_deadline(&self, tasks: u64) -> Duration {
        let per_task = self.options.task_timeout.unwrap_or_else(|| default_task_timeout(&self.lp.plan.ops[self.index]));
        let all = per_task.saturating_mul(u32::try_from(tasks).unwrap_or(u32::MAX));
        match self.runner.batch_time_limit() {
            Some(limit) => all.min(limit + RUNNER_LIMIT_MARGIN),
            None => all,
        }
    }

    /// Runs the tasks `range` of the op. With `owns_array` (a whole-plan run)
    /// it also clears stale metadata first and writes the output's metadata
    /// when done; batch partitions leave that to `create-arrays` and to
    /// whichever partition completes the op.
    pub async fn run(self, mut bar: crate::progress::OpProgress, range: std::ops::Range<u64>, owns_array: bool) -> Result<OpSummary> {
        let op = self.lp.plan.ops[self.index].clone();
        let op_started = Instant::now();
        let n = op.num_tasks as usize;
        let mut finished_before = if self.options.resume {
            let o = op.clone();
            self.blocking(move |lp| lp.finished_tasks(&o)).await?
        } else {
            vec![false; n]
        };
        // Tasks outside the range count as finished here.
        for (i, f) in finished_before.iter_mut().enumerate() {
            if !range.contains(&(i as u64)) {
                *f = true;
            }
        }
        let skipped = finished_before.iter().filter(|d| **d).count() as u64 - (op.num_tasks - (range.end - range.start));
        if owns_array && skipped < op.num_tasks {
            let out = op.output;
            self.blocking(move |lp| lp.begin_array(out)).await?;
        }
        bar.skip(skipped);
        let tasks = finished_before.iter().map(|&d| TaskState { done: d, ..Default::default() }).collect();
        let states = Arc::new(Mutex::new(OpState { tasks, running: HashMap::new() }));
        let per_batch = self.runner.tasks_per_batch(&self.lp.plan, &op).max(1) as usize;
        // Batches of consecutive tasks still to do, submitted as slots free up.
        let mut queue: VecDeque<(u64, u64)> = VecDeque::new();
        let mut i = 0;
        while i < n {
            if finished_before[i] {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < n && !finished_before[j] && j - i < per_batch {
                j += 1;
            }
            queue.push_back((i as u64, j as u64));
            i = j;
        }
        drop(finished_before);
        let max_waiting = 2 * self.limiter.ceiling() + 16;
        let mut pending: FuturesUnordered<BoxFuture<'static, BatchResult>> = FuturesUnordered::new();
        let mut durations = Durations::default();
        let (mut bytes_read, mut bytes_written, mut measured) = (0u64, 0u64, None::<u64>);
        let (mut retries, mut backups, mut throttles, mut abandoned, mut invocations, mut task_seconds) = (0u64, 0u64, 0u64, 0u64, 0u64, 0f64);
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            loop {
                while pending.len() < max_waiting {
                    let Some((a, b)) = queue.pop_front() else { break };
                    invocations += 1;
                    pending.push(self.submit(a, b, 1, false, Duration::ZERO, &states));
                }
                if pending.is_empty() {
                    break;
                }
                let batch = tokio::select! {
                    Some(batch) = pending.next() => batch,
                    _ = tick.tick() => {
                        if self.options.backups {
                            for index in self.stragglers(&states, &durations) {
                                backups += 1;
                                invocations += 1;
                                pending.push(self.submit(index, index + 1, 1, true, Duration::ZERO, &states));
                            }
                        }
                        continue;
                    }
                };
                let end_s = self.started.elapsed().as_secs_f64();
                if batch.abandoned {
                    abandoned += batch.outcomes.len() as u64;
                }
                task_seconds += batch.outcomes.iter().filter_map(|o| o.result.as_ref().ok()).map(|s| s.duration_s).sum::<f64>();
                // A failed attempt is billed too (a throttled one is not): count it at the batch's wall time share.
                let failed = batch.outcomes.iter().filter(|o| o.result.as_ref().is_err_and(|e| !e.throttled)).count();
                task_seconds += failed as f64 * (end_s - batch.start_s) / batch.outcomes.len().max(1) as f64;
                for outcome in batch.outcomes {
                    let index = outcome.index as usize;
                    let throttled = outcome.result.as_ref().is_err_and(|e| e.throttled);
                    // `free_throttle`: the task's throttles so far, when this one is free.
                    let (was_done, twin_running, free_throttle) = {
                        let mut st = states.lock().expect("state lock");
                        let s = &mut st.tasks[index];
                        s.in_flight = s.in_flight.saturating_sub(1);
                        let was_done = s.done;
                        if outcome.result.is_ok() {
                            s.done = true;
                            s.attempt = s.attempt.max(batch.attempt);
                        }
                        if throttled {
                            s.throttles += 1;
                        }
                        let (running, throttles) = (s.in_flight > 0, s.throttles);
                        if !running {
                            st.running.remove(&outcome.index);
                        }
                        (was_done, running, (throttled && throttles <= MAX_FREE_THROTTLES).then_some(throttles))
                    };
                    if throttled {
                        throttles += 1;
                    }
                    let ignored = was_done || (outcome.result.is_err() && twin_running);
                    self.events.lock().expect("history lock").push(TaskEvent {
                        op: op.id.clone(),
                        task: outcome.index,
                        attempt: batch.attempt,
                        backup: batch.backup,
                        start_s: batch.start_s,
                        end_s,
                        error: outcome.result.as_ref().err().map(|e| e.message.clone()),
                        ignored,
                        stats: outcome.result.as_ref().ok().cloned(),
                    });
                    if ignored {
                        continue;
                    }
                    match outcome.result {
                        Ok(s) => {
                            // As the scheduler saw it (what a straggler is compared with):
                            // from its slot to its answer, invocation overheads included.
                            durations.push(end_s - batch.start_s);
                            bytes_read += s.bytes_read;
                            bytes_written += s.bytes_written;
                            measured = measured.max(s.peak_mem);
                            bar.inc();
                        }
                        // The service had no capacity: the same attempt again, later.
                        Err(_) if free_throttle.is_some() => {
                            let k = free_throttle.unwrap_or(1);
                            let delay = backoff(THROTTLE_BASE_DELAY, k.min(16), outcome.index).min(THROTTLE_MAX_DELAY);
                            pending.push(self.submit(outcome.index, outcome.index + 1, batch.attempt, batch.backup, delay, &states));
                        }
                        Err(e) if e.retryable && batch.attempt < self.options.attempts => {
                            retries += 1;
                            invocations += 1;
                            let delay = backoff(self.options.backoff, batch.attempt, outcome.index);
                            pending.push(self.submit(outcome.index, outcome.index + 1, batch.attempt + 1, false, delay, &states));
                        }
                        Err(error) => {
                            bar.finish();
                            return Err(CubedError::TaskFailed { op: op.id.clone(), task: outcome.index, attempt: batch.attempt, error });
                        }
                    }
                }
            }
            // Trust, but verify: every task reported done must have its chunks
            // in storage before the output can be published (one listing).
            if !self.options.verify {
                break;
            }
            let o = op.clone();
            let present = self.blocking(move |lp| lp.finished_tasks(&o)).await?;
            let mut again = Vec::new();
            {
                let mut st = states.lock().expect("state lock");
                for t in range.clone().filter(|&t| !present[t as usize]) {
                    let s = &mut st.tasks[t as usize];
                    if s.attempt >= self.options.attempts {
                        bar.finish();
                        let error = cubed_task::TaskError::fatal("the runner reported success, but the task's output chunks are not in storage");
                        return Err(CubedError::TaskFailed { op: op.id.clone(), task: t, attempt: s.attempt, error });
                    }
                    s.done = false;
                    again.push((t, s.attempt + 1));
                }
            }
            if again.is_empty() {
                break;
            }
            for (t, attempt) in again {
                retries += 1;
                invocations += 1;
                pending.push(self.submit(t, t + 1, attempt, false, backoff(self.options.backoff, attempt - 1, t), &states));
            }
        }
        bar.finish();
        if owns_array {
            let out = op.output;
            self.blocking(move |lp| lp.write_metadata(out)).await?;
        }
        Ok(OpSummary {
            id: op.id.clone(),
            kind: op.kind.name(),
            fused: op.fused.clone(),
            tasks: range.end - range.start,
            skipped,
            wall_s: op_started.elapsed().as_secs_f64(),
            projected_mem: op.projected_mem,
            measured_mem: measured.map(|m| m + self.lp.plan.spec.reserved_mem),
            retries,
            backups,
            throttles,
            abandoned,
            bytes_read,
            bytes_written,
            verified: range.end - range.start,
            invocations,
            task_seconds,
        })
    }

    /// Running tasks that deserve a backup copy now (see [`BACKUP_SLOW_FACTOR`]).
    fn stragglers(&self, states: &Arc<Mutex<OpState>>, durations: &Durations) -> Vec<u64> {
        let mut st = states.lock().expect("state lock");
        let started = durations.count as usize + st.running.len();
        if started < BACKUP_MIN_STARTED || (durations.count as f64) < BACKUP_MIN_FINISHED * started as f64 {
            return vec![];
        }
        let limit = Duration::from_secs_f64(BACKUP_SLOW_FACTOR * durations.median());
        let now = Instant::now();
        let OpState { tasks, running } = &mut *st;
        let slow: Vec<u64> = running
            .iter()
            .filter(|(&t, &since)| {
                let s = &tasks[t as usize];
                now - since > limit && s.in_flight > 0 && !s.done && !s.backed_up
            })
            .map(|(&t, _)| t)
            .collect();
        for &t in &slow {
            tasks[t as usize].backed_up = true;
        }
        slow
    }
}

/// Exactly one outcome per task of `[start, stop)`, in order. A runner's
/// answer is checked, not trusted: a report for a task outside the batch is
/// dropped, and a task with no report, or with more than one, becomes a failed
/// (retryable) attempt.
fn checked_outcomes(start: u64, stop: u64, outcomes: Vec<TaskOutcome>) -> Vec<TaskOutcome> {
    let n = (stop - start) as usize;
    let mut slots: Vec<(Option<TaskOutcome>, usize)> = vec![(None, 0); n];
    let mut strays = 0;
    for o in outcomes {
        match o.index.checked_sub(start).filter(|&k| k < n as u64) {
            Some(k) => {
                let slot = &mut slots[k as usize];
                slot.1 += 1;
                slot.0.get_or_insert(o);
            }
            None => strays += 1,
        }
    }
    let note = if strays > 0 { format!(" ({strays} report(s) for tasks outside the batch {start}..{stop} were ignored)") } else { String::new() };
    slots
        .into_iter()
        .enumerate()
        .map(|(k, slot)| {
            let index = start + k as u64;
            match slot {
                (Some(o), 1) => o,
                (_, count) => {
                    let what = if count == 0 { "no result" } else { "more than one result" };
                    TaskOutcome { index, result: Err(cubed_task::TaskError::retryable(format!("the runner reported {what} for task {index}{note}"))) }
                }
            }
        })
        .collect()
}

/// `base × 2^(attempt-1)`, scaled by a jitter factor in [0.5, 1.5).
fn backoff(base: Duration, attempt: u32, salt: u64) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64);
    let mut z = nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let jitter = 0.5 + (z >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(2f64.powi(attempt as i32 - 1) * jitter)
}
