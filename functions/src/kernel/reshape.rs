//! Reshapes: the kernel node behind numpy's `reshape` (row-major order).
//!
//! A reshape regroups axes without moving any element in row-major order.
//! [`Reshape::groups`] pairs runs of source axes with runs of result axes
//! whose lengths have the same product, walking from the last axis, as
//! `(3, 4) → (12,)` (a merge), `(12,) → (3, 4)` (a split) or
//! `(6, 4) → (4, 6)` (both). Within a group an element keeps its linear
//! (row-major) position, so a result region reads, per group, the source
//! rows (the group's first source axis, the others whole) that hold the
//! linear range the region spans.
//!
//! When the source's chunks hold whole rows of every group (full chunks on
//! all but each group's first axis) and the result's chunks are the same
//! linear ranges (see `cubed::reshape` in the driver), each result chunk
//! reads exactly one source chunk: memory is a chunk in and a chunk out.
//! Over any other region the read covers the rows the region spans.

use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkData, KernelError};
use crate::error::TaskError;
use crate::kernel::Source;

/// A reshape of `source_shape` into `shape` (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reshape {
    /// The argument's shape.
    pub source_shape: Vec<u64>,
    /// The result's shape (same number of elements).
    pub shape: Vec<u64>,
}

/// Source axes and result axes of a reshape that hold the same elements
/// (row-major): `source` and `axes` are ranges of axis numbers, either may be
/// empty when the other's lengths multiply to 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The source axes.
    pub source: std::ops::Range<usize>,
    /// The result axes.
    pub axes: std::ops::Range<usize>,
}

impl Reshape {
    /// Checks the reshape; values come from plans.
    pub fn check(&self) -> Result<(), String> {
        let product = |s: &[u64]| s.iter().try_fold(1u64, |a, &l| a.checked_mul(l));
        match (product(&self.source_shape), product(&self.shape)) {
            (Some(a), Some(b)) if a == b => Ok(()),
            _ => Err(format!("a reshape of {:?} into {:?}: the sizes differ", self.source_shape, self.shape)),
        }
    }

    /// The groups of axes, first axes first. An array of no elements is one
    /// group of all axes (it is never evaluated over a nonempty region).
    pub fn groups(&self) -> Vec<Group> {
        groups(&self.source_shape, &self.shape)
    }

    /// The source region a result region reads: per group, the rows of its
    /// first source axis holding the linear range the region spans, the
    /// group's other source axes whole.
    pub fn source_region(&self, region: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let mut src: Vec<(u64, u64)> = self.source_shape.iter().map(|&n| (0, n)).collect();
        if self.source_shape.contains(&0) || region.iter().any(|&(a, b)| a >= b) {
            // Nothing to read: the whole (empty) source, or an empty region of it.
            return if src.is_empty() || self.source_shape.contains(&0) { src } else { src.iter().map(|_| (0, 0)).collect() };
        }
        for g in self.groups() {
            let Some(first) = g.source.clone().next() else { continue };
            let (lo, hi) = self.linear_span(&g, region);
            let tail = product(&self.source_shape[first + 1..g.source.end]);
            src[first] = (lo / tail, hi.div_ceil(tail));
        }
        src
    }

    /// `[lo, hi)`: the linear positions (row-major within group `g`) of the
    /// first and one past the last element of `region` in the group.
    fn linear_span(&self, g: &Group, region: &[(u64, u64)]) -> (u64, u64) {
        let (mut lo, mut hi) = (0u64, 0u64);
        for j in g.axes.clone() {
            let stride = product(&self.shape[j + 1..g.axes.end]);
            lo += region[j].0 * stride;
            hi += (region[j].1 - 1) * stride;
        }
        (lo, hi + 1)
    }

