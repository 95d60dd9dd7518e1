//! Size limits of a plan and checked arithmetic over shapes, chunks and
//! byte counts.

use crate::dtype::DType;

/// Largest array, chunk or op (bytes read or written) cubed-rs plans: 2^63 - 1
/// bytes. Every length, element count, chunk count and byte count of a plan
/// that passes [`Plan::validate`] is at most this, so the sum of any two of
/// them, and `(index + 1) * chunk` for any block index, fit in a `u64`.
pub const MAX_ARRAY_BYTES: u64 = i64::MAX as u64;

/// Most tasks one op may have, and most chunks of one array a plan writes:
/// 2^21 = 2,097,152 (twice the million-task op of issue 11).
///
/// Some state is proportional to these counts and allocated before the op
/// runs: the scheduler keeps a few dozen bytes per task (a `TaskState` and a
/// resume flag, about 25 bytes), resume lists an op's output (one key, about
/// 100 bytes, per chunk), and a rechunk task holds one piece descriptor per
/// chunk it reads or writes (in its projected memory). At this maximum that
/// is about 50 MB and 200 MB in the driver; the run history adds one event
/// (a few hundred bytes) per task attempt. An op with more tasks needs
/// larger chunks.
pub const MAX_TASKS_PER_OP: u64 = 1 << 21;

/// Product of `values`, or `None` when it does not fit in a `u64`.
pub fn checked_product(values: &[u64]) -> Option<u64> {
    values.iter().try_fold(1u64, |p, &v| p.checked_mul(v))
}

/// Product of `values`, saturating at `u64::MAX` (so it still compares
/// correctly against any limit).
pub fn saturating_product(values: &[u64]) -> u64 {
    values.iter().fold(1u64, |p, &v| p.saturating_mul(v))
}

/// An approximate count for messages (`8.5e37`), exact below a million.
fn approx(values: &[u64]) -> String {
    match checked_product(values) {
        Some(n) if n < 1_000_000 => n.to_string(),
        _ => format!("{:.1e}", values.iter().map(|&v| v as f64).product::<f64>()),
    }
}

/// Checks that an array of `shape`, `chunks` and `dtype` is within cubed-rs's
/// limits: as many chunk lengths as axes, all positive; every axis and chunk
/// length, the whole array and one chunk at most [`MAX_ARRAY_BYTES`] (so that
/// no size or offset computed from them overflows). The error says which
/// number is too large; callers prefix the array's name.
pub fn check_array_sizes(shape: &[u64], chunks: &[u64], dtype: DType) -> Result<(), String> {
    const LIMIT: &str = "more than cubed-rs can address (2^63 bytes)";
    if shape.len() != chunks.len() {
        return Err(format!("shape {shape:?} has {} dimensions but chunks {chunks:?} have {}", shape.len(), chunks.len()));
    }
    if chunks.contains(&0) {
        return Err(format!("chunks {chunks:?} have a zero length; chunk lengths must be positive"));
    }
    let itemsize = dtype.itemsize();
    let fits = |values: &[u64]| checked_product(values).and_then(|n| n.checked_mul(itemsize)).is_some_and(|b| b <= MAX_ARRAY_BYTES);
    if !fits(shape) {
        return Err(format!("shape {shape:?} has {} elements of {itemsize} bytes, {LIMIT}", approx(shape)));
    }
    // Only an array with a zero-length axis gets here with a longer axis.
    if let Some((k, &s)) = shape.iter().enumerate().find(|(_, &s)| s > MAX_ARRAY_BYTES) {
        return Err(format!("shape {shape:?} has length {s} on axis {k}, {LIMIT}"));
    }
    if !fits(chunks) {
        return Err(format!("chunks {chunks:?} have {} elements of {itemsize} bytes each, {LIMIT}; use smaller chunks", approx(chunks)));
    }
    Ok(())
}
