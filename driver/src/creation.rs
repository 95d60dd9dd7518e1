//! Creating arrays: from Zarr, from small in-memory data, constants (also
//! shaped like another array), ranges, diagonals, triangles of an array and
//! deterministic random numbers, with numpy's values.

use std::sync::Arc;

use cubed_task::kernel::{BinaryOp, Node};
use cubed_task::plan::{check_array_sizes, clip_chunks, Spec};
use cubed_task::storage::StoreUrl;
use cubed_task::DType;

use crate::array::{Array, LogicalOp};
use crate::error::{CubedError, Result};

/// Largest array `asarray` embeds in a plan.
pub const MAX_ASARRAY_BYTES: u64 = 1 << 20;

/// Checks a requested shape and chunks (and the resulting sizes) before an
/// array is built, so that nothing later computes a size that overflows.
fn check_shape_chunks(what: &str, shape: &[u64], chunks: &[u64], dtype: DType) -> Result<()> {
    if shape.len() != chunks.len() {
        return Err(CubedError::Invalid(format!(
            "{what}: chunks {chunks:?} have {} dimensions but the shape {shape:?} has {}",
            chunks.len(),
            shape.len()
        )));
    }
    if chunks.contains(&0) {
        return Err(CubedError::Invalid(format!("{what}: chunk lengths must be positive, got {chunks:?}")));
    }
    check_array_sizes(shape, &clip_chunks(shape, chunks), dtype).map_err(|e| CubedError::Invalid(format!("{what}: {e}")))
}