    /// Evaluates the reshape over `region` of [`Reshape::shape`]; `arg`
    /// evaluates the argument over a region of the source.
    pub fn evaluate(&self, region: &[(u64, u64)], arg: &Source) -> Result<ChunkData, TaskError> {
        let dims: Vec<usize> = region.iter().map(|&(a, b)| (b - a) as usize).collect();
        let src = self.source_region(region);
        let fail = |e: KernelError| KernelError(format!("a reshape of {:?} into {:?}: {}", self.source_shape, self.shape, e.0));
        if dims.contains(&0) {
            return Ok(arg(&src)?.reshape(&dims).map_err(fail)?);
        }
        let groups = self.groups();
        // One axis per group: the source rows read, flattened.
        let flat: Vec<usize> = groups.iter().map(|g| g.source.clone().map(|k| (src[k].1 - src[k].0) as usize).product()).collect();
        let mut data = arg(&src)?.reshape(&flat).map_err(fail)?;
        for (k, g) in groups.iter().enumerate() {
            // Where the region's elements of this group sit among the rows read.
            let origin = g.source.clone().next().map_or(0, |first| src[first].0 * product(&self.source_shape[first + 1..g.source.end]));
            let (lo, hi) = self.linear_span(g, region);
            let count: u64 = g.axes.clone().map(|j| region[j].1 - region[j].0).product();
            if count == hi - lo {
                if (lo - origin, hi - origin) != (0, flat[k] as u64) {
                    let mut r: Vec<(usize, usize)> = data.shape().iter().map(|&n| (0, n)).collect();
                    r[k] = ((lo - origin) as usize, (hi - origin) as usize);
                    data = data.slice(&r);
                }
            } else {
                let picks = self.linear_positions(g, region).into_iter().map(|p| (p - origin) as usize).collect::<Vec<_>>();
                data = data.select(k, &picks);
            }
        }
        Ok(data.reshape(&dims).map_err(fail)?)
    }

    /// The linear positions (row-major within group `g`) of the region's
    /// elements in the group, in row-major order of the region.
    fn linear_positions(&self, g: &Group, region: &[(u64, u64)]) -> Vec<u64> {
        let mut out = vec![0u64];
        for j in g.axes.clone() {
            let stride = product(&self.shape[j + 1..g.axes.end]);
            let (a, b) = region[j];
            out = out.iter().flat_map(|&base| (a..b).map(move |i| base + i * stride)).collect();
        }
        out
    }
}

fn product(lens: &[u64]) -> u64 {
    lens.iter().product()
}

