//! End to end through a local cloud: the driver invokes the real task handler
//! through cargo-lambda's emulator of the Lambda Invoke API, and the handler
//! reads and writes Zarr on a real S3 server (moto, and LocalStack's S3).

use std::process::Command;

use cubed_e2e::{run, run_failing, run_python, LocalCloud};

const LAMBDA: [&str; 4] = ["--runner", "lambda", "--function", "cubed-task"];

fn eval(cloud: &LocalCloud, expr: &str, extra: &[&str]) -> String {
    let mut cmd = cloud.cubed();
    cmd.args(["eval", expr, "-q", "--work-dir", &cloud.url("work")]).args(extra);
    run(&mut cmd)
}

/// Quadratic means and a rechunk on S3 through the Lambda runner give exactly
/// the local runner's results, and zarr-python reads them back correctly.
fn lambda_matches_local(cloud: &LocalCloud) {
    let (a, b) = (cloud.url("in/a.zarr"), cloud.url("in/b.zarr"));
    eval(cloud, "random((600, 500), chunks=(128, 100), seed=1)", &["-o", &a]);
    eval(cloud, "random((600, 500), chunks=(128, 100), seed=2)", &["-o", &b]);
    let inputs = ["-i", &format!("a={a}"), "-i", &format!("b={b}")];
    let (qm_lambda, qm_local) = (cloud.url("out/qm-lambda.zarr"), cloud.url("out/qm-local.zarr"));
    let (rc_lambda, rc_local) = (cloud.url("out/rc-lambda.zarr"), cloud.url("out/rc-local.zarr"));
    let expr = "(mean(a*a + b*b, axis=0), rechunk(a, (600, 7)))";
    let mut args: Vec<&str> = inputs.to_vec();
    args.extend(["-o", &qm_lambda, "-o", &rc_lambda, "--tasks-per-invocation", "2"]);
    args.extend(LAMBDA);
    eval(cloud, expr, &args);
    let mut args: Vec<&str> = inputs.to_vec();
    args.extend(["-o", &qm_local, "-o", &rc_local]);
    eval(cloud, expr, &args);
    // Identical values, checked by cubed itself...
    let diff = eval(
        cloud,
        "(max(abs(x - y)), max(abs(r - a)), max(abs(s - a)))",
        &["-i", &format!("x={qm_lambda}"), "-i", &format!("y={qm_local}"), "-i", &format!("r={rc_lambda}"), "-i", &format!("s={rc_local}"), "-i", &format!("a={a}")],
    );
    assert_eq!(diff, "0.0\n0.0\n0.0\n", "lambda and local results differ\n{}", cloud.logs());
    // ... and by zarr-python against numpy on the inputs.
    run_python(
        r#"
import sys, numpy as np, zarr
endpoint, a, b, qm, rc = sys.argv[1:]
opts = {"endpoint_url": endpoint, "key": "test", "secret": "test"}
open_ = lambda u: zarr.open_array(u, mode="r", storage_options=opts)
A, B = open_(a)[:], open_(b)[:]
np.testing.assert_allclose(open_(qm)[:], (A * A + B * B).mean(axis=0), rtol=1e-12)
r = open_(rc)
assert r.chunks == (600, 7), r.chunks
np.testing.assert_array_equal(r[:], A)
"#,
        [&cloud.s3_endpoint, &a, &b, &qm_lambda, &rc_lambda],
    );
}

