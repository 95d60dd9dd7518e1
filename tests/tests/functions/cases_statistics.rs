//! Cases for the statistical functions (`table/statistics.rs`): every
//! reduction over all axes, one axis (negative too), several, none, with
//! keepdims and a small split_every (a deeper reduction tree; numpy has no
//! such argument); the variances with a correction (numpy's ddof); the scans
//! along an axis, with include_initial and dtype=. Every case runs over every
//! dtype (every row accepts them all), on inputs holding NaN, infinities,
//! -0.0, subnormals, huge floats and the integer limits.
//!
//! Float sums, means and variances may round differently from numpy's
//! (pairwise summation, another order): `accumulated()` allows for it.
//! Products (`prod`, `nanprod`, `cumulative_prod`) may also over- or
//! underflow in one order and not the other: `product()`. A given axis
//! needs an axis (`min_ndim(1)`): numpy takes `axis=0` on 0-d arrays, the
//! Array API not.
//!
//! nanargmin over axis 0 runs on 1-d and 2-d layouts only (nanargmin and
//! nanargmax over the last axis, or all axes, run everywhere): the first
//! elements of the 3-d input pair every special value, so some of its
//! slices along axis 0 hold NaN only, where numpy raises `All-NaN slice
//! encountered` and cubed-rs fails its task with the same words (tested in
//! `driver/tests/statistics.rs`), which the harness counts as a failure.

use crate::case::Case;

