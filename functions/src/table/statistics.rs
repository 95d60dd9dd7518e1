//! The statistical functions: reductions and scans.

use super::{all_dtypes, kw, named, with_aliases, Category, Function, Param, ParamDefault, ParamKind, AXIS, DTYPE_NONE, KEEPDIMS, SPLIT_EVERY, X};

/// `correction=0.0` of the variances (numpy's `ddof`).
const CORRECTION: Param = kw("correction", ParamKind::Number, ParamDefault::Float(0.0));
/// The single axis of arg reductions and scans (`None`: all, or the only one).
const ONE_AXIS: Param = kw("axis", ParamKind::Int, ParamDefault::None);
const INCLUDE_INITIAL: Param = kw("include_initial", ParamKind::Bool, ParamDefault::Bool(false));

/// A reduction over `axis` with `keepdims` and `split_every`, and `extra`
/// parameters after `axis` (the Array API's order). Every reduction and scan
/// takes every type (bools count as 0 and 1).
fn reduction(name: &'static str, axis: Param, extra: &[Param], doc: &'static str, dtypes: &'static str) -> Function {
    let mut params = vec![X, axis];
    params.extend_from_slice(extra);
    params.extend([KEEPDIMS, SPLIT_EVERY]);
    named(name, Category::Statistical, params, doc, dtypes, all_dtypes())
}

/// A scan along one axis.
fn scan(name: &'static str, alias: &'static [&'static str], doc: &'static str) -> Function {
    let params = vec![X, ONE_AXIS, DTYPE_NONE, INCLUDE_INITIAL];
    with_aliases(named(name, Category::Statistical, params, doc, SUM_TYPES, all_dtypes()), alias)
}

const SUM_TYPES: &str = "int64 for bool and signed, uint64 for unsigned, floats keep theirs; or dtype";
const NAN_SUM_TYPES: &str = "int64 for bool and signed, uint64 for unsigned, floats keep theirs";
const MEAN_TYPES: &str = "float64 for integers and bool, floats keep theirs";

/// The rows of this part of the table.
pub(super) fn rows() -> Vec<Function> {
    vec![
        reduction("sum", AXIS, &[DTYPE_NONE], "Sum over the axes (0 over an empty axis).", SUM_TYPES),
        reduction("prod", AXIS, &[DTYPE_NONE], "Product over the axes (1 over an empty axis).", SUM_TYPES),
        reduction("mean", AXIS, &[], "Arithmetic mean over the axes.", MEAN_TYPES),
        reduction("min", AXIS, &[], "Minimum over the axes (NaN propagates).", "the type of x"),
        reduction("max", AXIS, &[], "Maximum over the axes (NaN propagates).", "the type of x"),
        reduction("var", AXIS, &[CORRECTION], "Variance over the axes, minus correction degrees of freedom (numpy's ddof); merged (count, sum, M2) partials.", MEAN_TYPES),
        reduction("std", AXIS, &[CORRECTION], "Standard deviation over the axes (the square root of var).", MEAN_TYPES),
        reduction("argmax", ONE_AXIS, &[], "Index of the maximum along axis, or into the flattened array (first occurrence; the first NaN wins).", "int64"),
        reduction("argmin", ONE_AXIS, &[], "Index of the minimum along axis, or into the flattened array (first occurrence; the first NaN wins).", "int64"),
        reduction("any", AXIS, &[], "Whether any element over the axes is nonzero (false over an empty axis).", "bool"),
        reduction("all", AXIS, &[], "Whether every element over the axes is nonzero (true over an empty axis).", "bool"),
        reduction("count_nonzero", AXIS, &[], "Number of nonzero elements over the axes.", "int64"),
        reduction("nansum", AXIS, &[], "Sum over the axes, NaN counted as 0.", NAN_SUM_TYPES),
        reduction("nanprod", AXIS, &[], "Product over the axes, NaN counted as 1.", NAN_SUM_TYPES),
        reduction("nanmean", AXIS, &[], "Mean of the values that are not NaN (NaN when there are none).", MEAN_TYPES),
        reduction("nanvar", AXIS, &[CORRECTION], "Variance of the values that are not NaN.", MEAN_TYPES),
        reduction("nanstd", AXIS, &[CORRECTION], "Standard deviation of the values that are not NaN.", MEAN_TYPES),
        reduction("nanmin", AXIS, &[], "Minimum ignoring NaN (NaN when every value is NaN).", "the type of x"),
        reduction("nanmax", AXIS, &[], "Maximum ignoring NaN (NaN when every value is NaN).", "the type of x"),
        reduction("nanargmin", ONE_AXIS, &[], "Index of the minimum ignoring NaN (a slice of NaN only is an error).", "int64"),
        reduction("nanargmax", ONE_AXIS, &[], "Index of the maximum ignoring NaN (a slice of NaN only is an error).", "int64"),
        scan("cumulative_sum", &["cumsum"], "Running sums along axis (required when x has more than one dimension); include_initial starts with 0."),
        scan("cumulative_prod", &["cumprod"], "Running products along axis (required when x has more than one dimension); include_initial starts with 1."),
    ]
}
