//! Scan kernels (`cumulative_sum`, `cumulative_prod`): one block's running
//! totals along an axis, the block's total, and the carry of the blocks
//! before it combined in.

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};
use serde::{Deserialize, Serialize};

use super::{plain, ReduceFunc};
use crate::chunk::{ChunkData, KernelError, Numeric};

/// The operation a scan accumulates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanFunc {
    /// Running sums (integers wrap, as numpy's).
    Sum,
    /// Running products.
    Prod,
}

impl ScanFunc {
    fn apply<T: Numeric>(self, x: T, y: T) -> T {
        match self {
            ScanFunc::Sum => x.add(y),
            ScanFunc::Prod => x.mul(y),
        }
    }

    fn identity<T: Numeric>(self) -> T {
        match self {
            ScanFunc::Sum => T::ZERO,
            ScanFunc::Prod => T::ONE,
        }
    }

    /// The reduction giving a block's total.
    fn reduce_func(self) -> ReduceFunc {
        match self {
            ScanFunc::Sum => ReduceFunc::Sum,
            ScanFunc::Prod => ReduceFunc::Prod,
        }
    }
}

/// Applies `$body` to the inner array of a numeric chunk, wrapping the
/// result in the same variant; a bool chunk is an error.
macro_rules! numeric {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            ChunkData::Int8($a) => ChunkData::Int8($body),
            ChunkData::Int16($a) => ChunkData::Int16($body),
            ChunkData::Int32($a) => ChunkData::Int32($body),
            ChunkData::Int64($a) => ChunkData::Int64($body),
            ChunkData::Uint8($a) => ChunkData::Uint8($body),
            ChunkData::Uint16($a) => ChunkData::Uint16($body),
            ChunkData::Uint32($a) => ChunkData::Uint32($body),
            ChunkData::Uint64($a) => ChunkData::Uint64($body),
            ChunkData::Float32($a) => ChunkData::Float32($body),
            ChunkData::Float64($a) => ChunkData::Float64($body),
            ChunkData::Bool(_) => return Err(KernelError("scans of bools need a cast to int64 first".into())),
        }
    };
}

/// The total of a block along `axis` (kept with length 1).
pub fn total(data: &ChunkData, func: ScanFunc, axis: usize) -> Result<ChunkData, KernelError> {
    plain(data, func.reduce_func(), &[axis])
}

/// The running totals of a block along `axis`: inclusive (`x0, x0+x1, ...`),
/// or with `include_initial` exclusive (`0, x0, x0+x1, ...`) with `out_len`
/// elements along the axis, at most one more than the block has.
pub fn scan(data: ChunkData, func: ScanFunc, axis: usize, include_initial: bool, out_len: usize) -> Result<ChunkData, KernelError> {
    let fits = match data.shape().get(axis) {
        Some(&n) if include_initial => out_len == n || out_len == n + 1,
        Some(&n) => out_len == n,
        None => false,
    };
    if !fits {
        return Err(KernelError(format!("cannot scan a block of shape {:?} along axis {axis} into {out_len} elements", data.shape())));
    }
    Ok(if include_initial {
        numeric!(data, a => exclusive(a.view(), func, axis, out_len))
    } else {
        numeric!(data, a => inclusive(a, func, axis))
    })
}

fn inclusive<T: Numeric>(mut a: ArrayD<T>, func: ScanFunc, axis: usize) -> ArrayD<T> {
    for i in 1..a.len_of(Axis(axis)) {
        let (prev, mut cur) = a.view_mut().split_at(Axis(axis), i);
        Zip::from(cur.index_axis_mut(Axis(axis), 0)).and(prev.index_axis(Axis(axis), i - 1)).for_each(|c, &p| *c = func.apply(p, *c));
    }
    a
}

fn exclusive<T: Numeric>(a: ArrayViewD<T>, func: ScanFunc, axis: usize, out_len: usize) -> ArrayD<T> {
    let mut shape = a.shape().to_vec();
    shape[axis] = out_len;
    let mut out = ArrayD::from_elem(IxDyn(&shape), func.identity());
    for j in 1..out_len {
        let (prev, mut cur) = out.view_mut().split_at(Axis(axis), j);
        Zip::from(cur.index_axis_mut(Axis(axis), 0))
            .and(prev.index_axis(Axis(axis), j - 1))
            .and(a.index_axis(Axis(axis), j - 1))
            .for_each(|c, &p, &x| *c = func.apply(p, x));
    }
    out
}

