//! A fake AWS Lambda fleet: the Lambda HTTP API that aws-sdk-lambda calls,
//! served on 127.0.0.1, answering the cubed-rs task payload from a model of
//! concurrency, cold starts, run time and faults instead of running anything.
//!
//! It never touches S3 and runs no task. A task's bytes and memory come from
//! the plan the payload names (read once per digest from a local directory),
//! its time from the model, and the fleet really waits that long (times
//! `--time-scale`) before answering, so a driver pointed at it
//! (`--lambda-endpoint`) sees throttles, cold starts, stragglers, failures and
//! timeouts as it would on AWS. Every fault is drawn from `--seed`,
//! deterministically per (plan digest, op, first task, attempt).
//!
//! The model, its defaults and where they come from: docs/FLEET.md.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use cubed_task::handler::{InvocationReport, TaskPayload, TaskReport, INVALID_REQUEST, MAX_TASKS_PER_INVOCATION, PLAN_FILE};
use cubed_task::plan::Plan;
use cubed_task::TaskStats;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::OnceCell;

/// Every flag with its default and meaning: the usage text and the defaults
/// both come from here.
const FLAGS: &[(&str, &str, &str)] = &[
    ("--port", "0", "TCP port on 127.0.0.1 (0: a free one)"),
    ("--function", "cubed-task", "the one function served (name; its ARN works too)"),
    ("--memory-mb", "2048", "MemorySize GetFunctionConfiguration reports (MB, 128-10240)"),
    ("--timeout-s", "900", "function Timeout (s, 1-900)"),
    ("--concurrency-limit", "1000", "invocations in flight; one more is throttled (429)"),
    ("--cold-start-ms", "250", "added to an invocation that starts a new container"),
    ("--keep-warm-s", "300", "an idle container older than this is discarded"),
    ("--overhead-ms", "10", "time of every invocation besides its tasks"),
    ("--throughput-mbps", "90", "S3 throughput of one function (MB/s, MB = 10^6 bytes)"),
    ("--compute-ms-per-mb", "2", "compute time per MB read or written"),
    ("--time-scale", "1", "every modelled time is multiplied by this"),
    ("--seed", "0", "seed of the fault draws"),
    ("--fail-rate", "0", "P(function error cubed.Injected)"),
    ("--crash-rate", "0", "P(runtime killed: Runtime.ExitError)"),
    ("--timeout-rate", "0", "P(runs until the function timeout: Sandbox.Timedout)"),
    ("--hang-rate", "0", "P(no answer until 10 x the function timeout)"),
    ("--straggler-rate", "0", "P(a successful invocation is a straggler)"),
    ("--straggler-factor", "10", "a straggler takes this many times its time"),
    ("--threads", "1", "tokio worker threads"),
];

/// Peak task memory as a fraction of what the plan projects beyond
/// `reserved_mem`: projections are upper bounds, so a task uses less.
const PEAK_FACTOR: f64 = 0.8;

/// Largest synchronous Invoke request (6 MB, a documented Lambda limit).
const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// Account id in the ARNs the fleet reports.
const ACCOUNT: &str = "123456789012";

/// The fleet's settings, from [`FLAGS`] and the command line.
#[derive(Debug, Default)]
struct Config {
    port: u16,
    function: String,
    memory_mb: u64,
    timeout_s: u64,
    concurrency_limit: u64,
    cold_start_ms: f64,
    keep_warm_s: f64,
    overhead_ms: f64,
    throughput_mbps: f64,
    compute_ms_per_mb: f64,
    time_scale: f64,
    seed: u64,
    fail_rate: f64,
    crash_rate: f64,
    timeout_rate: f64,
    hang_rate: f64,
    straggler_rate: f64,
    straggler_factor: f64,
    threads: usize,
}