pub const CASES: &[Case] = &[
    // sum, prod.
    Case::x("sum", "sum(x)", "np.sum(x)").accumulated(),
    Case::x("sum", "sum(x, axis=0)", "np.sum(x, axis=0)").accumulated().min_ndim(1),
    Case::x("sum", "sum(x, axis=-1, keepdims=True)", "np.sum(x, axis=-1, keepdims=True)").accumulated().min_ndim(1),
    Case::x("sum", "sum(x, axis=(0, -1))", "np.sum(x, axis=(0, -1))").accumulated().min_ndim(2),
    Case::x("sum", "sum(x, axis=1, keepdims=True, split_every=2)", "np.sum(x, axis=1, keepdims=True)").accumulated().min_ndim(2),
    Case::x("sum", "sum(x, axis=())", "np.sum(x, axis=())").accumulated(),
    Case::x("sum", "sum(x, axis=0, dtype=float64)", "np.sum(x, axis=0, dtype=np.float64)").accumulated().min_ndim(1),
    Case::x("prod", "prod(x)", "np.prod(x)").product(),
    Case::x("prod", "prod(x, axis=0)", "np.prod(x, axis=0)").product().min_ndim(1),
    Case::x("prod", "prod(x, axis=(0, -1), keepdims=True, split_every=2)", "np.prod(x, axis=(0, -1), keepdims=True)").product().min_ndim(2),
    Case::x("prod", "prod(x, axis=-1, dtype=float64)", "np.prod(x, axis=-1, dtype=np.float64)").product().min_ndim(1),
    // mean, var, std.
    Case::x("mean", "mean(x)", "np.mean(x)").accumulated(),
    Case::x("mean", "mean(x, axis=0)", "np.mean(x, axis=0)").accumulated().min_ndim(1),
    Case::x("mean", "mean(x, axis=-1, keepdims=True)", "np.mean(x, axis=-1, keepdims=True)").accumulated().min_ndim(1),
    Case::x("mean", "mean(x, axis=(0, -1))", "np.mean(x, axis=(0, -1))").accumulated().min_ndim(2),
    Case::x("mean", "mean(x, axis=0, split_every=2)", "np.mean(x, axis=0)").accumulated().min_ndim(1),
    Case::x("var", "var(x)", "np.var(x)").accumulated(),
    Case::x("var", "var(x, axis=0, correction=1)", "np.var(x, axis=0, ddof=1)").accumulated().min_ndim(1),
    Case::x("var", "var(x, axis=-1, keepdims=True, split_every=2)", "np.var(x, axis=-1, keepdims=True)").accumulated().min_ndim(1),
    Case::x("var", "var(x, axis=(0, -1), correction=0.5)", "np.var(x, axis=(0, -1), ddof=0.5)").accumulated().min_ndim(2),
    Case::x("std", "std(x)", "np.std(x)").accumulated(),
    Case::x("std", "std(x, axis=-1, correction=1, keepdims=True)", "np.std(x, axis=-1, ddof=1, keepdims=True)").accumulated().min_ndim(1),
    Case::x("std", "std(x, axis=(1, 0), split_every=2)", "np.std(x, axis=(1, 0))").accumulated().min_ndim(2),
    // min, max.
    Case::x("min", "min(x)", "np.min(x)").any_zero_sign(),
    Case::x("min", "min(x, axis=0)", "np.min(x, axis=0)").any_zero_sign().min_ndim(1),
    Case::x("min", "min(x, axis=-1, keepdims=True)", "np.min(x, axis=-1, keepdims=True)").any_zero_sign().min_ndim(1),
    Case::x("min", "min(x, axis=(0, -1), split_every=2)", "np.min(x, axis=(0, -1))").any_zero_sign().min_ndim(2),
    Case::x("max", "max(x)", "np.max(x)").any_zero_sign(),
    Case::x("max", "max(x, axis=0, keepdims=True)", "np.max(x, axis=0, keepdims=True)").any_zero_sign().min_ndim(1),
    Case::x("max", "max(x, axis=-1)", "np.max(x, axis=-1)").any_zero_sign().min_ndim(1),
    Case::x("max", "max(x, axis=(1, 0), split_every=2)", "np.max(x, axis=(1, 0))").any_zero_sign().min_ndim(2),
    // argmax, argmin: one axis or None (first occurrence; the first NaN wins).
    Case::x("argmax", "argmax(x)", "np.argmax(x)"),
    Case::x("argmax", "argmax(x, axis=0)", "np.argmax(x, axis=0)").min_ndim(1),
    Case::x("argmax", "argmax(x, axis=-1, keepdims=True, split_every=2)", "np.argmax(x, axis=-1, keepdims=True)").min_ndim(1),
    Case::x("argmin", "argmin(x, axis=None, keepdims=True)", "np.argmin(x, axis=None, keepdims=True)"),
    Case::x("argmin", "argmin(x, axis=-1)", "np.argmin(x, axis=-1)").min_ndim(1),
    Case::x("argmin", "argmin(x, axis=0, split_every=2)", "np.argmin(x, axis=0)").min_ndim(1),
    // any, all, count_nonzero (NaN is nonzero).
    Case::x("any", "any(x)", "np.any(x)"),
    Case::x("any", "any(x, axis=0, keepdims=True)", "np.any(x, axis=0, keepdims=True)").min_ndim(1),
    Case::x("any", "any(x, axis=(0, -1), split_every=2)", "np.any(x, axis=(0, -1))").min_ndim(2),
    Case::x("all", "all(x)", "np.all(x)"),
    Case::x("all", "all(x, axis=-1)", "np.all(x, axis=-1)").min_ndim(1),
    Case::x("all", "all(x, axis=(1, 0), keepdims=True, split_every=2)", "np.all(x, axis=(1, 0), keepdims=True)").min_ndim(2),
    Case::x("all", "all(x, axis=())", "np.all(x, axis=())"),
    Case::x("count_nonzero", "count_nonzero(x)", "np.count_nonzero(x)"),
    Case::x("count_nonzero", "count_nonzero(x, axis=-1, keepdims=True)", "np.count_nonzero(x, axis=-1, keepdims=True)").min_ndim(1),
    Case::x("count_nonzero", "count_nonzero(x, axis=(0, 1), split_every=2)", "np.count_nonzero(x, axis=(0, 1))").min_ndim(2),
    // The nan-functions (on integers and bools, the plain ones).
    Case::x("nansum", "nansum(x)", "np.nansum(x)").accumulated(),
    Case::x("nansum", "nansum(x, axis=0, split_every=2)", "np.nansum(x, axis=0)").accumulated().min_ndim(1),
    Case::x("nansum", "nansum(x, axis=(0, -1), keepdims=True)", "np.nansum(x, axis=(0, -1), keepdims=True)").accumulated().min_ndim(2),
    Case::x("nanprod", "nanprod(x)", "np.nanprod(x)").product(),
    Case::x("nanprod", "nanprod(x, axis=-1)", "np.nanprod(x, axis=-1)").product().min_ndim(1),
    Case::x("nanprod", "nanprod(x, axis=(1, 0), keepdims=True, split_every=2)", "np.nanprod(x, axis=(1, 0), keepdims=True)").product().min_ndim(2),
    Case::x("nanmean", "nanmean(x)", "np.nanmean(x)").accumulated(),
    Case::x("nanmean", "nanmean(x, axis=0)", "np.nanmean(x, axis=0)").accumulated().min_ndim(1),
    Case::x("nanmean", "nanmean(x, axis=-1, keepdims=True, split_every=2)", "np.nanmean(x, axis=-1, keepdims=True)").accumulated().min_ndim(1),
    Case::x("nanvar", "nanvar(x)", "np.nanvar(x)").accumulated(),
    Case::x("nanvar", "nanvar(x, axis=0, correction=1)", "np.nanvar(x, axis=0, ddof=1)").accumulated().min_ndim(1),
    Case::x("nanvar", "nanvar(x, axis=(0, -1), keepdims=True, split_every=2)", "np.nanvar(x, axis=(0, -1), keepdims=True)").accumulated().min_ndim(2),
    Case::x("nanstd", "nanstd(x)", "np.nanstd(x)").accumulated(),
    Case::x("nanstd", "nanstd(x, axis=-1, correction=1.5, keepdims=True)", "np.nanstd(x, axis=-1, ddof=1.5, keepdims=True)").accumulated().min_ndim(1),
    Case::x("nanstd", "nanstd(x, axis=0, split_every=2)", "np.nanstd(x, axis=0)").accumulated().min_ndim(1),
    Case::x("nanmin", "nanmin(x)", "np.nanmin(x)").any_zero_sign(),
    Case::x("nanmin", "nanmin(x, axis=0, split_every=2)", "np.nanmin(x, axis=0)").any_zero_sign().min_ndim(1),
    Case::x("nanmin", "nanmin(x, axis=(0, -1), keepdims=True)", "np.nanmin(x, axis=(0, -1), keepdims=True)").any_zero_sign().min_ndim(2),
    Case::x("nanmax", "nanmax(x)", "np.nanmax(x)").any_zero_sign(),
    Case::x("nanmax", "nanmax(x, axis=-1, keepdims=True)", "np.nanmax(x, axis=-1, keepdims=True)").any_zero_sign().min_ndim(1),
    Case::x("nanmax", "nanmax(x, axis=(1, 0), split_every=2)", "np.nanmax(x, axis=(1, 0))").any_zero_sign().min_ndim(2),
    Case::x("nanargmin", "nanargmin(x)", "np.nanargmin(x)"),
    Case::x("nanargmin", "nanargmin(x, axis=-1, split_every=2)", "np.nanargmin(x, axis=-1)").min_ndim(1),
    Case::x("nanargmin", "nanargmin(x, axis=0)", "np.nanargmin(x, axis=0)").ndim(1, 2),
    Case::x("nanargmax", "nanargmax(x, axis=None, keepdims=True)", "np.nanargmax(x, axis=None, keepdims=True)"),
    Case::x("nanargmax", "nanargmax(x, axis=-1, keepdims=True)", "np.nanargmax(x, axis=-1, keepdims=True)").min_ndim(1),
    // Scans along an axis, with include_initial and dtype=; without axis on 1-d arrays.
    Case::x("cumulative_sum", "cumulative_sum(x)", "np.cumulative_sum(x)").accumulated().ndim(1, 1),
    Case::x("cumulative_sum", "cumulative_sum(x, axis=0)", "np.cumulative_sum(x, axis=0)").accumulated().min_ndim(1),
    Case::x("cumulative_sum", "cumulative_sum(x, axis=-1, include_initial=True)", "np.cumulative_sum(x, axis=-1, include_initial=True)").accumulated().min_ndim(1),
    Case::x("cumulative_sum", "cumsum(x, axis=-1, dtype=float64)", "np.cumsum(x, axis=-1, dtype=np.float64)").accumulated().min_ndim(1),
    Case::x("cumulative_sum", "cumulative_sum(x, axis=0, dtype=float32, include_initial=True)", "np.cumulative_sum(x, axis=0, dtype=np.float32, include_initial=True)").accumulated().min_ndim(1),
    Case::x("cumulative_prod", "cumulative_prod(x)", "np.cumulative_prod(x)").product().ndim(1, 1),
    Case::x("cumulative_prod", "cumulative_prod(x, axis=0)", "np.cumulative_prod(x, axis=0)").product().min_ndim(1),
    Case::x("cumulative_prod", "cumulative_prod(x, axis=-1, include_initial=True)", "np.cumulative_prod(x, axis=-1, include_initial=True)").product().min_ndim(1),
    Case::x("cumulative_prod", "cumprod(x, axis=0, dtype=float32)", "np.cumprod(x, axis=0, dtype=np.float32)").product().min_ndim(1),
    // Refused, once (in the group without inputs: a refusal costs an evaluation
    // per group): without axis for more than one dimension, as in numpy; a 0-d
    // array and dtype=bool, which numpy computes.
    Case::none("cumulative_prod", "cumulative_prod(zeros((2, 3)))", "np.cumulative_prod(np.zeros((2, 3)))"),
    Case::none("cumulative_sum", "cumulative_sum(asarray(5))", "np.cumulative_sum(np.asarray(5))"),
    Case::none("cumulative_sum", "cumulative_sum(arange(4), dtype=bool)", "np.cumulative_sum(np.arange(4), dtype=bool)"),
];
