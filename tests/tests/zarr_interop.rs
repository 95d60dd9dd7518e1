//! Zarr interop with zarr-python 3, in both directions.
//!
//! - zarr-python writes arrays (Zarr v2 and v3, several codecs and dtypes),
//!   the `cubed` binary computes on them, and zarr-python reads the results
//!   back and compares them with numpy on the same data;
//! - the `cubed` binary writes arrays (each codec, each dtype) and zarr-python
//!   opens them and checks metadata and values;
//! - a rechunk round trip.
//!
//! Needs `scripts/python-env.sh` (the venv) and `cargo build -p cubed --bin cubed`.

use std::ffi::OsString;

use cubed_e2e::{cubed, run, run_failing, run_python, temp_dir, Eval};

// ---------------------------------------------------------------------------
// zarr-python -> cubed-rs -> zarr-python
// ---------------------------------------------------------------------------

/// Writes an input array with zarr-python, and the same data as .npy.
/// argv: ZARR_PATH NPY_PATH DATA_EXPR CREATE_KWARGS
/// DATA_EXPR is numpy code using `rng`; CREATE_KWARGS are the keyword arguments
/// of `zarr.create_array` besides shape and dtype.
const WRITE_INPUT: &str = r#"
import sys
import numpy as np, numcodecs, zarr
path, npy, data_expr, create_kwargs = sys.argv[1:]
rng = np.random.default_rng(20240601)
data = eval(data_expr)
np.save(npy, data)
kwargs = eval(f"dict({create_kwargs})")
arr = zarr.create_array(path, shape=data.shape, dtype=data.dtype, **kwargs)
arr[...] = data
"#;

/// Reads cubed's outputs with zarr-python and compares each with numpy's result
/// on the input data `a` (dtype and shape must match exactly). Reports every
/// mismatch, not only the first.
/// argv: NPY_PATH then, per output, OUTPUT_PATH NUMPY_EXPR RTOL CUBED_EXPR
/// (RTOL 0 means exact; CUBED_EXPR is only for messages).
const CHECK_OUTPUTS: &str = r#"
import sys
import numpy as np, zarr
a = np.load(sys.argv[1])
failures = []
for out, numpy_expr, rtol, expr in zip(*[iter(sys.argv[2:])] * 4):
    try:
        expected = np.asarray(eval(numpy_expr))
        got = zarr.open_array(out, mode="r")
        assert got.metadata.zarr_format == 3, f"zarr_format {got.metadata.zarr_format}"
        assert got.shape == expected.shape, f"shape {got.shape}, numpy's {expected.shape}"
        assert got.dtype == expected.dtype, f"dtype {got.dtype}, numpy's {expected.dtype}"
        values = np.asarray(got[...])
        if float(rtol) == 0:
            np.testing.assert_array_equal(values, expected, strict=True)
        else:
            np.testing.assert_allclose(values, expected, rtol=float(rtol), atol=0, strict=True)
    except Exception as e:
        failures.append(f"cubed `{expr}` vs numpy `{numpy_expr}`: {type(e).__name__}: {e}")
if failures:
    sys.exit("\n\n".join(failures))
"#;

/// An input format and the computations to check on it.
struct Case {
    /// Names the temp dir.
    name: &'static str,
    /// numpy code for the data, using `rng` (a seeded `np.random.Generator`).
    data: &'static str,
    /// Keyword arguments of `zarr.create_array` (format, chunks, codecs).
    create: &'static str,
    /// The metadata file zarr-python must have written (`.zarray` for v2,
    /// `zarr.json` for v3) and a string it must contain (the codec), so the
    /// case really tests the format it claims to.
    metadata: (&'static str, &'static str),
    /// (cubed expression, the same in numpy, rtol; 0 = exact).
    exprs: &'static [(&'static str, &'static str, f64)],
}

