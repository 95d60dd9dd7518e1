//! The Lambda task handler: parse the payload, run its tasks, answer a report.
//!
//! One function serves every op kind. A payload names the plan (its URL and
//! digest), an op and a contiguous range of task indices; the handler loads
//! the plan once per warm container (cached by digest), runs the tasks with the
//! same code as the local runner, and reports each task's outcome plus the
//! invocation's peak RSS and whether it was a cold start.
//!
//! Problems with the request itself (malformed payload, unknown op, task range
//! out of bounds or larger than [`MAX_TASKS_PER_INVOCATION`], digest mismatch,
//! missing or unreadable plan) are answered as a function error whose type
//! starts with [`INVALID_REQUEST`]: retrying cannot help. Storage failing while
//! the plan is read (connection refused, 5xx, timeout) is answered as a
//! [`STORAGE_UNAVAILABLE`] function error, which the driver retries like any
//! function error that is not an invalid request. A task's own failure is
//! reported inside the answer, classified retryable or not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use crate::error::TaskError;
use crate::plan::Plan;
use crate::storage::StoreUrl;
use crate::task::{LoadedPlan, TaskStats};

/// Prefix of the `errorType` of requests that a retry would repeat.
pub const INVALID_REQUEST: &str = "cubed.InvalidRequest";

/// `errorType` of an invocation that could not read its plan because storage
/// failed (connection, 5xx, timeout): a retry may succeed.
pub const STORAGE_UNAVAILABLE: &str = "cubed.StorageUnavailable";

/// Most tasks one invocation may ask for; a larger range is an invalid request.
///
/// Chosen from the 6 MB limit of a synchronous Invoke's response: a task's
/// report is about 200 bytes of numbers plus, when it failed, its error
/// message, cut to [`MAX_ERROR_MESSAGE_BYTES`] (at most 6 KiB once JSON-escaped).
/// 512 reports of at most 6.4 KiB are 3.3 MB, well within the limit; the
/// driver sends at most 64 tasks per invocation unless told otherwise.
pub const MAX_TASKS_PER_INVOCATION: u64 = 512;

/// Longest error message a task report carries; a longer one is cut (at a
/// character boundary) and ends with `…`, so that reports stay within the
/// response limit (see [`MAX_TASKS_PER_INVOCATION`]).
pub const MAX_ERROR_MESSAGE_BYTES: usize = 1024;

/// Name of the plan file the driver writes under the plan's intermediate directory.
pub const PLAN_FILE: &str = "plan.json";

/// What one invocation is asked to do (a few hundred bytes, whatever the plan size).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskPayload {
    /// URL of the directory holding `plan.json`.
    pub plan_dir: String,
    /// Expected sha256 digest of the plan.
    pub digest: String,
    /// Op id (`op-001`).
    pub op: String,
    /// First task index.
    pub start: u64,
    /// One past the last task index.
    pub stop: u64,
    /// Attempt number, from 1 (for logs and fault injection).
    pub attempt: u32,
}

/// The outcome of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    /// Task index.
    pub index: u64,
    /// Stats when it succeeded.
    pub stats: Option<TaskStats>,
    /// The error when it failed.
    pub error: Option<TaskError>,
}

/// The answer of one invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvocationReport {
    /// One entry per task of the payload, in order.
    pub tasks: Vec<TaskReport>,
    /// Peak RSS of the process during this invocation (VmHWM), when known.
    pub peak_rss: Option<u64>,
    /// True for the first invocation of this process.
    pub cold_start: bool,
    /// Wall time of the invocation in seconds.
    pub duration_s: f64,
    /// How many of its tasks ran at once ([`tasks_at_once`]); 1 from older functions.
    #[serde(default = "one")]
    pub concurrent_tasks: u64,
}

fn one() -> u64 {
    1
}

/// Lambda's vCPUs at a memory size: one per 1,769 MB, from 1 to 6 (the AWS
/// Lambda developer guide, "Configuring function memory").
pub fn lambda_vcpus(memory_bytes: u64) -> u64 {
    (memory_bytes >> 20).div_ceil(1769).clamp(1, 6)
}

