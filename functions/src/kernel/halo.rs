//! Stencils along one axis: the kernel node behind `diff`, `moving_sum`
//! and `moving_mean`.
//!
//! A [`Halo`] evaluates its argument over the output region extended by a
//! margin along its axis (the halo: `before` elements from the chunks
//! before, `after` from those after, as Dask's and Cubed's `map_overlap`
//! exchange), then computes each output element from its neighbourhood. The
//! argument is read region by region, so a margin longer than a chunk is
//! only more reading, and memory is the extended region.

use ndarray::{ArrayD, Axis, IxDyn, Slice};
use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkData, KernelError};
use crate::dtype::DType;
use crate::error::TaskError;
use crate::kernel::Source;
use crate::kernel::BinaryOp;

/// What a [`Halo`] computes from each neighbourhood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum HaloOp {
    /// numpy's `diff`: the `n`-th forward difference (`subtract`, or
    /// `not_equal` for bools), in the argument's type. Margin: `n` after.
    Diff {
        /// Order of the difference.
        n: u64,
    },
    /// The sum of the trailing `window` elements (the element and the
    /// `window - 1` before it); NaN where fewer than `window` exist or any
    /// is NaN (pandas' `rolling(window).sum()`). Margin: `window - 1` before.
    MovingSum {
        /// Window length.
        window: u64,
    },
    /// As [`HaloOp::MovingSum`], divided by `window`.
    MovingMean {
        /// Window length.
        window: u64,
    },
}

/// A stencil along one axis (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halo {
    /// The axis.
    pub axis: usize,
    /// The argument's shape.
    pub source_shape: Vec<u64>,
    /// What is computed.
    pub op: HaloOp,
    /// The result type.
    pub dtype: DType,
}

impl Halo {
    /// Elements of margin (before, after) along the axis.
    pub fn margins(&self) -> (u64, u64) {
        match self.op {
            HaloOp::Diff { n } => (0, n),
            HaloOp::MovingSum { window } | HaloOp::MovingMean { window } => (window.saturating_sub(1), 0),
        }
    }

    /// The result's shape.
    pub fn shape(&self) -> Vec<u64> {
        let mut s = self.source_shape.clone();
        if let HaloOp::Diff { n } = self.op {
            s[self.axis] = s[self.axis].saturating_sub(n);
        }
        s
    }

    /// Checks the stencil against its source; values come from plans.
    pub fn check(&self) -> Result<(), String> {
        if self.axis >= self.source_shape.len() {
            return Err(format!("a stencil along axis {} of a {}-dimensional source", self.axis, self.source_shape.len()));
        }
        match self.op {
            HaloOp::Diff { n } if n > self.source_shape[self.axis] => Err(format!("a difference of order {n} along an axis of length {}", self.source_shape[self.axis])),
            HaloOp::MovingSum { window: 0 } | HaloOp::MovingMean { window: 0 } => Err("a moving window of length 0".into()),
            HaloOp::MovingSum { .. } | HaloOp::MovingMean { .. } if !self.dtype.is_float() => Err(format!("a moving window computed in {}", self.dtype)),
            _ => Ok(()),
        }
    }

    /// The source region a result region reads: extended by the margins
    /// along the axis, clipped to the source.
    pub fn source_region(&self, region: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let (before, after) = self.margins();
        let mut r = region.to_vec();
        let (a, b) = r[self.axis];
        r[self.axis] = (a.saturating_sub(before), (b + after).min(self.source_shape[self.axis]));
        r
    }