impl Config {
    /// The defaults of [`FLAGS`] overridden by `args` (`--flag value` or
    /// `--flag=value`), checked.
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
        let mut c = Config::default();
        for (name, default, _) in FLAGS {
            c.set(name, default)?;
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => {
                    let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                    (arg, value)
                }
            };
            c.set(&name, &value)?;
        }
        c.check()?;
        Ok(c)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
            value.parse().map_err(|_| format!("{name}: '{value}' is not a valid number"))
        }
        match name {
            "--port" => self.port = num(name, value)?,
            "--function" => self.function = value.to_string(),
            "--memory-mb" => self.memory_mb = num(name, value)?,
            "--timeout-s" => self.timeout_s = num(name, value)?,
            "--concurrency-limit" => self.concurrency_limit = num(name, value)?,
            "--cold-start-ms" => self.cold_start_ms = num(name, value)?,
            "--keep-warm-s" => self.keep_warm_s = num(name, value)?,
            "--overhead-ms" => self.overhead_ms = num(name, value)?,
            "--throughput-mbps" => self.throughput_mbps = num(name, value)?,
            "--compute-ms-per-mb" => self.compute_ms_per_mb = num(name, value)?,
            "--time-scale" => self.time_scale = num(name, value)?,
            "--seed" => self.seed = num(name, value)?,
            "--fail-rate" => self.fail_rate = num(name, value)?,
            "--crash-rate" => self.crash_rate = num(name, value)?,
            "--timeout-rate" => self.timeout_rate = num(name, value)?,
            "--hang-rate" => self.hang_rate = num(name, value)?,
            "--straggler-rate" => self.straggler_rate = num(name, value)?,
            "--straggler-factor" => self.straggler_factor = num(name, value)?,
            "--threads" => self.threads = num(name, value)?,
            _ => return Err(format!("unknown flag '{name}'")),
        }
        Ok(())
    }

    fn check(&self) -> Result<(), String> {
        let times = [
            ("--cold-start-ms", self.cold_start_ms),
            ("--keep-warm-s", self.keep_warm_s),
            ("--overhead-ms", self.overhead_ms),
            ("--compute-ms-per-mb", self.compute_ms_per_mb),
        ];
        if let Some((name, _)) = times.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!("{name} must be a finite number >= 0"));
        }
        let positive = [("--throughput-mbps", self.throughput_mbps), ("--time-scale", self.time_scale)];
        if let Some((name, _)) = positive.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            return Err(format!("{name} must be a finite number > 0"));
        }
        let rates = [
            ("--fail-rate", self.fail_rate),
            ("--crash-rate", self.crash_rate),
            ("--timeout-rate", self.timeout_rate),
            ("--hang-rate", self.hang_rate),
            ("--straggler-rate", self.straggler_rate),
        ];
        if let Some((name, _)) = rates.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(format!("{name} must be a probability, 0 to 1"));
        }
        if self.fail_rate + self.crash_rate + self.timeout_rate + self.hang_rate > 1.0 {
            return Err("--fail-rate, --crash-rate, --timeout-rate and --hang-rate are exclusive: their sum must be at most 1".into());
        }
        if !(self.straggler_factor.is_finite() && self.straggler_factor >= 1.0) {
            return Err("--straggler-factor must be a finite number >= 1".into());
        }
        if !(128..=10240).contains(&self.memory_mb) {
            return Err("--memory-mb must be 128 to 10240 (Lambda's range)".into());
        }
        if !(1..=900).contains(&self.timeout_s) {
            return Err("--timeout-s must be 1 to 900 (Lambda's range)".into());
        }
        if self.concurrency_limit == 0 || self.threads == 0 || self.function.is_empty() {
            return Err("--concurrency-limit and --threads must be at least 1, --function not empty".into());
        }
        Ok(())
    }

    fn arn(&self) -> String {
        format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{}", self.function)
    }

    /// `ms` of model time as the time the fleet really waits.
    fn scaled(&self, ms: f64) -> Duration {
        seconds(ms * self.time_scale / 1000.0)
    }
}

