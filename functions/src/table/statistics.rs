//! The statistical functions: reductions (and, as they land, scans).

use super::{all_dtypes, named, Category, Function, AXIS, KEEPDIMS, SPLIT_EVERY, X};
use crate::dtype::DType;

/// A reduction over `axis` with `keepdims` and `split_every`.
fn reduction(name: &'static str, doc: &'static str, dtypes: &'static str, accepts: Vec<DType>) -> Function {
    named(name, Category::Statistical, vec![X, AXIS, KEEPDIMS, SPLIT_EVERY], doc, dtypes, accepts)
}

/// The rows of this part of the table.
pub(super) fn rows() -> Vec<Function> {
    vec![
        reduction("sum", "Sum over the axes.", "int64 for bool and signed, uint64 for unsigned, floats keep theirs", all_dtypes()),
        reduction("mean", "Arithmetic mean over the axes.", "float64 for integers, floats keep theirs", all_dtypes()),
        reduction("min", "Minimum over the axes (NaN propagates).", "the type of x", all_dtypes()),
        reduction("max", "Maximum over the axes (NaN propagates).", "the type of x", all_dtypes()),
    ]
}
