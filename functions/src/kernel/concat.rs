//! Concatenation: the kernel node behind `concat`, `stack` and `pad`.
//!
//! The result along `axis` is the parts one after the other; a region of
//! it evaluates each part it overlaps over the matching region of that
//! part, one at a time, so the parts may be chunked differently and memory
//! is the region plus one part's piece.

use serde::{Deserialize, Serialize};

use crate::chunk::ChunkData;
use crate::dtype::DType;
use crate::error::TaskError;

/// How parts are laid one after the other (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concat {
    /// The axis the parts follow each other along.
    pub axis: usize,
    /// The length of each part along `axis` (the parts have the result's
    /// shape on the other axes).
    pub lens: Vec<u64>,
    /// The result's shape.
    pub shape: Vec<u64>,
    /// The element type of every part.
    pub dtype: DType,
}

impl Concat {
    /// The shape of part `i`.
    pub fn part_shape(&self, i: usize) -> Vec<u64> {
        let mut s = self.shape.clone();
        s[self.axis] = self.lens[i];
        s
    }

    /// Checks that the parts fill the result; values come from plans.
    pub fn check(&self, parts: usize) -> Result<(), String> {
        if self.axis >= self.shape.len() || self.lens.len() != parts || parts == 0 {
            return Err(format!("a concatenation of {parts} parts along axis {} into shape {:?} ({} lengths)", self.axis, self.shape, self.lens.len()));
        }
        let total = self.lens.iter().try_fold(0u64, |a, &l| a.checked_add(l));
        if total != Some(self.shape[self.axis]) {
            return Err(format!("a concatenation of lengths {:?} into length {} along axis {}", self.lens, self.shape[self.axis], self.axis));
        }
        Ok(())
    }

    /// The parts a range `(a, b)` along the axis overlaps: per part, its
    /// number, the range in the part's own coordinates, and where that
    /// starts in `(a, b)`.
    pub fn pieces(&self, (a, b): (u64, u64)) -> Vec<(usize, (u64, u64), u64)> {
        let mut pieces = vec![];
        let mut start = 0u64;
        for (i, &len) in self.lens.iter().enumerate() {
            let (lo, hi) = (a.max(start), b.min(start + len));
            if lo < hi {
                pieces.push((i, (lo - start, hi - start), lo - a));
            }
            start += len;
        }
        pieces
    }

    /// Evaluates the result over `region` (of [`Concat::shape`]); `part`
    /// evaluates part `i` over a region of its shape.
    pub fn evaluate(&self, region: &[(u64, u64)], part: &dyn Fn(usize, &[(u64, u64)]) -> Result<ChunkData, TaskError>) -> Result<ChunkData, TaskError> {
        let (a, b) = region[self.axis];
        let dims: Vec<usize> = region.iter().map(|&(s, e)| (e - s) as usize).collect();
        let pieces = self.pieces((a, b));
        if let [(i, (lo, hi), _)] = pieces[..] {
            if hi - lo == b - a {
                let mut r = region.to_vec();
                r[self.axis] = (lo, hi);
                return part(i, &r);
            }
        }
        let mut out = ChunkData::full(self.dtype, &dims, 0.0);
        for (i, range, at) in pieces {
            let mut r = region.to_vec();
            r[self.axis] = range;
            let data = part(i, &r)?;
            let mut offset = vec![0usize; dims.len()];
            offset[self.axis] = at as usize;
            out.assign_at(&offset, &data)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_read_the_parts_they_overlap() {
        // Parts of lengths 2, 0 and 3 along axis 1 of a [2, 5] result; part i holds i + 1.
        let c = Concat { axis: 1, lens: vec![2, 0, 3], shape: vec![2, 5], dtype: DType::Int32 };
        c.check(3).unwrap();
        let part = |i: usize, r: &[(u64, u64)]| -> Result<ChunkData, TaskError> {
            assert!(r[1].1 <= c.lens[i], "part {i} read at {r:?}");
            Ok(ChunkData::full(DType::Int32, &r.iter().map(|&(s, e)| (e - s) as usize).collect::<Vec<_>>(), (i + 1) as f64))
        };
        assert_eq!(c.evaluate(&[(0, 1), (1, 4)], &part).unwrap().to_f64_vec(), vec![1.0, 3.0, 3.0]);
        assert_eq!(c.evaluate(&[(1, 2), (3, 5)], &part).unwrap().to_f64_vec(), vec![3.0, 3.0]);
        assert!(Concat { lens: vec![2, 2], ..c.clone() }.check(2).unwrap_err().contains("lengths [2, 2] into length 5"));
        assert!(c.check(2).is_err());
    }
}