fn usage() -> String {
    let mut text = String::from(
        "lambda-fleet: a fake AWS Lambda fleet on 127.0.0.1 for the cubed-rs driver (docs/FLEET.md)\n\nusage: lambda-fleet [--flag value]...\n\n",
    );
    for (name, default, meaning) in FLAGS {
        text.push_str(&format!("  {name:<22} {default:>10}  {meaning}\n"));
    }
    text
}

/// Counters served at `GET /fleet/stats`.
#[derive(Default)]
struct Counters {
    /// Invocations admitted (not throttled).
    invocations: AtomicU64,
    throttled: AtomicU64,
    cold_starts: AtomicU64,
    failures: AtomicU64,
    crashes: AtomicU64,
    timeouts: AtomicU64,
    hangs: AtomicU64,
    stragglers: AtomicU64,
    max_in_flight: AtomicU64,
    in_flight: AtomicU64,
}

impl Counters {
    fn to_json(&self) -> Value {
        json!({
            "invocations": self.invocations.load(Relaxed),
            "throttled": self.throttled.load(Relaxed),
            "cold_starts": self.cold_starts.load(Relaxed),
            "failures": self.failures.load(Relaxed),
            "crashes": self.crashes.load(Relaxed),
            "timeouts": self.timeouts.load(Relaxed),
            "hangs": self.hangs.load(Relaxed),
            "stragglers": self.stragglers.load(Relaxed),
            "max_in_flight": self.max_in_flight.load(Relaxed),
            "in_flight": self.in_flight.load(Relaxed),
        })
    }
}

/// What the fleet needs of one op.
#[derive(Debug, Clone, Copy)]
struct OpModel {
    num_tasks: u64,
    /// Over all tasks, as the plan estimates them.
    bytes_read: u64,
    bytes_written: u64,
    /// Per task: [`PEAK_FACTOR`] × (projected memory − reserved memory).
    peak_mem: u64,
}

impl OpModel {
    /// Bytes read and written by task `index`: the op's totals shared evenly
    /// (the remainder one byte each to the first tasks, so they add up).
    fn task_bytes(&self, index: u64) -> (u64, u64) {
        let share = |total: u64| total / self.num_tasks + u64::from(index < total % self.num_tasks);
        (share(self.bytes_read), share(self.bytes_written))
    }
}

/// What the fleet needs of one plan.
struct PlanModel {
    ops: HashMap<String, OpModel>,
    reserved_mem: u64,
}

/// The plan at `plan_dir` (a path or `file://` URL), which must have `digest`.
fn read_plan(plan_dir: &str, digest: &str) -> Result<PlanModel, String> {
    let dir = plan_dir.strip_prefix("file://").unwrap_or(plan_dir);
    if dir.contains("://") {
        return Err(format!("the fleet reads plans from local directories only, not {plan_dir}"));
    }
    let path = Path::new(dir).join(PLAN_FILE);
    let bytes = std::fs::read(&path).map_err(|e| format!("no plan at {}: {e}", path.display()))?;
    let plan = Plan::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let found = plan.digest();
    if found != digest {
        return Err(format!("plan digest mismatch: the payload expects {digest} but {} has {found}", path.display()));
    }
    let reserved_mem = plan.spec.reserved_mem;
    let ops = plan
        .ops
        .iter()
        .map(|op| {
            let peak_mem = (op.projected_mem.saturating_sub(reserved_mem) as f64 * PEAK_FACTOR) as u64;
            let model = OpModel { num_tasks: op.num_tasks, bytes_read: op.bytes_read, bytes_written: op.bytes_written, peak_mem };
            (op.id.clone(), model)
        })
        .collect();
    Ok(PlanModel { ops, reserved_mem })
}

/// What an admitted invocation turns out to be, drawn from the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Success { straggler: bool },
    Fail,
    Crash,
    Timeout,
    Hang,
}

