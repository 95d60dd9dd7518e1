//! The creation functions — `arange`, `linspace`, `eye`, `full`, `zeros`,
//! `ones`, `empty`, the `*_like` functions, `tril` and `triu` — against
//! numpy 2 in the test venv. Every case is computed by one `cubed eval` on
//! the local runner, for several shapes, chunkings (chunks that do not divide
//! the shape, a single chunk), dtypes and diagonals; zarr-python reads the
//! results and they must equal numpy's exactly: shape, dtype, every value
//! (NaN where numpy has NaN) and the sign of every zero. Bad arguments are
//! errors, with numpy's words where numpy raises. And the plans are what is
//! promised: one fused blockwise op, nothing rechunked, no mask array, and
//! the `*_like` functions never read their argument's data.

mod common;

use std::path::Path;

use common::*;
use cubed::{Array, DType, Output, PlanOptions};
use cubed_task::kernel::Node;
use cubed_task::plan::OpKind;


/// Writes the input arrays (Zarr v3, chunks that do not divide the shapes,
/// and one single-chunk array) into argv[1].
const WRITE_INPUTS: &str = r#"
import sys
import numpy as np, zarr
d = sys.argv[1]
rng = np.random.default_rng(7)
arrays = {
    "x2": (np.arange(35).reshape(5, 7) * 1.5 - 10, (2, 3)),
    "x3": (rng.integers(-1000, 1000, size=(3, 6, 5)).astype(np.int16), (2, 4, 2)),
    "xb": (rng.random((4, 4)) > 0.5, (3, 3)),
    "xu": (rng.integers(0, 256, size=(6, 6)).astype(np.uint8), (6, 6)),
    "xf": (rng.standard_normal((1, 9)).astype(np.float32), (1, 4)),
    "xn": (np.array([[-0.0, np.nan], [np.inf, 2.0], [3.0, -np.inf]]), (2, 1)),
    "x1": (np.arange(8, dtype=np.int32), (3,)),
}
for name, (a, chunks) in arrays.items():
    z = zarr.create_array(f"{d}/{name}.zarr", shape=a.shape, chunks=chunks, dtype=a.dtype, zarr_format=3)
    z[...] = a
"#;

/// The inputs [`WRITE_INPUTS`] writes.
const INPUTS: [&str; 7] = ["x2", "x3", "xb", "xu", "xf", "xn", "x1"];

/// argv[1]: JSON `{"inputs": {name: path}, "cases": [[output, numpy expression], ...]}`;
/// prints the JSON list of cases that differ from numpy.
const CHECK: &str = r#"
import sys, json, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
spec = json.load(open(sys.argv[1]))
ns = {"np": np, "nan": np.nan, "inf": np.inf}
for name, path in spec["inputs"].items():
    ns[name] = zarr.open_array(path, mode="r")[...]
failures = []
for out, expr in spec["cases"]:
    try:
        want = np.asarray(eval(expr, ns))
        got = np.asarray(zarr.open_array(out, mode="r")[...])
        assert got.dtype == want.dtype, f"dtype {got.dtype}, numpy's {want.dtype}"
        assert got.shape == want.shape, f"shape {got.shape}, numpy's {want.shape}"
        floats = want.dtype.kind == "f"
        same = np.array_equal(got, want, equal_nan=floats)
        if same and floats:
            same = np.array_equal(np.signbit(got), np.signbit(want))
        assert same, f"got {got.tolist()!r}, numpy's {want.tolist()!r}"
    except Exception as e:
        failures.append(f"{expr}: {type(e).__name__}: {e}")
print(json.dumps(failures))
"#;

/// argv[1]: JSON `{"inputs": ..., "cases": [numpy expression, ...]}`; prints
/// the JSON list of numpy's errors (`null` where numpy computes a value).
const NUMPY_ERRORS: &str = r#"
import sys, json, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
spec = json.load(open(sys.argv[1]))
ns = {"np": np, "nan": np.nan, "inf": np.inf}
for name, path in spec["inputs"].items():
    ns[name] = zarr.open_array(path, mode="r")[...]
errors = []
for expr in spec["cases"]:
    try:
        eval(expr, ns)
        errors.append(None)
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
print(json.dumps(errors))
"#;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes the inputs under `dir`; returns `{name: path}`.
fn write_inputs(dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    python(WRITE_INPUTS, &[path(dir)]);
    INPUTS.iter().map(|&n| (n.to_string(), serde_json::Value::from(path(&dir.join(format!("{n}.zarr"))).to_string()))).collect()
}

