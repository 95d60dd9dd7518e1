//! The Lambda task handler: parse the payload, run its tasks, answer a report.
//!
//! One function serves every op kind. A payload names the plan (its URL and
//! digest), an op and a contiguous range of task indices; the handler loads
//! the plan once per warm container (cached by digest), runs the tasks with the
//! same code as the local runner, and reports each task's outcome plus the
//! invocation's peak RSS and whether it was a cold start.
//!
//! Problems with the request itself (malformed payload, unknown op, task out of
//! range, digest mismatch, missing plan) are answered as a function error whose
//! type starts with [`INVALID_REQUEST`]: retrying cannot help. A task's own
//! failure is reported inside the answer, classified retryable or not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::TaskError;
use crate::plan::Plan;
use crate::storage::StoreUrl;
use crate::task::{LoadedPlan, TaskStats};

/// Prefix of the `errorType` of requests that a retry would repeat.
pub const INVALID_REQUEST: &str = "cubed.InvalidRequest";

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
}

/// A request that cannot be served; becomes a function error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRequest(pub String);

impl From<InvalidRequest> for lambda_runtime::Diagnostic {
    fn from(e: InvalidRequest) -> Self {
        lambda_runtime::Diagnostic { error_type: INVALID_REQUEST.to_string(), error_message: e.0 }
    }
}

static COLD: AtomicBool = AtomicBool::new(true);

fn plan_cache() -> &'static Mutex<HashMap<String, Arc<LoadedPlan>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<LoadedPlan>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The plan with `digest` from `plan_dir`, parsed once per process.
fn load_plan(plan_dir: &str, digest: &str) -> Result<Arc<LoadedPlan>, InvalidRequest> {
    if let Some(p) = plan_cache().lock().expect("plan cache poisoned").get(digest) {
        return Ok(p.clone());
    }
    let store = StoreUrl::parse(plan_dir).map_err(|e| InvalidRequest(e.to_string()))?;
    let bytes = store
        .get(PLAN_FILE)
        .map_err(|e| InvalidRequest(format!("cannot read the plan at {plan_dir}/{PLAN_FILE}: {e}")))?
        .ok_or_else(|| InvalidRequest(format!("no plan at {plan_dir}/{PLAN_FILE}: the driver writes it before launch")))?;
    let plan = Plan::from_json(&bytes).map_err(|e| InvalidRequest(format!("{plan_dir}/{PLAN_FILE}: {e}")))?;
    let loaded = LoadedPlan::new(plan);
    if loaded.digest != digest {
        return Err(InvalidRequest(format!(
            "plan digest mismatch: the payload expects {digest} but {plan_dir}/{PLAN_FILE} has {}",
            loaded.digest
        )));
    }
    let loaded = Arc::new(loaded);
    plan_cache().lock().expect("plan cache poisoned").insert(digest.to_string(), loaded.clone());
    Ok(loaded)
}

/// Serves one invocation (blocking: call it from a blocking thread).
pub fn handle(payload: serde_json::Value) -> Result<InvocationReport, InvalidRequest> {
    let started = Instant::now();
    let cold_start = COLD.swap(false, Ordering::Relaxed);
    crate::memory::reset_peak_rss();
    let p: TaskPayload = serde_json::from_value(payload).map_err(|e| {
        InvalidRequest(format!(
            "malformed payload: {e}; expected {{\"plan_dir\", \"digest\", \"op\", \"start\", \"stop\", \"attempt\"}}"
        ))
    })?;
    let plan = load_plan(&p.plan_dir, &p.digest)?;
    let op = plan.plan.op(&p.op).ok_or_else(|| {
        let ids: Vec<&str> = plan.plan.ops.iter().map(|o| o.id.as_str()).collect();
        InvalidRequest(format!("unknown op '{}': the plan has {}", p.op, ids.join(", ")))
    })?;
    if p.start >= p.stop || p.stop > op.num_tasks {
        return Err(InvalidRequest(format!(
            "task range [{}, {}) is out of range for {} ({} tasks)",
            p.start, p.stop, op.id, op.num_tasks
        )));
    }
    let tasks = (p.start..p.stop)
        .map(|index| match plan.run_task(op, index, p.attempt) {
            Ok(stats) => TaskReport { index, stats: Some(stats), error: None },
            Err(error) => TaskReport { index, stats: None, error: Some(error) },
        })
        .collect();
    Ok(InvocationReport {
        tasks,
        peak_rss: crate::memory::peak_rss_bytes(),
        cold_start,
        duration_s: started.elapsed().as_secs_f64(),
    })
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

    /// A one-op plan (`full((4, 4), 7)` in 2 x 2 chunks) published in memory.
    fn published(name: &str) -> (String, String) {
        let out = ArrayMeta { name: "out".into(), location: Location::Intermediate, shape: vec![4, 4], chunks: vec![2, 2], dtype: crate::DType::Int64, codec: Some(Codec::None) };
        let kind = OpKind::Blockwise { kernel: Node::Full { value: 7.0, dtype: crate::DType::Int64, shape: vec![4, 4] } };
        let op = Op { id: "op-001".into(), kind, inputs: vec![], output: 0, num_tasks: 4, projected_mem: 0, fused: vec![], bytes_read: 0, bytes_written: 128 };
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
            assert!(e.0.contains(expected), "expected '{expected}' in '{}'", e.0);
            let d: lambda_runtime::Diagnostic = e.into();
            assert_eq!(d.error_type, INVALID_REQUEST);
        }
    }
}
