//! Batch runners: save a job, generate sequential / GNU parallel / SLURM
//! scripts, run partitions; on local files and on an S3 server.

use std::process::{Command, Stdio};
use std::time::Duration;

use cubed_e2e::{cubed, run, run_failing, temp_dir, LocalCloud};

/// Where arrays live and how to run `cubed` there.
struct Place {
    root: String,
    env: Vec<(String, String)>,
}

impl Place {
    fn cubed(&self) -> Command {
        let mut c = cubed();
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }
    fn url(&self, p: &str) -> String {
        format!("{}/{p}", self.root)
    }
    fn eval(&self, args: &[&str]) -> String {
        run(self.cubed().arg("eval").args(args).args(["-q", "--work-dir", &self.url("work")]))
    }
}

/// Saves `expr` as a job and returns its directory.
fn save_job(place: &Place, expr: &str, inputs: &[String], output: &str) -> String {
    let mut args = vec![expr, "-o", output, "--save-job"];
    for i in inputs {
        args.extend(["-i", i]);
    }
    place.eval(&args).trim().to_string()
}

fn script(place: &Place, runner: &str, job: &str, n: &str) -> String {
    run(place.cubed().args(["batch", "generate-script", "--runner", runner, job, n]))
}

/// Quadratic means and a rechunk, run by the sequential and the GNU parallel
/// scripts, equal the local runner's results.
fn scripts_match_the_local_runner(place: &Place, label: &str) {
    let (a, b) = (place.url("in/a.zarr"), place.url("in/b.zarr"));
    place.eval(&["random((900, 700), chunks=(100, 100), seed=1)", "-o", &a]);
    place.eval(&["random((900, 700), chunks=(100, 100), seed=2)", "-o", &b]);
    let inputs = [format!("a={a}"), format!("b={b}")];
    let dir = temp_dir(&format!("batch-{label}"));
    for (expr, name) in [("mean(a*a + b*b, axis=0)", "qm"), ("rechunk(a + b, (900, 7))", "rc")] {
        let reference = place.url(&format!("out/{name}-local.zarr"));
        place.eval(&[expr, "-i", &inputs[0], "-i", &inputs[1], "-o", &reference]);
        for runner in ["sequential", "gnu-parallel"] {
            let out = place.url(&format!("out/{name}-{runner}.zarr"));
            let job = save_job(place, expr, &inputs, &out);
            // Nothing is computed by saving a job.
            assert!(run_failing(place.cubed().args(["eval", "sum(x)", "-q", "-i", &format!("x={out}")])).contains("cannot open Zarr array"));
            let path = dir.path().join(format!("{name}-{runner}.sh"));
            std::fs::write(&path, script(place, runner, &job, "3")).unwrap();
            let mut sh = Command::new("bash");
            sh.arg(&path).envs(place.env.iter().map(|(k, v)| (k, v)));
            run(&mut sh);
            let diff = place.eval(&["max(abs(x - y))", "-i", &format!("x={out}"), "-i", &format!("y={reference}")]);
            assert_eq!(diff, "0.0\n", "{expr} via {runner} differs from the local runner");
            let status = run(place.cubed().args(["batch", "status", &job, "--partitions", "3"]));
            assert!(!status.contains("incomplete") && status.matches("complete").count() >= 2, "{status}");
            // Re-running a partition is idempotent: nothing is recomputed and the result is unchanged.
            run(place.cubed().args(["batch", "run-partition", &job, "op-001", "3", "1", "-q"]));
            let diff = place.eval(&["max(abs(x - y))", "-i", &format!("x={out}"), "-i", &format!("y={reference}")]);
            assert_eq!(diff, "0.0\n");
        }
    }
}

#[test]
fn batch_scripts_on_local_files() {
    let dir = temp_dir("batch-local");
    scripts_match_the_local_runner(&Place { root: dir.path().to_string_lossy().into_owned(), env: vec![] }, "local");
}

#[test]
fn batch_scripts_on_an_s3_server() {
    let cloud = LocalCloud::start("moto");
    scripts_match_the_local_runner(&Place { root: cloud.url("batch"), env: cloud.env.clone() }, "s3");
}

