//! AWS Lambda: each batch of tasks is one synchronous (RequestResponse) Invoke
//! of the cubed-rs task function, which reads and writes Zarr chunks on S3.
//!
//! The SDK's own retries are off: the scheduler owns retries. A function error
//! is recognised both as real Lambda reports it (HTTP 200 with
//! `FunctionError`) and as emulators do (HTTP 500 with an error body).

use std::sync::Arc;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use cubed_task::handler::{lambda_vcpus, tasks_at_once, InvocationReport, TaskPayload, INVALID_REQUEST, MAX_TASKS_PER_INVOCATION, PLAN_FILE};
use cubed_task::plan::{Op, Plan};
use cubed_task::storage::StoreUrl;
use cubed_task::{LoadedPlan, TaskError};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::{Runner, TaskBatch, TaskOutcome};
use crate::error::{CubedError, Result};

/// Synchronous Invoke request and response limit.
pub const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// Default bound on concurrent invocations (the default account concurrency).
pub const DEFAULT_CONCURRENCY: usize = 1000;

/// How to reach the function.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// Function name or ARN.
    pub function: String,
    /// Alias or version.
    pub qualifier: Option<String>,
    /// Region (default: the AWS environment's).
    pub region: Option<String>,
    /// Endpoint override, e.g. an emulator at `http://127.0.0.1:9100`.
    pub endpoint: Option<String>,
    /// Most invocations in flight.
    pub concurrency: usize,
    /// Tasks per invocation; `None` chooses from the op's size.
    pub tasks_per_invocation: Option<u64>,
}

/// Runs batches of tasks as Lambda invocations.
pub struct LambdaRunner {
    client: aws_sdk_lambda::Client,
    config: LambdaConfig,
    /// The function's configured timeout (GetFunctionConfiguration), once known.
    timeout: std::sync::OnceLock<std::time::Duration>,
    /// The function's configured memory in bytes (GetFunctionConfiguration), once known.
    memory: std::sync::OnceLock<u64>,
}

/// The `{"errorType", "errorMessage"}` body of a function error.
#[derive(Deserialize)]
struct FunctionErrorBody {
    #[serde(rename = "errorType", default)]
    error_type: String,
    #[serde(rename = "errorMessage", default)]
    error_message: String,
}

