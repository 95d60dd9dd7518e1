//! Fault tolerance, proven by fault injection (`CUBED_FAULTS`): failing and
//! slow tasks, a driver killed with SIGKILL and resumed, an S3 server stopped
//! and continued mid-run, retries exhausted.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use cubed_e2e::{cubed, run, run_failing, temp_dir, LocalCloud};
use serde_json::Value;

const FAULTS: &str = "fail=0.2;slow=0.05x10;seed=11";
const QM: &str = "mean(a*a + b*b, axis=0)";

/// Retries the run must have made: every first attempt the fault plan fails
/// (quadratic means here: op-001 with 30 tasks, op-002 with 10).
fn expected_retries() -> u64 {
    let f = cubed_task::faults::Faults::parse(FAULTS).unwrap();
    let fails = |op: &str, n: u64| (0..n).filter(|&t| f.draw(op, t, 1) == cubed_task::faults::Fault::Fail).count() as u64;
    fails("op-001", 30) + fails("op-002", 10)
}

/// Sum of the retries over the ops of a run summary.
fn retries(s: &Value) -> u64 {
    s["ops"].as_array().unwrap().iter().map(|o| o["retries"].as_u64().unwrap()).sum()
}

fn summary(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("summary written")).expect("summary is JSON")
}

/// `max(abs(x - y))` of two stored arrays, as printed by cubed.
fn max_diff(x: &str, y: &str, work: &str, env: &[(String, String)]) -> String {
    let mut cmd = cubed();
    cmd.envs(env.iter().map(|(k, v)| (k, v)))
        .args(["eval", "max(abs(x - y))", "-q", "--work-dir", work, "-i", &format!("x={x}"), "-i", &format!("y={y}")]);
    run(&mut cmd)
}

fn make_inputs(dir: &str, work: &str, env: &[(String, String)]) -> (String, String) {
    let (a, b) = (format!("{dir}/a.zarr"), format!("{dir}/b.zarr"));
    for (url, seed) in [(&a, 1), (&b, 2)] {
        let mut cmd = cubed();
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .args(["eval", &format!("random((1200, 1000), chunks=(100, 100), seed={seed})"), "-o", url, "-q", "--work-dir", work]);
        run(&mut cmd);
    }
    (a, b)
}

#[test]
fn failing_and_slow_tasks_leave_the_local_result_unchanged() {
    let dir = temp_dir("faults-local");
    let d = dir.path().to_str().unwrap();
    let work = format!("{d}/work");
    let (a, b) = make_inputs(d, &work, &[]);
    let (faulty, clean) = (format!("{d}/faulty.zarr"), format!("{d}/clean.zarr"));
    let s = format!("{d}/summary.json");
    run(cubed()
        .env("CUBED_FAULTS", FAULTS)
        .args(["eval", QM, "-q", "--work-dir", &work, "-i", &format!("a={a}"), "-i", &format!("b={b}"), "-o", &faulty, "--summary-json", &s]));
    run(cubed().args(["eval", QM, "-q", "--work-dir", &work, "-i", &format!("a={a}"), "-i", &format!("b={b}"), "-o", &clean]));
    assert_eq!(max_diff(&faulty, &clean, &work, &[]), "0.0\n");
    let (got, want) = (retries(&summary(Path::new(&s))), expected_retries());
    assert!(want > 0 && got >= want, "injected failures should have caused at least {want} retries, got {got}");
}

