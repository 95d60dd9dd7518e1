//! (count, sum, M2) partials of `var`, `std` and `nanmean`, in float64.
//!
//! Within a block, two passes as numpy: the sum and count, then the sum of
//! squared deviations from the block's mean (M2). Between blocks, the partials
//! merge with the parallel algorithm of Chan, Golub and LeVeque:
//! `M2 = M2a + M2b + d² na nb / n` with `d` the difference of the means, which
//! stays accurate where a sum of squares would cancel catastrophically. The
//! sum (not the mean) is kept so that `nanmean` is numpy's `sum / count`.

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};

use super::{fold_axes, same_shape, Finish};
use crate::chunk::{ChunkData, KernelError};

/// (count, sum, M2) of one group of values.
pub type State = [f64; 3];

/// Marks a skipped (NaN) value among squared deviations, which are never negative.
const SKIPPED: f64 = -1.0;

/// The moments of one block over `axes` (kept as length-1 axes); NaN values
/// are left out when `skip_nan`, else they make the group's moments NaN.
pub fn block(mut a: ArrayD<f64>, axes: &[usize], skip_nan: bool) -> Result<ArrayD<State>, KernelError> {
    let valid = |x: f64| !(skip_nan && x.is_nan());
    let sums = fold_axes(
        a.view(),
        axes,
        |x| if valid(x) { [1.0, x] } else { [0.0, 0.0] },
        |s, x| {
            if valid(x) {
                s[0] += 1.0;
                s[1] += x;
            }
        },
        |s, b| {
            s[0] += b[0];
            s[1] += b[1];
        },
    )?;
    // In place: squared deviations from the group's mean (infinite values give
    // NaN, as in numpy), or the mark of a skipped value.
    let sums_view = sums.broadcast(a.raw_dim()).ok_or_else(|| KernelError(format!("cannot broadcast moments of shape {:?} to {:?}", sums.shape(), a.shape())))?;
    Zip::from(&mut a).and(&sums_view).for_each(|x, s| {
        *x = if valid(*x) { (*x - s[1] / s[0]).powi(2) } else { SKIPPED };
    });
    let kept = |x: f64| if x == SKIPPED { 0.0 } else { x };
    let m2 = fold_axes(a.view(), axes, kept, |s, x| *s += kept(x), |s, b| *s += *b)?;
    Ok(Zip::from(&sums).and(&m2).map_collect(|s, &m| [s[0], s[1], m]))
}

/// Merges partial `b` into `a` (Chan et al.).
pub fn merge(a: &mut State, b: &State) {
    if b[0] == 0.0 {
        return;
    }
    if a[0] == 0.0 {
        *a = *b;
        return;
    }
    let n = a[0] + b[0];
    let d = b[1] / b[0] - a[1] / a[0];
    a[2] += b[2] + d * d * (a[0] * b[0] / n);
    a[0] = n;
    a[1] += b[1];
}

/// Merges a block of partials over `axes` (a later round).
pub fn merge_block(a: ArrayViewD<State>, axes: &[usize]) -> Result<ArrayD<State>, KernelError> {
    fold_axes(a, axes, |s| s, |s, b| merge(s, &b), merge)
}

/// Partials as stored: float64 with a trailing axis of (count, sum, M2).
pub fn encode(m: &ArrayD<State>) -> ChunkData {
    let mut shape = m.shape().to_vec();
    shape.push(3);
    let values: Vec<f64> = m.iter().flatten().copied().collect();
    ChunkData::Float64(ArrayD::from_shape_vec(IxDyn(&shape), values).expect("three fields per state"))
}

/// Stored partials back as states; refuses data of another layout.
pub fn decode(data: ChunkData) -> Result<ArrayD<State>, KernelError> {
    let bad = |d: &ChunkData| KernelError(format!("moment partials are float64 with a trailing axis of 3 fields, not {} of shape {:?}", d.dtype(), d.shape()));
    match data {
        ChunkData::Float64(a) if a.shape().last() == Some(&3) => {
            let last = a.ndim() - 1;
            Ok(Zip::from(a.lanes(Axis(last))).map_collect(|l| [l[0], l[1], l[2]]))
        }
        other => Err(bad(&other)),
    }
}