impl LambdaRunner {
    /// Builds the client from the process's AWS configuration (credential
    /// chain, profile and region: [`cubed_task::storage::aws`]) plus
    /// `config`'s overrides.
    pub async fn new(config: LambdaConfig) -> LambdaRunner {
        let shared = cubed_task::storage::aws::sdk_config().await;
        let mut builder = aws_sdk_lambda::config::Builder::from(shared).retry_config(aws_config::retry::RetryConfig::disabled());
        if let Some(region) = &config.region {
            builder = builder.region(aws_config::Region::new(region.clone()));
        } else if shared.region().is_none() {
            builder = builder.region(aws_config::Region::new("us-east-1"));
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        LambdaRunner { client: aws_sdk_lambda::Client::from_conf(builder.build()), config, timeout: std::sync::OnceLock::new(), memory: std::sync::OnceLock::new() }
    }

    /// Refuses before launch when the function has less memory than `allowed_mem`.
    async fn check_function_memory(&self, allowed_mem: u64) -> Result<()> {
        let mut req = self.client.get_function_configuration().function_name(&self.config.function);
        if let Some(q) = &self.config.qualifier {
            req = req.qualifier(q);
        }
        match req.send().await {
            Ok(conf) => {
                if let Some(seconds) = conf.timeout().filter(|&t| t > 0) {
                    let _ = self.timeout.set(std::time::Duration::from_secs(seconds as u64));
                }
                let mb = conf.memory_size().unwrap_or(0).max(0) as u64;
                if mb > 0 {
                    let _ = self.memory.set(mb << 20);
                }
                let needed_mb = allowed_mem.div_ceil(1 << 20);
                if mb * (1 << 20) < allowed_mem {
                    return Err(CubedError::Invalid(format!(
                        "function '{}' has {mb} MB of memory but allowed_mem is {} ({needed_mb} MB): set its memory to at least {needed_mb} MB (e.g. `aws lambda update-function-configuration --function-name {} --memory-size {needed_mb}`) or lower --allowed-mem",
                        self.config.function,
                        crate::size::format_size(allowed_mem),
                        self.config.function,
                    )));
                }
                Ok(())
            }
            Err(e) => {
                eprintln!(
                    "warning: could not check the memory of function '{}' (GetFunctionConfiguration failed: {}); make sure it is at least allowed_mem",
                    self.config.function,
                    e.as_service_error().map(|s| s.to_string()).unwrap_or_else(|| e.to_string())
                );
                Ok(())
            }
        }
    }

    async fn invoke(&self, payload: Vec<u8>) -> std::result::Result<InvocationReport, TaskError> {
        if payload.len() > PAYLOAD_LIMIT {
            return Err(TaskError::fatal(format!("request of {} bytes exceeds the 6 MB Invoke limit", payload.len())));
        }
        let mut req = self
            .client
            .invoke()
            .function_name(&self.config.function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload));
        if let Some(q) = &self.config.qualifier {
            req = req.qualifier(q);
        }
        match req.send().await {
            Ok(out) => {
                let body = out.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default();
                if body.len() > PAYLOAD_LIMIT {
                    return Err(TaskError::fatal(format!("response of {} bytes exceeds the 6 MB Invoke limit", body.len())));
                }
                if out.function_error().is_some() {
                    return Err(function_error(&body));
                }
                serde_json::from_slice(&body).map_err(|e| {
                    TaskError::retryable(format!("unreadable answer from the function ({e}): {}", String::from_utf8_lossy(&body)))
                })
            }
            Err(e) => {
                if let Some(se) = e.as_service_error() {
                    if se.is_too_many_requests_exception() {
                        return Err(TaskError::throttled(format!("throttled: {se}")));
                    }
                    if se.is_resource_not_found_exception() {
                        return Err(TaskError::fatal(format!("function '{}' not found: {se}", self.config.function)));
                    }
                }
                // Emulators answer a handler error as HTTP 500 with the error body.
                if let Some(body) = e.raw_response().and_then(|r| r.body().bytes()) {
                    if serde_json::from_slice::<FunctionErrorBody>(body).is_ok_and(|b| !b.error_type.is_empty()) {
                        return Err(function_error(body));
                    }
                }
                Err(TaskError::retryable(format!("invoke failed: {}", aws_sdk_lambda::error::DisplayErrorContext(&e))))
            }
        }
    }
}

/// Classifies a function error body: invalid requests are final, anything
/// else (crash, timeout, out of memory) may succeed on retry.
fn function_error(body: &[u8]) -> TaskError {
    match serde_json::from_slice::<FunctionErrorBody>(body) {
        Ok(b) if b.error_type.starts_with(INVALID_REQUEST) => TaskError::fatal(format!("rejected by the function: {}", b.error_message)),
        Ok(b) => TaskError::retryable(format!("function error {}: {}", b.error_type, b.error_message)),
        Err(_) => TaskError::retryable(format!("function error: {}", String::from_utf8_lossy(body))),
    }
}

