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
    let lines: Vec<&str> = s.lines().filter(|l| l.contains("=$(submit ")).collect();
    assert!(lines[0].starts_with("job_create_arrays=$(submit") && !lines[0].contains("--array"), "{s}");
    // One job array per op, each after create-arrays and after the ops it reads.
    let ops: Vec<&str> = plan.lines().filter(|l| l.starts_with("op-")).collect();
    assert_eq!(lines.len(), ops.len() + 1, "{s}\n{plan}");
    for (line, op) in lines[1..].iter().zip(&ops) {
        let cols: Vec<&str> = op.split_whitespace().collect();
        let (id, tasks): (&str, u64) = (cols[0], cols[2].parse().unwrap());
        let var = format!("job_{}", id.replace('-', "_"));
        assert!(line.starts_with(&format!("{var}=$(submit")), "{line}");
        assert!(line.contains(&format!("--array=0-{}", tasks.min(4) - 1)), "{line}");
        assert!(line.contains("\"--dependency=afterok:${job_create_arrays}"), "{line}");
        assert!(line.contains("--mem=2000M") && line.contains("--time="), "{line}");
        assert!(line.contains(&format!("run-partition {} {id} {} \"$SLURM_ARRAY_TASK_ID\"'", place.url("job"), tasks.min(4))), "{line}");
    }
    // The combine round waits for the first round.
    let combine_op = ops.iter().find(|l| l.contains("mean-combine")).unwrap().split_whitespace().next().unwrap();
    let combine = lines.iter().find(|l| l.contains(&format!("cubed-{combine_op} "))).unwrap();
    assert!(combine.contains(":${job_op_001}"), "{combine}");
}

/// A directory name with spaces, both quotes, `$(...)`, backticks, `;` and
/// GNU parallel's replacement strings (`{= perl =}`, `{#}`): legal, and
/// harmless once quoted.
const HOSTILE_DIR: &str = "j b 'q' \"d\" $(touch PWNED) `touch PWNED`; {= system(\"touch PWNED_PERL\") =} {#} x";

/// Panics when a file whose name starts with PWNED exists under `root`.
fn assert_nothing_ran(root: &std::path::Path) {
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            assert!(!entry.file_name().to_string_lossy().starts_with("PWNED"), "{} was created", entry.path().display());
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            }
        }
    }
}