/// Combines the carry of the blocks before (one value per position across
/// `axis`, that axis of length 1) into every element of `out`.
pub fn add_carry(out: ChunkData, carry: &ChunkData, func: ScanFunc, axis: usize) -> Result<ChunkData, KernelError> {
    fn go<T: Numeric>(mut out: ArrayD<T>, carry: &ArrayD<T>, func: ScanFunc) -> Result<ArrayD<T>, KernelError> {
        let c = carry.broadcast(out.raw_dim()).ok_or_else(|| KernelError(format!("a carry of shape {:?} does not fit a block of shape {:?}", carry.shape(), out.shape())))?;
        Zip::from(&mut out).and(&c).for_each(|x, &c| *x = func.apply(c, *x));
        Ok(out)
    }
    if carry.shape().get(axis) != Some(&1) || carry.shape().len() != out.shape().len() {
        return Err(KernelError(format!("a carry of shape {:?} does not hold one value per position across axis {axis} of a block of shape {:?}", carry.shape(), out.shape())));
    }
    macro_rules! pairs {
        ($($v:ident),*) => {
            match (out, carry) {
                $((ChunkData::$v(o), ChunkData::$v(c)) => Ok(ChunkData::$v(go(o, c, func)?)),)*
                (o, c) => Err(KernelError(format!("cannot combine a {} carry into a {} block", c.dtype(), o.dtype()))),
            }
        };
    }
    pairs!(Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(shape: &[usize], v: Vec<i64>) -> ChunkData {
        ChunkData::Int64(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
    }

    #[test]
    fn inclusive_and_exclusive_scans_along_any_axis() {
        let x = ints(&[2, 3], vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(scan(x.clone(), ScanFunc::Sum, 1, false, 3).unwrap(), ints(&[2, 3], vec![1, 3, 6, 4, 9, 15]));
        assert_eq!(scan(x.clone(), ScanFunc::Prod, 0, false, 2).unwrap(), ints(&[2, 3], vec![1, 2, 3, 4, 10, 18]));
        // include_initial: the identity first, one more element when the block is the last.
        assert_eq!(scan(x.clone(), ScanFunc::Sum, 1, true, 4).unwrap(), ints(&[2, 4], vec![0, 1, 3, 6, 0, 4, 9, 15]));
        assert_eq!(scan(x.clone(), ScanFunc::Prod, 1, true, 3).unwrap(), ints(&[2, 3], vec![1, 1, 2, 1, 4, 20]));
        assert_eq!(scan(ints(&[0, 2], vec![]), ScanFunc::Sum, 0, true, 1).unwrap(), ints(&[1, 2], vec![0, 0]));
        assert_eq!(total(&x, ScanFunc::Sum, 0).unwrap(), ints(&[1, 3], vec![5, 7, 9]));
        // Impossible lengths and bools are errors, not panics.
        assert!(scan(x.clone(), ScanFunc::Sum, 1, true, 5).is_err());
        assert!(scan(x.clone(), ScanFunc::Sum, 2, false, 3).is_err());
        assert!(scan(ChunkData::Bool(ArrayD::from_elem(IxDyn(&[2]), true)), ScanFunc::Sum, 0, false, 2).unwrap_err().0.contains("cast to int64"));
    }

    #[test]
    fn the_carry_is_combined_into_every_element() {
        let block = ints(&[2, 2], vec![1, 3, 2, 5]);
        let carry = ints(&[1, 2], vec![10, 100]);
        assert_eq!(add_carry(block.clone(), &carry, ScanFunc::Sum, 0).unwrap(), ints(&[2, 2], vec![11, 103, 12, 105]));
        assert_eq!(add_carry(block.clone(), &ints(&[2, 1], vec![2, 3]), ScanFunc::Prod, 1).unwrap(), ints(&[2, 2], vec![2, 6, 6, 15]));
        assert!(add_carry(block.clone(), &ints(&[1, 3], vec![0, 0, 0]), ScanFunc::Sum, 0).is_err());
        assert!(add_carry(block.clone(), &ints(&[2, 2], vec![0; 4]), ScanFunc::Sum, 0).is_err());
        assert!(add_carry(block, &ChunkData::Float64(ArrayD::zeros(IxDyn(&[1, 2]))), ScanFunc::Sum, 0).is_err());
    }
}
