//! Views: a kernel node that reads its argument through a per-axis index map.
//!
//! One [`View`] expresses every numpy operation that only moves elements:
//! basic indexing (integers, slices with any step, `None`, `...`),
//! `permute_dims` and its relatives, `expand_dims`, `squeeze`, `flip`,
//! `broadcast_to`, `roll`, `tile` and `repeat`. Each output axis reads one
//! source axis through an [`AxisMap`] (or none: a new axis); the source axes
//! no output axis reads are held at a fixed index.
//!
//! Evaluating a view over an output region evaluates its argument over the
//! source region that region needs, piece by piece: a slice with step 1 is
//! one piece (the argument reads just the shifted region, straddling source
//! chunks as it must); a larger step cuts the region at the source's chunk
//! boundaries, so no piece is larger than one source chunk whatever the step;
//! a wrap (`roll`, `tile`) cuts it where the source index wraps. Memory is
//! the output region plus one piece at a time.

use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkData, KernelError};
use crate::error::TaskError;
use crate::kernel::Source;

/// Where one output axis of a [`View`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "map", rename_all = "snake_case")]
pub enum AxisMap {
    /// Output element `i` reads element `start + step * i` of source axis
    /// `source` (`step` is not 0; negative walks backwards).
    Range {
        /// The source axis.
        source: usize,
        /// The source index of output element 0.
        start: u64,
        /// The stride.
        step: i64,
    },
    /// Output element `i` reads element `i / repeats` (numpy `repeat`).
    Repeat {
        /// The source axis.
        source: usize,
        /// Times each source element repeats.
        repeats: u64,
    },
    /// Output element `i` reads element `(i + shift) % n`, `n` the source
    /// axis's length (`roll`, `tile`).
    Wrap {
        /// The source axis.
        source: usize,
        /// Where output element 0 reads.
        shift: u64,
    },
    /// An axis the source does not have: the values repeat along it
    /// (`None`, `expand_dims`, `broadcast_to`).
    New,
    /// Output element `i` reads element `lists[list][i]` (numpy `take`).
    Take {
        /// The source axis.
        source: usize,
        /// Which of the view's [`View::lists`].
        list: usize,
    },
}

impl AxisMap {
    /// The source axis read, if any.
    pub fn source(self) -> Option<usize> {
        match self {
            AxisMap::Range { source, .. } | AxisMap::Repeat { source, .. } | AxisMap::Wrap { source, .. } | AxisMap::Take { source, .. } => Some(source),
            AxisMap::New => None,
        }
    }
}

/// A source axis held at one index (numpy indexing with an integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fixed {
    /// The source axis.
    pub axis: usize,
    /// The index it is held at.
    pub index: u64,
}

/// How a view reads its argument (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// Shape of the argument.
    pub source_shape: Vec<u64>,
    /// The argument's chunk shape: strided reads are cut at its boundaries.
    pub source_chunks: Vec<u64>,
    /// The view's shape.
    pub shape: Vec<u64>,
    /// Per axis of the view, where it reads.
    pub axes: Vec<AxisMap>,
    /// The source axes no view axis reads, each at its index.
    pub fixed: Vec<Fixed>,
    /// Index lists read by [`AxisMap::Take`] axes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<Vec<u64>>,
}

/// One run of an output axis read as a whole from one contiguous source interval.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    /// Output range, relative to the region being evaluated.
    out: (u64, u64),
    /// Source interval read (absent for a new axis).
    src: Option<(u64, u64)>,
    /// Indices into the source interval, one per output element; `None`
    /// when they are the interval itself.
    pick: Option<Vec<usize>>,
}