fn python_to_cubed(case: &Case) {
    let dir = temp_dir(case.name);
    let dir = dir.path();
    let input = dir.join("input.zarr");
    let npy = dir.join("input.npy");

    run_python(
        WRITE_INPUT,
        [
            input.as_os_str(),
            npy.as_os_str(),
            case.data.as_ref(),
            case.create.as_ref(),
        ],
    );
    let (file, needle) = case.metadata;
    let meta = std::fs::read_to_string(input.join(file)).unwrap_or_else(|e| {
        panic!(
            "zarr-python did not write {file} in {}: {e}",
            input.display()
        )
    });
    assert!(
        meta.contains(needle),
        "{file} does not mention {needle:?}:\n{meta}"
    );

    let mut check = vec![npy.into_os_string()];
    for (i, &(expr, numpy_expr, rtol)) in case.exprs.iter().enumerate() {
        let out = dir.join(format!("out{i}.zarr"));
        Eval::new(expr, dir.join("work"))
            .input("a", &input)
            .output(&out)
            .run();
        check.extend([
            out.into_os_string(),
            numpy_expr.into(),
            rtol.to_string().into(),
            expr.into(),
        ]);
    }
    run_python(CHECK_OUTPUTS, check);
}

#[test]
fn zarr_python_v3_zstd_float64() {
    python_to_cubed(&Case {
        name: "v3-zstd-f64",
        data: "rng.standard_normal((23, 17))",
        // Chunks divide neither dimension: edge chunks are partial.
        create: "zarr_format=3, chunks=(5, 4), compressors=zarr.codecs.ZstdCodec(level=5)",
        metadata: ("zarr.json", "\"zstd\""),
        exprs: &[
            ("a * 2 + 1", "a * 2 + 1", 0.0),
            ("sum(a, axis=0)", "np.sum(a, axis=0)", 1e-12),
            ("mean(a * a, axis=1)", "np.mean(a * a, axis=1)", 1e-12),
            ("where(a > 0.5, a, -a)", "np.where(a > 0.5, a, -a)", 0.0),
        ],
    });
}

#[test]
fn zarr_python_v2_blosc_lz4_int32() {
    python_to_cubed(&Case {
        name: "v2-blosc-lz4-i32",
        data: "rng.integers(-1000, 1000, size=(19, 26), dtype=np.int32)",
        create: "zarr_format=2, chunks=(6, 7), \
                 compressors=numcodecs.Blosc(cname='lz4', clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)",
        metadata: (".zarray", "\"lz4\""),
        exprs: &[
            // numpy 2 keeps int32 for int32 op python-int.
            ("a * 2 + 1", "a * 2 + 1", 0.0),
            // Sum of int32 is int64 (numpy and the array API).
            ("sum(a, axis=0)", "np.sum(a, axis=0)", 0.0),
            ("max(a, axis=1)", "np.max(a, axis=1)", 0.0),
        ],
    });
}

#[test]
fn zarr_python_v2_gzip_float32() {
    python_to_cubed(&Case {
        name: "v2-gzip-f32",
        data: "rng.random((21, 13), dtype=np.float32)",
        create: "zarr_format=2, chunks=(8, 5), compressors=numcodecs.GZip(level=6)",
        metadata: (".zarray", "\"gzip\""),
        exprs: &[
            // float32 op python scalar stays float32.
            ("a * 2 + 1", "a * 2 + 1", 0.0),
            ("sum(a, axis=0)", "np.sum(a, axis=0)", 1e-5),
            ("astype(a, float64) * 3", "a.astype(np.float64) * 3", 0.0),
        ],
    });
}

#[test]
fn zarr_python_v3_blosc_int64_3d() {
    python_to_cubed(&Case {
        name: "v3-blosc-i64-3d",
        data: "rng.integers(-10**12, 10**12, size=(6, 7, 5), dtype=np.int64)",
        create: "zarr_format=3, chunks=(4, 3, 2), \
                 compressors=zarr.codecs.BloscCodec(cname='zstd', clevel=3, shuffle='shuffle')",
        metadata: ("zarr.json", "\"blosc\""),
        exprs: &[
            ("a * 2 + 1", "a * 2 + 1", 0.0),
            ("sum(a, axis=(0, 2))", "np.sum(a, axis=(0, 2))", 0.0),
            ("mean(a, axis=0)", "np.mean(a, axis=0)", 1e-12),
            // A full reduction: a 0-d Zarr array.
            ("max(a, axis=(0, 1, 2))", "np.max(a)", 0.0),
        ],
    });
}

