//! Cases for the statistical functions (`table/statistics.rs`): every
//! reduction over all axes, one axis, several, none, with keepdims and a
//! small split_every (a deeper reduction tree; numpy has no such argument).
//! Float sums and means may round differently from numpy's pairwise
//! summation: `accumulated()` allows for it. A given axis needs an axis
//! (`min_ndim(1)`): numpy takes `axis=0` on 0-d arrays, the Array API not.

use crate::case::Case;

pub const CASES: &[Case] = &[
    Case::x("sum", "sum(x)", "np.sum(x)").accumulated(),
    Case::x("sum", "sum(x, axis=0)", "np.sum(x, axis=0)").accumulated().min_ndim(1),
    Case::x("sum", "sum(x, axis=-1, keepdims=True)", "np.sum(x, axis=-1, keepdims=True)").accumulated().min_ndim(1),
    Case::x("sum", "sum(x, axis=(0, -1))", "np.sum(x, axis=(0, -1))").accumulated().min_ndim(2),
    Case::x("sum", "sum(x, axis=1, keepdims=True, split_every=2)", "np.sum(x, axis=1, keepdims=True)").accumulated().min_ndim(2),
    Case::x("sum", "sum(x, axis=())", "np.sum(x, axis=())").accumulated(),
    Case::x("mean", "mean(x)", "np.mean(x)").accumulated(),
    Case::x("mean", "mean(x, axis=0)", "np.mean(x, axis=0)").accumulated().min_ndim(1),
    Case::x("mean", "mean(x, axis=-1, keepdims=True)", "np.mean(x, axis=-1, keepdims=True)").accumulated().min_ndim(1),
    Case::x("mean", "mean(x, axis=(0, -1))", "np.mean(x, axis=(0, -1))").accumulated().min_ndim(2),
    Case::x("mean", "mean(x, axis=0, split_every=2)", "np.mean(x, axis=0)").accumulated().min_ndim(1),
    Case::x("min", "min(x)", "np.min(x)").any_zero_sign(),
    Case::x("min", "min(x, axis=0)", "np.min(x, axis=0)").any_zero_sign().min_ndim(1),
    Case::x("min", "min(x, axis=-1, keepdims=True)", "np.min(x, axis=-1, keepdims=True)").any_zero_sign().min_ndim(1),
    Case::x("min", "min(x, axis=(0, -1), split_every=2)", "np.min(x, axis=(0, -1))").any_zero_sign().min_ndim(2),
    Case::x("max", "max(x)", "np.max(x)").any_zero_sign(),
    Case::x("max", "max(x, axis=0, keepdims=True)", "np.max(x, axis=0, keepdims=True)").any_zero_sign().min_ndim(1),
    Case::x("max", "max(x, axis=-1)", "np.max(x, axis=-1)").any_zero_sign().min_ndim(1),
    Case::x("max", "max(x, axis=(1, 0), split_every=2)", "np.max(x, axis=(1, 0))").any_zero_sign().min_ndim(2),
];