impl View {
    /// Checks that the view reads inside its source and maps every source
    /// axis once; values come from plans, so nothing here is trusted.
    pub fn check(&self) -> Result<(), String> {
        let rank = self.source_shape.len();
        if self.source_chunks.len() != rank || self.source_chunks.contains(&0) {
            return Err(format!("a view of shape {:?} has source chunks {:?}", self.source_shape, self.source_chunks));
        }
        if self.axes.len() != self.shape.len() {
            return Err(format!("a view of shape {:?} maps {} axes", self.shape, self.axes.len()));
        }
        let mut seen = vec![false; rank];
        let mut mark = |axis: usize| -> Result<(), String> {
            match seen.get_mut(axis) {
                Some(s) if !*s => {
                    *s = true;
                    Ok(())
                }
                Some(_) => Err(format!("a view reads source axis {axis} twice")),
                None => Err(format!("a view reads axis {axis} of a {rank}-dimensional source")),
            }
        };
        for f in &self.fixed {
            mark(f.axis)?;
            if f.index >= self.source_shape[f.axis] {
                return Err(format!("a view holds source axis {} at index {}, outside its length {}", f.axis, f.index, self.source_shape[f.axis]));
            }
        }
        for (&map, &len) in self.axes.iter().zip(&self.shape) {
            let Some(source) = map.source() else { continue };
            mark(source)?;
            let n = self.source_shape[source];
            if len == 0 {
                continue;
            }
            let inside = match map {
                AxisMap::Range { start, step, .. } => {
                    let last = i128::from(start) + i128::from(step) * i128::from(len - 1);
                    step != 0 && start < n && (0..i128::from(n)).contains(&last)
                }
                AxisMap::Repeat { repeats, .. } => repeats > 0 && (len - 1) / repeats < n,
                AxisMap::Wrap { shift, .. } => shift < n,
                AxisMap::Take { list, .. } => self.lists.get(list).is_some_and(|l| l.len() as u64 == len && l.iter().all(|&i| i < n)),
                AxisMap::New => true,
            };
            if !inside {
                return Err(format!("a view reads {map:?} for {len} elements of source axis {source} of length {n}"));
            }
        }
        if let Some(axis) = seen.iter().position(|s| !s) {
            return Err(format!("a view neither reads nor fixes source axis {axis}"));
        }
        Ok(())
    }

    /// The runs of output axis `j` over `(a, b)`, each read from one source interval.
    fn segments(&self, j: usize, (a, b): (u64, u64)) -> Vec<Segment> {
        let whole = |src| vec![Segment { out: (0, b - a), src, pick: None }];
        if a == b {
            return whole(Some((0, 0)));
        }
        match self.axes[j] {
            AxisMap::New => whole(None),
            AxisMap::Range { start, step: 1, .. } => whole(Some((start + a, start + b))),
            AxisMap::Range { source, start, step } => {
                let chunk = self.source_chunks[source];
                let at = |i: u64| (i128::from(start) + i128::from(step) * i128::from(i)) as u64;
                let stride = step.unsigned_abs();
                let mut out = vec![];
                let mut i = a;
                while i < b {
                    let s = at(i);
                    // Elements of this source chunk still ahead of `s` in the walk's direction.
                    let room = if step > 0 { (s / chunk + 1) * chunk - s - 1 } else { s - (s / chunk) * chunk };
                    let end = (i + room / stride + 1).min(b);
                    let (first, last) = (s, at(end - 1));
                    let lo = first.min(last);
                    let pick = (0..end - i).map(|t| (at(i + t) - lo) as usize).collect::<Vec<_>>();
                    let identity = pick.iter().enumerate().all(|(k, &p)| k == p);
                    out.push(Segment { out: (i - a, end - a), src: Some((lo, first.max(last) + 1)), pick: (!identity).then_some(pick) });
                    i = end;
                }
                out
            }
            AxisMap::Repeat { repeats, .. } => {
                let lo = a / repeats;
                let pick: Vec<usize> = (a..b).map(|i| (i / repeats - lo) as usize).collect();
                vec![Segment { out: (0, b - a), src: Some((lo, (b - 1) / repeats + 1)), pick: (repeats > 1).then_some(pick) }]
            }
            AxisMap::Take { source, list } => {
                // Runs of indices in one source chunk: each read as the box they span.
                let chunk = self.source_chunks[source];
                let idx = &self.lists[list][a as usize..b as usize];
                let mut out = vec![];
                let mut i = 0;
                while i < idx.len() {
                    let mut j = i + 1;
                    while j < idx.len() && idx[j] / chunk == idx[i] / chunk {
                        j += 1;
                    }
                    let (lo, hi) = (idx[i..j].iter().min().copied().unwrap_or(0), idx[i..j].iter().max().copied().unwrap_or(0) + 1);
                    let pick: Vec<usize> = idx[i..j].iter().map(|&v| (v - lo) as usize).collect();
                    let identity = pick.iter().enumerate().all(|(k, &p)| k == p) && pick.len() as u64 == hi - lo;
                    out.push(Segment { out: (i as u64, j as u64), src: Some((lo, hi)), pick: (!identity).then_some(pick) });
                    i = j;
                }
                out
            }
            AxisMap::Wrap { source, shift } => {
                let n = self.source_shape[source];
                let mut out = vec![];
                let mut i = a;
                while i < b {
                    let s = (i + shift) % n;
                    let end = (i + (n - s)).min(b);
                    out.push(Segment { out: (i - a, end - a), src: Some((s, s + (end - i))), pick: None });
                    i = end;
                }
                out
            }
        }
    }