#[test]
fn hostile_names_in_a_job_never_run_as_commands() {
    let dir = temp_dir("batch-hostile");
    let place = Place { root: dir.path().to_string_lossy().into_owned(), env: vec![] };
    let expr = "sum(sqrt(random((400, 300), chunks=(100, 100), seed=4)) + 1, axis=0)";
    let reference = place.url("ref.zarr");
    place.eval(&[expr, "-o", &reference]);
    // A legal but hostile job directory: the scripts run it correctly.
    for runner in ["sequential", "gnu-parallel"] {
        let out = place.url(&format!("{runner}.zarr"));
        let job = place.url(&format!("{HOSTILE_DIR} {runner}"));
        assert_eq!(place.eval(&[expr, "-o", &out, "--save-job", &job]).trim(), job);
        let path = dir.path().join(format!("{runner}.sh"));
        std::fs::write(&path, script(&place, runner, &job, "3")).unwrap();
        run(Command::new("bash").arg(&path).current_dir(dir.path()));
        let diff = place.eval(&["max(abs(x - y))", "-i", &format!("x={out}"), "-i", &format!("y={reference}")]);
        assert_eq!(diff, "0.0\n", "{runner} with job dir {job:?}");
    }
    // A hostile op id in the job's plan: refused, naming it and the allowed characters.
    let job = place.url("job");
    run(place.cubed().args(["eval", expr, "-q", "-o", &place.url("op.zarr"), "--work-dir", &place.url("work"), "--save-job", &job]));
    let plan_file = dir.path().join("job").join("plan.json");
    let plan = std::fs::read_to_string(&plan_file).unwrap();
    assert!(plan.contains("\"op-001\""), "{plan}");
    // Without the plan's digest (which would refuse the edit), so the op id itself is what must be refused.
    let mut plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    plan.as_object_mut().unwrap().remove("digest").expect("saved plans carry their digest");
    let plan = serde_json::to_string_pretty(&plan).unwrap();
    std::fs::write(&plan_file, plan.replace("\"op-001\"", "\"x 1 0 || touch PWNED ;#\"")).unwrap();
    for runner in ["sequential", "gnu-parallel", "slurm"] {
        let out = place.cubed().args(["batch", "generate-script", "--runner", runner, &job, "3"]).current_dir(dir.path()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.stdout.is_empty(), "{runner}: a script was printed\n{stderr}");
        assert!(
            stderr.contains(r#"op id "x 1 0 || touch PWNED ;#" of the job's plan cannot go into a script"#) && stderr.contains("[A-Za-z0-9_.-]"),
            "{runner}: {stderr}"
        );
    }
    assert_nothing_ran(dir.path());
}

#[test]
fn the_slurm_script_submits_exactly_the_partition_commands() {
    let dir = temp_dir("batch-slurm-hostile");
    let place = Place { root: dir.path().to_string_lossy().into_owned(), env: vec![] };
    let expr = "mean(random((4000, 300), chunks=(500, 100), seed=5), axis=0)";
    let job = place.eval(&[expr, "-o", &place.url("m.zarr"), "--save-job", &place.url(HOSTILE_DIR)]).trim().to_string();
    assert_eq!(job, place.url(HOSTILE_DIR));
    // A fake sbatch that records its arguments and answers JOBID;CLUSTER, and
    // a fake cubed (in a directory with a space) that records its own.
    let fake = dir.path().join("fake bin");
    std::fs::create_dir_all(&fake).unwrap();
    let sbatch = "#!/usr/bin/env bash\nn=$(( $(cat \"$FAKE_LOG/count\" 2>/dev/null || echo 100) + 1 ))\necho \"$n\" >\"$FAKE_LOG/count\"\nprintf '%s\\0' \"$@\" >\"$FAKE_LOG/sbatch-$n\"\necho \"$n;cluster\"\n";
    let cubed = "#!/usr/bin/env bash\nprintf '%s\\0' \"$@\" >\"$FAKE_LOG/cubed-argv\"\n";
    for (name, text) in [("sbatch", sbatch), ("cubed", cubed)] {
        std::fs::write(fake.join(name), text).unwrap();
        run(Command::new("chmod").arg("755").arg(fake.join(name)));
    }
    let log = dir.path().join("log");
    std::fs::create_dir_all(&log).unwrap();
    let fake_cubed = fake.join("cubed").to_string_lossy().into_owned();
    let s = run(place.cubed().args(["batch", "generate-script", "--runner", "slurm", &job, "3", "--cubed-bin", &fake_cubed]));
    let path = dir.path().join("slurm.sh");
    std::fs::write(&path, &s).unwrap();
    run(Command::new("bash").arg("-n").arg(&path));
    let path_env = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap());
    let printed = run(Command::new("bash").arg(&path).env("PATH", &path_env).env("FAKE_LOG", &log).current_dir(dir.path()));
    let read_args = |file: &std::path::Path| -> Vec<String> {
        let text = String::from_utf8(std::fs::read(file).unwrap()).unwrap();
        text.trim_end_matches('\0').split('\0').map(String::from).collect()
    };
    // What each sbatch received; its --wrap run as sbatch does (sh -c), for
    // every index of its array, calls cubed with exactly the partition's arguments.
    let plan = run(place.cubed().args(["plan", expr]));
    let ops: Vec<(String, u64)> = plan
        .lines()
        .filter(|l| l.starts_with("op-"))
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[0].to_string(), cols[2].parse().unwrap())
        })
        .collect();
    let steps: Vec<(String, u64)> = std::iter::once(("create-arrays".to_string(), 1)).chain(ops).collect();
    for (k, (op, tasks)) in steps.iter().enumerate() {
        let args = read_args(&log.join(format!("sbatch-{}", 101 + k)));
        let value = |flag: &str| args.iter().find_map(|a| a.strip_prefix(flag)).map(String::from);
        assert_eq!(args[0], "--parsable", "{args:?}");
        assert_eq!(value("--job-name="), Some(format!("cubed-{op}")), "{args:?}");
        let wrap = &args[args.iter().position(|a| a == "--wrap").expect("--wrap") + 1];
        let parts = (*tasks).min(3);
        let indices: Vec<u64> = if k == 0 {
            assert_eq!(value("--array="), None);
            vec![0]
        } else {
            assert_eq!(value("--array="), Some(format!("0-{}", parts - 1)), "{args:?}");
            let deps = value("--dependency=afterok:").expect("a dependency");
            assert!(deps.split(':').all(|d| d.parse::<u64>().is_ok_and(|d| (101..101 + k as u64).contains(&d))) && deps.starts_with("101"), "{deps}");
            (0..parts).collect()
        };
        for i in indices {
            let _ = std::fs::remove_file(log.join("cubed-argv"));
            run(Command::new("sh").arg("-c").arg(wrap).env("SLURM_ARRAY_TASK_ID", i.to_string()).env("FAKE_LOG", &log).current_dir(dir.path()));
            assert_eq!(
                read_args(&log.join("cubed-argv")),
                ["batch", "run-partition", &job, op, &parts.to_string(), &i.to_string()],
                "the --wrap of {op}: {wrap}"
            );
        }
    }
    assert!(!log.join(format!("sbatch-{}", 101 + steps.len())).exists(), "one sbatch per step");
    assert!(printed.starts_with("submitted: create-arrays 101, op-001 102"), "{printed}");
    assert_nothing_ran(dir.path());
}
