//! Helpers shared by the driver's integration tests: compute arrays on the
//! local runner into an in-memory work dir and read results back as ndarrays.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cubed::{Array, ComputeOptions, LocalRunner, Output, PlanOptions, Spec};
use cubed_task::storage::{read_region, StoreUrl};
use cubed_task::LoadedPlan;
use ndarray::{ArrayD, IxDyn};

/// Runs the `cubed` binary (instance metadata off, as in every test); returns
/// success, stdout and stderr.
pub fn cubed(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cubed"))
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1")
        .output()
        .expect("cubed runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs a script with the venv python (numpy, zarr-python 3); returns its
/// stdout, failing the test with its output when it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/python-env.sh", python.display());
    let out = std::process::Command::new(python).arg("-c").arg(script).args(args).output().expect("python runs");
    assert!(out.status.success(), "python failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh, empty directory under the system temp dir for one test.
pub fn temp(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cubed-test-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A spec with a fresh `memory://` work dir.
pub fn spec() -> Spec {
    static N: AtomicU64 = AtomicU64::new(0);
    Spec::new(format!("memory://test-{}/work", N.fetch_add(1, Ordering::Relaxed)))
}

/// A URL for user data beside (not inside) the spec's work dir.
pub fn data_url(spec: &Spec, name: &str) -> String {
    format!("{}/data/{name}", spec.work_dir.trim_end_matches("/work"))
}

/// One tokio runtime per call (tests run in parallel threads).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(f)
}

/// Computes `arrays` and returns each as f64 values.
pub fn compute(arrays: &[&Array]) -> Vec<ArrayD<f64>> {
    let outputs: Vec<Output> = arrays.iter().map(|a| Output { array: (*a).clone(), url: None }).collect();
    let built = cubed::build_plan(&outputs, &PlanOptions::default()).expect("plan builds");
    let plan = built.plan.clone();
    let options = ComputeOptions { quiet: true, ..Default::default() };
    block_on(cubed::execute(built.plan, Arc::new(LocalRunner::new(2)), &options)).expect("computes");
    let lp = LoadedPlan::new(plan.clone());
    built.outputs.iter().map(|&id| read_all(lp.url(id), &plan.arrays[id])).collect()
}

/// Reads a whole array written by a plan.
pub fn read_all(url: &str, meta: &cubed_task::plan::ArrayMeta) -> ArrayD<f64> {
    let array = StoreUrl::parse(url).unwrap().open_array(url).unwrap();
    let region: Vec<(u64, u64)> = meta.shape.iter().map(|&s| (0, s)).collect();
    let data = read_region(&array, meta.dtype, &meta.chunks, &region).unwrap();
    let shape: Vec<usize> = meta.shape.iter().map(|&s| s as usize).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data.to_f64_vec()).unwrap()
}

/// Deterministic pseudo-random values in [0, 1) (independent of cubed's generator).
pub fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// A small array embedded in the plan, and the same data as an ndarray.
pub fn input(spec: &Spec, shape: &[usize], chunks: &[u64], seed: u64) -> (Array, ArrayD<f64>) {
    let n = shape.iter().product();
    let v = values(n, seed);
    let shape64: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
    let a = cubed::asarray(spec, v.clone(), &shape64, chunks, cubed::DType::Float64).unwrap();
    (a, ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

/// The same data written to a Zarr array in the work dir and opened with `from_zarr`
/// (so ops read stored chunks, as with real inputs).
pub fn stored_input(spec: &Spec, shape: &[usize], chunks: &[u64], seed: u64) -> (Array, ArrayD<f64>) {
    static N: AtomicU64 = AtomicU64::new(0);
    let (a, reference) = input(spec, shape, chunks, seed);
    let url = data_url(spec, &format!("input-{}", N.fetch_add(1, Ordering::Relaxed)));
    let built = cubed::build_plan(&[Output { array: a, url: Some(url.clone()) }], &PlanOptions::default()).unwrap();
    let options = ComputeOptions { quiet: true, ..Default::default() };
    block_on(cubed::execute(built.plan, Arc::new(LocalRunner::new(2)), &options)).unwrap();
    (cubed::from_zarr(spec, &url).unwrap(), reference)
}

/// Asserts two arrays have the same shape and values within a relative tolerance.
pub fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-9 * w.abs().max(1.0);
        assert!(ok, "{what}: element {i}: got {g}, want {w}");
    }
}