    /// Evaluates the view over `region` of its own shape; `arg` evaluates the
    /// argument over a region of the source (broadcast to that region).
    pub fn evaluate(&self, region: &[(u64, u64)], arg: &Source) -> Result<ChunkData, TaskError> {
        let per_axis: Vec<Vec<Segment>> = region.iter().enumerate().map(|(j, &r)| self.segments(j, r)).collect();
        let dims: Vec<usize> = region.iter().map(|&(a, b)| (b - a) as usize).collect();
        let count: usize = per_axis.iter().map(Vec::len).product();
        if count == 1 {
            let piece: Vec<&Segment> = per_axis.iter().map(|s| &s[0]).collect();
            return self.piece(&piece, arg);
        }
        let mut out: Option<ChunkData> = None;
        let mut index = vec![0usize; per_axis.len()];
        for _ in 0..count {
            let piece: Vec<&Segment> = per_axis.iter().zip(&index).map(|(s, &i)| &s[i]).collect();
            let data = self.piece(&piece, arg)?;
            let target = out.get_or_insert_with(|| ChunkData::full(data.dtype(), &dims, 0.0));
            let offset: Vec<usize> = piece.iter().map(|s| s.out.0 as usize).collect();
            target.assign_at(&offset, &data)?;
            // The next combination, last axis fastest.
            for k in (0..index.len()).rev() {
                index[k] += 1;
                if index[k] < per_axis[k].len() {
                    break;
                }
                index[k] = 0;
            }
        }
        Ok(out.expect("a region with several pieces has at least one"))
    }

    /// One piece: the argument over the source box of `segments`, then the
    /// picks, the fixed axes dropped, the axes reordered and new axes added.
    fn piece(&self, segments: &[&Segment], arg: &Source) -> Result<ChunkData, TaskError> {
        let mut src = vec![(0u64, 0u64); self.source_shape.len()];
        for f in &self.fixed {
            src[f.axis] = (f.index, f.index + 1);
        }
        for (map, seg) in self.axes.iter().zip(segments) {
            if let (Some(axis), Some(r)) = (map.source(), seg.src) {
                src[axis] = r;
            }
        }
        let mut data = arg(&src)?;
        for (map, seg) in self.axes.iter().zip(segments) {
            if let (Some(axis), Some(pick)) = (map.source(), &seg.pick) {
                data = data.select(axis, pick);
            }
        }
        let mut fixed: Vec<usize> = self.fixed.iter().map(|f| f.axis).collect();
        fixed.sort_unstable();
        data = data.squeeze(&fixed);
        // Axis k of `data` is the k-th source axis that is not fixed.
        let kept: Vec<usize> = (0..self.source_shape.len()).filter(|a| !fixed.contains(a)).collect();
        let order: Vec<usize> = self.axes.iter().filter_map(|m| m.source()).map(|s| kept.iter().position(|&k| k == s).expect("a read axis is kept")).collect();
        data = data.permute(&order);
        let new: Vec<usize> = self.axes.iter().enumerate().filter(|(_, m)| **m == AxisMap::New).map(|(j, _)| j).collect();
        data = data.expand(&new);
        let dims: Vec<usize> = segments.iter().map(|s| (s.out.1 - s.out.0) as usize).collect();
        Ok(data.broadcast_to(&dims).map_err(|e| KernelError(format!("a view piece: {}", e.0)))?)
    }

    /// The source interval per source axis that the view reads over a whole
    /// output region (the bounding box; for planning what is read).
    pub fn source_box(&self, region: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let mut src: Vec<(u64, u64)> = self.source_shape.iter().map(|_| (0, 0)).collect();
        for f in &self.fixed {
            src[f.axis] = (f.index, f.index + 1);
        }
        for (j, map) in self.axes.iter().enumerate() {
            let Some(axis) = map.source() else { continue };
            let segs = self.segments(j, region[j]);
            let lo = segs.iter().filter_map(|s| s.src).map(|r| r.0).min().unwrap_or(0);
            let hi = segs.iter().filter_map(|s| s.src).map(|r| r.1).max().unwrap_or(0);
            src[axis] = (lo, hi.max(lo));
        }
        src
    }