#[test]
fn zarr_python_v3_crc32c_and_uncompressed_bool() {
    // A checksum after the compressor, and no compressor at all: both decoded
    // by cubed-rs' bounded decoder.
    python_to_cubed(&Case {
        name: "v3-zstd-crc32c-f64",
        data: "rng.standard_normal((9, 11))",
        create: "zarr_format=3, chunks=(4, 5), compressors=[zarr.codecs.ZstdCodec(level=1), zarr.codecs.Crc32cCodec()]",
        metadata: ("zarr.json", "\"crc32c\""),
        exprs: &[("a * 2 + 1", "a * 2 + 1", 0.0)],
    });
    python_to_cubed(&Case {
        name: "v3-none-bool",
        data: "rng.random((9, 11)) > 0.5",
        create: "zarr_format=3, chunks=(4, 5), compressors=None",
        metadata: ("zarr.json", "\"bytes\""),
        exprs: &[("where(a, 1, 0)", "np.where(a, 1, 0)", 0.0), ("logical_not(a)", "~a", 0.0)],
    });
}

#[test]
fn zarr_python_v2_big_endian_fortran_order() {
    // Byte order and F order are decoded by zarrs after the bounded decompression.
    python_to_cubed(&Case {
        name: "v2-be-f-order",
        data: "rng.standard_normal((10, 7)).astype('>f8')",
        create: "zarr_format=2, chunks=(4, 3), order='F', compressors=numcodecs.Zstd(level=1)",
        metadata: (".zarray", "\"F\""),
        exprs: &[("a * 2 + 1", "(a * 2 + 1).astype('<f8')", 0.0), ("sum(a, axis=1)", "np.sum(a, axis=1).astype('<f8')", 1e-12)],
    });
}

// ---------------------------------------------------------------------------
// Hostile chunks: bounded decoding
// ---------------------------------------------------------------------------