#[test]
fn failing_and_slow_tasks_leave_the_lambda_result_unchanged() {
    let cloud = LocalCloud::start_with("moto", &[("CUBED_FAULTS", FAULTS)]);
    let work = cloud.url("work");
    let (a, b) = make_inputs(&cloud.url("in"), &work, &cloud.env);
    let (faulty, clean) = (cloud.url("out/faulty.zarr"), cloud.url("out/clean.zarr"));
    let dir = temp_dir("faults-lambda");
    let s = dir.path().join("summary.json");
    let inputs = [format!("a={a}"), format!("b={b}")];
    run(cloud.cubed().args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &faulty])
        .args(["--runner", "lambda", "--function", "cubed-task", "--tasks-per-invocation", "1", "--concurrency", "8", "--summary-json"])
        .arg(&s));
    run(cloud.cubed().args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &clean]));
    assert_eq!(max_diff(&faulty, &clean, &work, &cloud.env), "0.0\n", "{}", cloud.logs());
    let (got, want) = (retries(&summary(&s)), expected_retries());
    assert!(want > 0 && got >= want, "failures injected in the function should have caused at least {want} retries, got {got}");
}

/// Hung tasks never stop a run: with backups off, a task that has not
/// answered by its deadline (`--task-timeout`) is abandoned and tried again,
/// the result is unchanged and the summary counts what was abandoned.
#[test]
fn hung_tasks_are_abandoned_at_their_deadline_and_retried() {
    const HANGS: &str = "hang=0.2;seed=5";
    let dir = temp_dir("faults-hang");
    let d = dir.path().to_str().unwrap();
    let work = format!("{d}/work");
    let (a, b) = make_inputs(d, &work, &[]);
    let (hung, clean) = (format!("{d}/hung.zarr"), format!("{d}/clean.zarr"));
    let s = format!("{d}/summary.json");
    let inputs = [format!("a={a}"), format!("b={b}")];
    run(cubed()
        .env("CUBED_FAULTS", HANGS)
        .args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &hung, "--no-backups", "--task-timeout", "1s", "--attempts", "5"])
        .args(["--summary-json", &s]));
    run(cubed().args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &clean]));
    assert_eq!(max_diff(&hung, &clean, &work, &[]), "0.0\n");
    let f = cubed_task::faults::Faults::parse(HANGS).unwrap();
    let hangs = |op: &str, n: u64| (0..n).filter(|&t| f.draw(op, t, 1) == cubed_task::faults::Fault::Hang).count() as u64;
    let want = hangs("op-001", 30) + hangs("op-002", 10);
    let got: u64 = summary(Path::new(&s))["ops"].as_array().unwrap().iter().map(|o| o["abandoned"].as_u64().unwrap()).sum();
    assert!(want > 0 && got >= want, "{want} first attempts hang, so at least {want} should have been abandoned; got {got}");
}

