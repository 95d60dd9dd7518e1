//! Checked sizes and empty arrays: shapes, chunk counts, byte sizes and task
//! counts that do not fit are plan-time errors naming the array (never a
//! panic, an abort or a wrong result); reductions and other operations on
//! zero-length arrays give numpy's result, checked with numpy and zarr-python.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use cubed::{DType, Output, PlanOptions};

/// 2^63: one more than cubed-rs's largest array in bytes, and than any axis.
const HUGE: u64 = 1 << 63;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A Zarr v3 array metadata file claiming `shape`, with no chunks written.
fn claimed_array(dir: &Path, shape: &[u64]) -> PathBuf {
    let array = dir.join("claimed.zarr");
    std::fs::create_dir_all(&array).unwrap();
    let meta = serde_json::json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": "float64",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1000, 1000]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0.0,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
    });
    std::fs::write(array.join("zarr.json"), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    array
}

#[test]
fn an_input_claiming_2_63_by_2_63_elements_is_refused_naming_it() {
    let w = temp("claimed");
    let a = claimed_array(&w, &[HUGE, HUGE]);
    let e = cubed::from_zarr(&spec(), path(&a)).unwrap_err().to_string();
    let want = format!(
        "array '{}' (an input): its Zarr metadata says shape [9223372036854775808, 9223372036854775808] has 8.5e37 elements of 8 bytes, more than cubed-rs can address (2^63 bytes)",
        a.display()
    );
    assert_eq!(e, want);
    // On the command line: refused before launch, and no output appears.
    let out = w.join("out.zarr");
    let (ok, _, err) = cubed(&["eval", "a + 1", "-i", &format!("a={}", a.display()), "-o", path(&out), "-q", "--work-dir", path(&w.join("work"))]);
    assert!(!ok && err.contains(&want), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_saved_plan_with_an_impossible_shape_or_task_count_is_refused() {
    let w = temp("tampered");
    let plan = w.join("plan.json");
    let out = w.join("out.zarr");
    let (ok, _, err) =
        cubed(&["eval", "zeros((4, 4), chunks=(2, 2)) + 1", "-o", path(&out), "--save-plan", path(&plan), "-q", "--work-dir", path(&w.join("work"))]);
    assert!(ok, "{err}");
    std::fs::remove_dir_all(&out).unwrap();
    let original: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let run = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut p = original.clone();
        edit(&mut p);
        let file = w.join("tampered.json");
        std::fs::write(&file, serde_json::to_vec(&p).unwrap()).unwrap();
        let (ok, _, err) = cubed(&["run", path(&file), "--workers", "1", "-q"]);
        assert!(!ok, "a tampered plan ran: {err}");
        assert!(!out.exists(), "a tampered plan wrote its output");
        err
    };
    let err = run(&|p| p["arrays"][0]["shape"] = serde_json::json!([HUGE, HUGE]));
    assert!(err.contains("array 'out-") && err.contains("shape [9223372036854775808, 9223372036854775808] has 8.5e37 elements"), "{err}");
    // Today's scheduler would allocate state for every task before running one.
    let err = run(&|p| p["ops"][0]["num_tasks"] = serde_json::json!(1_000_000_000_000u64));
    assert!(err.contains("op-001") && err.contains("1000000000000 tasks, more than MAX_TASKS_PER_OP (2097152)"), "{err}");
}

#[test]
fn creation_refuses_shapes_beyond_2_63_bytes() {
    let s = spec();
    let e = cubed::zeros(&s, &[1 << 32, 1 << 32], &[1000, 1000], DType::Float64).unwrap_err().to_string();
    assert_eq!(e, "zeros: shape [4294967296, 4294967296] has 1.8e19 elements of 8 bytes, more than cubed-rs can address (2^63 bytes)");
    let e = cubed::random(&s, &[1 << 62, 4], &[1 << 20, 4], 1, DType::Float32).unwrap_err().to_string();
    assert!(e.contains("random: shape [4611686018427387904, 4] has 1.8e19 elements of 4 bytes"), "{e}");
    let e = cubed::arange(&s, 0.0, 1e30, 1.0, 1000, DType::Float64).unwrap_err().to_string();
    assert!(e.contains("arange: 0 to 1000000000000000000000000000000 in steps of 1 has 1.0e30 elements"), "{e}");
    let e = cubed::asarray(&s, vec![], &[0, HUGE], &[1, 1], DType::Float64).unwrap_err().to_string();
    assert!(e.contains("asarray: shape [0, 9223372036854775808] has length 9223372036854775808 on axis 1"), "{e}");
    // A zero-length axis has no elements, but its chunks must still fit.
    let e = cubed::ones(&s, &[0, 1 << 40, 1 << 40], &[1, 1 << 40, 1 << 40], DType::Int32).unwrap_err().to_string();
    assert!(e.contains("chunks [1, 1099511627776, 1099511627776] have 1.2e24 elements of 4 bytes each"), "{e}");
}

#[test]
fn the_command_line_refuses_sums_of_arrays_too_large_to_address() {
    let w = temp("sum-huge");
    let (ok, _, err) = cubed(&["plan", "sum(zeros((4294967296, 4294967296), chunks=(1000, 1000)))", "--work-dir", path(&w)]);
    assert!(!ok && err.contains("shape [4294967296, 4294967296] has 1.8e19 elements"), "{err}");
}

#[test]
fn broadcasting_to_a_shape_too_large_is_refused_naming_the_operation() {
    let s = spec();
    let col = cubed::zeros(&s, &[1 << 32, 1], &[1 << 20, 1], DType::Float64).unwrap();
    let row = cubed::zeros(&s, &[1, 1 << 32], &[1, 1 << 20], DType::Float64).unwrap();
    let sum = cubed::add(&col, &row).unwrap();
    let e = cubed::build_plan(&[Output { array: sum, url: None }], &PlanOptions::default()).err().unwrap().to_string();
    assert!(e.contains("(the result of add): shape [4294967296, 4294967296] has 1.8e19 elements of 8 bytes"), "{e}");
}

#[test]
fn more_tasks_than_the_maximum_is_a_plan_time_error() {
    let w = temp("many-tasks");
    let out = w.join("out.zarr");
    let (ok, _, err) = cubed(&["eval", "zeros((1000000000000000000,), chunks=(1000,))", "-o", path(&out), "-q", "--work-dir", path(&w.join("work"))]);
    assert!(!ok, "{err}");
    assert!(err.contains("op-001 (blockwise ") && err.contains(", writing array 'out-"), "{err}");
    assert!(err.contains("shape [1000000000000000000] needs 1000000000000000 tasks (one per chunk [1000]), more than the 2097152 one op may have (MAX_TASKS_PER_OP); use larger chunks"), "{err}");
    assert!(!out.exists());
    // A reduction's first round counts too; with large enough chunks it plans.
    let s = spec();
    let a = cubed::zeros(&s, &[1 << 40], &[1 << 10], DType::Float64).unwrap();
    let e = cubed::build_plan(&[Output { array: cubed::sum(&a, &cubed::Reduce::all()).unwrap(), url: None }], &PlanOptions::default()).err().unwrap().to_string();
    assert!(e.contains("(reduce zeros+sum, writing array 'arr-") && e.contains("268435456 tasks"), "{e}");
    let a = cubed::zeros(&s, &[1 << 40], &[1 << 22], DType::Float64).unwrap();
    let built = cubed::build_plan(&[Output { array: cubed::sum(&a, &cubed::Reduce::all()).unwrap(), url: None }], &PlanOptions::default()).unwrap();
    assert!(built.plan.ops.iter().all(|op| op.num_tasks <= cubed_task::plan::MAX_TASKS_PER_OP));
}


/// Reads each output with zarr-python and compares it with a numpy expression
/// (shape, dtype and values, NaN equal to NaN). argv: (PATH NUMPY_EXPR)...
const CHECK: &str = r#"
import sys, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
failures = []
for out, expr in zip(*[iter(sys.argv[1:])] * 2):
    want = np.asarray(eval(expr))
    got = zarr.open_array(out, mode="r")
    values = np.asarray(got[...])
    if got.shape != want.shape or got.dtype != want.dtype:
        failures.append(f"{expr}: got {got.shape} {got.dtype}, numpy {want.shape} {want.dtype}")
    elif not np.array_equal(values, want, equal_nan=True):
        failures.append(f"{expr}: got {values!r}, numpy {want!r}")
assert not failures, "\n".join(failures)
print("ok", len(sys.argv[1:]) // 2)
"#;

/// Evaluates every `(expression, numpy expression)` case in one `cubed eval`
/// (with `extra` arguments), one output each under `w`, and checks each output
/// with zarr-python against numpy.
fn assert_matches_numpy(w: &Path, cases: &[(&str, &str)], extra: &[&str]) {
    let expr = format!("({},)", cases.iter().map(|c| c.0).collect::<Vec<_>>().join(", "));
    let mut args: Vec<String> = vec!["eval".into(), expr, "-q".into()];
    args.extend(extra.iter().map(|a| a.to_string()));
    let mut check = Vec::new();
    for (i, (_, numpy)) in cases.iter().enumerate() {
        let out = w.join(format!("out{i}.zarr"));
        args.extend(["-o".into(), path(&out).to_string()]);
        check.extend([path(&out).to_string(), numpy.to_string()]);
    }
    let (ok, _, err) = cubed(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{err}");
    let checked = python(CHECK, &check.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(checked.trim(), format!("ok {}", cases.len()));
}

#[test]
fn reductions_over_empty_axes_match_numpy() {
    let w = temp("empty-reduce");
    let cases = [
        ("sum(zeros((2, 0)), axis=1)", "np.sum(np.zeros((2, 0)), axis=1)"),
        ("mean(zeros((2, 0)), axis=1)", "np.mean(np.zeros((2, 0)), axis=1)"),
        ("sum(zeros((2, 0)))", "np.sum(np.zeros((2, 0)))"),
        ("mean(ones((0, 3), dtype=int64), axis=0)", "np.mean(np.ones((0, 3), dtype=np.int64), axis=0)"),
        ("sum(ones((0, 3), dtype=int32), axis=0)", "np.sum(np.ones((0, 3), dtype=np.int32), axis=0)"),
        ("sum(zeros((0, 100), chunks=(1, 1)), axis=(0, 1), split_every=2)", "np.sum(np.zeros((0, 100)))"),
        ("min(zeros((0, 3)), axis=1)", "np.min(np.zeros((0, 3)), axis=1)"),
        ("max(zeros((5, 0)), axis=0)", "np.max(np.zeros((5, 0)), axis=0)"),
    ];
    assert_matches_numpy(&w, &cases, &["--work-dir", path(&w.join("work"))]);
    // Printed like numpy too.
    let (ok, out, err) = cubed(&["eval", "(sum(zeros((2, 0)), axis=1), mean(zeros((3, 0))))", "-q", "--work-dir", path(&w.join("work"))]);
    assert!(ok, "{err}");
    assert_eq!(out, "[0.0, 0.0]\nNaN\n");
}

#[test]
fn min_and_max_over_an_empty_axis_are_plan_time_errors_as_in_numpy() {
    let s = spec();
    let a = cubed::zeros(&s, &[2, 0], &[2, 1], DType::Float64).unwrap();
    let e = cubed::min(&a, &cubed::Reduce::axis(&[1])).unwrap_err().to_string();
    assert_eq!(e, "min over axis 1 of an array of shape [2, 0]: zero-size array to reduction operation minimum which has no identity");
    let e = cubed::max(&a, &cubed::Reduce::all()).unwrap_err().to_string();
    assert!(e.contains("zero-size array to reduction operation maximum which has no identity"), "{e}");
    let w = temp("empty-min");
    let (ok, _, err) = cubed(&["eval", "max(zeros((2, 0)), axis=1)", "-q", "--work-dir", path(&w)]);
    assert!(!ok && err.contains("zero-size array to reduction operation maximum which has no identity"), "{err}");
}

#[test]
fn empty_arrays_are_written_computed_and_rechunked_as_numpy_gives_them() {
    let w = temp("empty-arrays");
    let work = w.join("work");
    let input = w.join("in.zarr");
    let (ok, _, err) = cubed(&["eval", "zeros((0, 3), chunks=(2, 2))", "-o", path(&input), "-q", "--work-dir", path(&work)]);
    assert!(ok, "{err}");
    let cases = [
        ("a", "np.zeros((0, 3))"),
        ("a * 2 + 1", "np.zeros((0, 3)) * 2 + 1"),
        ("sqrt(a) > 0", "np.sqrt(np.zeros((0, 3))) > 0"),
        ("rechunk(a, (1, 1))", "np.zeros((0, 3))"),
        ("rechunk(a + 1, (5, 3))", "np.zeros((0, 3)) + 1"),
        ("sum(a, axis=0)", "np.sum(np.zeros((0, 3)), axis=0)"),
        ("mean(a, axis=1)", "np.mean(np.zeros((0, 3)), axis=1)"),
        ("ones((0,)) + arange(0)", "np.ones((0,)) + np.arange(0)"),
    ];
    let input_arg = format!("a={}", input.display());
    assert_matches_numpy(&w, &cases, &["-i", &input_arg, "--work-dir", path(&work)]);
}

#[test]
fn a_rechunk_into_more_chunks_than_the_maximum_is_refused() {
    let s = spec();
    let url = data_url(&s, "ones");
    let ones = cubed::ones(&s, &[3_000_000], &[1_000_000], DType::Bool).unwrap();
    let built = cubed::build_plan(&[Output { array: ones, url: Some(url.clone()) }], &PlanOptions::default()).unwrap();
    let options = cubed::ComputeOptions { quiet: true, ..Default::default() };
    block_on(cubed::execute(built.plan, std::sync::Arc::new(cubed::LocalRunner::new(2)), &options)).unwrap();
    let a = cubed::from_zarr(&s, &url).unwrap();
    let tiny = cubed::rechunk(&a, &[1]).unwrap();
    let e = cubed::build_plan(&[Output { array: tiny, url: None }], &PlanOptions::default()).err().unwrap().to_string();
    assert!(e.contains("(rechunk, writing array 'arr-"), "{e}");
    assert!(e.contains("shape [3000000] in chunks [1] is 3000000 chunks, more than the 2097152 one array may have (MAX_TASKS_PER_OP)"), "{e}");
    // Into chunks of 2: 1.5 million, within the maximum.
    let built = cubed::build_plan(&[Output { array: cubed::rechunk(&a, &[2]).unwrap(), url: None }], &PlanOptions::default()).unwrap();
    assert_eq!(built.plan.arrays[built.outputs[0]].num_chunks(), 1_500_000);
}

#[test]
fn a_batch_job_claiming_too_many_tasks_is_refused_before_anything_runs() {
    let w = temp("batch-job");
    let job = w.join("job");
    let out = w.join("out.zarr");
    let (ok, _, err) = cubed(&["eval", "ones((4, 4), chunks=(2, 2)) * 3", "-o", path(&out), "--save-job", path(&job), "-q", "--work-dir", path(&w.join("work"))]);
    assert!(ok, "{err}");
    let file = job.join("plan.json");
    let mut plan: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    plan["ops"][0]["num_tasks"] = serde_json::json!(1_000_000_000_000u64);
    std::fs::write(&file, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    for args in [&["batch", "run-partition", path(&job), "create-arrays", "1", "0"][..], &["batch", "run-partition", path(&job), "op-001", "1", "0"]] {
        let (ok, _, err) = cubed(args);
        assert!(!ok && err.contains("1000000000000 tasks, more than MAX_TASKS_PER_OP (2097152)"), "{args:?}: {err}");
    }
    assert!(!out.exists());
}
