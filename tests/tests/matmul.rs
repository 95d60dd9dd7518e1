//! A matrix product at the size the issue names: 4000 x 4000 float64 in
//! 1000 x 1000 chunks (four blocks along the contracted axis, summed in a
//! tree), written by zarr-python, multiplied by the `cubed` binary, and
//! compared with numpy's `a @ b` (BLAS) to float tolerance.
//!
//! Needs `scripts/python-env.sh` (the venv) and `cargo build -p cubed --bin cubed`.

use cubed_e2e::{run_python, temp_dir, Eval};

/// Writes a and b (uniform in [0, 1), seeded). argv: DIR N CHUNK
const WRITE: &str = r#"
import sys
import numpy as np, zarr
d, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(11)
for name in ("a", "b"):
    z = zarr.create_array(f"{d}/{name}.zarr", shape=(n, n), chunks=(c, c), dtype="f8")
    z[:] = rng.random((n, n))
"#;

/// Compares cubed's product with numpy's. argv: DIR
const CHECK: &str = r#"
import sys
import numpy as np, zarr
d = sys.argv[1]
a, b = (zarr.open_array(f"{d}/{n}.zarr", mode="r")[:] for n in ("a", "b"))
out = zarr.open_array(f"{d}/ab.zarr", mode="r")
want = a @ b
got = out[:]
assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype)
assert out.chunks == (1000, 1000), out.chunks
rel = float(np.max(np.abs(got - want) / np.abs(want)))
assert np.allclose(got, want, rtol=1e-12, atol=0), rel
print(f"max relative difference {rel:.3g}")
"#;

#[test]
fn a_4000_square_matmul_in_1000_chunks_matches_numpy() {
    let dir = temp_dir("matmul");
    let d = dir.path();
    let ds = d.to_str().unwrap();
    run_python(WRITE, [ds, "4000", "1000"]);
    let summary = d.join("summary.json");
    Eval::new("a @ b", d.join("work")).input("a", d.join("a.zarr")).input("b", d.join("b.zarr")).output(d.join("ab.zarr")).args(["--summary-json"]).args([&summary]).run();
    // The four products per output block are fused into the first round of their sum.
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let kinds: Vec<&str> = s["ops"].as_array().unwrap().iter().map(|op| op["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["reduce"], "{s}");
    let checked = run_python(CHECK, [ds]);
    eprintln!("{}", checked.trim());
}
