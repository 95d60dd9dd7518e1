//! The fake Lambda fleet (`src/bin/lambda-fleet.rs`, docs/FLEET.md) speaks
//! the Lambda API as aws-sdk-lambda reads it: configuration, reports, function
//! errors, throttles and missing functions are classified by the SDK as they
//! are against AWS. Each test starts its own fleet on 127.0.0.1 and stops it
//! by PID with SIGTERM, checking that it exits cleanly and is gone.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::ThrottleReason;
use cubed_e2e::Fleet;
use cubed::{DType, Output, PlanOptions, Reduce, Spec};
use cubed_task::handler::{InvocationReport, TaskPayload, PLAN_FILE};
use cubed_task::plan::{intermediate_dir_name, Plan};
use serde_json::Value;

/// An SDK client for a fleet: static test credentials, no retries.
trait FleetClient {
    fn client(&self) -> aws_sdk_lambda::Client;
    fn client_with(&self, timeouts: TimeoutConfig) -> aws_sdk_lambda::Client;
}

impl FleetClient for Fleet {
    fn client(&self) -> aws_sdk_lambda::Client {
        self.client_with(TimeoutConfig::disabled())
    }

    fn client_with(&self, timeouts: TimeoutConfig) -> aws_sdk_lambda::Client {
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDFLEETTEST", "fleet-test-secret", None, None, "fleet-test"))
            .endpoint_url(format!("http://127.0.0.1:{}", self.port()))
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts)
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

}

/// `sum(random((1000, 1000), chunks=(100, 100)))` planned under a temp work
/// dir, with `plan.json` where the driver writes it before launch.
struct SavedPlan {
    _work_dir: cubed_e2e::TempDir,
    plan: Plan,
    plan_dir: String,
    digest: String,
}

fn saved_plan() -> SavedPlan {
    let work_dir = cubed_e2e::temp_dir("fleet");
    let spec = Spec::new(work_dir.path().to_str().expect("a UTF-8 temp dir"));
    let a = cubed::random(&spec, &[1000, 1000], &[100, 100], 1, DType::Float64).unwrap();
    let total = cubed::sum(&a, &Reduce::all()).unwrap();
    let plan = cubed::build_plan(&[Output { array: total, url: None }], &PlanOptions::default()).unwrap().plan;
    let digest = plan.digest();
    let plan_dir = format!("{}/{}", plan.spec.work_dir.trim_end_matches('/'), intermediate_dir_name(&digest));
    std::fs::create_dir_all(&plan_dir).unwrap();
    std::fs::write(Path::new(&plan_dir).join(PLAN_FILE), plan.to_json()).unwrap();
    SavedPlan { _work_dir: work_dir, plan, plan_dir, digest }
}

impl SavedPlan {
    /// The op with the most tasks.
    fn big_op(&self) -> &cubed_task::plan::Op {
        self.plan.ops.iter().max_by_key(|o| o.num_tasks).expect("the plan has ops")
    }

    fn payload(&self, op: &str, start: u64, stop: u64, attempt: u32) -> Vec<u8> {
        let p = TaskPayload { plan_dir: self.plan_dir.clone(), digest: self.digest.clone(), op: op.into(), start, stop, attempt };
        serde_json::to_vec(&p).unwrap()
    }
}

async fn invoke(client: &aws_sdk_lambda::Client, payload: Vec<u8>) -> Result<InvokeOutput, aws_sdk_lambda::error::SdkError<InvokeError>> {
    client.invoke().function_name("cubed-task").payload(Blob::new(payload)).send().await
}