/// One invocation's answer: a report, or a function error of `error_type`.
struct Answer {
    body: Result<InvocationReport, (&'static str, String)>,
    /// How much longer to withhold the answer after the invocation ended (hangs).
    linger: Duration,
}

impl Answer {
    fn error(error_type: &'static str, message: String) -> Answer {
        Answer { body: Err((error_type, message)), linger: Duration::ZERO }
    }
}

/// The fleet: settings, counters, idle containers and parsed plans.
struct Fleet {
    config: Config,
    counters: Counters,
    /// Release times of idle warm containers, oldest first: each push is
    /// stamped under the lock, so the newest is last. Held for one push or pop.
    idle: Mutex<Vec<Instant>>,
    /// Plans by digest, each parsed once however many invocations ask at once.
    plans: RwLock<HashMap<String, Arc<OnceCell<Arc<PlanModel>>>>>,
    requests: AtomicU64,
}

/// One unit of the concurrency limit, held while an invocation runs.
struct Slot(Arc<Fleet>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.counters.in_flight.fetch_sub(1, Relaxed);
    }
}

impl Fleet {
    fn new(config: Config) -> Fleet {
        Fleet {
            config,
            counters: Counters::default(),
            idle: Mutex::new(Vec::new()),
            plans: RwLock::new(HashMap::new()),
            requests: AtomicU64::new(0),
        }
    }

