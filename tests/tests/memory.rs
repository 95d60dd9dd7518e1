//! The memory model is honest: for every op kind, at realistic chunk sizes
//! (50–200 MB), the measured peak of every task stays within its projection.
//!
//! Each case runs the `cubed` binary with one worker and again with two. A
//! task's measured peak counts only what it allocated itself, plus what shared
//! threads (I/O) allocated while it ran, so it stays within its projection
//! whatever runs beside it. The process peak RSS (VmHWM) must stay within
//! `workers` times the largest projection: each projection includes
//! `reserved_mem` (the runtime's own baseline), so the driver's allowance is
//! the reserve counted once per worker.

use cubed_e2e::{temp_dir, Eval};
use serde_json::Value;

/// Runs `expr` with one worker and with two, and checks measured ≤ projected
/// for every op (and the process peak); returns the op kinds seen.
fn check(expr: &str, inputs: &[(&str, &std::path::Path)], output: &std::path::Path, work: &std::path::Path) -> Vec<String> {
    let two = output.with_extension("2.zarr");
    check_with(expr, inputs, &two, work, 2);
    check_with(expr, inputs, output, work, 1)
}

fn check_with(expr: &str, inputs: &[(&str, &std::path::Path)], output: &std::path::Path, work: &std::path::Path, workers: u64) -> Vec<String> {
    let summary = work.join(format!("summary-{}.json", output.file_name().unwrap().to_string_lossy()));
    let mut eval = Eval::new(expr, work.join("work")).output(output).args(["--workers", &workers.to_string(), "--summary-json"]).args([&summary]);
    for (name, path) in inputs {
        eval = eval.input(name, path);
    }
    eval.run();
    let s: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let mut kinds = vec![];
    let mut max_projected = 0;
    for op in s["ops"].as_array().unwrap() {
        let projected = op["projected_mem"].as_u64().unwrap();
        let measured = op["measured_mem"].as_u64().expect("the binary measures task memory");
        assert!(measured <= projected, "{expr} ({workers} workers): {} ({}) measured {measured} > projected {projected}", op["id"], op["kind"]);
        max_projected = max_projected.max(projected);
        kinds.push(op["kind"].as_str().unwrap().to_string());
    }
    let rss = s["peak_rss"].as_u64().expect("Linux reports VmHWM");
    assert!(rss <= workers * max_projected, "{expr}: process peak RSS {rss} > {workers} workers × largest projection {max_projected}");
    eprintln!("{expr} ({workers} workers): ops {kinds:?}, peak RSS {} MB, largest projection {} MB", rss >> 20, max_projected >> 20);
    kinds
}

