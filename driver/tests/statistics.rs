//! The statistical functions against numpy 2 (the test venv's): every
//! reduction and scan over several axes, with and without keepdims, on
//! awkward chunkings (chunks that do not divide the shape, a size-1 axis,
//! 3-d, `split_every=2` so that there are several rounds), with NaN, ties and
//! empty axes. Results are computed on the local runner; numpy computes the
//! same from the same values. Types must equal numpy's, integers and bools
//! exactly, float64 within 1e-12 and float32 within 1e-5 (relative), NaN
//! where numpy has NaN.

mod common;

use std::collections::HashMap;

use common::*;
use cubed::{Array, Cumulative, DType, Reduce, Spec};

/// An input: the array and the values numpy builds it from.
struct Input {
    array: Array,
    values: Vec<f64>,
    dtype: DType,
}

/// A result and the numpy expression (over `x`, input number `input`) that gives it.
struct Case {
    label: String,
    array: Array,
    numpy: String,
    input: usize,
}

/// Builds inputs and cases; [`Cases::check`] computes them all in one plan and compares.
struct Cases {
    spec: Spec,
    inputs: Vec<Input>,
    cases: Vec<Case>,
}

impl Cases {
    fn new() -> Cases {
        Cases { spec: spec(), inputs: vec![], cases: vec![] }
    }

    /// Adds an input of `values` (cast to `dtype`, as numpy's `astype`).
    fn input(&mut self, values: Vec<f64>, shape: &[u64], chunks: &[u64], dtype: DType) -> usize {
        let array = cubed::asarray(&self.spec, values.clone(), shape, chunks, DType::Float64).and_then(|a| cubed::astype(&a, dtype)).unwrap();
        self.inputs.push(Input { array, values, dtype });
        self.inputs.len() - 1
    }

    fn x(&self, input: usize) -> &Array {
        &self.inputs[input].array
    }

    fn add(&mut self, input: usize, label: String, array: cubed::Result<Array>, numpy: String) {
        let array = array.unwrap_or_else(|e| panic!("{label}: {e}"));
        self.cases.push(Case { label, array, numpy, input });
    }

    /// Every reduction of `funcs` over each of `axes`, with keepdims and in
    /// rounds of 2, and without keepdims at the default fan-in.
    fn reductions(&mut self, input: usize, funcs: &[&str], axes: &[Option<Vec<i64>>]) {
        for axis in axes {
            for (keepdims, split_every) in [(false, Some(2)), (true, None), (false, None)] {
                let opts = Reduce { axis: axis.clone(), keepdims, split_every };
                for &f in funcs {
                    if f.contains("arg") && axis.as_ref().is_some_and(|a| a.len() != 1) {
                        continue;
                    }
                    let label = format!("{f}(input {input}, axis={axis:?}, keepdims={keepdims}, split_every={split_every:?})");
                    let numpy = numpy_reduction(f, axis, keepdims);
                    let array = reduce(f, self.x(input), &opts);
                    self.add(input, label, array, numpy);
                }
            }
        }
    }

    /// `cumulative_sum` and `cumulative_prod` along each of `axes`, with and without `include_initial`.
    fn scans(&mut self, input: usize, axes: &[i64], dtype: Option<DType>) {
        for &axis in axes {
            for include_initial in [false, true] {
                let opts = Cumulative { axis: Some(axis), dtype, include_initial };
                for (name, f) in [("cumulative_sum", cubed::cumulative_sum as fn(&Array, &Cumulative) -> cubed::Result<Array>), ("cumulative_prod", cubed::cumulative_prod)] {
                    let dt = dtype.map_or("None".to_string(), |d| format!("'{d}'"));
                    let numpy = format!("np.{name}(x, axis={axis}, dtype={dt}, include_initial={})", py_bool(include_initial));
                    let array = f(self.x(input), &opts);
                    self.add(input, format!("{name}(input {input}, {opts:?})"), array, numpy);
                }
            }
        }
    }

