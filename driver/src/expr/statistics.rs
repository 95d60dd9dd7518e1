//! Calls of the table's statistical functions (reductions and scans).

use cubed_task::table::Function;

use super::args::Args;
use super::parse::SyntaxError;
use crate::array::Array;
use crate::{CubedError, Reduce};

/// The reductions taking only the common parameters.
type Plain = fn(&Array, &Reduce) -> crate::Result<Array>;
/// The reductions taking a `correction`.
type Corrected = fn(&Array, f64, &Reduce) -> crate::Result<Array>;

/// Evaluates a call of statistical function `f` with bound arguments `a`.
pub(crate) fn call(f: &Function, a: &mut Args) -> Result<crate::Result<Array>, SyntaxError> {
    let x = a.array("x")?;
    let axis = a.axes("axis")?;
    if let Some(scan) = scan_of(f.name) {
        let axis = match axis.as_deref() {
            None => None,
            Some(&[k]) => Some(k),
            Some(_) => return Ok(Err(CubedError::Invalid(format!("{}: axis must be an integer or None, not a tuple", f.name)))),
        };
        let opts = crate::Cumulative { axis, dtype: a.dtype("dtype")?, include_initial: a.bool("include_initial")? };
        return Ok(scan(&x, &opts));
    }
    let own = Own { dtype: a.dtype("dtype")?, correction: a.number("correction")?.unwrap_or(0.0) };
    let opts = Reduce { axis, keepdims: a.bool("keepdims")?, split_every: a.uint("split_every")? };
    Ok(reduce(f.name, &x, own, &opts))
}

/// The parameters some reductions have besides the common ones.
struct Own {
    dtype: Option<cubed_task::DType>,
    correction: f64,
}

fn reduce(name: &str, x: &Array, own: Own, opts: &Reduce) -> crate::Result<Array> {
    if let Some(func) = corrected(name) {
        return func(x, own.correction, opts);
    }
    match (name, own.dtype) {
        ("sum", Some(d)) => crate::sum_as(x, d, opts),
        ("prod", Some(d)) => crate::prod_as(x, d, opts),
        _ => plain(name)(x, opts),
    }
}

fn corrected(name: &str) -> Option<Corrected> {
    Some(match name {
        "var" => crate::var,
        "std" => crate::std,
        "nanvar" => crate::nanvar,
        "nanstd" => crate::nanstd,
        _ => return None,
    })
}

fn plain(name: &str) -> Plain {
    match name {
        "sum" => crate::sum,
        "prod" => crate::prod,
        "mean" => crate::mean,
        "min" => crate::min,
        "max" => crate::max,
        "argmax" => crate::argmax,
        "argmin" => crate::argmin,
        "any" => crate::any,
        "all" => crate::all,
        "count_nonzero" => crate::count_nonzero,
        "nansum" => crate::nansum,
        "nanprod" => crate::nanprod,
        "nanmean" => crate::nanmean,
        "nanmin" => crate::nanmin,
        "nanmax" => crate::nanmax,
        "nanargmin" => crate::nanargmin,
        "nanargmax" => crate::nanargmax,
        other => unreachable!("{other} is not a statistical function of the table"),
    }
}

fn scan_of(name: &str) -> Option<fn(&Array, &crate::Cumulative) -> crate::Result<Array>> {
    match name {
        "cumulative_sum" => Some(crate::cumulative_sum),
        "cumulative_prod" => Some(crate::cumulative_prod),
        _ => None,
    }
}