/// A payload the handler cannot serve gets a clear, non-retryable error.
fn malformed_payload_is_rejected(cloud: &LocalCloud) {
    let url = format!("{}/2015-03-31/functions/cubed-task/invocations", cloud.lambda_endpoint);
    for (payload, expected) in [
        (r#"{"hello": 1}"#, "malformed payload"),
        (r#"{"plan_dir": "s3://nowhere/x", "digest": "0", "op": "op-001", "start": 0, "stop": 1, "attempt": 1}"#, "plan"),
    ] {
        let out = run(Command::new("curl").args(["-s", "-X", "POST", &url, "-d", payload]));
        assert!(out.contains("cubed.InvalidRequest") && out.contains(expected), "payload {payload}: {out}\n{}", cloud.logs());
    }
}

#[test]
fn lambda_runner_on_moto() {
    let cloud = LocalCloud::start("moto");
    lambda_matches_local(&cloud);
    malformed_payload_is_rejected(&cloud);
    function_memory_below_allowed_mem_is_refused(&cloud);
    tasks_run_at_once_when_the_function_has_memory_for_them(&cloud);
    credentials_only_in_a_profile(&cloud);
    stops_completely(cloud);
}

#[test]
fn lambda_runner_on_localstack_s3() {
    let cloud = LocalCloud::start("localstack");
    lambda_matches_local(&cloud);
    malformed_payload_is_rejected(&cloud);
    stops_completely(cloud);
}

/// `localstack/down.sh` leaves nothing behind: every process of the stack
/// (the S3 server, cargo lambda watch and its function processes) is gone
/// and both ports are free. LocalStack can ignore SIGTERM while shutting
/// down; down.sh then escalates to SIGKILL.
fn stops_completely(cloud: LocalCloud) {
    let processes = cloud.processes();
    assert!(processes.len() >= 2, "the stack has an S3 server and cargo lambda watch: {processes:?}");
    cloud.stop().unwrap_or_else(|e| panic!("the local cloud did not stop: {e}"));
    assert!(processes.iter().all(|&p| !cubed_e2e::is_alive(p)), "{processes:?}");
}

/// cargo lambda watch gives the function 4096 MB: with a 2 GB allowed_mem
/// the handler runs two tasks of a batch at once (on two CPUs), with 3 GB one
/// at a time, and the task history records how many ran at once. The result
/// is the same either way (checked against the local runner).
fn tasks_run_at_once_when_the_function_has_memory_for_them(cloud: &LocalCloud) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let expr = "sum(sin(random((400, 400), chunks=(100, 100), seed=3)), axis=0)";
    let local = cloud.url("out/at-once-local.zarr");
    eval(cloud, expr, &["-o", &local]);
    for (allowed, want) in [("2GB", cpus.min(2)), ("3GB", 1)] {
        let (out, work) = (cloud.url(&format!("out/at-once-{allowed}.zarr")), cloud.url(&format!("work-at-once-{allowed}")));
        let mut cmd = cloud.cubed();
        cmd.args(["eval", expr, "-q", "--work-dir", &work, "-o", &out, "--allowed-mem", allowed, "--tasks-per-invocation", "4"]).args(LAMBDA);
        run(&mut cmd);
        assert_eq!(eval(cloud, "max(abs(x - y))", &["-i", &format!("x={out}"), "-i", &format!("y={local}")]), "0.0\n");
        let seen = run_python(
            r#"
import json, sys, boto3
endpoint, bucket, prefix = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"] if "/history/" in o["Key"] and o["Key"].endswith(".jsonl")]
events = [json.loads(l) for k in keys for l in s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode().splitlines()]
print(sorted({e["stats"]["at_once"] for e in events if e["op"] == "op-001" and e["stats"]}))
"#,
            [&cloud.s3_endpoint, &cloud.bucket, &format!("work-at-once-{allowed}/")],
        );
        assert_eq!(seen.trim(), format!("[{want}]"), "allowed_mem {allowed}: tasks at once in op-001's history\n{}", cloud.logs());
    }
}

/// moto implements Lambda's control plane: a function created there with 128 MB
/// makes the driver refuse a 2 GB plan before launch, saying what to set.
fn function_memory_below_allowed_mem_is_refused(cloud: &LocalCloud) {
    run_python(
        r#"
import io, sys, zipfile, boto3
endpoint = sys.argv[1]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
role = boto3.client("iam", **kw).create_role(RoleName="cubed-small", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("bootstrap", "")
boto3.client("lambda", **kw).create_function(FunctionName="cubed-small", Runtime="provided.al2023", Role=role,
    Handler="bootstrap", Code={"ZipFile": buf.getvalue()}, MemorySize=128)
"#,
        [&cloud.s3_endpoint],
    );
    let mut cmd = cloud.cubed();
    cmd.args(["eval", "sum(arange(10))", "-q", "--work-dir", &cloud.url("work"), "--runner", "lambda", "--function", "cubed-small"])
        .args(["--lambda-endpoint", &cloud.s3_endpoint]);
    let err = run_failing(&mut cmd);
    assert!(err.contains("has 128 MB of memory but allowed_mem is 2.00 GB") && err.contains("at least 1908 MB"), "{err}");
}

/// A user whose credentials are only in a named profile of `~/.aws` (no key
/// variables set, as with SSO or `aws configure --profile`): S3 and Lambda
/// both go through the AWS default credential chain, chosen by `--profile`
/// or `AWS_PROFILE`. Without the profile the run is refused, saying what to
/// set, and nothing is written.
fn credentials_only_in_a_profile(cloud: &LocalCloud) {
    let home = cubed_e2e::temp_dir("aws-home");
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(aws.join("credentials"), "[science]\naws_access_key_id = test\naws_secret_access_key = test\n").unwrap();
    std::fs::write(aws.join("config"), "[profile science]\nregion = us-east-1\n").unwrap();
    let profile_only = |cmd: &mut Command| {
        cmd.env("HOME", home.path()).env("AWS_EC2_METADATA_DISABLED", "true").env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1");
        for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
            cmd.env_remove(key);
        }
        for (k, v) in cloud.env.iter().filter(|(k, _)| k.starts_with("AWS_ENDPOINT_URL")) {
            cmd.env(k, v);
        }
    };
    let (a, out, env_out) = (cloud.url("profile/a.zarr"), cloud.url("profile/sum.zarr"), cloud.url("profile/sum-env.zarr"));
    eval(cloud, "arange(1000, chunks=100)", &["-o", &a]);
    let job = |output: &str| -> Vec<String> {
        ["eval", "sum(a * 2)", "-q", "--work-dir", &cloud.url("profile/work"), "-i", &format!("a={a}"), "-o", output].iter().map(|s| s.to_string()).chain(LAMBDA.iter().map(|s| s.to_string())).collect()
    };
    // --profile, then AWS_PROFILE.
    let mut cmd = cubed_e2e::cubed();
    profile_only(&mut cmd);
    run(cmd.arg("--profile").arg("science").args(job(&out)));
    let mut cmd = cubed_e2e::cubed();
    profile_only(&mut cmd);
    run(cmd.env("AWS_PROFILE", "science").args(job(&env_out)));
    let printed = eval(cloud, "(x, y)", &["-i", &format!("x={out}"), "-i", &format!("y={env_out}")]);
    assert_eq!(printed, format!("{0}\n{0}\n", 999 * 1000), "{}", cloud.logs());
    // No profile and no keys: refused before anything is written.
    let refused = cloud.url("profile/refused.zarr");
    let mut cmd = cubed_e2e::cubed();
    profile_only(&mut cmd);
    let err = run_failing(cmd.args(job(&refused)));
    assert!(err.contains("no AWS credentials") && err.contains("--profile"), "{err}");
    let mut read_back = cloud.cubed();
    read_back.args(["eval", "sum(x)", "-q", "--work-dir", &cloud.url("profile/work"), "-i", &format!("x={refused}")]);
    run_failing(&mut read_back);
}