/// The `errorType` of a function error answer.
fn error_type(out: &InvokeOutput) -> String {
    assert_eq!(out.function_error(), Some("Unhandled"), "expected a function error");
    let body: Value = serde_json::from_slice(out.payload().expect("a payload").as_ref()).expect("a JSON error body");
    body["errorType"].as_str().expect("an errorType").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_and_missing_functions_are_answered_as_lambda_does() {
    let fleet = Fleet::start(&["--memory-mb", "3008", "--timeout-s", "120"]);
    let client = fleet.client();
    let conf = client.get_function_configuration().function_name("cubed-task").send().await.expect("GetFunctionConfiguration");
    assert_eq!(conf.memory_size(), Some(3008));
    assert_eq!(conf.timeout(), Some(120));
    assert_eq!(conf.function_arn(), Some("arn:aws:lambda:us-east-1:123456789012:function:cubed-task"));
    assert_eq!(conf.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    // The ARN names the function too (the SDK escapes its colons).
    let by_arn = client.get_function_configuration().function_name(conf.function_arn().unwrap()).send().await;
    assert_eq!(by_arn.expect("GetFunctionConfiguration by ARN").memory_size(), Some(3008));

    let err = client.get_function_configuration().function_name("other").send().await.expect_err("no such function");
    assert!(err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()), "{err:?}");
    let err = client.invoke().function_name("other").payload(Blob::new("{}")).send().await.expect_err("no such function");
    let service = err.as_service_error().expect("a service error");
    assert!(service.is_resource_not_found_exception(), "{err:?}");
    assert!(service.to_string().contains("Function not found: arn:aws:lambda:us-east-1:123456789012:function:other"), "{service}");
    fleet.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_reports_each_task_from_the_plan() {
    let saved = saved_plan();
    let op = saved.big_op();
    assert!(op.num_tasks >= 8 && op.bytes_written > 0, "{op:?}");
    let fleet = Fleet::start(&["--cold-start-ms", "50"]);
    let client = fleet.client();

    let started = Instant::now();
    let out = invoke(&client, saved.payload(&op.id, 0, op.num_tasks, 1)).await.expect("Invoke");
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(out.function_error(), None);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    let report: InvocationReport = serde_json::from_slice(out.payload().unwrap().as_ref()).expect("a report");
    assert!(report.cold_start, "the first invocation starts a container");
    assert_eq!(report.tasks.iter().map(|t| t.index).collect::<Vec<_>>(), (0..op.num_tasks).collect::<Vec<_>>());
    let stats: Vec<_> = report.tasks.iter().map(|t| t.stats.clone().unwrap_or_else(|| panic!("no stats: {t:?}"))).collect();
    // The op's estimated bytes, shared evenly among its tasks.
    assert_eq!(stats.iter().map(|s| s.bytes_read).sum::<u64>(), op.bytes_read);
    assert_eq!(stats.iter().map(|s| s.bytes_written).sum::<u64>(), op.bytes_written);
    assert!(stats.iter().all(|s| s.bytes_written.abs_diff(op.bytes_written / op.num_tasks) <= 1), "{stats:?}");
    let reserved = saved.plan.spec.reserved_mem;
    for s in &stats {
        let peak = s.peak_mem.expect("a peak");
        assert!(peak > 0 && peak < op.projected_mem - reserved, "peak {peak} vs projected {}", op.projected_mem);
        assert!(s.duration_s > 0.0);
    }
    assert_eq!(report.peak_rss, Some(reserved + stats[0].peak_mem.unwrap()));
    // 10 ms of overhead plus the tasks, after a 50 ms cold start.
    assert!(report.duration_s >= 0.010 && elapsed >= report.duration_s + 0.050, "{report:?}, answered after {elapsed} s");

    let again = invoke(&client, saved.payload(&op.id, 0, 1, 1)).await.expect("Invoke");
    let report: InvocationReport = serde_json::from_slice(again.payload().unwrap().as_ref()).expect("a report");
    assert!(!report.cold_start, "the second invocation reuses the warm container");

    // Requests the real function refuses are refused the same way.
    let unknown_op = invoke(&client, saved.payload("op-999", 0, 1, 1)).await.expect("Invoke");
    assert_eq!(error_type(&unknown_op), "cubed.InvalidRequest");
    let out_of_range = invoke(&client, saved.payload(&op.id, 0, op.num_tasks + 1, 1)).await.expect("Invoke");
    assert_eq!(error_type(&out_of_range), "cubed.InvalidRequest");
    let mut wrong_digest: TaskPayload = serde_json::from_slice(&saved.payload(&op.id, 0, 1, 1)).unwrap();
    wrong_digest.digest = "0".repeat(64);
    let out = invoke(&client, serde_json::to_vec(&wrong_digest).unwrap()).await.expect("Invoke");
    assert_eq!(error_type(&out), "cubed.InvalidRequest");
    // Not JSON at all: rejected by the service, as Lambda does.
    let err = invoke(&client, b"not json".to_vec()).await.expect_err("not JSON");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400), "{err:?}");

    let stats = fleet.stats();
    assert_eq!(stats["invocations"], 5, "{stats}");
    assert_eq!(stats["cold_starts"], 1, "{stats}");
    assert_eq!(stats["in_flight"], 0, "{stats}");
    fleet.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_beyond_the_concurrency_limit_are_throttled() {
    let saved = saved_plan();
    let op = saved.big_op();
    let fleet = Fleet::start(&["--concurrency-limit", "2", "--overhead-ms", "1500", "--cold-start-ms", "0"]);
    let client = fleet.client();
    let calls: Vec<_> = (0..10)
        .map(|i| tokio::spawn(invoke_owned(client.clone(), saved.payload(&op.id, i % op.num_tasks, i % op.num_tasks + 1, 1))))
        .collect();
    let (mut ok, mut throttled) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(out) => {
                assert_eq!(out.function_error(), None);
                ok += 1;
            }
            Err(err) => {
                let service = err.as_service_error().unwrap_or_else(|| panic!("not a service error: {err:?}"));
                assert!(service.is_too_many_requests_exception(), "{err:?}");
                assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(429));
                let InvokeError::TooManyRequestsException(e) = service else { unreachable!() };
                assert_eq!(e.reason(), Some(&ThrottleReason::ConcurrentInvocationLimitExceeded));
                assert_eq!(e.r#type(), Some("User"));
                assert_eq!(e.message(), Some("Rate Exceeded."));
                throttled += 1;
            }
        }
    }
    assert!(ok >= 2 && throttled >= 1 && ok + throttled == 10, "{ok} answered, {throttled} throttled");
    let stats = fleet.stats();
    assert_eq!(stats["throttled"], throttled, "{stats}");
    assert_eq!(stats["invocations"], ok, "{stats}");
    assert_eq!(stats["max_in_flight"], 2, "{stats}");
    fleet.stop();
}