/// How many tasks one invocation runs at once on a function of `memory_bytes`
/// with `cpus` CPUs, for a plan of `allowed_mem` per task: as many as fit
/// (k × allowed_mem ≤ the function's memory, so k tasks together stay within
/// it) and no more than CPUs; at least 1.
pub fn tasks_at_once(memory_bytes: u64, allowed_mem: u64, cpus: u64) -> u64 {
    (memory_bytes / allowed_mem.max(1)).min(cpus).max(1)
}

/// The memory of the function this process serves, from the
/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB) that Lambda sets; `None` when it is
/// absent or not a number.
fn function_memory() -> Option<u64> {
    std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok()?.trim().parse::<u64>().ok()?.checked_mul(1 << 20)
}

/// A request that cannot be served; becomes an [`INVALID_REQUEST`] function error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRequest(pub String);

/// Storage failed while the plan was read; becomes a retryable function error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageUnavailable(pub String);

/// Why an invocation was not served.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request is wrong: a retry would repeat it ([`INVALID_REQUEST`]).
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    /// Storage failed: a retry may succeed ([`STORAGE_UNAVAILABLE`]).
    #[error(transparent)]
    Unavailable(#[from] StorageUnavailable),
}

impl RequestError {
    /// The `errorType` the function answers with.
    pub fn error_type(&self) -> &'static str {
        match self {
            RequestError::Invalid(_) => INVALID_REQUEST,
            RequestError::Unavailable(_) => STORAGE_UNAVAILABLE,
        }
    }
}

impl From<RequestError> for lambda_runtime::Diagnostic {
    fn from(e: RequestError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.error_type().to_string(), error_message: e.to_string() }
    }
}

static COLD: AtomicBool = AtomicBool::new(true);

fn plan_cache() -> &'static Mutex<HashMap<String, Arc<LoadedPlan>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<LoadedPlan>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The plan with `digest` from `plan_dir`, parsed once per process. A plan
/// that is missing, denied to the function, malformed or of another digest is
/// an invalid request; any other storage failure is [`StorageUnavailable`].
fn load_plan(plan_dir: &str, digest: &str) -> Result<Arc<LoadedPlan>, RequestError> {
    if let Some(p) = plan_cache().lock().expect("plan cache poisoned").get(digest) {
        return Ok(p.clone());
    }
    let store = StoreUrl::parse(plan_dir).map_err(|e| InvalidRequest(e.to_string()))?;
    let path = store.child(PLAN_FILE);
    let read = crate::storage::block_on_io(async {
        match store.store.get(&path).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        }
    });
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(InvalidRequest(format!("no plan at {plan_dir}/{PLAN_FILE}: the driver writes it before launch")).into())
        }
        Err(e @ (object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. })) => {
            return Err(InvalidRequest(format!(
                "the function may not read the plan at {plan_dir}/{PLAN_FILE} ({e}): the work dir must be in a bucket its role can read (see infra/template.yaml)"
            ))
            .into())
        }
        Err(e) => return Err(StorageUnavailable(format!("cannot read the plan at {plan_dir}/{PLAN_FILE} (storage failed, worth a retry): {e}")).into()),
    };
    let plan = Plan::from_json(&bytes).map_err(|e| InvalidRequest(format!("{plan_dir}/{PLAN_FILE}: {e}")))?;
    let loaded = LoadedPlan::new(plan);
    if loaded.digest != digest {
        return Err(InvalidRequest(format!(
            "plan digest mismatch: the payload expects {digest} but {plan_dir}/{PLAN_FILE} has {}",
            loaded.digest
        ))
        .into());
    }
    let loaded = Arc::new(loaded);
    plan_cache().lock().expect("plan cache poisoned").insert(digest.to_string(), loaded.clone());
    Ok(loaded)
}

/// `e` with its message cut to [`MAX_ERROR_MESSAGE_BYTES`].
fn bounded(mut e: TaskError) -> TaskError {
    if e.message.len() > MAX_ERROR_MESSAGE_BYTES {
        let mut cut = MAX_ERROR_MESSAGE_BYTES - '…'.len_utf8();
        while !e.message.is_char_boundary(cut) {
            cut -= 1;
        }
        e.message.truncate(cut);
        e.message.push('…');
    }
    e
}