/// A float as both Python and the expression language read it back exactly.
fn lit(v: f64) -> String {
    format!("{v:?}")
}

/// (cubed expression, numpy expression) for a creation call written the same
/// way in both: `f(args)` becomes `np.f(args)` without `chunks=` and with
/// dtypes as strings.
fn same(expr: &str) -> (String, String) {
    let mut numpy = format!("np.{expr}");
    while let Some(at) = numpy.find(", chunks=") {
        let rest = &numpy[at + 2..];
        let end = if rest.as_bytes()[7] == b'(' { rest.find(')').unwrap() + 1 } else { rest.find([',', ')']).unwrap() };
        numpy.replace_range(at..at + 2 + end, "");
    }
    for d in DType::ALL {
        numpy = numpy.replace(&format!("dtype={}", d.name()), &format!("dtype='{}'", d.name()));
    }
    (expr.to_string(), numpy)
}

/// Every value case: (cubed expression, numpy expression).
fn value_cases() -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = [
        // arange: numpy's length, ceil((stop - start) / step), and its values:
        // start, start + step, then start + i * ((start + step) - start) in the dtype.
        "arange(1, 1.3, 0.1)",
        "arange(0, 1, 0.1)",
        "arange(0, 1, 0.1, dtype=float32)",
        "arange(0.1, 100, 0.37, chunks=(7,))",
        "arange(0.1, 100, 0.37, dtype=float32, chunks=(7,))",
        "arange(100.5, -3, -0.7, chunks=(13,))",
        "arange(16777211, 16777221, 0.75, dtype=float32)",
        "arange(-0.0, 1.0, 0.5)",
        "arange(5, 1)",
        "arange(0, 5, -1)",
        "arange(0, 0)",
        "arange(0, 1, inf)",
        "arange(0, -1, inf)",
        "arange(0, 1e-300, 1e300)",
        "arange(3.0)",
        "arange(True)",
        "arange(-3)",
        "arange(0, 100, 7, chunks=(3,))",
        "arange(0, 1, 0.3, dtype=int64)",
        "arange(0.5, 5, 1.5, dtype=int64)",
        "arange(-0.9, 3, dtype=int64)",
        "arange(10, 0, -3, dtype=uint8)",
        "arange(0, 5, 1.5, dtype=uint8)",
        "arange(3, 0, -0.5, dtype=int16)",
        "arange(5, 3, -1, dtype=uint8)",
        "arange(300, 0, dtype=uint8)",
        "arange(255, 256, 10, dtype=uint8)",
        "arange(2.5, dtype=int8, chunks=(2,))",
        "arange(2, dtype=bool)",
        "arange(1, 3, dtype=bool)",
        "arange(-1, 1, dtype=bool)",
        "arange(0.5, 2, dtype=bool)",
        "arange(1, 0, dtype=bool)",
        // linspace: start + i * step in float64, the last value stop exactly.
        "linspace(0, 1, 10)",
        "linspace(0, 1, 10, endpoint=False)",
        "linspace(0, 1, 7, chunks=(3,))",
        "linspace(-3.5, 2, 7, dtype=int8)",
        "linspace(-3.5, 2, 7, dtype=int64, endpoint=False, chunks=(2,))",
        "linspace(0, 1, 5, dtype=bool)",
        "linspace(0, 1, 3, dtype=float32)",
        "linspace(1e10, -3e-05, 37, chunks=(5,))",
        "linspace(2, 5, 0)",
        "linspace(2, 5, 1)",
        "linspace(2, 5, 1, endpoint=False)",
        "linspace(5, 5, 4)",
        "linspace(0, -0.0, 3)",
        "linspace(-0.0, 0.0, 3)",
        "linspace(0, 1.5e-323, 10)",
        "linspace(0, 1e-310, 3)",
        "linspace(0, inf, 3)",
        "linspace(0, inf, 1)",
        "linspace(nan, 1, 3)",
        "linspace(0, 255, 256, dtype=uint8, chunks=(100,))",
        "linspace(0, 256, 256, dtype=uint8, endpoint=False)",
        // eye: shapes, diagonals beyond the matrix, chunks that do not divide it.
        "eye(3)",
        "eye(1)",
        "eye(0)",
        "eye(3, 0)",
        "eye(4, 6, k=1, chunks=(3, 4))",
        "eye(5, 3, k=-2, chunks=(2, 2))",
        "eye(2, 3, k=5)",
        "eye(3, k=-5)",
        "eye(3, k=True)",
        "eye(10, 10, k=3, chunks=(10, 10))",
        "eye(7, dtype=bool, chunks=(3, 3))",
        "eye(6, 9, k=-9007199254740992, chunks=(4, 4))",
        // full, zeros, ones, empty (zeros, where numpy's values are arbitrary).
        "full((3, 4), 7)",
        "full((5,), True)",
        "full((2, 2), 2.5)",
        "full((), 3)",
        "full((3,), 255, dtype=uint8)",
        "full((3,), -128, dtype=int8)",
        "full((4, 3), 2.7, dtype=uint8, chunks=(3, 2))",
        "full((4, 3), -0.5, dtype=uint8, chunks=(3, 2))",
        "full((3,), nan, dtype=bool)",
        "full((2,), 9007199254740992, dtype=int64)",
        "full((2, 3), -0.0)",
        "full((3,), 16777217, dtype=float32)",
        "zeros((4, 5), chunks=(3, 3))",
        "ones((2, 3), dtype=int8, chunks=(1, 3))",
    ]
    .into_iter()
    .map(same)
    .collect();
    cases.extend([("empty((3, 2), chunks=(2, 2))", "np.zeros((3, 2))"), ("empty((2,), dtype=int8)", "np.zeros((2,), dtype=np.int8)")].map(|(a, b)| (a.to_string(), b.to_string())));
    // The *_like functions (x's shape, and its dtype unless given), and tril / triu.
    cases.extend(
        [
            ("zeros_like(x3)", "np.zeros_like(x3)"),
            ("ones_like(xb)", "np.ones_like(xb)"),
            ("full_like(x2, 7)", "np.full_like(x2, 7)"),
            ("full_like(xu, 255)", "np.full_like(xu, 255)"),
            ("full_like(x3, 2.5)", "np.full_like(x3, 2.5)"),
            ("full_like(x1, -7, dtype=int8, chunks=(8,))", "np.full_like(x1, -7, dtype=np.int8)"),
            ("empty_like(x3, dtype=float32)", "np.zeros_like(x3, dtype=np.float32)"),
            ("zeros_like(x2, chunks=(5, 7))", "np.zeros_like(x2)"),
            ("ones_like(xu, dtype=bool)", "np.ones_like(xu, dtype=bool)"),
            ("ones_like(xn)", "np.ones_like(xn)"),
            ("tril(x2)", "np.tril(x2)"),
            ("triu(x2)", "np.triu(x2)"),
            ("tril(x2 + 1)", "np.tril(x2 + 1)"),
            ("triu(x2, k=-2)", "np.triu(x2, k=-2)"),
            ("tril(x2, k=9007199254740992)", "np.tril(x2, k=2**53)"),
            ("triu(x2, k=-100)", "np.triu(x2, k=-100)"),
            ("tril(x2, k=-100)", "np.tril(x2, k=-100)"),
            ("tril(x3, k=-1)", "np.tril(x3, k=-1)"),
            ("triu(x3, k=2)", "np.triu(x3, k=2)"),
            ("triu(xb)", "np.triu(xb)"),
            ("tril(xb, k=1)", "np.tril(xb, k=1)"),
            ("tril(xu, k=3)", "np.tril(xu, k=3)"),
            ("triu(xf, k=4)", "np.triu(xf, k=4)"),
            ("tril(xn)", "np.tril(xn)"),
            ("triu(xn, k=1)", "np.triu(xn, k=1)"),
            ("tril(eye(5, 4, k=1) + 2, k=0)", "np.tril(np.eye(5, 4, k=1) + 2, k=0)"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string())),
    );
    for k in -7..=8 {
        cases.push((format!("tril(x2, k={k})"), format!("np.tril(x2, k={k})")));
        cases.push((format!("triu(x2, k={k})"), format!("np.triu(x2, k={k})")));
    }
    // Every dtype.
    for d in DType::ALL {
        let n = d.name();
        for expr in [
            format!("full((5, 3), 1, dtype={n}, chunks=(2, 2))"),
            format!("zeros((4,), dtype={n})"),
            format!("ones((2, 3), dtype={n}, chunks=(1, 2))"),
            format!("eye(4, 5, k=1, dtype={n}, chunks=(3, 2))"),
            format!("linspace(0, 100, 11, dtype={n}, chunks=(4,))"),
            if d == DType::Bool { "arange(0, 2, dtype=bool)".to_string() } else { format!("arange(0, 7, 2, dtype={n}, chunks=(3,))") },
        ] {
            cases.push(same(&expr));
        }
        cases.push((format!("full_like(x2, 3, dtype={n})"), format!("np.full_like(x2, 3, dtype='{n}')")));
        cases.push((format!("zeros_like(xb, dtype={n}, chunks=(2, 4))"), format!("np.zeros_like(xb, dtype='{n}')")));
        cases.push((format!("tril(astype(x3 % 100, {n}), k=-1)"), format!("np.tril((x3 % 100).astype('{n}'), k=-1)")));
        cases.push((format!("triu(astype(x2 > 0, {n}), k=1)"), format!("np.triu((x2 > 0).astype('{n}'), k=1)")));
    }
    // Pseudo-random linspace and float arange cases, every chunking.
    let v = values(400, 11);
    let mut next = v.into_iter();
    let mut take = || next.next().unwrap();
    for i in 0..40 {
        let scale = [1.0, 1e-3, 1e6, 3.7][i % 4];
        let (start, stop) = ((take() * 200.0 - 100.0) * scale, (take() * 200.0 - 100.0) * scale);
        let num = (take() * 60.0) as u64;
        let chunk = 1 + (take() * num as f64) as u64;
        let endpoint = if i % 3 == 0 { "False" } else { "True" };
        let dtype = ["float64", "float32", "int64", "float64"][i % 4];
        let (start, stop) = if dtype == "int64" { (start.round() / 4.0, stop.round() / 4.0) } else { (start, stop) };
        cases.push(same(&format!("linspace({}, {}, {num}, dtype={dtype}, endpoint={endpoint}, chunks=({chunk},))", lit(start), lit(stop))));
    }
    for i in 0..40 {
        let start = take() * 200.0 - 100.0;
        let step = (take() * 5.0 + 0.001) * if i % 2 == 0 { 1.0 } else { -1.0 };
        let stop = start + step * (take() * 60.0);
        let chunk = 1 + (take() * 20.0) as u64;
        let dtype = ["float64", "float32"][i % 2];
        cases.push(same(&format!("arange({}, {}, {}, dtype={dtype}, chunks=({chunk},))", lit(start), lit(stop), lit(step))));
    }
    cases
}

