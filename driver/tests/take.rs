//! `take` with its indices in an integer Zarr array (zarr-python writes
//! both), against numpy's `np.take`; indices out of range, of a float type
//! or computed are refused before anything runs, and nothing is written.

mod common;

use common::*;

/// Writes x (float64 [10, 7] in chunks [3, 4]) and idx (int16, chunks 2).
/// argv: DIR
const WRITE: &str = r#"
import sys
import numpy as np, zarr
d = sys.argv[1]
x = zarr.create_array(f"{d}/x.zarr", shape=(10, 7), chunks=(3, 4), dtype="f8")
x[...] = np.arange(70.0).reshape(10, 7)
for name, values, dtype in [("idx", [9, 0, -1, 4, 4, 3], "i2"), ("far", [2, 10], "i8"), ("float", [1.0], "f4")]:
    a = zarr.create_array(f"{d}/{name}.zarr", shape=(len(values),), chunks=(2,), dtype=dtype)
    a[...] = np.array(values, dtype=dtype)
"#;

/// Compares the outputs with numpy. argv: DIR
const CHECK: &str = r#"
import sys
import numpy as np, zarr
d = sys.argv[1]
x = np.arange(70.0).reshape(10, 7)
idx = np.array([9, 0, -1, 4, 4, 3])
for name, want in [("rows", np.take(x, idx, axis=0)), ("cols", np.take(x, idx[[1, 3, 5]], axis=-1)), ("sum", np.take(x, idx, axis=0).sum(axis=0))]:
    got = zarr.open_array(f"{d}/{name}.zarr")[...]
    assert got.shape == want.shape and np.array_equal(got, want), (name, got, want)
print("ok")
"#;

#[test]
fn take_reads_indices_from_zarr_and_matches_numpy() {
    let dir = temp("take");
    let d = dir.to_str().unwrap();
    python(WRITE, &[d]);
    let (x, idx) = (format!("x={d}/x.zarr"), format!("i={d}/idx.zarr"));
    let work = format!("{d}/work");
    let (rows, cols, sum) = (format!("{d}/rows.zarr"), format!("{d}/cols.zarr"), format!("{d}/sum.zarr"));
    let (ok, _, err) = cubed(&[
        "eval", "(take(x, i, axis=0), take(x, (0, 4, 3), axis=-1), sum(take(x, i, axis=0), axis=0))", "-i", &x, "-i", &idx, "-o", &rows, "-o", &cols, "-o", &sum, "--work-dir", &work, "-q",
    ]);
    assert!(ok, "{err}");
    assert_eq!(python(CHECK, &[d]).trim(), "ok");
    for (expr, input, want) in [
        ("take(x, i, axis=0)", format!("i={d}/far.zarr"), "take: index 10 is out of bounds for axis 0 with size 10"),
        ("take(x, i, axis=0)", format!("i={d}/float.zarr"), "must be a 1-d integer array"),
        ("take(x, i + 1, axis=0)", idx.clone(), "computed indices are not supported yet"),
        ("take(x, (1, -11), axis=0)", idx.clone(), "index -11 is out of bounds for axis 0 with size 10"),
        // Without an axis, from the flattened x (70 elements).
        ("take(x, (1, 70))", idx.clone(), "index 70 is out of bounds for axis 0 with size 70"),
    ] {
        let out = format!("{d}/refused.zarr");
        let (ok, _, err) = cubed(&["eval", expr, "-i", &x, "-i", &input, "-o", &out, "--work-dir", &work, "-q"]);
        assert!(!ok && err.contains(want), "{expr}: {err}");
        assert!(!std::path::Path::new(&out).exists(), "{expr}: a refused expression wrote {out}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