#[test]
fn a_killed_partition_rerun_completes_the_op_and_order_is_checked() {
    let dir = temp_dir("batch-kill");
    let place = Place { root: dir.path().to_string_lossy().into_owned(), env: vec![] };
    let a = place.url("a.zarr");
    place.eval(&["random((1000, 1000), chunks=(100, 100), seed=3)", "-o", &a]);
    let out = place.url("out.zarr");
    let job = save_job(&place, "sum(sqrt(a) + 1, axis=1)", &[format!("a={a}")], &out);
    // op-002 before op-001: a clear error naming the missing op.
    run(place.cubed().args(["batch", "run-partition", &job, "create-arrays", "1", "0"]));
    let err = run_failing(place.cubed().args(["batch", "run-partition", &job, "op-002", "2", "0"]));
    assert!(err.contains("op-002 reads the output of op-001, which is not complete"), "{err}");
    let err = run_failing(place.cubed().args(["batch", "run-partition", &job, "op-009", "2", "0"]));
    assert!(err.contains("unknown op 'op-009'"), "{err}");
    // Kill partition 0 of op-001 midway (slowed down so it is still running).
    let mut child = place
        .cubed()
        .env("CUBED_FAULTS", "slow=1x40")
        .args(["batch", "run-partition", &job, "op-001", "2", "0", "-q", "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    let status = run(place.cubed().args(["batch", "status", &job, "--partitions", "2"]));
    assert!(status.contains("incomplete partitions (of 2): 0 1"), "{status}");
    for i in ["0", "1"] {
        run(place.cubed().args(["batch", "run-partition", &job, "op-001", "2", i, "-q"]));
    }
    for i in ["0", "1"] {
        run(place.cubed().args(["batch", "run-partition", &job, "op-002", "2", i, "-q"]));
    }
    let want = place.eval(&["sum(sqrt(a) + 1, axis=1)", "-i", &format!("a={a}"), "-o", &place.url("ref.zarr")]);
    assert!(want.is_empty());
    let diff = place.eval(&["max(abs(x - y))", "-i", &format!("x={out}"), "-i", &format!("y={}", place.url("ref.zarr"))]);
    assert_eq!(diff, "0.0\n");
}

#[test]
fn the_slurm_script_chains_job_arrays() {
    let dir = temp_dir("batch-slurm");
    let place = Place { root: dir.path().to_string_lossy().into_owned(), env: vec![] };
    let expr = "x = random((8000, 3000), chunks=(1000, 1000), seed=1); (mean(x * x, axis=0), rechunk(x, (8000, 100)))";
    let out = place.eval(&[expr, "-o", &place.url("m.zarr"), "-o", &place.url("r.zarr"), "--save-job", &place.url("job")]);
    assert_eq!(out.trim(), place.url("job"));
    let s = script(&place, "slurm", &place.url("job"), "4");
    let path = dir.path().join("slurm.sh");
    std::fs::write(&path, &s).unwrap();
    run(Command::new("bash").arg("-n").arg(&path));
    let plan = run(place.cubed().args(["plan", expr]));
    let lines: Vec<&str> = s.lines().filter(|l| l.contains("sbatch")).collect();
    assert!(lines[0].starts_with("create_arrays=$(sbatch") && !lines[0].contains("--array"), "{s}");
    // One job array per op, each after create-arrays and after the ops it reads.
    let ops: Vec<&str> = plan.lines().filter(|l| l.starts_with("op-")).collect();
    assert_eq!(lines.len(), ops.len() + 1, "{s}\n{plan}");
    for (line, op) in lines[1..].iter().zip(&ops) {
        let cols: Vec<&str> = op.split_whitespace().collect();
        let (id, tasks): (&str, u64) = (cols[0], cols[2].parse().unwrap());
        let var = id.replace('-', "_");
        assert!(line.starts_with(&format!("{var}=$(sbatch")), "{line}");
        assert!(line.contains(&format!("--array=0-{}", tasks.min(4) - 1)), "{line}");
        assert!(line.contains("--dependency=afterok:$create_arrays"), "{line}");
        assert!(line.contains("--mem=2000M") && line.contains("--time="), "{line}");
        assert!(line.contains(&format!("run-partition \\\"$JOB\\\" {id} {} \\$SLURM_ARRAY_TASK_ID", tasks.min(4))), "{line}");
    }
    // The combine round waits for the first round.
    let combine_op = ops.iter().find(|l| l.contains("mean-combine")).unwrap().split_whitespace().next().unwrap();
    let combine = lines.iter().find(|l| l.contains(&format!("cubed-{combine_op} "))).unwrap();
    assert!(combine.contains(":$op_001"), "{combine}");
}