#[test]
fn creation_functions_match_numpy_exactly() {
    let w = temp("creation-values");
    let inputs = write_inputs(&w);
    let cases = value_cases();
    let expr = format!("({},)", cases.iter().map(|c| c.0.as_str()).collect::<Vec<_>>().join(", "));
    let mut args: Vec<String> = vec!["eval".into(), expr, "-q".into(), "--work-dir".into(), path(&w.join("work")).into()];
    for (name, p) in &inputs {
        args.extend(["--input".into(), format!("{name}={}", p.as_str().unwrap())]);
    }
    let mut check = vec![];
    for (i, (_, numpy)) in cases.iter().enumerate() {
        let out = w.join(format!("out{i}.zarr"));
        args.extend(["-o".into(), path(&out).to_string()]);
        check.push(serde_json::json!([path(&out), numpy]));
    }
    let (ok, _, err) = cubed(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{err}");
    let spec = w.join("check.json");
    std::fs::write(&spec, serde_json::json!({"inputs": inputs, "cases": check}).to_string()).unwrap();
    let failures: Vec<String> = serde_json::from_str(&python(CHECK, &[path(&spec)])).unwrap();
    assert!(failures.is_empty(), "{} of {} cases differ from numpy:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// (cubed expression, words of cubed's error, numpy expression, words of
/// numpy's error); numpy's words are `""` where numpy computes a value and
/// cubed-rs deliberately refuses (a wrapped integer, a 1-d triangle, a float k).
const ERROR_CASES: &[(&str, &str, &str, &str)] = &[
    ("full((2,), 300, dtype=uint8)", "Python integer 300 out of bounds for uint8", "np.full((2,), 300, dtype=np.uint8)", "Python integer 300 out of bounds for uint8"),
    ("full((2,), -1, dtype=uint64)", "Python integer -1 out of bounds for uint64", "np.full((2,), -1, dtype=np.uint64)", "Python integer -1 out of bounds for uint64"),
    ("full_like(xu, 256)", "Python integer 256 out of bounds for uint8", "np.full_like(xu, 256)", "Python integer 256 out of bounds for uint8"),
    ("full_like(x1, 40000, dtype=int16)", "Python integer 40000 out of bounds for int16", "np.full_like(x1, 40000, dtype=np.int16)", "Python integer 40000 out of bounds for int16"),
    ("arange(-1, 2, dtype=uint8)", "Python integer -1 out of bounds for uint8", "np.arange(-1, 2, dtype=np.uint8)", "Python integer -1 out of bounds for uint8"),
    ("arange(250, 270, 10, dtype=uint8)", "Python integer 260 out of bounds for uint8", "np.arange(250, 270, 10, dtype=np.uint8)", "Python integer 260 out of bounds for uint8"),
    ("arange(300.5, 301, dtype=uint8)", "Python integer 300 out of bounds for uint8", "np.arange(300.5, 301, dtype=np.uint8)", "Python integer 300 out of bounds for uint8"),
    ("arange(0, 10, 0)", "division by zero", "np.arange(0, 10, 0)", "division by zero"),
    ("arange(0, nan)", "arange: cannot compute length", "np.arange(0, np.nan)", "arange: cannot compute length"),
    ("arange(3, dtype=bool)", "only supported for booleans when the result has at most length 2", "np.arange(3, dtype=bool)", "only supported for booleans when the result has at most length 2"),
    ("arange(0, inf)", "more than cubed-rs can address", "np.arange(0, np.inf)", "Maximum allowed size exceeded"),
    ("arange(0, -1e300, 1)", "beyond what cubed-rs can address", "np.arange(0, -1e300, 1)", "Maximum allowed size exceeded"),
    ("linspace(0, 1, -1)", "num must be a non-negative integer", "np.linspace(0, 1, -1)", "must be non-negative"),
    ("linspace(0, 1, 2.0)", "num must be a non-negative integer, found a float", "np.linspace(0, 1, 2.0)", "'float' object cannot be interpreted as an integer"),
    ("eye(-1)", "n_rows must be a non-negative integer", "np.eye(-1)", "negative dimensions are not allowed"),
    ("eye(3, -2)", "n_cols must be a non-negative integer", "np.eye(3, -2)", "negative dimensions are not allowed"),
    ("eye(2.5)", "n_rows must be a non-negative integer, found a float", "np.eye(2.5)", "'float' object cannot be interpreted as an integer"),
    ("eye(3, k=1.0)", "eye: k must be an integer, found the float 1.0", "np.eye(3, k=1.0)", "'float' object cannot be interpreted as an integer"),
    ("tril(full((), 5))", "tril: x must have at least 2 dimensions", "np.tril(np.array(5))", "missing 1 required positional argument"),
    // Deliberate: numpy wraps these integers, broadcasts a 1-d triangle, accepts a float k.
    ("arange(0, 300, 100, dtype=int8)", "its last value, 200, is out of bounds for int8", "np.arange(0, 300, 100, dtype=np.int8)", ""),
    ("linspace(0, 300, 4, dtype=uint8)", "gives 300, which uint8 cannot hold", "np.linspace(0, 300, 4, dtype=np.uint8)", ""),
    ("linspace(-1, 1, 5, dtype=uint8)", "gives -1, which uint8 cannot hold", "np.linspace(-1, 1, 5, dtype=np.uint8)", ""),
    ("full((2,), 300.0, dtype=uint8)", "full: Python integer 300 out of bounds for uint8", "np.full((2,), 300.0, dtype=np.uint8)", ""),
    ("full((2,), nan, dtype=int32)", "full: cannot convert float NaN to int32", "np.full((2,), np.nan, dtype=np.int32)", ""),
    ("tril(x1)", "tril: x must have at least 2 dimensions (the Array API's rule; numpy would broadcast a 1-d x to 2-d), but it has shape [8]", "np.tril(x1)", ""),
    ("triu(x2, k=1.5)", "triu: k must be an integer, found the float 1.5", "np.triu(x2, k=1.5)", ""),
];

#[test]
fn bad_arguments_are_errors_with_numpys_words() {
    let w = temp("creation-errors");
    let inputs = write_inputs(&w);
    let spec_json = w.join("errors.json");
    let numpy_exprs: Vec<&str> = ERROR_CASES.iter().map(|c| c.2).collect();
    std::fs::write(&spec_json, serde_json::json!({"inputs": inputs, "cases": numpy_exprs}).to_string()).unwrap();
    let numpy: Vec<Option<String>> = serde_json::from_str(&python(NUMPY_ERRORS, &[path(&spec_json)])).unwrap();
    let s = spec();
    let arrays = inputs.iter().map(|(n, p)| (n.clone(), cubed::from_zarr(&s, p.as_str().unwrap()).unwrap())).collect();
    for (&(expr, words, numpy_expr, numpy_words), numpy_error) in ERROR_CASES.iter().zip(numpy) {
        match (numpy_words, &numpy_error) {
            ("", None) => {}
            ("", Some(e)) => panic!("numpy raised for `{numpy_expr}`: {e}"),
            (w, Some(e)) => assert!(e.contains(w), "numpy `{numpy_expr}` raised {e:?}, without {w:?}"),
            (w, None) => panic!("numpy computed `{numpy_expr}`, which should raise {w:?}"),
        }
        let e = cubed::expr::evaluate(expr, &s, &arrays).err().unwrap_or_else(|| panic!("`{expr}` evaluated")).to_string();
        assert!(e.contains(words), "`{expr}`: {e}");
        // Shown with the line and column, the source and a caret.
        assert!(e.starts_with("error at line 1, column ") && e.contains(&format!("\n  {expr}\n")) && e.ends_with('^'), "`{expr}`: {e}");
    }
}

/// Plans `a` alone.
fn plan(a: &Array) -> cubed::Plan {
    cubed::build_plan(&[Output { array: a.clone(), url: None }], &PlanOptions::default()).unwrap().plan
}

#[test]
fn triangles_are_one_fused_blockwise_op_without_a_mask_or_rechunk() {
    let s = spec();
    let (x, xr) = stored_input(&s, &[3, 23, 17], &[2, 5, 4], 1);
    for (t, lower) in [(cubed::tril(&x, 2).unwrap(), true), (cubed::triu(&cubed::add(&x, &cubed::scalar(&s, 1.0, DType::Int64)).unwrap(), -3).unwrap(), false)] {
        assert_eq!((t.shape(), t.chunks(), t.dtype()), (x.shape(), x.chunks(), DType::Float64));
        let p = plan(&t);
        assert_eq!(p.ops.len(), 1, "{:?}", p.ops);
        let op = &p.ops[0];
        let OpKind::Blockwise { kernel } = &op.kind else { panic!("{:?}", op.kind) };
        // Reads x and nothing else: the mask is computed per chunk from two index leaves.
        assert_eq!((op.inputs.len(), p.arrays.len()), (1, 2));
        let indices: Vec<&Node> = kernel.walk().into_iter().filter(|n| matches!(n, Node::Index { .. })).collect();
        assert_eq!(indices, [&Node::Index { axis: 0, shape: vec![17], dtype: DType::Int64 }, &Node::Index { axis: 0, shape: vec![23, 1], dtype: DType::Int64 }]);
        assert!(op.fused.contains(&if lower { "tril" } else { "triu" }.to_string()), "{:?}", op.fused);
        // And the values, against an independent computation.
        let got = &compute(&[&t])[0];
        let k = if lower { 2 } else { -3 };
        for ((idx, &g), &v) in got.indexed_iter().zip(xr.iter()) {
            let (i, j) = (idx[1] as i64, idx[2] as i64);
            let keep = if lower { j - i <= k } else { j - i >= k };
            assert_eq!(g, if keep { v + f64::from(u8::from(!lower)) } else { 0.0 }, "{idx:?}");
        }
    }
    let e = cubed::triu(&cubed::arange(&s, 0.0, 3.0, 1.0, 2, DType::Int64).unwrap(), 0).unwrap_err().to_string();
    assert_eq!(e, "triu: x must have at least 2 dimensions (the Array API's rule; numpy would broadcast a 1-d x to 2-d), but it has shape [3]");
    // Diagonals far beyond the matrix select what its edges do, without overflow.
    let all = cubed::tril(&x, i64::MAX).unwrap();
    let none = cubed::tril(&x, i64::MIN).unwrap();
    let got = compute(&[&all, &none]);
    assert_eq!(got[0], xr);
    assert!(got[1].iter().all(|&v| v == 0.0));
}

#[test]
fn like_functions_never_read_their_argument() {
    let s = spec();
    let (x, _) = stored_input(&s, &[9, 4], &[4, 3], 2);
    let cases = [
        (cubed::zeros_like(&x, None, None).unwrap(), DType::Float64, 0.0),
        (cubed::ones_like(&x, Some(DType::Uint16), Some(&[9, 1])).unwrap(), DType::Uint16, 1.0),
        (cubed::empty_like(&x, Some(DType::Int8), None).unwrap(), DType::Int8, 0.0),
        (cubed::full_like(&x, -2.5, Some(DType::Int32), None).unwrap(), DType::Int32, -2.0),
    ];
    for (a, dtype, value) in &cases {
        assert_eq!((a.shape(), a.dtype()), (x.shape(), *dtype));
        let p = plan(a);
        assert_eq!((p.ops.len(), p.ops[0].inputs.len(), p.arrays.len()), (1, 0, 1), "the plan reads x: {:?}", p.ops);
        assert!(compute(&[a])[0].iter().all(|v| v == value));
    }
    assert_eq!(cases[0].0.chunks(), x.chunks());
    assert_eq!(cases[1].0.chunks(), &[9, 1]);
    let e = cubed::full_like(&x, 70000.0, Some(DType::Uint16), None).unwrap_err().to_string();
    assert_eq!(e, "full_like: Python integer 70000 out of bounds for uint16");
    let e = cubed::full_like(&x, 1.5, None, Some(&[4])).unwrap_err().to_string();
    assert!(e.contains("full_like: chunks [4] have 1 dimensions but the shape [9, 4] has 2"), "{e}");
}

#[test]
fn the_rust_api_gives_the_requested_chunks_in_one_op() {
    let s = spec();
    let eye = cubed::eye(&s, 7, 5, -1, &[3, 2], DType::Int32).unwrap();
    let lin = cubed::linspace(&s, 0.0, 1.0, 11, true, 4, DType::Float32).unwrap();
    let ar = cubed::arange(&s, 0.0, 1.0, 0.1, 3, DType::Float64).unwrap();
    let em = cubed::empty(&s, &[2, 3], &[1, 3], DType::Bool).unwrap();
    for (a, chunks) in [(&eye, &[3, 2][..]), (&lin, &[4]), (&ar, &[3]), (&em, &[1, 3])] {
        assert_eq!(a.chunks(), chunks);
        let p = plan(a);
        assert_eq!((p.ops.len(), p.arrays[p.ops[0].output].chunks.as_slice()), (1, chunks));
    }
    let got = compute(&[&eye, &lin, &ar, &em]);
    for ((i, j), &v) in got[0].indexed_iter().map(|(ix, v)| ((ix[0] as i64, ix[1] as i64), v)) {
        assert_eq!(v, f64::from(u8::from(j == i - 1)));
    }
    // numpy: 0 + i * 0.1 in float64, the last value exactly 1, then float32.
    let want: Vec<f64> = (0..11).map(|i| if i == 10 { 1.0 } else { f64::from((0.0 + 0.1 * f64::from(i)) as f32) }).collect();
    assert_eq!(got[1].iter().copied().collect::<Vec<_>>(), want);
    // numpy: 0.1 * 3 is 0.30000000000000004, and arange(0, 1, 0.1) has 10 values.
    assert_eq!(got[2].len(), 10);
    assert_eq!(got[2][[3]], 0.30000000000000004);
    assert!(got[3].iter().all(|&v| v == 0.0));
    let e = cubed::linspace(&s, 0.0, 1.0, 5, true, 0, DType::Float64).unwrap_err().to_string();
    assert_eq!(e, "linspace: chunk lengths must be positive, got [0]");
    let e = cubed::eye(&s, 3, 3, 0, &[2], DType::Float64).unwrap_err().to_string();
    assert_eq!(e, "eye: chunks [2] have 1 dimensions but the shape [3, 3] has 2");
}