    /// Evaluates the stencil over `region` of [`Halo::shape`]; `arg`
    /// evaluates the argument over a region of the source.
    pub fn evaluate(&self, region: &[(u64, u64)], arg: &Source) -> Result<ChunkData, TaskError> {
        let src = self.source_region(region);
        let data = arg(&src)?;
        let k = self.axis;
        Ok(match self.op {
            HaloOp::Diff { n } => {
                let (op, mut d) = (if data.dtype() == DType::Bool { BinaryOp::NotEqual } else { BinaryOp::Subtract }, data);
                for _ in 0..n {
                    let len = d.shape()[k];
                    let part = |from: usize, to: usize| {
                        let mut r: Vec<(usize, usize)> = d.shape().iter().map(|&s| (0, s)).collect();
                        r[k] = (from, to);
                        d.slice(&r)
                    };
                    let (hi, lo) = (part(1, len), part(0, len - 1));
                    let compute = hi.dtype();
                    d = op.apply(hi, lo, compute)?;
                }
                d
            }
            HaloOp::MovingSum { window } | HaloOp::MovingMean { window } => {
                let divide = matches!(self.op, HaloOp::MovingMean { .. });
                let x = match data.cast(DType::Float64) {
                    ChunkData::Float64(a) => a,
                    _ => unreachable!("cast to float64"),
                };
                let out = moving(&x, k, window, region[k].0 - src[k].0, region[k].0, divide).map_err(|e| TaskError::from(KernelError(e)))?;
                ChunkData::Float64(out).cast(self.dtype)
            }
        })
    }
}

/// Trailing-window sums (or means) along axis `k` of `x`, which starts
/// `skip` elements before the result and whose result starts at global
/// index `first`: NaN where the window would start before index 0 or holds
/// a NaN. Each window is summed directly (`window` additions per element),
/// so an infinity or NaN affects only the windows that hold it.
fn moving(x: &ArrayD<f64>, k: usize, window: u64, skip: u64, first: u64, divide: bool) -> Result<ArrayD<f64>, String> {
    let len = x.shape()[k] - skip as usize;
    let mut dims = x.shape().to_vec();
    dims[k] = len;
    let mut out = ArrayD::from_elem(IxDyn(&dims), f64::NAN);
    let w = window as usize;
    for (src, mut dst) in x.lanes(Axis(k)).into_iter().zip(out.lanes_mut(Axis(k))) {
        for (j, o) in dst.iter_mut().enumerate() {
            let global = first + j as u64;
            if global + 1 < window {
                continue;
            }
            let end = skip as usize + j + 1;
            let sum: f64 = src.slice_axis(Axis(0), Slice::from(end - w..end)).iter().sum();
            *o = if divide { sum / window as f64 } else { sum };
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iota(region: &[(u64, u64)]) -> Result<ChunkData, TaskError> {
        let (a, b) = region[0];
        Ok(ChunkData::from_f64_values(DType::Int64, &[(b - a) as usize], (a..b).map(|i| (i * i) as f64).collect())?)
    }

    #[test]
    fn differences_read_a_margin_after_the_region() {
        // x = i^2 over [10]; diff(x, n=2) = 2 everywhere, diff(x) = 2i + 1.
        let h = Halo { axis: 0, source_shape: vec![10], op: HaloOp::Diff { n: 2 }, dtype: DType::Int64 };
        h.check().unwrap();
        assert_eq!(h.shape(), vec![8]);
        assert_eq!(h.source_region(&[(5, 8)]), vec![(5, 10)]);
        assert_eq!(h.evaluate(&[(5, 8)], &iota).unwrap().to_f64_vec(), vec![2.0, 2.0, 2.0]);
        let h1 = Halo { op: HaloOp::Diff { n: 1 }, ..h.clone() };
        assert_eq!(h1.evaluate(&[(3, 5)], &iota).unwrap().to_f64_vec(), vec![7.0, 9.0]);
        assert!(Halo { op: HaloOp::Diff { n: 11 }, ..h }.check().is_err());
    }

    #[test]
    fn moving_windows_are_nan_until_full() {
        let h = Halo { axis: 0, source_shape: vec![10], op: HaloOp::MovingSum { window: 3 }, dtype: DType::Float64 };
        h.check().unwrap();
        assert_eq!(h.source_region(&[(1, 4)]), vec![(0, 4)]);
        let v = h.evaluate(&[(1, 4)], &iota).unwrap().to_f64_vec();
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], &[0.0 + 1.0 + 4.0, 1.0 + 4.0 + 9.0]);
        let m = Halo { op: HaloOp::MovingMean { window: 2 }, ..h.clone() };
        assert_eq!(m.evaluate(&[(8, 10)], &iota).unwrap().to_f64_vec(), vec![(49.0 + 64.0) / 2.0, (64.0 + 81.0) / 2.0]);
        assert!(Halo { dtype: DType::Int32, ..h }.check().is_err());
    }
}