#[test]
fn measured_memory_stays_within_the_projection_for_every_op_kind() {
    let dir = temp_dir("memory");
    let d = dir.path();
    let (a, b) = (d.join("a.zarr"), d.join("b.zarr"));
    // 3000 x 3000 float64 chunks: 72 MB each.
    let mut kinds = check("random((6000, 3000), chunks=(3000, 3000), seed=1)", &[], &a, d);
    kinds.extend(check("random((6000, 3000), chunks=(3000, 3000), seed=2)", &[], &b, d));
    kinds.extend(check("a*a + b*b", &[("a", &a), ("b", &b)], &d.join("ab.zarr"), d));
    kinds.extend(check("mean(a*a + b*b, axis=0)", &[("a", &a), ("b", &b)], &d.join("qm.zarr"), d));
    kinds.extend(check("sum(where(a > 0.5, a, b), axis=(0, 1))", &[("a", &a), ("b", &b)], &d.join("s.zarr"), d));
    // 6000 x 1000 float64 target chunks: 48 MB each, through the rechunk algorithm.
    kinds.extend(check("rechunk(a, (6000, 1000))", &[("a", &a)], &d.join("r.zarr"), d));
    kinds.extend(check("astype(a * 100, int32)", &[("a", &a)], &d.join("i.zarr"), d));
    kinds.extend(check("random((6000, 3000), chunks=(3000, 3000), seed=3, dtype=float32) > 0.5", &[], &d.join("f.zarr"), d));
    // Elementwise kernels of every dtype rule: bool results (a new buffer), casts
    // to a float type, mixed integer promotion, NaN-propagating maximum.
    kinds.extend(check("isnan(a) | signbit(a - 0.5)", &[("a", &a)], &d.join("bools.zarr"), d));
    kinds.extend(check("sqrt(astype(a * 1000, int16))", &[("a", &a)], &d.join("sqrt.zarr"), d));
    kinds.extend(check("floor_divide(astype(a * 1000, int16), astype(b * 100 + 1, uint8)) % 7", &[("a", &a), ("b", &b)], &d.join("ints.zarr"), d));
    kinds.extend(check("maximum(a, b) - minimum(a, b)", &[("a", &a), ("b", &b)], &d.join("maxmin.zarr"), d));
    // Reductions with several fields per partial, arg-reductions and scans.
    kinds.extend(check("var(a, axis=0)", &[("a", &a)], &d.join("var.zarr"), d));
    kinds.extend(check("nanmean(where(a > 0.9, nan, a), axis=1)", &[("a", &a)], &d.join("nanmean.zarr"), d));
    kinds.extend(check("argmax(a, axis=1)", &[("a", &a)], &d.join("argmax.zarr"), d));
    kinds.extend(check("cumulative_sum(a, axis=0)", &[("a", &a)], &d.join("cumsum.zarr"), d));
    // Views: slices straddling chunks (reversed, strided), fused into a
    // reduction and an elementwise op, transposes, rolls, broadcasts, repeats.
    kinds.extend(check("a[100:5900, ::-1]", &[("a", &a)], &d.join("slice.zarr"), d));
    kinds.extend(check("a[::7, 1:]", &[("a", &a)], &d.join("strided.zarr"), d));
    kinds.extend(check("sum(a[1000:4000], axis=0)", &[("a", &a)], &d.join("slicesum.zarr"), d));
    kinds.extend(check("a[1:] - a[:-1]", &[("a", &a)], &d.join("shifted.zarr"), d));
    kinds.extend(check("a.T + b.T", &[("a", &a), ("b", &b)], &d.join("transposed.zarr"), d));
    kinds.extend(check("roll(a, 1000, axis=0)", &[("a", &a)], &d.join("roll.zarr"), d));
    kinds.extend(check("broadcast_to(a[0], (6000, 3000))", &[("a", &a)], &d.join("broadcast.zarr"), d));
    kinds.extend(check("repeat(a[:3000], 2, axis=1)", &[("a", &a)], &d.join("repeat.zarr"), d));
    kinds.extend(check("take(a, (5999, 0, 3000, 1, 2999, 4500, 7), axis=0)", &[("a", &a)], &d.join("take.zarr"), d));
    // Reshapes: a merge and split of rows (no rechunk), a transposed view
    // reshaped (read in whole rows, straddling its chunks), a split fused
    // into a reduction.
    kinds.extend(check("reshape(a, (3000, 6000))", &[("a", &a)], &d.join("reshape.zarr"), d));
    kinds.extend(check("reshape(a.T, (1000, 18, 1000))", &[("a", &a)], &d.join("reshape-t.zarr"), d));
    kinds.extend(check("sum(reshape(a, (-1, 30, 100)), axis=1)", &[("a", &a)], &d.join("reshape-sum.zarr"), d));
    // Joins and stencils: parts chunked differently, constant padding, a
    // difference of order 2 and a moving mean whose window spans chunks.
    kinds.extend(check("concat((a, rechunk(b, (2000, 3000))), axis=0)", &[("a", &a), ("b", &b)], &d.join("concat.zarr"), d));
    kinds.extend(check("pad(a, ((100, 0), (0, 50)))", &[("a", &a)], &d.join("pad.zarr"), d));
    kinds.extend(check("diff(a, n=2, axis=0)", &[("a", &a)], &d.join("diff.zarr"), d));
    kinds.extend(check("moving_mean(a, 500, axis=0)", &[("a", &a)], &d.join("moving.zarr"), d));
    // Contractions: two blocks of 3000 along the contracted axis, summed; and a
    // product of stacks with a 1-d operand.
    kinds.extend(check("a.T @ b", &[("a", &a), ("b", &b)], &d.join("matmul.zarr"), d));
    kinds.extend(check("vecdot(a, b, axis=-2)", &[("a", &a), ("b", &b)], &d.join("vecdot.zarr"), d));
    for kind in ["blockwise", "reduce", "rechunk", "scan"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} op was exercised: {kinds:?}");
    }
}
