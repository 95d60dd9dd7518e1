//! Creating arrays: from Zarr, from small in-memory data, constants, ranges and
//! deterministic random numbers.

use std::sync::Arc;

use cubed_task::kernel::Node;
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
            "array '{url}' has data type {found}, which cubed-rs does not support (use bool, int32, int64, float32 or float64)"
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
    // Codecs cubed-rs cannot decode within a bound are refused now, not at the first read.
    cubed_task::storage::decode::ChunkDecoder::new(&array).map_err(|e| CubedError::Invalid(format!("array '{url}' (an input): {e}")))?;
    Ok(Array::new(Arc::new(spec.clone()), shape, chunks, dtype, LogicalOp::Stored { url: url.to_string() }))
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

/// An array filled with `value`.
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

/// `full`, `zeros` and `ones`, named as called in errors and plans.
fn filled(name: &'static str, spec: &Spec, shape: &[u64], value: f64, chunks: &[u64], dtype: DType) -> Result<Array> {
    check_shape_chunks(name, shape, chunks, dtype)?;
    let leaf = Node::Full { value, dtype, shape: shape.to_vec() };
    Ok(Array::new(Arc::new(spec.clone()), shape.to_vec(), chunks.to_vec(), dtype, LogicalOp::Create { leaf, name }))
}

/// `start, start + step, ...` below `stop` (1-d).
pub fn arange(spec: &Spec, start: f64, stop: f64, step: f64, chunk: u64, dtype: DType) -> Result<Array> {
    if step == 0.0 || !step.is_finite() {
        return Err(CubedError::Invalid("arange: step must be a non-zero finite number".into()));
    }
    let len = ((stop - start) / step).ceil().max(0.0);
    if len.is_nan() || len > cubed_task::plan::MAX_ARRAY_BYTES as f64 {
        return Err(CubedError::Invalid(format!(
            "arange: {start} to {stop} in steps of {step} has {len:.1e} elements, more than cubed-rs can address (2^63 bytes)"
        )));
    }
    let len = len as u64;
    check_shape_chunks("arange", &[len], &[chunk], dtype)?;
    let leaf = Node::Arange { start, step, len, dtype };
    Ok(Array::new(Arc::new(spec.clone()), vec![len], vec![chunk], dtype, LogicalOp::Create { leaf, name: "arange" }))
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