/// Serves one invocation (blocking: call it from a blocking thread). The task
/// range is checked against [`MAX_TASKS_PER_INVOCATION`] before the plan is
/// loaded, and against the op's task count before anything is run.
pub fn handle(payload: serde_json::Value) -> Result<InvocationReport, RequestError> {
    let started = Instant::now();
    let cold_start = COLD.swap(false, Ordering::Relaxed);
    crate::memory::reset_peak_rss();
    let p: TaskPayload = serde_json::from_value(payload).map_err(|e| {
        InvalidRequest(format!(
            "malformed payload: {e}; expected {{\"plan_dir\", \"digest\", \"op\", \"start\", \"stop\", \"attempt\"}}"
        ))
    })?;
    if p.start >= p.stop || p.stop - p.start > MAX_TASKS_PER_INVOCATION {
        return Err(InvalidRequest(format!(
            "task range [{}, {}) must hold 1 to {MAX_TASKS_PER_INVOCATION} tasks (the most one invocation runs): send a smaller range",
            p.start, p.stop
        ))
        .into());
    }
    let plan = load_plan(&p.plan_dir, &p.digest)?;
    let op = plan.plan.op(&p.op).ok_or_else(|| {
        let ids: Vec<&str> = plan.plan.ops.iter().map(|o| o.id.as_str()).collect();
        InvalidRequest(format!("unknown op '{}': the plan has {}", p.op, ids.join(", ")))
    })?;
    if p.stop > op.num_tasks {
        return Err(InvalidRequest(format!(
            "task range [{}, {}) is out of range for {} ({} tasks)",
            p.start, p.stop, op.id, op.num_tasks
        ))
        .into());
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let at_once = function_memory().map_or(1, |m| tasks_at_once(m, plan.plan.spec.allowed_mem, cpus)).min(p.stop - p.start);
    let run = |index: u64| match plan.run_task(op, index, p.attempt) {
        Ok(stats) => TaskReport { index, stats: Some(TaskStats { at_once: Some(at_once), ..stats }), error: None },
        Err(error) => TaskReport { index, stats: None, error: Some(bounded(error)) },
    };
    let tasks = if at_once == 1 {
        (p.start..p.stop).map(run).collect()
    } else {
        run_at_once(p.start..p.stop, at_once, run)
    };
    Ok(InvocationReport {
        tasks,
        peak_rss: crate::memory::peak_rss_bytes(),
        cold_start,
        duration_s: started.elapsed().as_secs_f64(),
        concurrent_tasks: at_once,
    })
}

/// Runs `run` for each index of `range` on `threads` threads, each taking the
/// next index when it is free; the reports come back in index order.
fn run_at_once(range: std::ops::Range<u64>, threads: u64, run: impl Fn(u64) -> TaskReport + Sync) -> Vec<TaskReport> {
    let next = std::sync::atomic::AtomicU64::new(range.start);
    let mut tasks: Vec<TaskReport> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = vec![];
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= range.end {
                            return done;
                        }
                        done.push(run(index));
                    }
                })
            })
            .collect();
        // A task that panicked ends the invocation as one that crashed.
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    tasks.sort_by_key(|t| t.index);
    tasks
}