    /// A slot of the concurrency limit, or `None` when all are taken.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let limit = self.config.concurrency_limit;
        let before = self.counters.in_flight.fetch_update(Relaxed, Relaxed, |n| (n < limit).then_some(n + 1)).ok()?;
        self.counters.max_in_flight.fetch_max(before + 1, Relaxed);
        Some(Slot(self.clone()))
    }

    /// Takes an idle warm container or starts a new one; true when new (cold).
    fn take_container(&self) -> bool {
        let keep_warm = self.config.scaled(self.config.keep_warm_s * 1000.0);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        match idle.pop() {
            Some(since) if since.elapsed() <= keep_warm => false,
            Some(_) => {
                // The most recently released one has expired, so all have.
                idle.clear();
                true
            }
            None => true,
        }
    }

    fn release_container(&self) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(Instant::now());
    }

    /// A request id in the form Lambda's have (a UUID), unique per request.
    fn request_id(&self) -> String {
        let a = mix(self.config.seed ^ self.requests.fetch_add(1, Relaxed));
        let b = mix(a);
        format!("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff, (b >> 48) | 0x8000, b & 0xffff_ffff_ffff)
    }

    /// The plan with `digest`, parsed on first use.
    async fn plan(&self, plan_dir: &str, digest: &str) -> Result<Arc<PlanModel>, String> {
        let cached = self.plans.read().unwrap_or_else(PoisonError::into_inner).get(digest).cloned();
        let cell = match cached {
            Some(cell) => cell,
            None => self.plans.write().unwrap_or_else(PoisonError::into_inner).entry(digest.to_string()).or_default().clone(),
        };
        cell.get_or_try_init(|| async {
            let (dir, digest) = (plan_dir.to_string(), digest.to_string());
            match tokio::task::spawn_blocking(move || read_plan(&dir, &digest)).await {
                Ok(model) => model.map(Arc::new),
                Err(e) => Err(format!("reading the plan failed: {e}")),
            }
        })
        .await
        .cloned()
    }

    /// The payload, checked as the real handler checks it, with its op.
    async fn prepare(&self, payload: Value) -> Result<(TaskPayload, OpModel, u64), String> {
        let p: TaskPayload = serde_json::from_value(payload).map_err(|e| {
            format!("malformed payload: {e}; expected {{\"plan_dir\", \"digest\", \"op\", \"start\", \"stop\", \"attempt\"}}")
        })?;
        if p.start >= p.stop || p.stop - p.start > MAX_TASKS_PER_INVOCATION {
            return Err(format!("task range [{}, {}) must hold 1 to {MAX_TASKS_PER_INVOCATION} tasks", p.start, p.stop));
        }
        let plan = self.plan(&p.plan_dir, &p.digest).await?;
        let Some(&op) = plan.ops.get(&p.op) else {
            let mut ids: Vec<&str> = plan.ops.keys().map(String::as_str).collect();
            ids.sort_unstable();
            return Err(format!("unknown op '{}': the plan has {}", p.op, ids.join(", ")));
        };
        if p.stop > op.num_tasks {
            return Err(format!("task range [{}, {}) is out of range for {} ({} tasks)", p.start, p.stop, p.op, op.num_tasks));
        }
        Ok((p, op, plan.reserved_mem))
    }

    /// The fate of an invocation: one uniform draw picks among the exclusive
    /// faults, a second one makes a success a straggler.
    fn draw(&self, p: &TaskPayload) -> Fate {
        let c = &self.config;
        let mut key = FNV_OFFSET ^ c.seed;
        for field in [p.digest.as_bytes(), p.op.as_bytes()] {
            key = fnv(key, field);
            key = fnv(key, &[0xff]); // never in UTF-8: separates the fields
        }
        key = fnv(key, &p.start.to_le_bytes());
        key = fnv(key, &p.attempt.to_le_bytes());
        let fault = unit(key, 1);
        let mut edge = 0.0;
        for (rate, fate) in [(c.fail_rate, Fate::Fail), (c.crash_rate, Fate::Crash), (c.timeout_rate, Fate::Timeout), (c.hang_rate, Fate::Hang)] {
            edge += rate;
            if fault < edge {
                return fate;
            }
        }
        Fate::Success { straggler: unit(key, 2) < c.straggler_rate }
    }

    /// Runs one admitted invocation: holds its slot (and a container) for the
    /// modelled time and gives its answer.
    async fn execute(self: Arc<Self>, slot: Slot, payload: Value, request_id: String) -> Answer {
        let c = &self.config;
        let cold_start = self.take_container();
        if cold_start {
            self.counters.cold_starts.fetch_add(1, Relaxed);
            tokio::time::sleep(c.scaled(c.cold_start_ms)).await;
        }
        let (p, op, reserved_mem) = match self.prepare(payload).await {
            Ok(work) => work,
            Err(message) => {
                tokio::time::sleep(c.scaled(c.overhead_ms)).await;
                self.release_container();
                return Answer::error(INVALID_REQUEST, message);
            }
        };
        let timeout_ms = c.timeout_s as f64 * 1000.0;
        let timed_out = format!("{request_id} Task timed out after {}.00 seconds", c.timeout_s);
        let answer = match self.draw(&p) {
            Fate::Success { straggler } => {
                let factor = if straggler { c.straggler_factor } else { 1.0 };
                if straggler {
                    self.counters.stragglers.fetch_add(1, Relaxed);
                }
                let report = InvocationReport { cold_start, ..self.report(&p, &op, reserved_mem, factor) };
                tokio::time::sleep(seconds(report.duration_s)).await;
                self.release_container();
                Answer { body: Ok(report), linger: Duration::ZERO }
            }
            Fate::Fail => {
                self.counters.failures.fetch_add(1, Relaxed);
                tokio::time::sleep(c.scaled(c.overhead_ms)).await;
                self.release_container();
                Answer::error("cubed.Injected", "injected failure".into())
            }
            Fate::Crash => {
                // Killed halfway through its work; the container dies with it.
                self.counters.crashes.fetch_add(1, Relaxed);
                let report = self.report(&p, &op, reserved_mem, 1.0);
                tokio::time::sleep(seconds(report.duration_s / 2.0)).await;
                Answer::error("Runtime.ExitError", format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"))
            }
            Fate::Timeout => {
                self.counters.timeouts.fetch_add(1, Relaxed);
                tokio::time::sleep(c.scaled(timeout_ms)).await;
                Answer::error("Sandbox.Timedout", timed_out)
            }
            Fate::Hang => {
                // Lambda ends it at the timeout, but the answer never arrives
                // in time: the caller's own deadline must cut it.
                self.counters.hangs.fetch_add(1, Relaxed);
                tokio::time::sleep(c.scaled(timeout_ms)).await;
                Answer { linger: c.scaled(9.0 * timeout_ms), ..Answer::error("Sandbox.Timedout", timed_out) }
            }
        };
        drop(slot);
        answer
    }

    /// The report of a successful warm invocation of `p`'s tasks, each taking
    /// `factor` × its modelled time (durations are the scaled times, as waited).
    fn report(&self, p: &TaskPayload, op: &OpModel, reserved_mem: u64, factor: f64) -> InvocationReport {
        let c = &self.config;
        let waited = |ms: f64| ms * factor * c.time_scale / 1000.0;
        let tasks: Vec<TaskReport> = (p.start..p.stop)
            .map(|index| {
                let (bytes_read, bytes_written) = op.task_bytes(index);
                let mb = (bytes_read as f64 + bytes_written as f64) / 1e6;
                let ms = mb * (1000.0 / c.throughput_mbps + c.compute_ms_per_mb);
                let stats = TaskStats { bytes_read, bytes_written, duration_s: waited(ms), peak_mem: Some(op.peak_mem), at_once: Some(1) };
                TaskReport { index, stats: Some(stats), error: None }
            })
            .collect();
        let task_s: f64 = tasks.iter().filter_map(|t| t.stats.as_ref()).map(|s| s.duration_s).sum();
        InvocationReport {
            tasks,
            peak_rss: Some(reserved_mem.saturating_add(op.peak_mem)),
            cold_start: false,
            duration_s: waited(c.overhead_ms) + task_s,
            concurrent_tasks: 1,
        }
    }
}

/// `s` seconds as a duration (a longer one than it can hold: forever).
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a of `bytes`, continuing from `hash`.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// SplitMix64's finaliser: spreads every input bit over the output.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Uniform draw number `n` in [0, 1) from `key`.
fn unit(key: u64, n: u64) -> f64 {
    (mix(key ^ mix(n)) >> 11) as f64 / (1u64 << 53) as f64
}

/// `%XX` escapes of a path segment decoded (the SDK escapes the `:` of ARNs).
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

type Reply = Response<Full<Bytes>>;

/// A JSON response with `headers` (a value that is not a valid header is left out).
fn reply(status: StatusCode, headers: &[(&'static str, &str)], body: Vec<u8>) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.insert(HeaderName::from_static("content-type"), HeaderValue::from_static("application/json"));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::try_from(*value) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// An AWS service error: `x-amzn-ErrorType` names it, as the SDK reads it.
fn service_error(status: StatusCode, error_type: &str, body: Value) -> Reply {
    reply(status, &[("x-amzn-errortype", error_type)], body.to_string().into_bytes())
}

impl Fleet {
    /// Serves one HTTP request.
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Reply {
        let request_id = self.request_id();
        let path = req.uri().path().to_string();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut response = match (req.method(), segments.as_slice()) {
            (&Method::POST, ["2015-03-31", "functions", name, "invocations"]) => match self.not_found(name) {
                None => self.invoke(req, request_id.clone()).await,
                Some(missing) => missing,
            },
            (&Method::GET, ["2015-03-31", "functions", name, "configuration"]) => match self.not_found(name) {
                None => reply(StatusCode::OK, &[], self.configuration().to_string().into_bytes()),
                Some(missing) => missing,
            },
            (&Method::GET, ["fleet", "stats"]) => reply(StatusCode::OK, &[], self.counters.to_json().to_string().into_bytes()),
            _ => service_error(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                json!({"Type": "User", "message": format!("the fleet serves Invoke, GetFunctionConfiguration and GET /fleet/stats, not {} {path}", req.method())}),
            ),
        };
        if let Ok(id) = HeaderValue::try_from(request_id) {
            response.headers_mut().insert(HeaderName::from_static("x-amzn-requestid"), id);
        }
        response
    }

    /// `None` when `segment` names the served function (by name or ARN),
    /// else the ResourceNotFoundException Lambda answers.
    fn not_found(&self, segment: &str) -> Option<Reply> {
        let name = percent_decode(segment).unwrap_or_else(|| segment.to_string());
        if name == self.config.function || name == self.config.arn() {
            return None;
        }
        let arn = if name.starts_with("arn:") { name } else { format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}") };
        Some(service_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            json!({"Type": "User", "Message": format!("Function not found: {arn}")}),
        ))
    }

    fn configuration(&self) -> Value {
        let c = &self.config;
        json!({
            "FunctionName": c.function,
            "FunctionArn": c.arn(),
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "MemorySize": c.memory_mb,
            "Timeout": c.timeout_s,
            "Architectures": ["arm64"],
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Version": "$LATEST",
        })
    }

    /// Invoke (RequestResponse): admit or throttle, then run the invocation in
    /// its own task, which goes on (holding its slot) if the caller hangs up.
    async fn invoke(self: &Arc<Self>, req: Request<Incoming>, request_id: String) -> Reply {
        let invocation_type = req.headers().get("x-amz-invocation-type").and_then(|v| v.to_str().ok()).unwrap_or("RequestResponse");
        if invocation_type != "RequestResponse" {
            return service_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                json!({"Type": "User", "message": format!("the fleet serves RequestResponse invocations only, not {invocation_type}")}),
            );
        }
        let body = match Limited::new(req.into_body(), PAYLOAD_LIMIT).collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return service_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    json!({"Type": "User", "message": format!("Request must be smaller than {PAYLOAD_LIMIT} bytes for the InvokeFunction operation")}),
                )
            }
            Err(e) => {
                return service_error(StatusCode::BAD_REQUEST, "InvalidRequestContentException", json!({"Type": "User", "message": format!("cannot read the request body: {e}")}))
            }
        };
        let payload: Value = match serde_json::from_slice(&body) {
            Ok(payload) => payload,
            Err(e) => {
                return service_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    json!({"Type": "User", "message": format!("Could not parse request body into json: {e}")}),
                )
            }
        };
        let Some(slot) = self.admit() else {
            self.counters.throttled.fetch_add(1, Relaxed);
            return service_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                json!({"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}),
            );
        };
        self.counters.invocations.fetch_add(1, Relaxed);
        let answer = match tokio::spawn(self.clone().execute(slot, payload, request_id)).await {
            Ok(answer) => answer,
            Err(e) => return service_error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", json!({"Type": "Service", "message": e.to_string()})),
        };
        tokio::time::sleep(answer.linger).await;
        let version = ("x-amz-executed-version", "$LATEST");
        match answer.body {
            Ok(report) => match serde_json::to_vec(&report) {
                Ok(body) => reply(StatusCode::OK, &[version], body),
                Err(e) => service_error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", json!({"Type": "Service", "message": e.to_string()})),
            },
            Err((error_type, message)) => {
                let body = json!({"errorType": error_type, "errorMessage": message}).to_string().into_bytes();
                reply(StatusCode::OK, &[version, ("x-amz-function-error", "Unhandled")], body)
            }
        }
    }
}

/// Accepts connections until SIGTERM or SIGINT.
async fn serve(config: Config) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    let fleet = Arc::new(Fleet::new(config));
    let (mut term, mut int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let fleet = fleet.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let fleet = fleet.clone();
                            async move { Ok::<_, Infallible>(fleet.handle(req).await) }
                        });
                        // A caller hanging up mid-request is no error of the fleet's.
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                Err(e) => {
                    // Out of file descriptors, typically: wait for some to close.
                    eprintln!("lambda-fleet: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    eprintln!("lambda-fleet: stopped; {}", fleet.counters.to_json());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let config = match Config::parse(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("lambda-fleet: {e}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(config.threads).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("lambda-fleet: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(config));
    // Invocations still sleeping are dropped with their connections.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lambda-fleet: {e}");
            ExitCode::FAILURE
        }
    }
}