/// Chunk files of a local Zarr v3 array, as task indices of a (rows, cols) chunk grid.
fn written_chunks(array: &Path, cols: u64) -> Vec<u64> {
    let mut out = vec![];
    let Ok(rows) = std::fs::read_dir(array.join("c")) else { return out };
    for row in rows.flatten() {
        let i: u64 = row.file_name().to_string_lossy().parse().unwrap();
        for col in std::fs::read_dir(row.path()).unwrap().flatten() {
            if let Ok(j) = col.file_name().to_string_lossy().parse::<u64>() {
                out.push(i * cols + j);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The tasks that succeeded in the newest saved history of a work dir
/// (`history/run-<millis>/`: `run.json` naming its `events-*.jsonl` parts).
fn tasks_run_by_last_history(work: &Path) -> Vec<u64> {
    let mut runs: Vec<_> = std::fs::read_dir(work)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("cubed-"))
        .flat_map(|e| std::fs::read_dir(e.path().join("history")).into_iter().flatten().flatten())
        .map(|e| e.path())
        .collect();
    // run-<unix millis>: the newest run has the largest name, whatever its plan directory.
    runs.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    let run = runs.last().expect("a history was saved");
    let record: Value = serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    let mut tasks = vec![];
    for part in record["parts"].as_array().unwrap() {
        let text = std::fs::read_to_string(run.join(part.as_str().unwrap())).unwrap();
        for line in text.lines() {
            let e: Value = serde_json::from_str(line).unwrap();
            if e["error"].is_null() && !e["ignored"].as_bool().unwrap() {
                tasks.push(e["task"].as_u64().unwrap());
            }
        }
    }
    assert_eq!(record["events"].as_u64().unwrap() as usize, record["parts"].as_array().unwrap().iter().map(|p| std::fs::read_to_string(run.join(p.as_str().unwrap())).unwrap().lines().count()).sum::<usize>());
    tasks.sort_unstable();
    tasks
}

#[test]
fn a_killed_driver_resumes_without_redoing_written_chunks() {
    let dir = temp_dir("kill-resume");
    let d = dir.path();
    let work = d.join("work");
    let w = work.to_str().unwrap();
    let (a, _) = make_inputs(d.to_str().unwrap(), w, &[]);
    let out = d.join("out.zarr");
    let expr = "a * 2 + 1"; // one blockwise op: 12 x 10 = 120 tasks
    let args = ["eval", expr, "-q", "--work-dir", w, "-i", &format!("a={a}"), "-o", out.to_str().unwrap(), "--workers", "1"];
    // Every task 30x slower, so the run is still going when it is killed.
    let mut child = cubed().env("CUBED_FAULTS", "slow=1x30").args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while written_chunks(&out, 10).len() < 10 {
        assert!(std::time::Instant::now() < deadline, "the run wrote too few chunks");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = written_chunks(&out, 10);
    assert!(before.len() < 120, "the run finished before it was killed");
    assert!(!out.join("zarr.json").exists(), "a killed run must not leave a complete-looking array");
    run(cubed().args(args).arg("--resume"));
    let rerun = tasks_run_by_last_history(&work);
    assert!(rerun.iter().all(|t| !before.contains(t)), "resumed run redid written chunks: {:?}", rerun.iter().filter(|t| before.contains(t)).collect::<Vec<_>>());
    assert_eq!(before.len() + rerun.len(), 120, "every task ran exactly once over the two runs");
    assert!(out.join("zarr.json").exists());
    let clean = d.join("clean.zarr");
    run(cubed().args(["eval", expr, "-q", "--work-dir", w, "-i", &format!("a={a}"), "-o", clean.to_str().unwrap()]));
    assert_eq!(max_diff(out.to_str().unwrap(), clean.to_str().unwrap(), w, &[]), "0.0\n");
}

#[test]
fn exhausted_retries_fail_clearly_and_leave_no_complete_output() {
    let dir = temp_dir("exhausted");
    let d = dir.path().to_str().unwrap();
    let out = format!("{d}/out.zarr");
    let err = run_failing(cubed().env("CUBED_FAULTS", "fail=1").args(["eval", "random((100, 100), chunks=(50, 50)) + 1", "-q", "--work-dir", &format!("{d}/work"), "-o", &out]));
    assert!(err.contains("op-001 failed: task") && err.contains("(attempt 3)") && err.contains("injected failure"), "{err}");
    assert!(err.contains("--resume"), "the message should say how to resume: {err}");
    assert!(!Path::new(&out).join("zarr.json").exists());
    let e = run_failing(cubed().args(["eval", "sum(x)", "-q", "-i", &format!("x={out}")]));
    assert!(e.contains("cannot open Zarr array"), "{e}");
}

#[test]
fn an_s3_server_stopped_mid_run_then_continued_still_gives_the_result() {
    let cloud = LocalCloud::start("moto");
    let work = cloud.url("work");
    let (a, b) = make_inputs(&cloud.url("in"), &work, &cloud.env);
    let (out, clean) = (cloud.url("out/qm.zarr"), cloud.url("out/clean.zarr"));
    let inputs = [format!("a={a}"), format!("b={b}")];
    let mut child = cloud
        .cubed()
        .env("CUBED_FAULTS", "slow=1x5")
        .args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &out, "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let pid = cloud.s3_pid().to_string();
    run(Command::new("kill").args(["-STOP", &pid]));
    std::thread::sleep(Duration::from_secs(3));
    run(Command::new("kill").args(["-CONT", &pid]));
    let status = child.wait().unwrap();
    if !status.success() {
        // A clean failure: then a resume completes.
        run(cloud.cubed().args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &out, "--resume"]));
    }
    run(cloud.cubed().args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &clean]));
    assert_eq!(max_diff(&out, &clean, &work, &cloud.env), "0.0\n", "{}", cloud.logs());
}