/// Opens an existing Zarr array (v2 or v3) at a path or URL.
pub fn from_zarr(spec: &Spec, url: &str) -> Result<Array> {
    let store = StoreUrl::parse(url)?;
    let array = store.open_array(url)?;
    let dtype = DType::from_zarrs(array.data_type()).ok_or_else(|| {
        let meta = serde_json::to_value(array.metadata()).unwrap_or_default();
        let found = meta.get("data_type").or_else(|| meta.get("dtype")).cloned().unwrap_or_default();
        CubedError::Invalid(format!(
            "array '{url}' has data type {found}, which cubed-rs does not support yet (it reads {})",
            DType::ALL.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let shape = array.shape().to_vec();
    let zeros = vec![0; shape.len()];
    let chunks: Vec<u64> = array
        .chunk_shape(&zeros)
        .map_err(|e| CubedError::Invalid(format!("array '{url}' has no regular chunk grid: {e}")))?
        .iter()
        .map(|c| c.get())
        .collect();
    check_array_sizes(&shape, &clip_chunks(&shape, &chunks), dtype)
        .map_err(|e| CubedError::Invalid(format!("array '{url}' (an input): its Zarr metadata says {e}")))?;
    // A chunk may be larger than the array (valid Zarr, e.g. an array still
    // being appended to); a task decodes the whole stored chunk, so one that
    // could never fit in a task's memory is refused now.
    let stored = cubed_task::plan::saturating_product(&chunks).saturating_mul(dtype.itemsize());
    if stored > spec.allowed_mem {
        return Err(CubedError::Invalid(format!(
            "array '{url}' (an input) stores chunks of {chunks:?} ({stored} bytes each, larger than its shape {shape:?}), more than a task may use \
             (allowed_mem {}); rewrite it with smaller chunks (e.g. rechunk it with zarr-python) or raise --allowed-mem",
            spec.allowed_mem
        )));
    }
    // Codecs cubed-rs cannot decode within a bound are refused now, not at the first read.
    cubed_task::storage::decode::ChunkDecoder::new(&array).map_err(|e| CubedError::Invalid(format!("array '{url}' (an input): {e}")))?;
    let labels = crate::labels::from_zarr(array.dimension_names().clone(), array.attributes().clone(), shape.len());
    Ok(Array::new(Arc::new(spec.clone()), shape, chunks, dtype, LogicalOp::Stored { url: url.to_string() }).labelled(labels))
}

/// A small array from row-major values (at most [`MAX_ASARRAY_BYTES`]); it is embedded in the plan.
pub fn asarray(spec: &Spec, values: Vec<f64>, shape: &[u64], chunks: &[u64], dtype: DType) -> Result<Array> {
    check_shape_chunks("asarray", shape, chunks, dtype)?;
    // Checked above: the element count and byte size fit.
    let n: u64 = shape.iter().product();
    if n != values.len() as u64 {
        return Err(CubedError::Invalid(format!("asarray: {} values do not fill shape {shape:?} ({n} elements)", values.len())));
    }
    if n * dtype.itemsize() > MAX_ASARRAY_BYTES {
        return Err(CubedError::Invalid(format!(
            "asarray: {} bytes is too large to embed in a plan (limit {MAX_ASARRAY_BYTES}); write it to Zarr and use from_zarr",
            n * dtype.itemsize()
        )));
    }
    let leaf = Node::Literal { dtype, shape: shape.to_vec(), values };
    Ok(Array::new(Arc::new(spec.clone()), shape.to_vec(), chunks.to_vec(), dtype, LogicalOp::Create { leaf, name: "asarray" }))
}

/// An array filled with `value` (converted as numpy's `astype` does: floats
/// truncate towards zero for an integer `dtype`, anything non-zero is `true`
/// for `bool`). A value an integer `dtype` cannot hold is an error, never a
/// wrapped value: numpy's `OverflowError` for an integer (`full((2,), 300,
/// dtype=uint8)`: "Python integer 300 out of bounds for uint8"); cubed-rs also
/// refuses floats out of range, NaN and infinities there, which numpy's cast
/// would wrap or leave platform-defined.
pub fn full(spec: &Spec, shape: &[u64], value: f64, chunks: &[u64], dtype: DType) -> Result<Array> {
    filled("full", spec, shape, value, chunks, dtype)
}

/// An array of zeros.
pub fn zeros(spec: &Spec, shape: &[u64], chunks: &[u64], dtype: DType) -> Result<Array> {
    filled("zeros", spec, shape, 0.0, chunks, dtype)
}

/// An array of ones.
pub fn ones(spec: &Spec, shape: &[u64], chunks: &[u64], dtype: DType) -> Result<Array> {
    filled("ones", spec, shape, 1.0, chunks, dtype)
}

/// An "uninitialised" array (Array API `empty`): in cubed-rs an array of
/// zeros, since every chunk a task writes is computed (nothing is left
/// uninitialised, and zeros cost no more than garbage).
pub fn empty(spec: &Spec, shape: &[u64], chunks: &[u64], dtype: DType) -> Result<Array> {
    filled("empty", spec, shape, 0.0, chunks, dtype)
}

/// [`empty`] with the shape of `x`, and its dtype and chunks unless given.
/// Reads only `x`'s shape, dtype and chunks, never its data.
pub fn empty_like(x: &Array, dtype: Option<DType>, chunks: Option<&[u64]>) -> Result<Array> {
    like("empty_like", x, 0.0, dtype, chunks)
}

/// Zeros with the shape of `x`, and its dtype and chunks unless given.
/// Reads only `x`'s shape, dtype and chunks, never its data.
pub fn zeros_like(x: &Array, dtype: Option<DType>, chunks: Option<&[u64]>) -> Result<Array> {
    like("zeros_like", x, 0.0, dtype, chunks)
}

/// Ones with the shape of `x`, and its dtype and chunks unless given.
/// Reads only `x`'s shape, dtype and chunks, never its data.
pub fn ones_like(x: &Array, dtype: Option<DType>, chunks: Option<&[u64]>) -> Result<Array> {
    like("ones_like", x, 1.0, dtype, chunks)
}

/// `fill_value` everywhere, with the shape of `x`, and its dtype and chunks
/// unless given (the value is converted and checked as by [`full`]). Reads
/// only `x`'s shape, dtype and chunks, never its data.
pub fn full_like(x: &Array, fill_value: f64, dtype: Option<DType>, chunks: Option<&[u64]>) -> Result<Array> {
    like("full_like", x, fill_value, dtype, chunks)
}

fn like(name: &'static str, x: &Array, value: f64, dtype: Option<DType>, chunks: Option<&[u64]>) -> Result<Array> {
    filled(name, x.spec(), x.shape(), value, chunks.unwrap_or(x.chunks()), dtype.unwrap_or(x.dtype()))
}

/// `full` and its relatives, named as called in errors and plans.
fn filled(name: &'static str, spec: &Spec, shape: &[u64], value: f64, chunks: &[u64], dtype: DType) -> Result<Array> {
    check_shape_chunks(name, shape, chunks, dtype)?;
    check_holds(name, value, dtype)?;
    let leaf = Node::Full { value, dtype, shape: shape.to_vec() };
    Ok(Array::new(Arc::new(spec.clone()), shape.to_vec(), chunks.to_vec(), dtype, LogicalOp::Create { leaf, name }))
}

/// True when an integer `dtype` holds `value` truncated towards zero (any
/// value for floats and bool).
fn holds(value: f64, dtype: DType) -> bool {
    let t = value.trunc();
    dtype.int_range().is_none_or(|(lo, hi)| t.is_finite() && (lo..=hi).contains(&(t as i128)))
}

/// Refuses `value` where an integer `dtype` cannot hold it (see [`holds`]),
/// with numpy's words for an integer; `what` says whose value it is.
fn check_holds(what: &str, value: f64, dtype: DType) -> Result<()> {
    if holds(value, dtype) {
        return Ok(());
    }
    let (lo, hi) = dtype.int_range().unwrap_or_default();
    Err(CubedError::Invalid(if value.fract() == 0.0 {
        format!("{what}: Python integer {value} out of bounds for {dtype}")
    } else if value.is_finite() {
        format!("{what}: {value} is out of bounds for {dtype}, which holds {lo} to {hi}")
    } else {
        format!("{what}: cannot convert float {value} to {dtype}, an integer type")
    }))
}

/// The length of numpy's `arange(start, stop, step)`: `ceil((stop - start) /
/// step)` (at least 0), and 1 where that quotient underflows to `+0.0`
/// (`arange(0, 1, inf)` is `[0.0]`).
pub(crate) fn arange_length(start: f64, stop: f64, step: f64) -> Result<u64> {
    if step == 0.0 {
        return Err(CubedError::Invalid("arange: the step must not be zero (numpy: division by zero)".into()));
    }
    let delta = stop - start;
    let quotient = delta / step;
    let len = if quotient == 0.0 && delta != 0.0 {
        if quotient.is_sign_negative() {
            0.0
        } else {
            1.0
        }
    } else {
        quotient.ceil()
    };
    if len.is_nan() {
        return Err(CubedError::Invalid(format!("arange: cannot compute length ({start} to {stop} in steps of {step})")));
    }
    let max = cubed_task::plan::MAX_ARRAY_BYTES as f64;
    if len > max {
        return Err(CubedError::Invalid(format!(
            "arange: {start} to {stop} in steps of {step} has {len:.1e} elements, more than cubed-rs can address (2^63 bytes)"
        )));
    }
    if len < -max {
        // numpy refuses these too ("Maximum allowed size exceeded").
        return Err(CubedError::Invalid(format!(
            "arange: {start} to {stop} in steps of {step} has a length of {len:.1e}, beyond what cubed-rs can address (2^63)"
        )));
    }
    Ok(len.max(0.0) as u64)
}

/// `start, start + step, ...` below `stop` (above it for a negative step),
/// 1-d in chunks of `chunk`, with numpy's length (`ceil((stop - start) /
/// step)`, and 1 where that underflows to `+0.0`) and values: numpy computes the first two values, `start` and `start + step`,
/// converts them to `dtype` (integers truncate towards zero) and continues
/// with their difference in `dtype`'s arithmetic, so `arange(0, 1, 0.1,
/// dtype=float32)` ends in `0.90000004`, and `arange(0, 1, 0.3,
/// dtype=int64)` is four zeros. A bool arange has at most 2 values, as in
/// numpy. A value an integer `dtype` cannot hold is an error: numpy's
/// `OverflowError` for the first two; numpy wraps the others, cubed-rs
/// refuses them too.
pub fn arange(spec: &Spec, start: f64, stop: f64, step: f64, chunk: u64, dtype: DType) -> Result<Array> {
    let len = arange_length(start, stop, step)?;
    check_shape_chunks("arange", &[len], &[chunk], dtype)?;
    let (first, second) = match dtype {
        DType::Bool if len > 2 => {
            return Err(CubedError::Invalid(format!(
                "arange: only supported for booleans when the result has at most length 2 (as in numpy), but {start} to {stop} in steps of {step} has {len} values"
            )))
        }
        DType::Bool => (f64::from(u8::from(start != 0.0)), f64::from(u8::from(start + step != 0.0))),
        d if d.is_float() => (start, start + step),
        _ if len == 0 => (start.trunc(), (start + step).trunc()),
        _ => {
            check_holds("arange", start.trunc(), dtype)?;
            if len > 1 {
                check_holds("arange", (start + step).trunc(), dtype)?;
            }
            let (first, second) = (start.trunc(), (start + step).trunc());
            // Checked above: both are integers within the type.
            let last = (len > 2).then(|| (first as i128).checked_add(i128::from(len - 1).checked_mul(second as i128 - first as i128)?));
            if let Some(last) = last {
                let (lo, hi) = dtype.int_range().unwrap_or_default();
                if !last.is_some_and(|v| (lo..=hi).contains(&v)) {
                    let value = last.map_or_else(|| "beyond 128 bits".to_string(), |v| v.to_string());
                    return Err(CubedError::Invalid(format!(
                        "arange: its last value, {value}, is out of bounds for {dtype}, which holds {lo} to {hi} (numpy would wrap it); use a wider dtype"
                    )));
                }
            }
            (first, second)
        }
    };
    let leaf = Node::ArangeFill { first, second, len, dtype };
    Ok(Array::new(Arc::new(spec.clone()), vec![len], vec![chunk], dtype, LogicalOp::Create { leaf, name: "arange" }))
}

/// The largest `num` of [`linspace`]: indices are compared exactly in a plan's float64 numbers.
const MAX_LINSPACE_NUM: u64 = 1 << 53;

/// `num` evenly spaced values from `start` to `stop` (included unless not
/// `endpoint`), 1-d in chunks of `chunk`, with numpy's values: numpy
/// computes `start + i * step` in float64 with `step = (stop - start) / div`
/// (`div` is `num - 1`, or `num` without the endpoint), sets the last value
/// to `stop` exactly, rounds down for an integer `dtype` and converts (for a
/// step that underflows to 0, `i / div * (stop - start) + start`). A value an
/// integer `dtype` cannot hold is an error (numpy would wrap it).
pub fn linspace(spec: &Spec, start: f64, stop: f64, num: u64, endpoint: bool, chunk: u64, dtype: DType) -> Result<Array> {
    check_shape_chunks("linspace", &[num], &[chunk], dtype)?;
    if num > MAX_LINSPACE_NUM {
        return Err(CubedError::Invalid(format!("linspace: num is {num}, more than cubed-rs supports (2^53)")));
    }
    let shared = Arc::new(spec.clone());
    let values = |start: f64, step: f64| {
        let leaf = Node::Arange { start, step, len: num, dtype: DType::Float64 };
        Array::new(shared.clone(), vec![num], vec![chunk], DType::Float64, LogicalOp::Create { leaf, name: "linspace" })
    };
    let number = |v: f64| scalar(spec, v, DType::Float64);
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let delta = stop - start;
    let step = delta / div as f64;
    // The values numpy computes before the endpoint is set, as a plan and one by one.
    let (mut y, value): (Array, Box<dyn Fn(u64) -> f64>) = if div == 0 {
        // No step (0 or 1 values): numpy's `i * delta + start`.
        (values(start, delta), Box::new(move |i| start + delta * i as f64))
    } else if step == 0.0 && delta != 0.0 {
        // The step underflows (numpy's denormal case): `i / div * delta + start`.
        let i = values(0.0, 1.0);
        let y = crate::add(&crate::multiply(&crate::divide(&i, &number(div as f64))?, &number(delta))?, &number(start))?;
        (y, Box::new(move |i| i as f64 / div as f64 * delta + start))
    } else {
        // (For start == stop the step is 0 and this is start everywhere, as numpy's case above.)
        (values(start, step), Box::new(move |i| start + step * i as f64))
    };
    let ends_at_stop = endpoint && num > 1;
    if ends_at_stop && value(num - 1).to_bits() != stop.to_bits() {
        let leaf = Node::Index { axis: 0, shape: vec![num], dtype: DType::Int64 };
        let index = Array::new(shared.clone(), vec![num], vec![chunk], DType::Int64, LogicalOp::Create { leaf, name: "linspace" });
        let last = crate::equal(&index, &scalar(spec, (num - 1) as f64, DType::Int64))?;
        y = crate::where_(&last, &full(spec, &[], stop, &[], DType::Float64)?, &y)?;
    }
    if !dtype.is_integer() {
        return crate::astype(&y, dtype);
    }
    // The sequence is monotonic: its ends bound it.
    let mut ends = vec![];
    if num > 0 {
        ends.push(value(0));
        ends.push(if ends_at_stop { stop } else { value(num - 1) });
    }
    if ends_at_stop {
        ends.push(value(num - 2));
    }
    if let Some(&v) = ends.iter().find(|&&v| !holds(v.floor(), dtype)) {
        let (lo, hi) = dtype.int_range().unwrap_or_default();
        return Err(CubedError::Invalid(format!(
            "linspace: {start} to {stop} in {num} values gives {}, which {dtype} cannot hold ({lo} to {hi}; numpy would wrap it); use a wider dtype",
            v.floor()
        )));
    }
    crate::astype(&crate::floor(&y)?, dtype)
}

/// The int64 index along the row axis of a `rows` x `cols` matrix plus `k`
/// (shape `[rows, 1]`), and along the column axis (shape `[cols]`), chunked
/// as `chunks` (rows, cols): element (i, j) lies on the `k`-th diagonal
/// where `j == i + k`, on or below it where `j <= i + k`. Lazy, computed
/// per chunk inside the kernel that compares them (named `name`).
fn row_plus_k_and_column(name: &'static str, spec: &Arc<Spec>, (rows, cols): (u64, u64), chunks: (u64, u64), k: i64) -> Result<(Array, Array)> {
    // A diagonal beyond the matrix selects what its edge does; clamped, k is exact in a plan.
    let k = k.clamp(-i64::try_from(rows).unwrap_or(i64::MAX), i64::try_from(cols).unwrap_or(i64::MAX));
    if k.unsigned_abs() > 1 << 53 {
        return Err(CubedError::Invalid(format!("{name}: k is {k}, more than cubed-rs can hold exactly in a plan (2^53)")));
    }
    let index = |shape: Vec<u64>, chunks: Vec<u64>| {
        let leaf = Node::Index { axis: 0, shape: shape.clone(), dtype: DType::Int64 };
        Array::new(spec.clone(), shape, chunks, DType::Int64, LogicalOp::Create { leaf, name })
    };
    let row = index(vec![rows, 1], vec![chunks.0, 1]);
    let row_plus_k = crate::add(&row, &scalar(spec, k as f64, DType::Int64))?;
    Ok((row_plus_k, index(vec![cols], vec![chunks.1])))
}

/// A `n_rows` x `n_cols` array with ones on the `k`-th diagonal (`k > 0`
/// above the main one, `k < 0` below) and zeros elsewhere, as numpy's `eye`.
pub fn eye(spec: &Spec, n_rows: u64, n_cols: u64, k: i64, chunks: &[u64], dtype: DType) -> Result<Array> {
    let shape = [n_rows, n_cols];
    check_shape_chunks("eye", &shape, chunks, dtype)?;
    let c = clip_chunks(&shape, chunks);
    let (row_plus_k, col) = row_plus_k_and_column("eye", &Arc::new(spec.clone()), (n_rows, n_cols), (c[0], c[1]), k)?;
    crate::astype(&crate::equal(&col, &row_plus_k)?, dtype)
}

/// The lower triangle of the last two axes of `x` (ndim at least 2): its
/// elements on and below the `k`-th diagonal, zeros above, as numpy's `tril`.
/// Blockwise and fused: each chunk compares its row and column indices, no
/// mask array is stored and nothing is rechunked.
pub fn tril(x: &Array, k: i64) -> Result<Array> {
    triangle("tril", x, k, BinaryOp::LessEqual)
}

/// The upper triangle of the last two axes of `x` (ndim at least 2): its
/// elements on and above the `k`-th diagonal, zeros below, as numpy's `triu`
/// (blockwise and fused, as [`tril`]).
pub fn triu(x: &Array, k: i64) -> Result<Array> {
    triangle("triu", x, k, BinaryOp::GreaterEqual)
}

/// `x` where `keep(column, row + k)` holds, else zero.
fn triangle(name: &'static str, x: &Array, k: i64, keep: BinaryOp) -> Result<Array> {
    let n = x.ndim();
    if n < 2 {
        let numpy = if n == 1 { "; numpy would broadcast a 1-d x to 2-d" } else { "" };
        return Err(CubedError::Invalid(format!(
            "{name}: x must have at least 2 dimensions (the Array API's rule{numpy}), but it has shape {:?}",
            x.shape()
        )));
    }
    let (shape, chunks) = (x.shape(), x.chunks());
    let (row_plus_k, col) = row_plus_k_and_column(name, &x.spec_arc(), (shape[n - 2], shape[n - 1]), (chunks[n - 2], chunks[n - 1]), k)?;
    let inside = crate::elementwise::binary(keep, &col, &row_plus_k)?;
    crate::where_(&inside, x, &zeros(x.spec(), &[], &[], x.dtype())?)
}

/// Uniform random numbers in `[0, 1)`, deterministic per (seed, chunk).
pub fn random(spec: &Spec, shape: &[u64], chunks: &[u64], seed: u64, dtype: DType) -> Result<Array> {
    check_shape_chunks("random", shape, chunks, dtype)?;
    if !dtype.is_float() {
        return Err(CubedError::Invalid(format!("random: dtype must be float32 or float64, got {dtype}")));
    }
    let clipped = clip_chunks(shape, chunks);
    let leaf = Node::Random { seed, dtype, shape: shape.to_vec(), chunks: clipped };
    Ok(Array::new(Arc::new(spec.clone()), shape.to_vec(), chunks.to_vec(), dtype, LogicalOp::Create { leaf, name: "random" }))
}

/// A Python-style scalar: its type yields to the array it is combined with.
pub fn scalar(spec: &Spec, value: f64, dtype: DType) -> Array {
    let leaf = Node::Full { value, dtype, shape: vec![] };
    Array::new(Arc::new(spec.clone()), vec![], vec![], dtype, LogicalOp::Create { leaf, name: "scalar" }).weak()
}