/// Writes a 512 x 512 float64 array (one 2 MiB chunk) with zarr-python, then
/// replaces its chunk with a hostile one. argv: KIND PATH.
const WRITE_HOSTILE: &str = r#"
import sys, os, struct, zlib
import numpy as np, zarr
kind, path = sys.argv[1:]
codec = {"zstd": zarr.codecs.ZstdCodec(level=3), "gzip": zarr.codecs.GzipCodec(level=6),
         "blosc": zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")}[kind.split("-")[0]]
arr = zarr.create_array(path, shape=(512, 512), chunks=(512, 512), dtype="float64", compressors=codec, zarr_format=3)
arr[...] = np.arange(512 * 512, dtype="float64").reshape(512, 512)
chunk = os.path.join(path, "c", "0", "0")
def rle_blocks(n, size=1 << 17):
    # zstd RLE blocks: a 3-byte header (last flag, type 1, size) and the byte to repeat.
    return b"".join(((i == n - 1) | (1 << 1) | (size << 3)).to_bytes(3, "little") + b"\0" for i in range(n))
magic = struct.pack("<I", 0xFD2FB528)
if kind == "zstd-declared":
    # Single segment, an 8-byte frame content size of 6 GiB, one RLE block: 17 bytes.
    data = magic + bytes([0xE0]) + struct.pack("<Q", 6 << 30) + rle_blocks(1)
elif kind == "zstd-undeclared":
    # No content size, a 128 KiB window, 8192 RLE blocks of 128 KiB: 32 KB that decode to 1 GiB.
    data = magic + bytes([0x00, 0x38]) + rle_blocks(8192)
elif kind == "gzip-bomb":
    # 1 GiB of zeros: about 1 MB of gzip.
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b"".join(c.compress(bytes(1 << 20)) for _ in range(1024)) + c.flush()
elif kind == "blosc-lying":
    # A valid chunk whose header claims nbytes of almost 2 GiB.
    data = bytearray(open(chunk, "rb").read())
    struct.pack_into("<I", data, 4, (1 << 31) - 1024)
elif kind == "zstd-huge-object":
    # A 1 GB object (sparse: no disk used).
    data = None
    with open(chunk, "wb") as f:
        f.truncate(1 << 30)
if data is not None:
    with open(chunk, "wb") as f:
        f.write(data)
"#;

/// Runs a command with 3 GiB of address space (so a huge allocation fails, as
/// on a small machine) and prints its exit code, its peak RSS in KiB and its stderr.
const RUN_MEASURED: &str = r#"
import sys, subprocess, resource
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
p = subprocess.run(sys.argv[1:], capture_output=True, text=True, preexec_fn=limit)
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(p.stderr)
"#;

#[test]
fn hostile_chunks_are_clear_errors_within_bounded_memory() {
    let dir = temp_dir("hostile");
    let dir = dir.path();
    let cases = [
        ("zstd-declared", "its zstd frame declares 6442450944 bytes, more than the 2097152 the chunk can hold"),
        ("zstd-undeclared", "it decodes to more than the 2097152 bytes the chunk can hold"),
        ("gzip-bomb", "it decodes to more than the 2097152 bytes the chunk can hold"),
        ("blosc-lying", "its blosc header declares 2147482624 bytes, more than the 2097152 the chunk can hold"),
        ("zstd-huge-object", "its encoded object is 1073741824 bytes, more than any valid encoding of the chunk"),
    ];
    for (kind, message) in cases {
        let input = dir.join(format!("{kind}.zarr"));
        run_python(WRITE_HOSTILE, [OsString::from(kind), input.clone().into_os_string()]);
        let mut eval = Eval::new("sum(a)", dir.join("work")).input("a", &input);
        let cmd = eval.command();
        let mut args = vec![cmd.get_program().to_os_string()];
        args.extend(cmd.get_args().map(|a| a.to_os_string()));
        let out = run_python(RUN_MEASURED, args);
        let (status, stderr) = out.split_once('\n').unwrap_or((&out, ""));
        let (code, rss_kib) = status.split_once(' ').expect("exit code and peak RSS");
        let rss_kib: u64 = rss_kib.parse().expect("peak RSS in KiB");
        assert_eq!(code, "1", "{kind}: cubed should exit 1 with an error; stderr:\n{stderr}");
        let chunk = format!("chunk [0, 0] (object '{}", input.join("c/0/0").display().to_string().trim_start_matches('/'));
        assert!(stderr.contains(&chunk) && stderr.contains(message), "{kind}: expected an error naming {chunk} and saying {message:?}; stderr:\n{stderr}");
        assert!(stderr.contains("(attempt 1)") && !stderr.contains("attempt 2"), "{kind}: a corrupt chunk is not retried; stderr:\n{stderr}");
        // The task is projected at about 110 MB; a bomb would take 1 GiB or more.
        assert!(rss_kib < 150 << 10, "{kind}: cubed peaked at {rss_kib} KiB of RSS");
    }
}

#[test]
fn sharded_inputs_are_refused_clearly() {
    // zarrs would decode a shard's inner chunks without a bound; until cubed-rs
    // decodes shards itself, a sharded input is a clear error, not a risk.
    let dir = temp_dir("sharded");
    let input = dir.path().join("sharded.zarr");
    let write = "import sys, numpy as np, zarr\n\
                 a = zarr.create_array(sys.argv[1], shape=(8, 8), chunks=(2, 2), shards=(4, 4), dtype='float64')\n\
                 a[...] = np.arange(64.0).reshape(8, 8)";
    run_python(write, [input.as_os_str()]);
    let mut eval = Eval::new("sum(a)", dir.path().join("work")).input("a", &input);
    let stderr = run_failing(eval.command());
    assert!(
        // Refused when the input is opened, before any task runs.
        stderr.contains("input 'a'") && stderr.contains("its codec 'sharding_indexed' is not one cubed-rs reads"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn complex_and_float16_inputs_are_refused_naming_the_types_cubed_reads() {
    let dir = temp_dir("unsupported-dtype");
    for dtype in ["complex128", "float16"] {
        let input = dir.path().join(format!("{dtype}.zarr"));
        let write = format!("import sys, numpy as np, zarr\nzarr.create_array(sys.argv[1], shape=(4,), dtype='{dtype}')[...] = np.arange(4)");
        run_python(&write, [input.as_os_str()]);
        let mut eval = Eval::new("sum(a)", dir.path().join("work")).input("a", &input);
        let stderr = run_failing(eval.command());
        assert!(
            stderr.contains("which cubed-rs does not support yet (it reads bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64)"),
            "{dtype}: stderr:\n{stderr}"
        );
    }
}

// ---------------------------------------------------------------------------
// cubed-rs -> zarr-python
// ---------------------------------------------------------------------------

/// Opens arrays cubed wrote and checks their metadata and values.
/// argv: SHAPE CHUNKS DTYPE EXPECTED_FILE TOTAL, then per array PATH CODEC.
/// SHAPE and CHUNKS are python tuples; EXPECTED_FILE holds the expected values
/// as a python literal (what `cubed eval` prints); TOTAL is cubed's printed sum
/// of the values, compared with numpy's sum of what zarr-python reads (`-`: no
/// check); CODEC is `zstd:3`, `gzip:6` or `none`.
const CHECK_CUBED_ARRAYS: &str = r#"
import ast, sys
import numpy as np, zarr
shape, chunks, dtype, expected_file, total = sys.argv[1:6]
with open(expected_file) as f:
    expected = np.array(ast.literal_eval(f.read()), dtype=dtype)
for path, codec in zip(*[iter(sys.argv[6:])] * 2):
    arr = zarr.open_array(path, mode="r")
    where = f"{path} ({codec})"
    assert arr.metadata.zarr_format == 3, f"{where}: zarr_format {arr.metadata.zarr_format}"
    assert arr.shape == ast.literal_eval(shape), f"{where}: shape {arr.shape}, want {shape}"
    assert arr.chunks == ast.literal_eval(chunks), f"{where}: chunks {arr.chunks}, want {chunks}"
    assert arr.dtype == np.dtype(dtype), f"{where}: dtype {arr.dtype}, want {dtype}"
    if codec == "none":
        assert arr.compressors == (), f"{where}: compressors {arr.compressors}"
    else:
        name, level = codec.split(":")
        assert len(arr.compressors) == 1, f"{where}: compressors {arr.compressors}"
        c = arr.compressors[0]
        assert type(c).__name__.lower() == name + "codec" and c.level == int(level), \
            f"{where}: compressor {c}"
    values = arr[...]
    np.testing.assert_array_equal(values, expected, strict=True, err_msg=where)
    if total != "-":
        np.testing.assert_allclose(values.sum(), float(total), rtol=1e-12, err_msg=where)
"#;

const RANDOM: &str = "random((40, 30), chunks=(9, 8), seed=3)";

#[test]
fn cubed_writes_each_codec_for_zarr_python() {
    let dir = temp_dir("cubed-codecs");
    let dir = dir.path();
    let work = dir.join("work");

    // What cubed prints for the same expression (shortest round-trip floats),
    // and its own (tree-reduced) sum.
    let printed = dir.join("printed.txt");
    std::fs::write(&printed, Eval::new(RANDOM, &work).run()).unwrap();
    let total = Eval::new(&format!("sum({RANDOM})"), &work).run();

    let mut check: Vec<OsString> = ["(40, 30)", "(9, 8)", "float64"]
        .map(OsString::from)
        .to_vec();
    check.extend([printed.into_os_string(), total.trim().into()]);
    for (args, codec) in [
        (vec![], "zstd:3"),
        (vec!["--codec", "gzip:6"], "gzip:6"),
        (vec!["--codec", "none"], "none"),
    ] {
        let out = dir.join(format!("random-{}.zarr", codec.replace(':', "-")));
        Eval::new(RANDOM, &work).output(&out).args(&args).run();
        check.extend([out.into_os_string(), codec.into()]);
    }
    run_python(CHECK_CUBED_ARRAYS, check);
}

#[test]
fn cubed_writes_each_dtype_for_zarr_python() {
    let dir = temp_dir("cubed-dtypes");
    let dir = dir.path();
    let work = dir.join("work");
    let a = dir.join("a.zarr");
    Eval::new(RANDOM, &work).output(&a).run();

    // The bool result against what cubed prints for the same expression.
    let printed = dir.join("printed-bool.txt");
    std::fs::write(&printed, Eval::new(&format!("{RANDOM} > 0.5"), &work).run()).unwrap();
    let gt = dir.join("gt.zarr");
    Eval::new("a > 0.5", &work).input("a", &a).output(&gt).run();
    let mut check: Vec<OsString> = ["(40, 30)", "(9, 8)", "bool"].map(OsString::from).to_vec();
    check.extend([
        printed.into_os_string(),
        "-".into(),
        gt.into_os_string(),
        "zstd:3".into(),
    ]);
    run_python(CHECK_CUBED_ARRAYS, check);

    // Every output dtype against numpy on what zarr-python reads from `a`.
    let cases = [
        ("a > 0.5", "a > 0.5", "bool"),
        (
            "astype(a * 1000, int32)",
            "(a * 1000).astype(np.int32)",
            "int32",
        ),
        (
            "astype(a * 1e12, int64) - 500000000000",
            "(a * 1e12).astype(np.int64) - 500000000000",
            "int64",
        ),
        ("astype(a, float32)", "a.astype(np.float32)", "float32"),
        ("sin(a) * 2 - 1", "np.sin(a) * 2 - 1", "float64"),
    ];
    let mut check = vec![a.clone().into_os_string()];
    for (i, (expr, numpy_expr, dtype)) in cases.into_iter().enumerate() {
        let out = dir.join(format!("out{i}.zarr"));
        Eval::new(expr, &work).input("a", &a).output(&out).run();
        check.extend([out.into_os_string(), numpy_expr.into(), dtype.into()]);
    }
    run_python(
        r#"
import sys
import numpy as np, zarr
a = zarr.open_array(sys.argv[1], mode="r")[...]
for out, numpy_expr, dtype in zip(*[iter(sys.argv[2:])] * 3):
    expected = eval(numpy_expr)
    assert expected.dtype == np.dtype(dtype), f"numpy `{numpy_expr}` is {expected.dtype}"
    got = zarr.open_array(out, mode="r")
    assert got.shape == (40, 30) and got.chunks == (9, 8), f"{out}: {got.shape} {got.chunks}"
    assert got.dtype == expected.dtype, f"`{numpy_expr}`: dtype {got.dtype}, numpy's {expected.dtype}"
    # sin may differ from numpy's in the last bit; the rest is exact.
    np.testing.assert_allclose(got[...], expected, rtol=1e-15, atol=0, strict=True, err_msg=numpy_expr)
"#,
        check,
    );
}

// ---------------------------------------------------------------------------
// Rechunk round trip
// ---------------------------------------------------------------------------

#[test]
fn rechunk_round_trip() {
    let dir = temp_dir("rechunk");
    let dir = dir.path();
    let input = dir.join("input.zarr");
    let npy = dir.join("input.npy");
    let (data, create) = ("rng.standard_normal((50, 40))", "chunks=(50, 1)");
    run_python(
        WRITE_INPUT,
        [
            input.as_os_str(),
            npy.as_os_str(),
            data.as_ref(),
            create.as_ref(),
        ],
    );

    // Default memory, and a tiny budget (11 kB beyond the 8 MiB per-task overhead) that forces a multi-stage rechunk
    // through intermediate arrays.
    let budgets: [&[&str]; 2] = [&[], &["--allowed-mem", "8400000", "--reserved-mem", "0"]];
    let mut check = vec![input.clone().into_os_string(), npy.into_os_string()];
    for (i, budget) in budgets.into_iter().enumerate() {
        if !budget.is_empty() {
            let mut plan = cubed();
            plan.args(["plan", "rechunk(a, (1, 40))", "--input"])
                .arg(format!("a={}", input.display()))
                .args(budget);
            let plan = run(&mut plan);
            assert!(
                plan.contains("stage1"),
                "expected a multi-stage rechunk plan with {budget:?}:\n{plan}"
            );
        }
        let out = dir.join(format!("out{i}.zarr"));
        Eval::new("rechunk(a, (1, 40))", dir.join("work"))
            .input("a", &input)
            .output(&out)
            .args(budget)
            .run();
        check.push(out.into_os_string());
    }
    run_python(
        r#"
import sys
import numpy as np, zarr
src, npy, *outs = sys.argv[1:]
assert zarr.open_array(src, mode="r").chunks == (50, 1)
for out in outs:
    got = zarr.open_array(out, mode="r")
    assert got.chunks == (1, 40), f"{out}: chunks {got.chunks}"
    np.testing.assert_array_equal(got[...], np.load(npy), strict=True, err_msg=out)
"#,
        check,
    );
}
