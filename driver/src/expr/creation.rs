//! Calls of the table's creation functions.

use cubed_task::plan::Spec;
use cubed_task::table::Function;
use cubed_task::DType;

use super::args::Args;
use super::err;
use super::parse::{Span, SyntaxError};
use crate::array::Array;

/// Evaluates a call of creation function `f` with bound arguments `a`.
pub(crate) fn call(f: &Function, a: &mut Args, spec: &Spec, span: Span) -> Result<crate::Result<Array>, SyntaxError> {
    Ok(match f.name {
            "random" => {
                let shape = a.shape("shape")?;
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                crate::random(spec, &shape, &chunks, a.uint("seed")?.unwrap_or(0), dtype)
            }
            "zeros" | "ones" | "full" => {
                let shape = a.shape("shape")?;
                let value = if f.name == "full" { a.number("fill_value")?.ok_or_else(|| a.missing("fill_value"))? } else { f64::from(u8::from(f.name == "ones")) };
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                if let Some((lo, hi)) = dtype.int_range() {
                    if !(lo as f64..=hi as f64).contains(&value) || (hi as f64 == value && hi >= (1 << 53)) {
                        return Err(err(format!("{}: fill value {value} out of bounds for {dtype}", f.name), span));
                    }
                }
                crate::full(spec, &shape, value, &chunks, dtype)
            }
            "arange" => {
                let first = a.number("start")?.ok_or_else(|| a.missing("start"))?;
                let (start, stop) = match a.number("stop")? {
                    Some(stop) => (first, stop),
                    None => (0.0, first),
                };
                let step = a.number("step")?.unwrap_or(1.0);
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Int64);
                let len = ((stop - start) / step).ceil().max(0.0) as u64;
                let chunks = a.chunks(&[len], dtype)?;
                crate::arange(spec, start, stop, step, chunks[0], dtype)
            }
            "asarray" => {
                let (values, shape) = a.nested("obj")?;
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                crate::asarray(spec, values, &shape, &chunks, dtype)
            }
        other => unreachable!("{other} is not a creation function of the table"),
    })
}
