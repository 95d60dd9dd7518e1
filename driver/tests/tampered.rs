//! Plans are validated, not trusted: `cubed run` re-derives task counts,
//! grids, kernel references and projected memory, and refuses a plan that
//! disagrees before writing anything.

mod common;

use std::path::Path;

use common::{cubed, temp};
use serde_json::{json, Value};

/// The op whose kind is `kind` in a plan.
fn op<'a>(plan: &'a mut Value, kind: &str) -> &'a mut Value {
    plan["ops"].as_array_mut().unwrap().iter_mut().find(|o| o["kind"]["kind"] == kind).unwrap_or_else(|| panic!("no {kind} op"))
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.map(|e| e.unwrap().path()).map(|p| if p.is_dir() { files_under(&p) } else { 1 }).sum())
}

#[test]
fn tampered_plans_are_refused_before_anything_is_written() {
    let w = temp("plans");
    let work = w.join("work");
    // A stored input, then a reduction with rounds, a rechunk and a blockwise op reading it.
    let input = w.join("in.zarr");
    let (ok, _, err) = cubed(&["eval", "random((40, 30), chunks=(5, 10), seed=3)", "-o", input.to_str().unwrap(), "-q", "--work-dir", work.to_str().unwrap()]);
    assert!(ok, "{err}");
    let outs = ["m.zarr", "r.zarr", "b.zarr"];
    let plan_file = w.join("plan.json");
    let mut args: Vec<String> = ["eval", "(sum(x * x, axis=0, split_every=2), rechunk(x, (40, 1)), where(x > 0.5, x, 0.0))", "-i", &format!("x={}", input.display())]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for o in outs {
        args.extend(["-o".into(), w.join(o).display().to_string()]);
    }
    args.extend(["-q", "--work-dir", work.to_str().unwrap(), "--save-plan", plan_file.to_str().unwrap()].iter().map(|s| s.to_string()));
    // Only save the plan: --save-job computes nothing.
    args.extend(["--save-job".to_string(), w.join("job").display().to_string()]);
    let (ok, _, err) = cubed(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{err}");
    let original: Value = serde_json::from_slice(&std::fs::read(&plan_file).unwrap()).unwrap();
    // The untouched plan runs (a control for the variants below).
    let (ok, _, err) = cubed(&["run", plan_file.to_str().unwrap(), "-q"]);
    assert!(ok, "{err}");
    for o in outs {
        std::fs::remove_dir_all(w.join(o)).unwrap();
    }

    type Tamper = fn(&mut Value);
    let cases: Vec<(&str, Tamper, &str)> = vec![
        ("num_tasks", |p| op(p, "reduce")["num_tasks"] = json!(1), "claims 1 tasks but its output needs"),
        ("split_every", |p| op(p, "reduce")["kind"]["split_every"] = json!(1), "split_every is 1"),
        ("zero copy region", |p| op(p, "copy")["kind"]["region"] = json!([0, 1]), "region"),
        ("copy region not whole chunks", |p| {
            // Consistent task count, so that the region itself is what is wrong.
            op(p, "copy")["kind"]["region"] = json!([20, 1]);
            op(p, "copy")["num_tasks"] = json!(60);
        }, "whole number of output chunks"),
        ("projected_mem 0", |p| op(p, "blockwise")["projected_mem"] = json!(0), "claims a projected memory of 0 B per task"),
        ("kernel input", |p| op(p, "reduce")["kind"]["kernel"] = json!({"node": "input", "input": 5}), "its kernel reads input 5"),
        ("reduce domain", |p| op(p, "reduce")["kind"]["domain_shape"] = json!([40, 31]), "does not broadcast"),
        ("reduce axes", |p| op(p, "reduce")["kind"]["axes"] = json!([1]), "gives shape"),
        ("output shape", |p| {
            let out = op(p, "blockwise")["output"].as_u64().unwrap() as usize;
            p["arrays"][out]["shape"] = json!([40, 60]);
        }, "claims 24 tasks but its output needs 48"),
    ];
    let mut refused = 0;
    for (what, tamper, expected) in cases {
        let mut plan = original.clone();
        // Without its digest (as someone rewriting the plan would leave it), so
        // that re-derivation is what must catch the change.
        plan.as_object_mut().unwrap().remove("digest");
        tamper(&mut plan);
        let file = w.join(format!("tampered-{}.json", what.replace(' ', "-")));
        std::fs::write(&file, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
        let (ok, _, err) = cubed(&["run", file.to_str().unwrap(), "-q"]);
        assert!(!ok, "{what}: a tampered plan ran");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(err.contains(expected), "{what}: expected '{expected}' in:\n{err}");
        for o in outs {
            assert_eq!(files_under(&w.join(o)), 0, "{what}: {o} was written");
        }
        refused += 1;
    }
    assert_eq!(refused, 9);

    // A saved plan carries its digest: any change to it, even a harmless-looking one, is refused.
    let mut plan = original.clone();
    op(&mut plan, "blockwise")["fused"] = json!(["renamed"]);
    let file = w.join("tampered-digest.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    let (ok, _, err) = cubed(&["run", file.to_str().unwrap(), "-q"]);
    assert!(!ok && err.contains("the plan was changed after it was saved"), "{err}");
}