/// The axis groups of a reshape of `source` into `shape` (see [`Group`]),
/// walking from the last axes: a group closes as soon as its two products
/// agree, so each holds the fewest axes it can and a length-1 axis stands
/// alone where it can. `source` and `shape` hold the same number of elements.
pub fn groups(source: &[u64], shape: &[u64]) -> Vec<Group> {
    if source.contains(&0) || shape.contains(&0) {
        return vec![Group { source: 0..source.len(), axes: 0..shape.len() }];
    }
    let (mut i, mut j) = (source.len(), shape.len());
    let mut out = vec![];
    while i > 0 || j > 0 {
        let (end_i, end_j) = (i, j);
        let (mut p, mut q) = (1u128, 1u128);
        loop {
            let empty = i == end_i && j == end_j;
            if p == q && !empty {
                break;
            }
            // Take from the side with the smaller product (the source first in an empty group).
            if i > 0 && p <= q {
                i -= 1;
                p *= u128::from(source[i]);
            } else if j > 0 {
                j -= 1;
                q *= u128::from(shape[j]);
            } else if i > 0 {
                i -= 1;
                p *= u128::from(source[i]);
            } else {
                // The products differ and no axis is left: not a reshape (checked elsewhere).
                break;
            }
        }
        out.push(Group { source: i..end_i, axes: j..end_j });
        if p != q {
            out.push(Group { source: 0..i, axes: 0..j });
            break;
        }
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    /// The argument: element `i` (row-major) of `shape` holds `i`.
    fn iota(shape: &[u64]) -> impl Fn(&[(u64, u64)]) -> Result<ChunkData, TaskError> + '_ {
        move |region: &[(u64, u64)]| {
            let dims: Vec<usize> = region.iter().map(|&(a, b)| (b - a) as usize).collect();
            let mut values = vec![];
            let mut index: Vec<u64> = region.iter().map(|&(a, _)| a).collect();
            let count: usize = dims.iter().product();
            for _ in 0..count {
                values.push(index.iter().zip(shape).fold(0u64, |acc, (&i, &n)| acc * n + i) as f64);
                for k in (0..index.len()).rev() {
                    index[k] += 1;
                    if index[k] < region[k].1 {
                        break;
                    }
                    index[k] = region[k].0;
                }
            }
            Ok(ChunkData::from_f64_values(DType::Int64, &dims, values)?)
        }
    }

    /// The expected values of `region` of the result: its linear positions.
    fn expected(shape: &[u64], region: &[(u64, u64)]) -> Vec<f64> {
        iota(shape)(region).unwrap().to_f64_vec()
    }

    #[test]
    fn groups_pair_axes_of_equal_products_from_the_end() {
        let g = |s: &[u64], t: &[u64]| groups(s, t).into_iter().map(|g| (g.source, g.axes)).collect::<Vec<_>>();
        assert_eq!(g(&[3, 4], &[12]), vec![(0..2, 0..1)]);
        assert_eq!(g(&[12], &[3, 4]), vec![(0..1, 0..2)]);
        assert_eq!(g(&[5, 6, 4], &[5, 4, 6]), vec![(0..1, 0..1), (1..3, 1..3)]);
        assert_eq!(g(&[2, 1, 3], &[2, 3]), vec![(0..1, 0..1), (1..2, 1..1), (2..3, 1..2)]);
        assert_eq!(g(&[], &[1, 1]), vec![(0..0, 0..1), (0..0, 1..2)]);
        assert_eq!(g(&[0, 3], &[3, 0]), vec![(0..2, 0..2)]);
    }

    #[test]
    fn any_region_holds_numpys_row_major_values() {
        for (source, shape) in [(vec![6u64, 4], vec![4u64, 6]), (vec![3, 4, 5], vec![60]), (vec![60], vec![3, 4, 5]), (vec![2, 1, 6], vec![3, 1, 4]), (vec![1], vec![])] {
            let r = Reshape { source_shape: source.clone(), shape: shape.clone() };
            r.check().unwrap();
            // Every region of up to 3 per axis, wherever it starts.
            let mut starts = vec![0u64; shape.len()];
            loop {
                let region: Vec<(u64, u64)> = starts.iter().zip(&shape).map(|(&a, &n)| (a, (a + 3).min(n))).collect();
                let got = r.evaluate(&region, &iota(&source)).unwrap();
                let dims: Vec<usize> = region.iter().map(|&(a, b)| (b - a) as usize).collect();
                assert_eq!(got.shape(), &dims[..], "{source:?} -> {shape:?} over {region:?}");
                assert_eq!(got.to_f64_vec(), expected(&shape, &region), "{source:?} -> {shape:?} over {region:?}");
                let Some(k) = (0..starts.len()).rev().find(|&k| starts[k] + 1 < shape[k]) else { break };
                starts[k] += 1;
                starts[k + 1..].iter_mut().for_each(|s| *s = 0);
            }
        }
    }

    #[test]
    fn aligned_regions_read_exactly_their_rows() {
        // (6, 4) -> (4, 6): source rows of 3 are result rows of 2.
        let r = Reshape { source_shape: vec![6, 4], shape: vec![4, 6] };
        assert_eq!(r.source_region(&[(2, 4), (0, 6)]), vec![(3, 6), (0, 4)]);
        // A region that starts mid-row reads the rows it touches.
        assert_eq!(r.source_region(&[(1, 2), (2, 5)]), vec![(2, 3), (0, 4)]);
        let bad = Reshape { source_shape: vec![6, 4], shape: vec![5, 5] };
        assert!(bad.check().is_err());
        assert!(Reshape { source_shape: vec![u64::MAX, 2], shape: vec![2] }.check().is_err());
    }
}
