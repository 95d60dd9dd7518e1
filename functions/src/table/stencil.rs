//! The stencils: each output element from a window of its neighbours along
//! one axis; an output chunk reads its own region plus a margin.

use super::{arg, kw, named, Category::Stencil, Function, ParamDefault as D, ParamKind as K, X};
use crate::dtype::DType;

/// The rows of this part of the table.
pub(super) fn rows() -> Vec<Function> {
    let windowed = |name, doc| {
        let accepts = DType::ALL.to_vec();
        Function {
            fuses: true,
            ..named(name, Stencil, vec![X, arg("window", K::Int, D::Required), kw("axis", K::Int, D::Int(-1))], doc, "float32 for float32, else float64", accepts)
        }
    };
    vec![
        Function {
            fuses: true,
            ..named(
                "diff",
                Stencil,
                vec![X, arg("n", K::Int, D::Int(1)), arg("axis", K::Int, D::Int(-1)), arg("prepend", K::Array, D::None), arg("append", K::Array, D::None)],
                "The n-th forward difference along axis (x[1:] - x[:-1], n times; not_equal for bools), after joining prepend and append.",
                "the type of x (with prepend and append, promoted)",
                DType::ALL.to_vec(),
            )
        },
        windowed("moving_sum", "Sum of each element and the window - 1 before it along axis; NaN where fewer exist or one is NaN (pandas' rolling(window).sum())."),
        windowed("moving_mean", "Mean of each element and the window - 1 before it along axis; NaN where fewer exist or one is NaN (pandas' rolling(window).mean())."),
    ]
}