impl Runner for LambdaRunner {
    fn name(&self) -> &'static str {
        "lambda"
    }

    fn max_concurrency(&self) -> usize {
        self.config.concurrency.max(1)
    }

    /// The function's configured timeout: Lambda ends an invocation then.
    fn batch_time_limit(&self) -> Option<std::time::Duration> {
        self.timeout.get().copied()
    }

    /// Several short tasks per invocation: up to 32 MB of output and at most
    /// one batch per slot of concurrency, so small ops don't pay one
    /// invocation per tiny chunk; and a multiple of the tasks the function
    /// runs at once ([`tasks_at_once`] of its memory and Lambda's vCPUs for
    /// it), so that none of the memory it is paid for sits idle.
    /// `--tasks-per-invocation` is taken as given, capped at what the function
    /// accepts ([`MAX_TASKS_PER_INVOCATION`]).
    fn tasks_per_batch(&self, plan: &Plan, op: &Op) -> u64 {
        if let Some(n) = self.config.tasks_per_invocation {
            return n.clamp(1, MAX_TASKS_PER_INVOCATION);
        }
        let at_once = self.memory.get().map_or(1, |&m| tasks_at_once(m, plan.spec.allowed_mem, lambda_vcpus(m)));
        let chunk = plan.arrays[op.output].chunk_bytes().max(1);
        let by_size = ((32u64 << 20) / chunk).max(1);
        let by_spread = op.num_tasks.div_ceil(self.max_concurrency() as u64).max(1);
        by_size.min(by_spread).min(64).next_multiple_of(at_once).min(MAX_TASKS_PER_INVOCATION)
    }

    fn prepare<'a>(&'a self, plan: &'a Arc<LoadedPlan>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let urls = std::iter::once(plan.plan.spec.work_dir.as_str()).chain((0..plan.plan.arrays.len()).map(|i| plan.url(i)));
            if let Some(url) = urls.into_iter().find(|u| StoreUrl::is_memory(u)) {
                return Err(CubedError::Invalid(format!(
                    "'{url}' is process memory, which a Lambda function cannot see: use s3:// URLs with --runner lambda"
                )));
            }
            self.check_function_memory(plan.plan.spec.allowed_mem).await?;
            let dir = crate::workdir::plan_dir(&plan.plan, &plan.digest);
            let json = plan.plan.to_json();
            tokio::task::spawn_blocking(move || StoreUrl::parse(&dir)?.put(PLAN_FILE, json))
                .await
                .map_err(|e| CubedError::Runner(e.to_string()))??;
            Ok(())
        })
    }

    fn run(&self, batch: TaskBatch) -> BoxFuture<'_, Vec<TaskOutcome>> {
        Box::pin(async move {
            let plan = &batch.plan;
            let payload = TaskPayload {
                plan_dir: crate::workdir::plan_dir(&plan.plan, &plan.digest),
                digest: plan.digest.clone(),
                op: plan.plan.ops[batch.op].id.clone(),
                start: batch.start,
                stop: batch.stop,
                attempt: batch.attempt,
            };
            let bytes = serde_json::to_vec(&payload).expect("payloads serialize");
            match self.invoke(bytes).await {
                Ok(report) => {
                    let mut outcomes: Vec<TaskOutcome> = report
                        .tasks
                        .into_iter()
                        .map(|t| TaskOutcome {
                            index: t.index,
                            result: match (t.stats, t.error) {
                                (Some(mut stats), None) => {
                                    // Each task is charged at least its share of the invocation's
                                    // peak RSS above the runtime's baseline: memory the heap counter
                                    // cannot see (C libraries' own allocations) is counted too.
                                    let share = report.peak_rss.map(|r| r.saturating_sub(plan.plan.spec.reserved_mem) / report.concurrent_tasks.max(1));
                                    stats.peak_mem = stats.peak_mem.max(share);
                                    Ok(stats)
                                }
                                // Only an Invoke the service refused is a throttle, whatever a task reports.
                                (_, Some(e)) => Err(TaskError { throttled: false, ..e }),
                                _ => Err(TaskError::retryable("the function reported a task with neither stats nor error")),
                            },
                        })
                        .collect();
                    // Any task the function did not report is retried.
                    for index in batch.start..batch.stop {
                        if !outcomes.iter().any(|o| o.index == index) {
                            outcomes.push(TaskOutcome { index, result: Err(TaskError::retryable("missing from the function's answer")) });
                        }
                    }
                    outcomes
                }
                Err(e) => (batch.start..batch.stop).map(|index| TaskOutcome { index, result: Err(e.clone()) }).collect(),
            }
        })
    }
}
