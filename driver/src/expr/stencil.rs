//! Calls of the table's stencils.

use cubed_task::table::Function;

use super::args::Args;
use super::parse::SyntaxError;
use crate::array::Array;

/// Evaluates a call of stencil `f` with bound arguments `a`.
pub(crate) fn call(f: &Function, a: &mut Args) -> Result<crate::Result<Array>, SyntaxError> {
    let x = a.array("x")?;
    let axis = a.int("axis")?.unwrap_or(-1);
    Ok(match f.name {
        "diff" => {
            let n = a.int("n")?.unwrap_or(1);
            let (prepend, append) = (a.opt_array("prepend")?, a.opt_array("append")?);
            crate::diff(&x, n, axis, prepend.as_ref(), append.as_ref())
        }
        name => {
            let window = a.uint("window")?.unwrap_or(0);
            if name == "moving_sum" { crate::moving_sum(&x, window, axis) } else { crate::moving_mean(&x, window, axis) }
        }
    })
}