    /// Computes every case in one plan and checks it with numpy.
    fn check(self) {
        let arrays: Vec<&Array> = self.cases.iter().map(|c| &c.array).collect();
        let got = compute(&arrays);
        let text = |v: &[f64]| v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>();
        let inputs: Vec<serde_json::Value> = self
            .inputs
            .iter()
            .map(|i| serde_json::json!({"values": text(&i.values), "shape": i.array.shape(), "dtype": i.dtype.name()}))
            .collect();
        let cases: Vec<serde_json::Value> = self
            .cases
            .iter()
            .zip(&got)
            .map(|(c, g)| {
                let values: Vec<f64> = g.iter().copied().collect();
                serde_json::json!({"label": c.label, "numpy": c.numpy, "input": c.input, "values": text(&values), "shape": g.shape(), "dtype": c.array.dtype().name()})
            })
            .collect();
        let dir = temp(&format!("statistics-{}", self.cases.len()));
        let file = dir.join("cases.json");
        std::fs::write(&file, serde_json::to_vec(&serde_json::json!({"inputs": inputs, "cases": cases})).unwrap()).unwrap();
        let checked = python(CHECK, &[file.to_str().unwrap()]);
        assert_eq!(checked.trim(), format!("ok {}", self.cases.len()));
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// numpy's spelling of an axis argument.
fn np_axis(axis: &Option<Vec<i64>>) -> String {
    match axis.as_deref() {
        None => "None".into(),
        Some([k]) => k.to_string(),
        Some(ks) => format!("({},)", ks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// The numpy call of reduction `f` (variances with `ddof=1`).
fn numpy_reduction(f: &str, axis: &Option<Vec<i64>>, keepdims: bool) -> String {
    let ddof = if f.ends_with("var") || f.ends_with("std") { ", ddof=1" } else { "" };
    format!("np.{f}(x, axis={}, keepdims={}{ddof})", np_axis(axis), py_bool(keepdims))
}

/// Reduction `f` through the Rust API (variances with `correction=1`).
fn reduce(f: &str, x: &Array, o: &Reduce) -> cubed::Result<Array> {
    match f {
        "sum" => cubed::sum(x, o),
        "prod" => cubed::prod(x, o),
        "mean" => cubed::mean(x, o),
        "min" => cubed::min(x, o),
        "max" => cubed::max(x, o),
        "var" => cubed::var(x, 1.0, o),
        "std" => cubed::std(x, 1.0, o),
        "argmax" => cubed::argmax(x, o),
        "argmin" => cubed::argmin(x, o),
        "any" => cubed::any(x, o),
        "all" => cubed::all(x, o),
        "count_nonzero" => cubed::count_nonzero(x, o),
        "nansum" => cubed::nansum(x, o),
        "nanprod" => cubed::nanprod(x, o),
        "nanmean" => cubed::nanmean(x, o),
        "nanvar" => cubed::nanvar(x, 1.0, o),
        "nanstd" => cubed::nanstd(x, 1.0, o),
        "nanmin" => cubed::nanmin(x, o),
        "nanmax" => cubed::nanmax(x, o),
        "nanargmin" => cubed::nanargmin(x, o),
        "nanargmax" => cubed::nanargmax(x, o),
        other => panic!("no reduction {other}"),
    }
}

const ALL: &[&str] = &[
    "sum", "prod", "mean", "min", "max", "var", "std", "argmax", "argmin", "any", "all", "count_nonzero", "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax", "nanargmin",
    "nanargmax",
];

/// Reads the cases (argv[1], JSON), computes each numpy expression over its
/// input and compares; prints `ok N` or exits with every mismatch.
const CHECK: &str = r#"
import sys, json, warnings
import numpy as np
warnings.simplefilter("ignore")
spec = json.load(open(sys.argv[1]))
def array(d):
    return np.array([float(v) for v in d["values"]]).astype(d["dtype"]).reshape(d["shape"])
inputs = [array(i) for i in spec["inputs"]]
failures = []
for c in spec["cases"]:
    x = inputs[c["input"]]
    what = f'{c["label"]} vs numpy `{c["numpy"]}`'
    try:
        want = np.asarray(eval(c["numpy"]))
    except Exception as e:
        failures.append(f"{what}: numpy raised {type(e).__name__}: {e}")
        continue
    got = array(c)
    if got.dtype != want.dtype or got.shape != want.shape:
        failures.append(f"{what}: got {got.dtype} {got.shape}, numpy {want.dtype} {want.shape}")
    elif want.dtype.kind in "biu":
        if not np.array_equal(got, want):
            failures.append(f"{what}: got {got!r}, numpy {want!r}")
    else:
        rtol = 1e-5 if want.dtype == np.float32 else 1e-12
        if not np.allclose(got, want, rtol=rtol, atol=0, equal_nan=True):
            failures.append(f"{what}: got {got!r}, numpy {want!r}")
if failures:
    sys.exit(f"{len(failures)} of {len(spec['cases'])} differ from numpy:\n" + "\n".join(failures))
print("ok", len(spec["cases"]))
"#;


/// `n` values in [0, 1) rounded to eighths (exact sums, and ties for arg reductions).
fn eighths(n: usize, seed: u64) -> Vec<f64> {
    values(n, seed).into_iter().map(|v| (v * 8.0).floor() / 8.0).collect()
}

fn axes(list: &[&[i64]]) -> Vec<Option<Vec<i64>>> {
    std::iter::once(None).chain(list.iter().map(|a| Some(a.to_vec()))).collect()
}

#[test]
fn reductions_of_a_3d_float64_array_match_numpy() {
    let mut c = Cases::new();
    let x = c.input(eighths(105, 1), &[5, 7, 3], &[2, 3, 2], DType::Float64);
    c.reductions(x, ALL, &axes(&[&[0], &[-1], &[1], &[0, 2], &[0, 1, 2]]));
    c.check();
}

#[test]
fn reductions_with_nan_match_numpy() {
    let mut c = Cases::new();
    // NaN scattered, and the last column all NaN (nanmin gives NaN, nanmean NaN, nansum 0).
    let v: Vec<f64> = values(30, 2).into_iter().enumerate().map(|(i, v)| if i % 7 == 3 || i % 5 == 4 { f64::NAN } else { v }).collect();
    let x = c.input(v, &[6, 5], &[4, 2], DType::Float64);
    let no_arg: Vec<&str> = ALL.iter().copied().filter(|f| !f.starts_with("nanarg")).collect();
    c.reductions(x, &no_arg, &axes(&[&[0], &[1], &[-2, -1]]));
    // Rows all have values: nanargmin / nanargmax over axis 1 work.
    c.reductions(x, &["nanargmin", "nanargmax"], &[Some(vec![1])]);
    // float32 with a NaN: NaN propagates (or is skipped), results stay float32.
    let mut v = values(24, 3);
    v[7] = f64::NAN;
    let x32 = c.input(v, &[8, 3], &[3, 2], DType::Float32);
    c.reductions(x32, ALL, &axes(&[&[0], &[1]]));
    c.check();
}

#[test]
fn reductions_of_integers_bools_and_size_1_axes_match_numpy() {
    let mut c = Cases::new();
    // Small integers with many ties and negative values.
    let ints: Vec<f64> = (0..36).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
    let xi = c.input(ints, &[9, 4], &[4, 3], DType::Int32);
    c.reductions(xi, ALL, &axes(&[&[0], &[1]]));
    let xu = c.input((0..10).map(|i| (i % 5 + 1) as f64).collect(), &[10], &[3], DType::Uint8);
    c.reductions(xu, &["sum", "prod", "mean", "var", "argmax", "count_nonzero", "nanprod", "min"], &axes(&[&[0]]));
    let bools: Vec<f64> = (0..20).map(|i| f64::from(u8::from(i % 3 != 0 && i != 4))).collect();
    let xb = c.input(bools, &[4, 5], &[3, 2], DType::Bool);
    c.reductions(xb, ALL, &axes(&[&[0], &[1]]));
    let x1 = c.input(values(5, 4), &[1, 5], &[1, 2], DType::Float64);
    c.reductions(x1, ALL, &axes(&[&[0], &[1]]));
    // dtype= of sum and prod: values cast first; bool is numpy's logical or / and.
    for (d, np) in [(DType::Float32, "float32"), (DType::Int8, "int8"), (DType::Bool, "bool")] {
        for axis in [None, Some(vec![0])] {
            let o = Reduce { axis: axis.clone(), split_every: Some(2), ..Reduce::default() };
            let a = np_axis(&axis);
            c.add(xi, format!("sum_as({d}, {axis:?})"), cubed::sum_as(c.x(xi), d, &o), format!("np.sum(x, axis={a}, dtype='{np}')"));
            c.add(xi, format!("prod_as({d}, {axis:?})"), cubed::prod_as(c.x(xi), d, &o), format!("np.prod(x, axis={a}, dtype='{np}')"));
        }
    }
    c.check();
}

#[test]
fn corrections_and_empty_axes_follow_numpy() {
    let mut c = Cases::new();
    let x = c.input(values(12, 5), &[4, 3], &[3, 2], DType::Float64);
    // correction 0, fractional, negative, equal to and above the count (NaN and inf as numpy).
    for corr in [0.0, 0.5, -1.0, 4.0, 5.0] {
        for (f, name) in [(cubed::var as fn(&Array, f64, &Reduce) -> cubed::Result<Array>, "var"), (cubed::std, "std"), (cubed::nanvar, "nanvar"), (cubed::nanstd, "nanstd")] {
            let o = Reduce::axis(&[0]).split_every(2);
            c.add(x, format!("{name}(correction={corr})"), f(c.x(x), corr, &o), format!("np.{name}(x, axis=0, ddof={corr})"));
        }
    }
    // Empty reduced axes: numpy's identities, NaN for means and variances.
    let empty = c.input(vec![], &[0, 3], &[2, 2], DType::Float64);
    let identities = ["sum", "prod", "mean", "var", "std", "any", "all", "count_nonzero", "nansum", "nanprod", "nanmean", "nanvar", "nanstd"];
    c.reductions(empty, &identities, &axes(&[&[0]]));
    // Reducing a non-empty axis of an empty array gives an empty result, even without identity.
    c.reductions(empty, &["min", "max", "argmax", "nanargmin", "nanmax"], &[Some(vec![1])]);
    let empty_ints = c.input(vec![], &[3, 0], &[2, 1], DType::Int16);
    c.reductions(empty_ints, &["sum", "prod", "mean", "all"], &axes(&[&[1]]));
    c.check();
}

#[test]
fn scans_match_numpy_on_awkward_chunks() {
    let mut c = Cases::new();
    let x3 = c.input(values(105, 6), &[5, 7, 3], &[2, 3, 2], DType::Float64);
    c.scans(x3, &[0, 1, -1], None);
    // Chunks of 1 along the axis: the carries of the block totals are scanned in rounds themselves.
    let long = c.input((0..23).map(|i| (i % 4 + 1) as f64).collect(), &[23], &[1], DType::Int64);
    c.scans(long, &[0], None);
    // A length that the chunks divide: include_initial adds a block of one element.
    let even = c.input((0..12).map(|i| (i % 3) as f64).collect(), &[3, 4], &[2, 2], DType::Int32);
    c.scans(even, &[1, 0], None);
    c.scans(even, &[1], Some(DType::Uint8));
    c.scans(even, &[0], Some(DType::Float32));
    let bools = c.input((0..10).map(|i| f64::from(u8::from(i % 3 == 0))).collect(), &[10], &[4], DType::Bool);
    c.scans(bools, &[0], None);
    let mut v = values(12, 7);
    v[5] = f64::NAN;
    let f32s = c.input(v, &[12], &[5], DType::Float32);
    c.scans(f32s, &[0], None);
    let one = c.input(values(6, 8), &[1, 6], &[1, 4], DType::Float64);
    c.scans(one, &[0, 1], None);
    let empty = c.input(vec![], &[3, 0], &[2, 2], DType::Float64);
    c.scans(empty, &[1, 0], None);
    c.check();
}

#[test]
fn the_expression_language_binds_each_functions_own_parameters() {
    let mut c = Cases::new();
    let x = c.input(eighths(24, 9), &[4, 6], &[3, 4], DType::Float64);
    let inputs: HashMap<String, Array> = [("x".to_string(), c.x(x).clone())].into();
    for (expr, numpy) in [
        ("var(x, axis=0, correction=1)", "np.var(x, axis=0, ddof=1)"),
        ("std(x, correction=0.5, keepdims=True)", "np.std(x, ddof=0.5, keepdims=True)"),
        ("nanstd(x, axis=-1, correction=2, split_every=2)", "np.nanstd(x, axis=-1, ddof=2)"),
        ("sum(x, axis=1, dtype=float32)", "np.sum(x, axis=1, dtype=np.float32)"),
        ("prod(x > 0.5, dtype=int8, axis=0)", "np.prod(x > 0.5, dtype=np.int8, axis=0)"),
        ("argmax(x, axis=-1, keepdims=True)", "np.argmax(x, axis=-1, keepdims=True)"),
        ("nanargmin(x)", "np.nanargmin(x)"),
        ("count_nonzero(x > 0.5, axis=(0, 1))", "np.count_nonzero(x > 0.5, axis=(0, 1))"),
        ("all(x, axis=0)", "np.all(x, axis=0)"),
        ("cumulative_sum(x, axis=1, include_initial=True)", "np.cumulative_sum(x, axis=1, include_initial=True)"),
        ("cumsum(x, axis=0, dtype=float32)", "np.cumsum(x, axis=0, dtype=np.float32)"),
        ("cumprod(x + 1, axis=-1)", "np.cumprod(x + 1, axis=-1)"),
        ("mean(cumulative_sum(x * 2, axis=0), axis=1)", "np.mean(np.cumulative_sum(x * 2, axis=0), axis=1)"),
    ] {
        let array = cubed::expr::evaluate(expr, &c.spec, &inputs).map(|mut v| v.remove(0)).map_err(|e| cubed::CubedError::Invalid(e.to_string()));
        c.add(x, expr.to_string(), array, numpy.to_string());
    }
    c.check();
    // Errors name the function and what to change.
    let s = spec();
    let inputs: HashMap<String, Array> = [("x".to_string(), cubed::zeros(&s, &[3, 4], &[2, 2], DType::Float64).unwrap())].into();
    for (expr, want) in [
        ("argmax(x, axis=(0, 1))", "argmax: axis must be an integer or None"),
        ("cumulative_sum(x)", "cumulative_sum: axis is required for an array of 2 dimensions"),
        ("cumsum(x, axis=(0, 1))", "cumulative_sum: axis must be an integer or None"),
        ("cumulative_prod(x, axis=0, dtype=bool)", "with dtype bool is not supported"),
        ("var(x, ddof=1)", "unexpected keyword argument 'ddof'"),
        ("mean(x, dtype=float32)", "unexpected keyword argument 'dtype'"),
        ("argmin(zeros((2, 0)), axis=1)", "attempt to get argmin of an empty sequence"),
        ("nanmax(zeros((0,)))", "zero-size array to reduction operation fmax which has no identity"),
        ("cumsum(x, axis=2)", "axis 2 is out of bounds"),
    ] {
        let e = cubed::expr::evaluate(expr, &s, &inputs).err().unwrap_or_else(|| panic!("{expr} evaluated")).to_string();
        assert!(e.contains(want), "{expr}: {e}");
    }
}

#[test]
fn nanargmax_of_an_all_nan_slice_fails_its_task_naming_the_function() {
    let s = spec();
    let x = cubed::asarray(&s, vec![1.0, f64::NAN, 2.0, f64::NAN], &[2, 2], &[1, 1], DType::Float64).unwrap();
    let r = cubed::nanargmax(&x, &Reduce::axis(&[0])).unwrap();
    let built = cubed::build_plan(&[cubed::Output { array: r, url: None }], &cubed::PlanOptions::default()).unwrap();
    let options = cubed::ComputeOptions { quiet: true, attempts: 1, ..Default::default() };
    let e = block_on(cubed::execute(built.plan, std::sync::Arc::new(cubed::LocalRunner::new(1)), &options)).unwrap_err().to_string();
    assert!(e.contains("nanargmax: All-NaN slice encountered"), "{e}");
    // Over the other axis every slice has a value.
    let ok = cubed::nanargmax(&x, &Reduce::axis(&[1])).unwrap();
    assert_eq!(compute(&[&ok])[0].iter().copied().collect::<Vec<_>>(), vec![0.0, 0.0]);
}

#[test]
fn every_reduction_and_scan_has_its_memory_projected() {
    // 1000 x 1000 float64 blocks: 8 MB each.
    let s = spec();
    let a = cubed::random(&s, &[4000, 3000], &[1000, 1000], 1, DType::Float64).unwrap();
    let block = 8_000_000u64;
    let overhead = s.reserved_mem + cubed::memory_model::TASK_OVERHEAD;
    let plans = [
        ("var", cubed::var(&a, 1.0, &Reduce::axis(&[0]).split_every(2)).unwrap()),
        ("argmax", cubed::argmax(&a, &Reduce::all().split_every(2)).unwrap()),
        ("nanmean", cubed::nanmean(&a, &Reduce::axis(&[1])).unwrap()),
        ("cumulative_sum", cubed::cumulative_sum(&a, &Cumulative::along(0).include_initial()).unwrap()),
    ];
    for (name, r) in plans {
        let built = cubed::build_plan(&[cubed::Output { array: r, url: None }], &cubed::PlanOptions::default()).unwrap();
        cubed::check_memory(&built.plan).unwrap();
        for op in &built.plan.ops {
            // The random block, its float64 copy and the states folded from it at least.
            let reads_data = op.fused.iter().any(|f| f.starts_with("random"));
            let floor = if reads_data { 2 * block } else { 0 };
            assert!(op.projected_mem >= overhead + floor, "{name}: {} ({}) projects {} bytes", op.id, op.fused.join("+"), op.projected_mem);
        }
        let kinds: Vec<&str> = built.plan.ops.iter().map(|o| o.kind.name()).collect();
        let want = if name == "cumulative_sum" { "scan" } else { "reduce" };
        assert!(kinds.iter().all(|&k| k == want), "{name}: {kinds:?}");
    }
}
