//! The `cubed` command line: printing results, saving and re-running plans,
//! and clear errors for bad input.

mod common;

use common::{cubed, temp};

#[test]
fn eval_prints_small_results() {
    let w = temp("print");
    let (ok, out, err) = cubed(&["eval", "(sum(arange(10)), mean(asarray(((1, 2), (3, 4))), axis=0) * 2, arange(3) > 0)", "-q", "--work-dir", w.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(out, "45\n[4.0, 6.0]\n[False, True, True]\n");
}

#[test]
fn saved_plans_run_again_and_write_the_output() {
    let w = temp("save");
    let plan = w.join("plan.json");
    let out = w.join("out.zarr");
    let work = w.join("work");
    let work = work.to_str().unwrap();
    let setup = "x = random((300, 200), chunks=(64, 50), seed=4)";
    let expr = format!("{setup}; mean(x * x, axis=1)");
    let (ok, _, err) = cubed(&["eval", &expr, "-o", out.to_str().unwrap(), "--save-plan", plan.to_str().unwrap(), "-q", "--work-dir", work]);
    assert!(ok, "{err}");
    let json = std::fs::read_to_string(&plan).unwrap();
    assert!(json.contains("\"version\": 3") && json.contains("\"reduce\""), "{json}");
    std::fs::remove_dir_all(&out).unwrap();
    let (ok, _, err) = cubed(&["run", plan.to_str().unwrap(), "--workers", "1"]);
    assert!(ok, "{err}");
    assert!(err.contains("op-001") && err.contains("projected") && err.contains("measured"), "summary expected:\n{err}");
    assert!(out.join("zarr.json").exists());
    // The re-run output reads back with the same values as a direct evaluation.
    let (_, direct, _) = cubed(&["eval", &format!("{setup}; sum(mean(x * x, axis=1))"), "-q", "--work-dir", work]);
    let (_, from_file, _) = cubed(&["eval", "sum(m)", "-i", &format!("m={}", out.display()), "-q", "--work-dir", work]);
    assert!(!direct.is_empty());
    assert_eq!(direct, from_file);
}

#[test]
fn plan_shows_ops_tasks_memory_and_fusion() {
    let (ok, out, err) = cubed(&["plan", "x = random((20000, 20000), chunks=(2000, 2000), seed=1); mean(x*x, axis=0)"]);
    assert!(ok, "{err}");
    assert!(out.contains("op-001") && out.contains("reduce") && out.contains("random + multiply + mean"), "{out}");
    assert!(out.contains("projected"), "{out}");
    let (ok, out, err) = cubed(&["plan", "sqrt(random((20000, 20000), chunks=(20000, 20000)))", "--allowed-mem", "1GB"]);
    assert!(ok, "{err}");
    assert!(out.contains("OVER BUDGET") && err.contains("would be refused"), "{out}\n{err}");
}

#[test]
fn bad_input_gives_clear_errors_and_no_panic() {
    let cases: &[(&[&str], &str)] = &[
        (&["eval", "mean(a*a"], "column 9"),
        (&["eval", "mean(a)", "-i", "a=/no/such/array.zarr"], "input 'a': cannot open Zarr array at '/no/such/array.zarr'"),
        (&["eval", "mean(a)", "-i", "a"], "expected NAME=URL"),
        (&["eval", "(sum(arange(3)), sum(arange(4)))", "-o", "/tmp/x.zarr"], "2 result(s) but 1 --output"),
        (&["eval", "sqrt(random((20000, 20000), chunks=(20000, 20000)))", "--allowed-mem", "1GB", "-o", "/tmp/never.zarr"], "exceeds allowed_mem"),
        (&["eval", "arange(3)", "--allowed-mem", "2 parsecs"], "bad size unit"),
        (&["eval", "arange(3)", "--codec", "lz77"], "unknown codec 'lz77'"),
        (&["run", "/no/such/plan.json"], "cannot read plan file"),
    ];
    for (args, expected) in cases {
        let (ok, _, err) = cubed(args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(expected), "{args:?}: expected '{expected}' in:\n{err}");
        assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    }
}

#[test]
fn deep_expressions_are_refused_clearly_or_give_plans_every_reader_takes_back() {
    let w = temp("deep");
    let work = w.join("work");
    let work = work.to_str().unwrap();
    // 10,000 terms in one expression: a clear error, not a stack overflow.
    let long = format!("ones((2,)){}", " + 1".repeat(10_000));
    let (ok, _, err) = cubed(&["eval", &long, "-q", "--work-dir", work]);
    assert!(!ok && err.contains("expression is nested too deeply") && err.lines().all(|l| l.len() < 300), "{}", &err[..err.len().min(2000)]);
    // Just below the limit, and 10,000 chained bindings: saved plans and jobs read back.
    let cases = [
        (format!("ones((2,)){}", " + 1".repeat(95)), "[96.0, 96.0]"),
        (format!("x = ones((2,), chunks=(1,)); {} x", "x = x + 1;".repeat(10_000)), "[10001.0, 10001.0]"),
    ];
    for (i, (expr, want)) in cases.iter().enumerate() {
        let plan = w.join(format!("plan{i}.json"));
        let (ok, out, err) = cubed(&["eval", expr, "-q", "--work-dir", work, "--save-plan", plan.to_str().unwrap()]);
        assert!(ok, "{}", &err[..err.len().min(2000)]);
        assert_eq!(out.trim(), *want);
        let out_zarr = w.join(format!("out{i}.zarr"));
        let (ok, _, err) = cubed(&["run", plan.to_str().unwrap(), "-q"]);
        assert!(ok, "cubed run: {err}");
        let job = w.join(format!("job{i}"));
        let (ok, _, err) = cubed(&["eval", expr, "-o", out_zarr.to_str().unwrap(), "-q", "--work-dir", work, "--save-job", job.to_str().unwrap()]);
        assert!(ok, "save-job: {err}");
        let (ok, out, err) = cubed(&["batch", "status", job.to_str().unwrap()]);
        assert!(ok && out.contains("op-001"), "batch status: {out}{err}");
    }
}
