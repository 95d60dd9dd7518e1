//! numpy's basic indexing: `x[0:90, ::2, -1]`, `x[..., None]`.
//!
//! An index is a list of [`Index`] items with numpy's semantics: an integer
//! (negative counts from the end) drops its axis, a slice keeps it
//! (`start:stop:step`, Python's clamping, negative steps walk backwards),
//! `None` adds an axis of length 1 and `...` stands for as many full slices
//! as the other items leave. The result is a view ([`crate::view`]): it
//! fuses, and reads only the chunks it touches.

use cubed_task::kernel::{AxisMap, Fixed};

use crate::array::Array;
use crate::error::{CubedError, Result};

/// One item of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// An integer: selects one position and drops the axis.
    Int(i64),
    /// A slice `start:stop:step` (each part optional).
    Slice(Slice),
    /// `None` / `np.newaxis`: a new axis of length 1.
    NewAxis,
    /// `...`: full slices for the axes the other items leave.
    Ellipsis,
}

/// A Python slice; `None` parts take their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slice {
    /// First position (default: the start, or the end for a negative step).
    pub start: Option<i64>,
    /// Position to stop before (default: past the end in the step's direction).
    pub stop: Option<i64>,
    /// Stride (default 1; not 0).
    pub step: Option<i64>,
}