/// The lambda_runtime entry point: runs [`handle`] on a blocking thread.
pub async fn function_handler(
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<InvocationReport, lambda_runtime::Diagnostic> {
    let payload = event.payload;
    match tokio::task::spawn_blocking(move || handle(payload)).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) => Err(lambda_runtime::Diagnostic { error_type: "cubed.TaskCrashed".into(), error_message: e.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Node;
    use crate::plan::{ArrayMeta, Codec, Location, Op, OpKind, Spec, PLAN_VERSION};

    /// A one-op plan (`full((2, 8), 7)` in 2 x 2 chunks: 4 tasks) published in memory.
    fn published(name: &str) -> (String, String) {
        published_with_tasks(name, 4)
    }

    /// The same kind of plan with `num_tasks` tasks (`full((2, 2 * num_tasks), 7)`).
    fn published_with_tasks(name: &str, num_tasks: u64) -> (String, String) {
        let shape = vec![2, 2 * num_tasks];
        let out = ArrayMeta { name: "out".into(), location: Location::Intermediate, shape: shape.clone(), chunks: vec![2, 2], dtype: crate::DType::Int64, codec: Some(Codec::None), labels: Default::default() };
        let kind = OpKind::Blockwise { kernel: Node::Full { value: 7.0, dtype: crate::DType::Int64, shape } };
        let op = Op { id: "op-001".into(), kind, inputs: vec![], output: 0, num_tasks, projected_mem: 0, fused: vec![], bytes_read: 0, bytes_written: 128 };
        let plan = Plan { version: PLAN_VERSION, spec: Spec::new(format!("memory://{name}/work")), arrays: vec![out], ops: vec![op] };
        let dir = format!("memory://{name}/plans");
        StoreUrl::parse(&dir).unwrap().put(PLAN_FILE, plan.to_json()).unwrap();
        (dir, plan.digest())
    }

    fn payload(dir: &str, digest: &str, op: &str, start: u64, stop: u64) -> serde_json::Value {
        serde_json::json!({"plan_dir": dir, "digest": digest, "op": op, "start": start, "stop": stop, "attempt": 1})
    }

    #[test]
    fn runs_the_tasks_of_a_payload_and_reports_each() {
        let (dir, digest) = published("handler-ok");
        let report = handle(payload(&dir, &digest, "op-001", 1, 3)).unwrap();
        assert_eq!(report.tasks.iter().map(|t| t.index).collect::<Vec<_>>(), vec![1, 2]);
        assert!(report.tasks.iter().all(|t| t.error.is_none() && t.stats.as_ref().unwrap().bytes_written == 32));
    }

    #[test]
    fn bad_requests_are_clear_non_retryable_errors() {
        let (dir, digest) = published("handler-bad");
        let cases = [
            (serde_json::json!({"plan": 1}), "malformed payload"),
            (payload(&dir, &digest, "op-042", 0, 1), "unknown op 'op-042': the plan has op-001"),
            (payload(&dir, &digest, "op-001", 3, 9), "task range [3, 9) is out of range for op-001 (4 tasks)"),
            (payload(&dir, &"0".repeat(64), "op-001", 0, 1), "plan digest mismatch"),
            // (A digest already cached is served from the cache, wherever the payload points.)
            (payload("memory://handler-bad/elsewhere", &"f".repeat(64), "op-001", 0, 1), "no plan at"),
        ];
        for (p, expected) in cases {
            let e = handle(p).unwrap_err();
            assert!(e.to_string().contains(expected), "expected '{expected}' in '{e}'");
            let d: lambda_runtime::Diagnostic = e.into();
            assert_eq!(d.error_type, INVALID_REQUEST);
        }
    }

    #[test]
    fn task_ranges_are_bounded_before_anything_is_allocated() {
        // A payload for 10^12 tasks is refused before anything is allocated for it
        // (the plan's op has the most tasks a plan may have).
        let (dir, digest) = published_with_tasks("handler-huge", crate::plan::MAX_TASKS_PER_OP);
        let cases = [
            (0, 1_000_000_000_000, "task range [0, 1000000000000) must hold 1 to 512 tasks"),
            (5, 3, "task range [5, 3) must hold 1 to 512 tasks"),
            (7, 7, "task range [7, 7) must hold 1 to 512 tasks"),
            (u64::MAX - 1, u64::MAX, "task range [18446744073709551614, 18446744073709551615) is out of range for op-001 (2097152 tasks)"),
        ];
        for (start, stop, expected) in cases {
            let e = handle(payload(&dir, &digest, "op-001", start, stop)).unwrap_err();
            assert!(matches!(e, RequestError::Invalid(_)) && e.to_string().contains(expected), "expected '{expected}' in '{e}'");
        }
        // The most tasks allowed, within the op, still runs.
        let (dir, digest) = published_with_tasks("handler-max", MAX_TASKS_PER_INVOCATION);
        let e = handle(payload(&dir, &digest, "op-001", 0, MAX_TASKS_PER_INVOCATION + 1)).unwrap_err();
        assert!(e.to_string().contains("must hold 1 to 512 tasks"), "{e}");
        let report = handle(payload(&dir, &digest, "op-001", 0, MAX_TASKS_PER_INVOCATION)).unwrap();
        assert_eq!(report.tasks.len() as u64, MAX_TASKS_PER_INVOCATION);
        assert!(report.tasks.iter().all(|t| t.error.is_none()));
    }

    #[test]
    fn a_missing_plan_is_invalid_but_a_storage_failure_is_retryable() {
        let e = handle(payload("memory://handler-none/plans", &"e".repeat(64), "op-001", 0, 1)).unwrap_err();
        assert!(matches!(e, RequestError::Invalid(_)) && e.to_string().contains("no plan at memory://handler-none/plans/plan.json"), "{e}");
        // S3 at a closed port of 127.0.0.1: in a child process, whose
        // environment points S3 there (the store client reads it once).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["handler::tests::storage_failure_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("CUBED_TEST_CLOSED_S3", "1")
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("1 passed"), "{text}");
    }

    #[test]
    #[ignore = "run by a_missing_plan_is_invalid_but_a_storage_failure_is_retryable, with S3 on a closed port"]
    fn storage_failure_child() {
        assert!(std::env::var_os("CUBED_TEST_CLOSED_S3").is_some(), "run by a_missing_plan_is_invalid_but_a_storage_failure_is_retryable");
        let e = handle(payload("s3://cubed-closed/work", &"d".repeat(64), "op-001", 0, 1)).unwrap_err();
        assert!(matches!(e, RequestError::Unavailable(_)), "{e:?}");
        assert!(e.to_string().contains("cannot read the plan at s3://cubed-closed/work/plan.json (storage failed, worth a retry)"), "{e}");
        let d: lambda_runtime::Diagnostic = e.into();
        assert_eq!(d.error_type, STORAGE_UNAVAILABLE);
        assert!(!d.error_type.starts_with(INVALID_REQUEST), "the driver retries function errors that are not invalid requests");
    }

    #[test]
    fn a_function_runs_as_many_tasks_at_once_as_fit_in_its_memory_and_cpus() {
        const MB: u64 = 1 << 20;
        assert_eq!([128, 1769, 1770, 3008, 10240].map(|mb| lambda_vcpus(mb * MB)), [1, 1, 2, 2, 6]);
        // (function memory, allowed_mem, cpus) -> tasks at once
        let cases = [((4096, 2000, 2), 2), ((4096, 2000, 6), 2), ((10240, 2000, 6), 5), ((10240, 1000, 6), 6), ((1024, 2000, 4), 1), ((4096, 0, 3), 3)];
        for ((mem, allowed, cpus), want) in cases {
            assert_eq!(tasks_at_once(mem * MB, allowed * MB, cpus), want, "{mem} MB, allowed {allowed} MB, {cpus} cpus");
        }
    }

    #[test]
    fn tasks_run_at_once_are_each_reported_once_in_order() {
        use std::sync::atomic::AtomicUsize;
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let run = |index: u64| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            // Wait (up to 5 s) for a second task to run beside this one.
            let t = Instant::now();
            while most.load(Ordering::SeqCst) < 2 && t.elapsed().as_secs() < 5 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            running.fetch_sub(1, Ordering::SeqCst);
            TaskReport { index, stats: None, error: (index == 5).then(|| TaskError::fatal("five")) }
        };
        let reports = run_at_once(3..10, 2, run);
        assert_eq!(reports.iter().map(|t| t.index).collect::<Vec<_>>(), (3..10).collect::<Vec<_>>());
        assert_eq!(reports[2].error, Some(TaskError::fatal("five")));
        assert_eq!(most.load(Ordering::SeqCst), 2, "two tasks ran at once, never more");
    }

    #[test]
    fn long_error_messages_are_cut_to_the_bound() {
        let e = bounded(TaskError::retryable("é".repeat(MAX_ERROR_MESSAGE_BYTES)));
        assert!(e.retryable && e.message.len() <= MAX_ERROR_MESSAGE_BYTES && e.message.ends_with("é…"), "{}", e.message.len());
        assert_eq!(bounded(TaskError::fatal("short")), TaskError::fatal("short"));
    }
}