/// An S3 proxy in front of the test's S3 server: answers each (method, path)
/// with 503 SlowDown the first FAILS times, then forwards it. Prints its port
/// first; `GET /__proxy_stats` answers how many SlowDowns it sent.
/// argv: TARGET_PORT FAILS
const SLOWDOWN_PROXY: &str = r#"
import http.client, http.server, sys, threading
target, fails = int(sys.argv[1]), int(sys.argv[2])
counts, lock, sent = {}, threading.Lock(), [0]
SLOW = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self, status, headers, body, length=None):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def any(self):
        if self.path == "/__proxy_stats":
            return self.answer(200, [], str(sent[0]).encode())
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            n = counts.get((self.command, self.path), 0)
            counts[(self.command, self.path)] = n + 1
            if n < fails:
                sent[0] += 1
        if n < fails:
            return self.answer(503, [("Content-Type", "application/xml")], SLOW)
        conn = http.client.HTTPConnection("127.0.0.1", target, timeout=60)
        conn.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
        r = conn.getresponse()
        data = r.read()
        self.answer(r.status, r.getheaders(), data, r.getheader("Content-Length") if self.command == "HEAD" else None)
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = any
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A child process killed (and reaped) when dropped, even after a failed assertion.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let pid = self.0.id();
        let _ = self.0.kill();
        let _ = self.0.wait();
        if !std::thread::panicking() {
            assert!(!cubed_e2e::is_alive(pid), "process {pid} is still alive");
        }
    }
}

/// S3 answering 503 SlowDown (as it does when a prefix is hot) is retried
/// with backoff inside storage: the run completes with the same result and
/// the scheduler never had to retry a task.
#[test]
fn s3_slowdown_is_retried_with_backoff_in_storage() {
    let cloud = LocalCloud::start("moto");
    let work = cloud.url("work");
    let (a, b) = make_inputs(&cloud.url("in"), &work, &cloud.env);
    let s3_port = cloud.s3_endpoint.rsplit(':').next().unwrap().to_string();
    let mut proxy = Killed(cubed_e2e::python(SLOWDOWN_PROXY, [s3_port.as_str(), "1"]).stdout(Stdio::piped()).spawn().unwrap());
    let mut port = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(proxy.0.stdout.take().unwrap()), &mut port).unwrap();
    let proxy_url = format!("http://127.0.0.1:{}", port.trim());
    let through_proxy = cloud.env.iter().map(|(k, v)| (k.as_str(), if k == "AWS_ENDPOINT_URL_S3" { proxy_url.as_str() } else { v.as_str() }));
    let (out, clean) = (cloud.url("out/slow.zarr"), cloud.url("out/slow-clean.zarr"));
    let dir = temp_dir("slowdown");
    let s = dir.path().join("summary.json");
    let inputs = [format!("a={a}"), format!("b={b}")];
    let mut cmd = cubed();
    cmd.envs(through_proxy).args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &out, "--summary-json"]).arg(&s);
    run(&mut cmd);
    let slowdowns: u64 = run(Command::new("curl").args(["-s", &format!("{proxy_url}/__proxy_stats")])).trim().parse().unwrap();
    run(cloud.cubed().args(["eval", QM, "-q", "--work-dir", &work, "-i", &inputs[0], "-i", &inputs[1], "-o", &clean]));
    assert_eq!(max_diff(&out, &clean, &work, &cloud.env), "0.0\n", "{}", cloud.logs());
    // Every request met a SlowDown first: reads of 2 x 120 chunks at least.
    assert!(slowdowns > 240, "{slowdowns} SlowDowns");
    assert_eq!(retries(&summary(&s)), 0, "SlowDown is retried in storage, not by the scheduler");
    drop(proxy);
}
