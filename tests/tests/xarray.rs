//! Names and attributes, as xarray sees them: xarray writes a Dataset to
//! Zarr (v3 with `dimension_names`, v2 with `_ARRAY_DIMENSIONS`), the `cubed`
//! binary reads its variables by path (`store.zarr/t2m`) and writes several
//! results at once (one `--output` each), and xarray opens every result
//! with the dimensions and attributes it should have (see
//! `driver/src/labels.rs`), and the values numpy gives.
//!
//! Needs `scripts/python-env.sh` (the venv, with xarray) and `cargo build -p cubed --bin cubed`.

use cubed_e2e::{run_python, temp_dir, Eval};

/// Writes the Dataset: t2m (time, lat, lon) with attributes, z (lat, lon).
/// argv: DIR
const WRITE: &str = r#"
import sys
import numpy as np, xarray as xr
d = sys.argv[1]
rng = np.random.default_rng(7)
t = xr.DataArray(rng.random((6, 4, 5)) + 270, dims=("time", "lat", "lon"), attrs={"units": "K", "long_name": "2 m temperature"})
ds = xr.Dataset({"t2m": t, "z": (("lat", "lon"), rng.random((4, 5)))})
enc = {"t2m": {"chunks": (4, 3, 2)}, "z": {"chunks": (3, 2)}}
ds.to_zarr(f"{d}/v3.zarr", zarr_format=3, mode="w", consolidated=False, encoding=enc)
ds.to_zarr(f"{d}/v2.zarr", zarr_format=2, mode="w", consolidated=False, encoding=enc)
"#;

/// The results, each with its expected dims, attributes and numpy value.
const CASES: &[(&str, &str, &str, &str)] = &[
    // (name, cubed expression, expected dims, numpy expression over t and z)
    ("mean", "mean(t, axis=0)", "('lat', 'lon')", "t.mean(axis=0)"),
    ("anomaly", "t[0:2, ::2] - 273.15", "('time', 'lat', 'lon')", "t[0:2, ::2] - 273.15"),
    ("transposed", "t.T", "('lon', 'lat', 'time')", "t.T"),
    ("profile", "t[:, 1, None, :]", "('time', None, 'lon')", "t[:, 1, None, :]"),
    ("single", "t[1:3].astype(float32)", "('time', 'lat', 'lon')", "t[1:3].astype(np.float32)"),
    ("joined", "concat((t[:2], t[4:]), axis=0)", "('time', 'lat', 'lon')", "np.concatenate((t[:2], t[4:]), axis=0)"),
    ("weighted", "z * t", "('time', 'lat', 'lon')", "z * t"),
    ("product", "t[0] @ z.T", "('lat', None)", "t[0] @ z.T"),
    ("change", "diff(t, axis=0)", "('time', 'lat', 'lon')", "np.diff(t, axis=0)"),
];

/// Opens each result with xarray (after making its store a group) and
/// checks dims, attributes and values. argv: DIR FORMAT then per case NAME DIMS NUMPY
const CHECK: &str = r#"
import sys
import numpy as np, xarray as xr, zarr
d, fmt, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
src = xr.open_zarr(f"{d}/{fmt}.zarr", consolidated=False, chunks=None)
t, z = src.t2m.values, src.z.values
keeps = {"transposed", "profile", "single", "joined"}
bad = []
for name, dims, expr in zip(rest[0::3], rest[1::3], rest[2::3]):
    store = f"{d}/{fmt}-{name}.zarr"
    zarr.open_group(store, mode="a")
    ds = xr.open_zarr(store, consolidated=False, chunks=None)
    v = ds["v"]
    want = eval(dims)
    got = tuple(None if n.startswith("dim_") else n for n in v.dims)  # xarray's unnamed
    if got != want:
        bad.append(f"{name}: dims {v.dims}, want {want}")
    want_attrs = dict(src.t2m.attrs) if name in keeps else {}
    # zarrs notes itself as the writer (`_zarrs`).
    attrs = {k: a for k, a in v.attrs.items() if k != "_zarrs"}
    if attrs != want_attrs:
        bad.append(f"{name}: attrs {attrs}, want {want_attrs}")
    exp = eval(expr)
    if v.dtype != exp.dtype or not np.allclose(v.values, exp, rtol=1e-6):
        bad.append(f"{name}: values differ from numpy's ({v.dtype} vs {exp.dtype})")
print("\n".join(bad))
sys.exit(1 if bad else 0)
"#;

#[test]
fn xarray_opens_results_with_their_dimensions_and_attributes() {
    let dir = temp_dir("xarray");
    let d = dir.path();
    run_python(WRITE, [d.as_os_str()]);
    for fmt in ["v3", "v2"] {
        let expr = format!("({})", CASES.iter().map(|c| c.1).collect::<Vec<_>>().join(", "));
        let mut eval = Eval::new(&expr, d.join(format!("work-{fmt}"))).input("t", d.join(format!("{fmt}.zarr/t2m"))).input("z", d.join(format!("{fmt}.zarr/z")));
        for c in CASES {
            eval = eval.output(d.join(format!("{fmt}-{}.zarr/v", c.0)));
        }
        eval.run();
        let mut args = vec![d.as_os_str().to_owned(), fmt.into()];
        for c in CASES {
            args.extend([c.0.into(), c.2.into(), c.3.into()]);
        }
        run_python(CHECK, args);
    }
}