/// The finished values: numpy's `var` divides M2 by `max(count - correction,
/// 0)` (0 gives inf or NaN), its `nanvar` gives NaN when that is not positive;
/// `std` is the square root; `mean` is `sum / count` (NaN without values).
pub fn finish(m: &ArrayD<State>, finish: Finish, nan: bool) -> ArrayD<f64> {
    let var = |s: &State, c: f64| {
        // Not `f64::max`, which would turn a NaN correction into 0.
        let dof = s[0] - c;
        let dof = if dof < 0.0 { 0.0 } else { dof };
        if nan && (dof.is_nan() || dof <= 0.0) {
            f64::NAN
        } else {
            s[2] / dof
        }
    };
    m.map(|s| match finish {
        Finish::Var { correction } => var(s, correction),
        Finish::Std { correction } => var(s, correction).sqrt(),
        Finish::Mean | Finish::Index => s[1] / s[0],
    })
}

/// Merges two partials of the same shape.
pub fn merge_all(mut a: ArrayD<State>, b: &ArrayD<State>) -> Result<ArrayD<State>, KernelError> {
    same_shape(a.shape(), b.shape())?;
    Zip::from(&mut a).and(b).for_each(merge);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two-pass variance of `v` with `ddof`, the textbook reference.
    fn two_pass(v: &[f64], ddof: f64) -> f64 {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - ddof)
    }

    fn moments_of(v: &[f64], nan: bool) -> State {
        block(ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap(), &[0], nan).unwrap()[[0]]
    }

    #[test]
    fn merged_block_moments_match_a_two_pass_reference() {
        // Values with a large offset: a sum of squares would lose every digit.
        let v: Vec<f64> = (0..1000).map(|i| 1e9 + ((i * 7919) % 1000) as f64 / 7.0).collect();
        for split in [1, 3, 500, 999] {
            let mut m = moments_of(&v[..split], false);
            merge(&mut m, &moments_of(&v[split..], false));
            let got = finish(&ArrayD::from_elem(IxDyn(&[]), m), Finish::Var { correction: 1.0 }, false)[[]];
            let want = two_pass(&v, 1.0);
            assert!((got - want).abs() <= 1e-9 * want, "split {split}: {got} vs {want}");
        }
        // Merging in any order, including empty partials, gives the same moments.
        let mut m = [0.0; 3];
        for c in v.chunks(77).rev() {
            merge(&mut m, &moments_of(c, false));
        }
        merge(&mut m, &[0.0; 3]);
        let std = finish(&ArrayD::from_elem(IxDyn(&[]), m), Finish::Std { correction: 0.0 }, false)[[]];
        assert!((std - two_pass(&v, 0.0).sqrt()).abs() <= 1e-9 * std, "{std}");
    }

    #[test]
    fn nan_and_correction_follow_numpy() {
        let one = |v: &[f64], nan: bool, f: Finish| finish(&ArrayD::from_elem(IxDyn(&[]), moments_of(v, nan)), f, nan)[[]];
        let var = |c: f64| Finish::Var { correction: c };
        // np.var([1.], ddof=1) is nan, np.var([1., 2.], ddof=3) inf, np.nanvar of the same nan.
        assert!(one(&[1.0], false, var(1.0)).is_nan());
        assert_eq!(one(&[1.0, 2.0], false, var(3.0)), f64::INFINITY);
        assert!(one(&[1.0, 2.0], true, var(3.0)).is_nan());
        assert_eq!(one(&[1.0, 2.0], false, var(-1.0)), 0.5 / 3.0);
        // NaN propagates, or is skipped; infinities give NaN variances.
        assert!(one(&[1.0, f64::NAN], false, var(0.0)).is_nan());
        assert_eq!(one(&[1.0, f64::NAN, 3.0], true, var(1.0)), 2.0);
        assert!(one(&[f64::INFINITY], false, var(0.0)).is_nan());
        assert!(one(&[f64::INFINITY, 1.0], true, var(0.0)).is_nan());
        // nanmean is sum / count: inf stays inf, no values give NaN.
        assert_eq!(one(&[f64::INFINITY, 1.0, f64::NAN], true, Finish::Mean), f64::INFINITY);
        assert!(one(&[f64::NAN, f64::NAN], true, Finish::Mean).is_nan());
    }

    #[test]
    fn stored_partials_are_checked_when_read_back() {
        let m = block(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 5.0]).unwrap(), &[1], false).unwrap();
        let stored = encode(&m);
        assert_eq!(stored.shape(), &[2, 1, 3]);
        assert_eq!(decode(stored).unwrap(), m);
        assert!(decode(ChunkData::Float64(ArrayD::zeros(IxDyn(&[2, 2])))).unwrap_err().0.contains("trailing axis of 3"));
        assert!(decode(ChunkData::Int64(ArrayD::zeros(IxDyn(&[2, 3])))).is_err());
        assert!(merge_all(m.clone(), &ArrayD::from_elem(IxDyn(&[1]), [0.0; 3])).is_err());
    }
}