    /// Per output axis, for a block of `block` elements: the most output
    /// elements one piece holds and the longest source interval one piece
    /// reads (for the memory model); per source axis, that interval.
    pub fn piece_bounds(&self, block: &[u64]) -> (Vec<u64>, Vec<u64>) {
        let mut out = vec![1; self.shape.len()];
        let mut src = vec![1u64; self.source_shape.len()];
        for (j, (&map, &len)) in self.axes.iter().zip(block).enumerate() {
            let len = len.min(self.shape[j]).max(1);
            let (o, s) = match map {
                AxisMap::New => (len, 0),
                AxisMap::Range { step, source, .. } => {
                    let stride = step.unsigned_abs();
                    let span = stride.saturating_mul(len - 1).saturating_add(1);
                    if stride == 1 {
                        (len, len)
                    } else {
                        // Cut at source chunks: at most a chunk's worth of source.
                        let c = self.source_chunks[source];
                        (len.min(c.div_ceil(stride)), span.min(c))
                    }
                }
                AxisMap::Repeat { repeats, .. } => (len, len / repeats.max(1) + 1),
                AxisMap::Wrap { .. } => (len, len),
                // At most a chunk's worth of source per piece.
                AxisMap::Take { source, .. } => (len, self.source_chunks[source]),
            };
            out[j] = o;
            if let Some(axis) = map.source() {
                src[axis] = s.min(self.source_shape[axis]).max(1);
            }
        }
        (out, src)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::*;

    /// A source of `shape` whose element at (i, j, ...) is its row-major position.
    fn iota(shape: &[u64]) -> impl Fn(&[(u64, u64)]) -> Result<ChunkData, TaskError> + '_ {
        move |region: &[(u64, u64)]| {
            let dims: Vec<usize> = region.iter().map(|&(a, b)| (b - a) as usize).collect();
            Ok(ChunkData::Int64(ArrayD::from_shape_fn(IxDyn(&dims), |ix| {
                let mut flat = 0i64;
                for (k, &s) in shape.iter().enumerate() {
                    flat = flat * s as i64 + (region[k].0 as i64 + ix[k] as i64);
                }
                flat
            })))
        }
    }

    fn view(source_shape: &[u64], source_chunks: &[u64], shape: &[u64], axes: Vec<AxisMap>, fixed: Vec<Fixed>) -> View {
        let v = View { source_shape: source_shape.to_vec(), source_chunks: source_chunks.to_vec(), shape: shape.to_vec(), axes, fixed, lists: vec![] };
        v.check().unwrap();
        v
    }

    fn values(v: &View, region: &[(u64, u64)]) -> Vec<f64> {
        v.evaluate(region, &iota(&v.source_shape)).unwrap().to_f64_vec()
    }

    #[test]
    fn strided_reads_match_numpy_in_any_region() {
        // x = arange(20) in chunks of 3; x[17:1:-4] = [17, 13, 9, 5].
        let v = view(&[20], &[3], &[4], vec![AxisMap::Range { source: 0, start: 17, step: -4 }], vec![]);
        assert_eq!(values(&v, &[(0, 4)]), vec![17.0, 13.0, 9.0, 5.0]);
        assert_eq!(values(&v, &[(1, 3)]), vec![13.0, 9.0]);
        // x[2::5] = [2, 7, 12, 17], each element in another chunk.
        let v = view(&[20], &[3], &[4], vec![AxisMap::Range { source: 0, start: 2, step: 5 }], vec![]);
        assert_eq!(values(&v, &[(0, 4)]), vec![2.0, 7.0, 12.0, 17.0]);
        assert_eq!(v.segments(0, (0, 4)).len(), 4);
        // Step 2 inside chunks of 7: pieces never straddle a chunk.
        let v = view(&[20], &[7], &[10], vec![AxisMap::Range { source: 0, start: 0, step: 2 }], vec![]);
        assert_eq!(values(&v, &[(0, 10)]), (0..10).map(|i| (2 * i) as f64).collect::<Vec<_>>());
        for s in v.segments(0, (0, 10)) {
            let (lo, hi) = s.src.unwrap();
            assert_eq!(lo / 7, (hi - 1) / 7, "{s:?}");
        }
    }

    #[test]
    fn integers_new_axes_and_permutations_compose() {
        // x of shape [2, 3, 4]; x[1, None, ::-1].T  -> shape [4, 1] ... here: y = x[1] with
        // axes (cols reversed, then a new axis, then rows): y[j, 0, i] = x[1, i, 3 - j].
        let v = view(
            &[2, 3, 4],
            &[1, 2, 3],
            &[4, 1, 3],
            vec![AxisMap::Range { source: 2, start: 3, step: -1 }, AxisMap::New, AxisMap::Range { source: 1, start: 0, step: 1 }],
            vec![Fixed { axis: 0, index: 1 }],
        );
        let got = values(&v, &[(0, 4), (0, 1), (0, 3)]);
        let want: Vec<f64> = (0..4).flat_map(|j| (0..3).map(move |i| (12 + i * 4 + (3 - j)) as f64)).collect();
        assert_eq!(got, want);
        assert_eq!(values(&v, &[(2, 3), (0, 1), (1, 3)]), vec![(12 + 4 + 1) as f64, (12 + 8 + 1) as f64]);
    }

