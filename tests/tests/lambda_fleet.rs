//! The driver's Lambda path against the fake Lambda fleet (docs/FLEET.md):
//! the real aws-sdk-lambda client, the fleet's account concurrency limit and
//! hung invocations. The fleet writes no chunks, so these runs use a local
//! work dir and `--no-verify`.

use std::path::Path;

use cubed_e2e::{cubed, run, temp_dir, Fleet};
use serde_json::Value;

/// `cubed eval EXPR` on the fleet, one task per invocation, under `dir`
/// (work dir and output), writing its summary to `summary`.
fn eval_on_fleet(fleet: &Fleet, expr: &str, work: &Path, summary: &Path, extra: &[&str]) {
    let mut cmd = cubed();
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1")
        .args(["eval", expr, "-q", "--work-dir"])
        .arg(work.join("work"))
        .args(["-o"])
        .arg(work.join("out.zarr"))
        .args(["--runner", "lambda", "--function", "cubed-task", "--lambda-endpoint", &fleet.endpoint(), "--tasks-per-invocation", "1", "--no-verify"])
        .arg("--summary-json")
        .arg(summary)
        .args(extra);
    run(&mut cmd);
}

fn summary(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("summary written")).expect("summary is JSON")
}

fn total(s: &Value, field: &str) -> u64 {
    s["ops"].as_array().unwrap().iter().map(|o| o[field].as_u64().unwrap()).sum()
}

/// With the account limited to 50 concurrent invocations and the driver
/// allowed 400, the job completes with a single attempt per task: every
/// 429 is sent again without spending one, counted in the summary, and the
/// driver's window comes down to what the account allows.
#[test]
fn a_throttled_job_completes_without_spending_attempts() {
    let fleet = Fleet::start(&["--concurrency-limit", "50", "--overhead-ms", "100", "--cold-start-ms", "20"]);
    let dir = temp_dir("fleet-throttle");
    let s = dir.path().join("summary.json");
    eval_on_fleet(&fleet, "random((1500, 16), chunks=(1, 16)) + 1", dir.path(), &s, &["--concurrency", "400", "--attempts", "1"]);
    let (sum, stats) = (summary(&s), fleet.stats());
    let throttles = total(&sum, "throttles");
    assert!(throttles > 0, "the account limit should have throttled: {sum}");
    assert_eq!(throttles, stats["throttled"].as_u64().unwrap(), "the summary counts every 429 the fleet sent: {stats}");
    assert_eq!((total(&sum, "retries"), total(&sum, "tasks")), (0, 1500), "{sum}");
    assert!(stats["max_in_flight"].as_u64().unwrap() <= 50, "{stats}");
    // Far fewer 429s than invocations: the window adapted instead of hammering.
    assert!(throttles < 1500, "{throttles} throttles for 1500 tasks: the window did not come down");
    fleet.stop();
}

/// A hung invocation is abandoned at its task deadline and its task sent
/// again: the job completes and the summary counts the abandoned attempts.
#[test]
fn hung_invocations_are_abandoned_and_retried() {
    let fleet = Fleet::start(&["--hang-rate", "0.1", "--seed", "4", "--overhead-ms", "50", "--cold-start-ms", "0", "--timeout-s", "60"]);
    let dir = temp_dir("fleet-hang");
    let s = dir.path().join("summary.json");
    eval_on_fleet(&fleet, "random((200, 16), chunks=(1, 16)) * 2", dir.path(), &s, &["--concurrency", "50", "--task-timeout", "1s", "--no-backups", "--attempts", "5"]);
    let (sum, stats) = (summary(&s), fleet.stats());
    let hangs = stats["hangs"].as_u64().unwrap();
    assert!(hangs > 0, "the fleet should have hung some invocations: {stats}");
    assert_eq!(total(&sum, "abandoned"), hangs, "every hung invocation was abandoned: {sum}");
    assert_eq!(total(&sum, "tasks"), 200);
    fleet.stop();
}
