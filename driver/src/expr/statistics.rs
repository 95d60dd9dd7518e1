//! Calls of the table's statistical functions (reductions and scans).

use cubed_task::table::Function;

use super::args::Args;
use super::parse::SyntaxError;
use crate::array::Array;

/// Evaluates a call of statistical function `f` with bound arguments `a`.
pub(crate) fn call(f: &Function, a: &mut Args) -> Result<crate::Result<Array>, SyntaxError> {
    Ok(match f.name {
        "sum" | "mean" | "min" | "max" => {
                let x = a.array("x")?;
                let opts = crate::Reduce { axis: a.axes("axis")?, keepdims: a.bool("keepdims")?, split_every: a.uint("split_every")? };
                let func = match f.name {
                    "sum" => crate::sum,
                    "mean" => crate::mean,
                    "min" => crate::min,
                    _ => crate::max,
                };
                func(&x, &opts)
            }
        other => unreachable!("{other} is not a statistical function of the table"),
    })
}