    #[test]
    fn wraps_and_repeats() {
        // roll(arange(5), 2) = [3, 4, 0, 1, 2]; tile(arange(3), 3) reads (i % 3).
        let roll = view(&[5], &[2], &[5], vec![AxisMap::Wrap { source: 0, shift: 3 }], vec![]);
        assert_eq!(values(&roll, &[(0, 5)]), vec![3.0, 4.0, 0.0, 1.0, 2.0]);
        let tile = view(&[3], &[3], &[9], vec![AxisMap::Wrap { source: 0, shift: 0 }], vec![]);
        assert_eq!(values(&tile, &[(1, 8)]), vec![1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0]);
        let repeat = view(&[3], &[2], &[6], vec![AxisMap::Repeat { source: 0, repeats: 2 }], vec![]);
        assert_eq!(values(&repeat, &[(1, 6)]), vec![0.0, 1.0, 1.0, 2.0, 2.0]);
        // take(arange(10), [7, 1, 2, 2, 9]) in chunks of 3: runs per chunk.
        let take = View { lists: vec![vec![7, 1, 2, 2, 9]], ..view(&[10], &[3], &[0], vec![AxisMap::Range { source: 0, start: 0, step: 1 }], vec![]) };
        let take = View { shape: vec![5], axes: vec![AxisMap::Take { source: 0, list: 0 }], ..take };
        take.check().unwrap();
        assert_eq!(values(&take, &[(0, 5)]), vec![7.0, 1.0, 2.0, 2.0, 9.0]);
        assert_eq!(take.segments(0, (0, 5)).len(), 3);
        assert_eq!(values(&take, &[(2, 4)]), vec![2.0, 2.0]);
        // broadcast_to([3] -> [2, 3]).
        let b = view(&[3], &[3], &[2, 3], vec![AxisMap::New, AxisMap::Range { source: 0, start: 0, step: 1 }], vec![]);
        assert_eq!(values(&b, &[(0, 2), (1, 3)]), vec![1.0, 2.0, 1.0, 2.0]);
    }

    #[test]
    fn check_refuses_views_outside_their_source() {
        let bad = |axes: Vec<AxisMap>, shape: &[u64], fixed: Vec<Fixed>| {
            View { source_shape: vec![5, 4], source_chunks: vec![2, 2], shape: shape.to_vec(), axes, fixed, lists: vec![vec![0, 5]] }.check().unwrap_err()
        };
        let r = |source, start, step| AxisMap::Range { source, start, step };
        assert!(bad(vec![r(0, 0, 2), r(1, 0, 1)], &[4, 4], vec![]).contains("source axis 0 of length 5"));
        assert!(bad(vec![r(0, 4, -1), r(1, 0, 1)], &[6, 4], vec![]).contains("source axis 0"));
        assert!(bad(vec![r(0, 0, 0), r(1, 0, 1)], &[2, 4], vec![]).contains("source axis 0"));
        assert!(bad(vec![r(0, 0, 1), r(0, 0, 1)], &[5, 5], vec![]).contains("twice"));
        assert!(bad(vec![r(0, 0, 1)], &[5], vec![]).contains("neither reads nor fixes source axis 1"));
        assert!(bad(vec![r(0, 0, 1)], &[5], vec![Fixed { axis: 1, index: 4 }]).contains("index 4, outside its length 4"));
        assert!(bad(vec![r(0, 0, 1), r(2, 0, 1)], &[5, 4], vec![]).contains("axis 2 of a 2-dimensional source"));
        assert!(bad(vec![AxisMap::Wrap { source: 0, shift: 5 }, r(1, 0, 1)], &[5, 4], vec![]).contains("Wrap"));
        assert!(bad(vec![AxisMap::Repeat { source: 0, repeats: 0 }, r(1, 0, 1)], &[5, 4], vec![]).contains("Repeat"));
        // An index past the source, or a list that does not exist.
        assert!(bad(vec![AxisMap::Take { source: 0, list: 0 }, r(1, 0, 1)], &[2, 4], vec![]).contains("Take"));
        assert!(bad(vec![AxisMap::Take { source: 0, list: 1 }, r(1, 0, 1)], &[2, 4], vec![]).contains("Take"));
    }
}