async fn invoke_owned(client: aws_sdk_lambda::Client, payload: Vec<u8>) -> Result<InvokeOutput, aws_sdk_lambda::error::SdkError<InvokeError>> {
    invoke(&client, payload).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_answered_as_function_errors() {
    let saved = saved_plan();
    let op = saved.big_op().id.clone();

    let failing = Fleet::start(&["--fail-rate", "1"]);
    let client = failing.client();
    for attempt in 1..=5 {
        let out = invoke(&client, saved.payload(&op, 0, 2, attempt)).await.expect("Invoke");
        assert_eq!(error_type(&out), "cubed.Injected");
    }
    assert_eq!(failing.stats()["failures"], 5);
    failing.stop();

    let crashing = Fleet::start(&["--crash-rate", "1"]);
    let out = invoke(&crashing.client(), saved.payload(&op, 0, 2, 1)).await.expect("Invoke");
    assert_eq!(error_type(&out), "Runtime.ExitError");
    crashing.stop();

    // A 2 s timeout at a tenth of the time: answered after 0.2 s.
    let timing_out = Fleet::start(&["--timeout-rate", "1", "--timeout-s", "2", "--time-scale", "0.1"]);
    let started = Instant::now();
    let out = invoke(&timing_out.client(), saved.payload(&op, 0, 2, 1)).await.expect("Invoke");
    assert_eq!(error_type(&out), "Sandbox.Timedout");
    assert!(started.elapsed() >= Duration::from_millis(200));
    timing_out.stop();

    // A hang outlasts the timeout: the caller's deadline ends the wait.
    let hanging = Fleet::start(&["--hang-rate", "1", "--timeout-s", "1"]);
    let client = hanging.client_with(TimeoutConfig::builder().operation_timeout(Duration::from_millis(1500)).build());
    let err = invoke(&client, saved.payload(&op, 0, 2, 1)).await.expect_err("no answer within the deadline");
    assert!(matches!(err, aws_sdk_lambda::error::SdkError::TimeoutError(_)), "{err:?}");
    let stats = hanging.stats();
    assert_eq!((stats["hangs"].as_u64(), stats["in_flight"].as_u64()), (Some(1), Some(0)), "{stats}");
    hanging.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_drawn_deterministically_from_the_seed() {
    let saved = saved_plan();
    let op = saved.big_op().id.clone();
    let tasks = saved.big_op().num_tasks;
    let mut patterns = Vec::new();
    for seed in ["7", "7", "8"] {
        let fleet = Fleet::start(&["--fail-rate", "0.5", "--seed", seed, "--overhead-ms", "0", "--cold-start-ms", "0"]);
        let client = fleet.client();
        let mut failed = Vec::new();
        for i in 0..24 {
            let (task, attempt) = (i % tasks, (i / tasks) as u32 + 1);
            let out = invoke(&client, saved.payload(&op, task, task + 1, attempt)).await.expect("Invoke");
            failed.push(out.function_error().is_some());
        }
        fleet.stop();
        patterns.push(failed);
    }
    assert_eq!(patterns[0], patterns[1], "the same seed draws the same faults");
    assert!(patterns[0].contains(&true) && patterns[0].contains(&false), "{:?}", patterns[0]);
    assert_ne!(patterns[0], patterns[2], "another seed draws other faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_invocations_wait_at_once() {
    let saved = saved_plan();
    let op = saved.big_op();
    let fleet = Fleet::start(&["--overhead-ms", "3000", "--cold-start-ms", "0", "--concurrency-limit", "10000"]);
    let client = fleet.client();
    let n = 2000;
    let started = Instant::now();
    let calls: Vec<_> = (0..n)
        .map(|i| tokio::spawn(invoke_owned(client.clone(), saved.payload(&op.id, i % op.num_tasks, i % op.num_tasks + 1, 1))))
        .collect();
    for call in calls {
        let out = call.await.unwrap().expect("Invoke");
        assert_eq!(out.function_error(), None);
    }
    let elapsed = started.elapsed();
    let stats = fleet.stats();
    assert_eq!(stats["invocations"], n, "{stats}");
    // All of them waited their 3 s side by side, not one after the other.
    assert!(stats["max_in_flight"].as_u64().unwrap() > n / 2, "{stats}");
    assert!(elapsed < Duration::from_secs(60), "{n} invocations of 3 s took {elapsed:?}");
    fleet.stop();
}

/// CPU seconds (user + system) `pid` has used, from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // Fields after the command name: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(") ").expect("a stat line").1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ, 100 on Linux
}

/// The fleet's own CPU cost per invocation, with thousands in flight: it must
/// serve more than 3,000 invocations per second of one core. Ignored by
/// default (it loads the machine for a while): run it with
/// `cargo test -p cubed-e2e --test fleet -- --ignored --nocapture`.
#[ignore]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_core_serves_thousands_of_invocations_per_second() {
    let saved = saved_plan();
    let op = saved.big_op();
    let fleet = Fleet::start(&["--overhead-ms", "1000", "--cold-start-ms", "0", "--concurrency-limit", "100000"]);
    let client = fleet.client();
    let (n, in_flight) = (20_000u64, 4000);
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
    let (cpu_before, started) = (cpu_seconds(fleet.pid()), Instant::now());
    let mut calls = Vec::new();
    for i in 0..n {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let payload = saved.payload(&op.id, i % op.num_tasks, i % op.num_tasks + 1, 1);
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            let out = invoke(&client, payload).await;
            drop(permit);
            out
        }));
    }
    for call in calls {
        assert_eq!(call.await.unwrap().expect("Invoke").function_error(), None);
    }
    let (cpu, wall) = (cpu_seconds(fleet.pid()) - cpu_before, started.elapsed().as_secs_f64());
    let stats = fleet.stats();
    let per_core = n as f64 / cpu;
    println!(
        "{n} invocations in {wall:.1} s ({:.0}/s with this client), max {} in flight; fleet CPU {cpu:.2} s: {:.0} µs each, {per_core:.0} invocations/s per core",
        n as f64 / wall,
        stats["max_in_flight"],
        cpu / n as f64 * 1e6
    );
    assert!(per_core > 3000.0, "the fleet needs {:.0} µs of CPU per invocation", cpu / n as f64 * 1e6);
    fleet.stop();
}