impl Slice {
    /// `start:stop:step`.
    pub fn new(start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Slice {
        Slice { start, stop, step }
    }

    /// Python's `slice.indices(n)`: the first position, the step and the
    /// number of positions selected from an axis of length `n`.
    pub fn indices(&self, n: u64) -> Result<(u64, i64, u64)> {
        let step = self.step.unwrap_or(1);
        if step == 0 {
            return Err(CubedError::Invalid("slice step cannot be zero".into()));
        }
        let (n, step) = (i128::from(n), i128::from(step));
        let (lower, upper) = if step > 0 { (0, n) } else { (-1, n - 1) };
        let clamp = |v: Option<i64>, default: i128| match v {
            None => default,
            Some(v) => {
                let v = i128::from(v);
                let v = if v < 0 { v + n } else { v };
                v.clamp(lower, upper)
            }
        };
        let start = clamp(self.start, if step > 0 { lower } else { upper });
        let stop = clamp(self.stop, if step > 0 { upper } else { lower });
        let len = if step > 0 && start < stop {
            (stop - start - 1) / step + 1
        } else if step < 0 && stop < start {
            (start - stop - 1) / (-step) + 1
        } else {
            0
        };
        // An empty selection reads nothing: its start is immaterial.
        let start = if len == 0 { 0 } else { start };
        Ok((start as u64, step as i64, len as u64))
    }
}

impl From<i64> for Index {
    fn from(i: i64) -> Index {
        Index::Int(i)
    }
}

impl From<std::ops::Range<i64>> for Index {
    fn from(r: std::ops::Range<i64>) -> Index {
        Index::Slice(Slice::new(Some(r.start), Some(r.end), None))
    }
}

impl From<std::ops::RangeFrom<i64>> for Index {
    fn from(r: std::ops::RangeFrom<i64>) -> Index {
        Index::Slice(Slice::new(Some(r.start), None, None))
    }
}

impl From<std::ops::RangeTo<i64>> for Index {
    fn from(r: std::ops::RangeTo<i64>) -> Index {
        Index::Slice(Slice::new(None, Some(r.end), None))
    }
}

impl From<std::ops::RangeFull> for Index {
    fn from(_: std::ops::RangeFull) -> Index {
        Index::Slice(Slice::default())
    }
}

impl From<Slice> for Index {
    fn from(s: Slice) -> Index {
        Index::Slice(s)
    }
}

/// Position `i` of an axis of length `n` (negative counts from the end), or
/// `None` when it is out of range.
pub(crate) fn position(i: i64, n: u64) -> Option<u64> {
    let at = if i < 0 { i128::from(i) + i128::from(n) } else { i128::from(i) };
    (0..i128::from(n)).contains(&at).then_some(at as u64)
}

/// `x[index]` with numpy's basic-indexing semantics, e.g.
/// `cubed::getitem(&t, &[(0..90).into(), Slice::new(None, None, Some(2)).into(), (-1).into()])`
/// for `t[0:90, ::2, -1]`. An integer out of range is an error naming the
/// axis and its length, before anything is planned.
///
/// ```
/// # fn demo() -> cubed::Result<()> {
/// use cubed::{DType, Index, Slice, Spec};
/// let spec = Spec::new("memory://doc");
/// let t = cubed::random(&spec, &[360, 10, 20], &[90, 10, 20], 1, DType::Float64)?;
/// // t[0:90, ::2, -1]
/// let transect = cubed::getitem(&t, &[(0..90).into(), Slice::new(None, None, Some(2)).into(), Index::Int(-1)])?;
/// assert_eq!(transect.shape(), &[90, 5]);
/// // t[1:] - t[:-1]
/// let change = cubed::subtract(&cubed::getitem(&t, &[(1..).into()])?, &cubed::getitem(&t, &[(..-1).into()])?)?;
/// assert_eq!(change.shape(), &[359, 10, 20]);
/// assert!(cubed::getitem(&t, &[Index::Int(360)]).unwrap_err().to_string().contains("index 360 is out of bounds for axis 0 with size 360"));
/// # Ok(()) }
/// # demo().unwrap();
/// ```
pub fn getitem(x: &Array, index: &[Index]) -> Result<Array> {
    let consuming = index.iter().filter(|i| matches!(i, Index::Int(_) | Index::Slice(_))).count();
    let ellipses = index.iter().filter(|i| **i == Index::Ellipsis).count();
    if ellipses > 1 {
        return Err(CubedError::Invalid("an index can only have a single ellipsis ('...')".into()));
    }
    if consuming > x.ndim() {
        return Err(CubedError::Invalid(format!(
            "too many indices for array: array is {}-dimensional, but {consuming} were indexed",
            x.ndim()
        )));
    }
    let mut items: Vec<Index> = vec![];
    for &i in index {
        if i == Index::Ellipsis {
            items.extend(std::iter::repeat_n(Index::Slice(Slice::default()), x.ndim() - consuming));
        } else {
            items.push(i);
        }
    }
    if ellipses == 0 {
        items.extend(std::iter::repeat_n(Index::Slice(Slice::default()), x.ndim() - consuming));
    }
    let (mut shape, mut axes, mut fixed) = (vec![], vec![], vec![]);
    let mut source = 0;
    for item in items {
        match item {
            Index::Int(i) => {
                let n = x.shape()[source];
                let index = position(i, n).ok_or_else(|| CubedError::Invalid(format!("index {i} is out of bounds for axis {source} with size {n}")))?;
                fixed.push(Fixed { axis: source, index });
                source += 1;
            }
            Index::Slice(s) => {
                let (start, step, len) = s.indices(x.shape()[source])?;
                axes.push(AxisMap::Range { source, start, step });
                shape.push(len);
                source += 1;
            }
            Index::NewAxis => {
                axes.push(AxisMap::New);
                shape.push(1);
            }
            Index::Ellipsis => unreachable!("expanded above"),
        }
    }
    crate::view::view(x, "getitem", shape, axes, fixed)
}

/// Most indices one `take` embeds in its plan (8 bytes or so each).
pub const MAX_TAKE_INDICES: usize = 1 << 20;

/// numpy's `take`: the elements at `indices` along `axis` (negative ones
/// count from the end; in any order, repeats allowed), so that axis of the
/// result has `indices.len()` elements. Without an axis it takes from the
/// flattened array ([`crate::flatten`]), as numpy's. Out-of-range indices
/// are an error naming the axis and its length, before anything is planned.
/// Each output chunk reads, per source chunk its indices fall in, only the
/// span of them.
pub fn take(x: &Array, indices: &[i64], axis: Option<i64>) -> Result<Array> {
    let k = match axis {
        Some(a) => crate::view::normalize_axis(a, x.ndim(), "take")?,
        None if x.ndim() == 1 => 0,
        None => return take(&crate::flatten(x)?, indices, Some(0)),
    };
    if indices.len() > MAX_TAKE_INDICES {
        return Err(CubedError::Invalid(format!(
            "take: {} indices, more than the {MAX_TAKE_INDICES} one take embeds in its plan; take slices (x[a:b]) where the indices run in steps, or split the selection",
            indices.len()
        )));
    }
    let n = x.shape()[k];
    let list = indices
        .iter()
        .map(|&i| position(i, n).ok_or_else(|| CubedError::Invalid(format!("take: index {i} is out of bounds for axis {k} with size {n}"))))
        .collect::<Result<Vec<u64>>>()?;
    let mut shape = x.shape().to_vec();
    shape[k] = list.len() as u64;
    let axes = (0..x.ndim()).map(|j| if j == k { AxisMap::Take { source: k, list: 0 } } else { crate::view::whole(j) }).collect();
    crate::view::view_with_lists(x, "take", shape, axes, vec![], vec![list])
}

/// [`take`] with the indices read from a 1-d integer Zarr array (read when
/// the call is made, so out-of-range indices are an error before launch).
pub fn take_array(x: &Array, indices: &Array, axis: Option<i64>) -> Result<Array> {
    let crate::array::LogicalOp::Stored { url } = &indices.node.op else {
        return Err(CubedError::Invalid("take: indices must be given inline or as an integer Zarr array read as an input; computed indices are not supported yet".into()));
    };
    if !indices.dtype().is_integer() || indices.ndim() != 1 {
        return Err(CubedError::Invalid(format!(
            "take: indices '{url}' are {} of shape {:?}; they must be a 1-d integer array",
            indices.dtype(),
            indices.shape()
        )));
    }
    if indices.shape()[0] as usize > MAX_TAKE_INDICES {
        return Err(CubedError::Invalid(format!("take: '{url}' holds {} indices, more than the {MAX_TAKE_INDICES} one take embeds in its plan", indices.shape()[0])));
    }
    let store = cubed_task::storage::StoreUrl::parse(url)?;
    let array = store.open_array(url)?;
    let data = cubed_task::storage::read_region(&array, indices.dtype(), indices.chunks(), &[(0, indices.shape()[0])]).map_err(|e| CubedError::Invalid(format!("take: reading indices '{url}': {}", e.message)))?;
    let values: Vec<i128> = cubed_task::each!(&data, a => a.iter().map(|v| cubed_task::chunk::Element::to_i128(*v)).collect());
    let list = values.into_iter().map(|v| i64::try_from(v).unwrap_or(i64::MAX)).collect::<Vec<_>>();
    take(x, &list, axis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_indices_follow_python() {
        let s = |start, stop, step| Slice::new(start, stop, step);
        // Checked against Python's slice(...).indices(n) and len(range(...)).
        assert_eq!(s(None, None, None).indices(5).unwrap(), (0, 1, 5));
        assert_eq!(s(Some(1), Some(-1), None).indices(5).unwrap(), (1, 1, 3));
        assert_eq!(s(None, None, Some(-1)).indices(5).unwrap(), (4, -1, 5));
        assert_eq!(s(Some(-2), None, Some(-2)).indices(5).unwrap(), (3, -2, 2));
        assert_eq!(s(Some(10), Some(20), None).indices(5).unwrap(), (0, 1, 0));
        assert_eq!(s(Some(-10), Some(3), Some(2)).indices(5).unwrap(), (0, 2, 2));
        assert_eq!(s(Some(3), Some(1), None).indices(5).unwrap(), (0, 1, 0));
        assert_eq!(s(None, None, Some(i64::MIN)).indices(5).unwrap(), (4, i64::MIN, 1));
        assert_eq!(s(Some(i64::MAX), Some(i64::MIN), Some(-3)).indices(7).unwrap(), (6, -3, 3));
        assert_eq!(s(None, None, None).indices(0).unwrap(), (0, 1, 0));
        assert!(s(None, None, Some(0)).indices(5).unwrap_err().to_string().contains("slice step cannot be zero"));
    }
}
