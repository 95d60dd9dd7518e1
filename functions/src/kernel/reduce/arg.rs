//! (value, flat index) partials of `argmax`, `argmin` and their NaN-ignoring
//! versions.
//!
//! Indices are flat, row-major over the reduced axes of the whole domain, so
//! `axis=None` gives numpy's index into the flattened array. Ties go to the
//! smaller index (numpy's first occurrence) whatever order blocks are merged
//! in. Between rounds a partial is stored as int64 with a trailing axis of
//! (value key, index): the key holds the value exactly whatever its type
//! ([`ArgKey`]).

use ndarray::{ArrayD, ArrayViewD, Axis, Zip};

use super::{check_axes, same_shape, ReduceFunc};
use crate::chunk::{ChunkData, Element, IntoChunk, KernelError};
use crate::dtype::DType;
use crate::error::TaskError;

/// Element types whose values round-trip exactly through an `i64` key.
pub trait ArgKey: IntoChunk {
    /// The key of a value.
    fn to_key(self) -> i64;
    /// The value of a key (any key gives some value: stored data is not trusted).
    fn from_key(key: i64) -> Self;
}

macro_rules! int_key {
    ($($t:ty),*) => {$(
        impl ArgKey for $t {
            fn to_key(self) -> i64 {
                self as i64
            }
            fn from_key(key: i64) -> Self {
                key as $t
            }
        }
    )*};
}
int_key!(i8, i16, i32, i64, u8, u16, u32, u64);

impl ArgKey for bool {
    fn to_key(self) -> i64 {
        i64::from(self)
    }
    fn from_key(key: i64) -> Self {
        key != 0
    }
}

impl ArgKey for f64 {
    fn to_key(self) -> i64 {
        self.to_bits() as i64
    }
    fn from_key(key: i64) -> Self {
        f64::from_bits(key as u64)
    }
}

impl ArgKey for f32 {
    fn to_key(self) -> i64 {
        f64::from(self).to_key()
    }
    fn from_key(key: i64) -> Self {
        f64::from_key(key) as f32
    }
}

/// Which element an arg reduction picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    max: bool,
    skip_nan: bool,
}

impl Pick {
    /// The rule of an arg function (any other function picks the first minimum).
    pub fn of(func: ReduceFunc) -> Pick {
        Pick { max: matches!(func, ReduceFunc::ArgMax | ReduceFunc::NanArgMax), skip_nan: matches!(func, ReduceFunc::NanArgMax | ReduceFunc::NanArgMin) }
    }

    /// True when candidate `(bv, bi)` beats `(av, ai)`: the larger (or
    /// smaller) value; NaN beats any number (numpy's first NaN) unless NaN is
    /// skipped, when any number beats it; the smaller index on ties.
    fn beats<T: Element>(self, av: T, ai: i64, bv: T, bi: i64) -> bool {
        match (av.is_nan(), bv.is_nan()) {
            (false, false) if bv == av => bi < ai,
            (false, false) => (bv > av) == self.max,
            (true, true) => bi < ai,
            (a_nan, _) => a_nan == self.skip_nan,
        }
    }
}

/// Values and their flat indices, one per output element.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgPartial {
    values: ChunkData,
    index: ArrayD<i64>,
}

/// Per domain axis, the step of the flat index over the reduced `axes`
/// (row-major), 0 for kept axes.
pub fn flat_strides(domain_shape: &[u64], axes: &[usize]) -> Result<Vec<i64>, KernelError> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    let mut strides = vec![0i64; domain_shape.len()];
    let mut step = 1i64;
    for &k in sorted.iter().rev() {
        let len = domain_shape.get(k).and_then(|&n| i64::try_from(n).ok());
        let next = len.and_then(|n| step.checked_mul(n));
        match (strides.get_mut(k), next) {
            (Some(s), Some(next)) => {
                *s = step;
                step = next;
            }
            _ => return Err(KernelError(format!("flat indices over axes {axes:?} of a domain of shape {domain_shape:?} do not fit in 64 bits"))),
        }
    }
    Ok(strides)
}

/// Reduces one block of data whose first element is at `offset` of the
/// domain over `axes`, with the domain's `strides` (see [`flat_strides`]).
pub fn block(data: &ChunkData, axes: &[usize], offset: &[u64], strides: &[i64], pick: Pick) -> Result<ArgPartial, KernelError> {
    if offset.len() != data.shape().len() || strides.len() != offset.len() {
        return Err(KernelError(format!("a block of shape {:?} at offset {offset:?} of a {}-dimensional domain", data.shape(), strides.len())));
    }
    // Wrapping arithmetic: a validated plan's indices fit, and nothing here may panic.
    let base = |k: usize, i: usize| (offset[k] as i64).wrapping_add(i as i64).wrapping_mul(strides[k]);
    crate::each!(data, a => first_round(a.view(), axes, base, pick))
}

fn first_round<T: ArgKey>(a: ArrayViewD<T>, axes: &[usize], base: impl Fn(usize, usize) -> i64, pick: Pick) -> Result<ArgPartial, KernelError> {
    check_axes(a.shape(), axes)?;
    let Some(&first) = axes.iter().max_by_key(|&&k| a.len_of(Axis(k))) else {
        return Ok(ArgPartial { values: T::into_chunk(a.to_owned()), index: ArrayD::zeros(a.raw_dim()) });
    };
    let mut v = a.index_axis(Axis(first), 0).to_owned();
    let mut ix = ArrayD::from_elem(v.raw_dim(), base(first, 0));
    for i in 1..a.len_of(Axis(first)) {
        let bi = base(first, i);
        Zip::from(&mut v).and(&mut ix).and(a.index_axis(Axis(first), i)).for_each(|av, ai, &bv| {
            if pick.beats(*av, *ai, bv, bi) {
                *av = bv;
                *ai = bi;
            }
        });
    }
    let (mut v, mut ix) = (v.insert_axis(Axis(first)), ix.insert_axis(Axis(first)));
    for &k in axes.iter().filter(|&&k| k != first) {
        (v, ix) = merge_axis(v, ix, k, |i| base(k, i), pick);
    }
    Ok(ArgPartial { values: T::into_chunk(v), index: ix })
}

/// Picks one (value, index) along axis `k` (kept with length 1), adding
/// `add(i)` to the indices of position `i`.
fn merge_axis<T: Element>(v: ArrayD<T>, ix: ArrayD<i64>, k: usize, add: impl Fn(usize) -> i64, pick: Pick) -> (ArrayD<T>, ArrayD<i64>) {
    let a0 = add(0);
    if v.len_of(Axis(k)) == 1 && a0 == 0 {
        return (v, ix);
    }
    let mut ov = v.index_axis(Axis(k), 0).to_owned();
    let mut oi = ix.index_axis(Axis(k), 0).mapv(|j| j.wrapping_add(a0));
    for i in 1..v.len_of(Axis(k)) {
        let add = add(i);
        Zip::from(&mut ov).and(&mut oi).and(v.index_axis(Axis(k), i)).and(ix.index_axis(Axis(k), i)).for_each(|av, ai, &bv, &bi| {
            let bi = bi.wrapping_add(add);
            if pick.beats(*av, *ai, bv, bi) {
                *av = bv;
                *ai = bi;
            }
        });
    }
    (ov.insert_axis(Axis(k)), oi.insert_axis(Axis(k)))
}

/// Merges a block of stored partials over `axes` (a later round).
pub fn merge_block(p: ArgPartial, axes: &[usize], pick: Pick) -> Result<ArgPartial, KernelError> {
    fn go<T: ArgKey>(v: ArrayD<T>, mut ix: ArrayD<i64>, axes: &[usize], pick: Pick) -> Result<ArgPartial, KernelError> {
        check_axes(v.shape(), axes)?;
        let mut v = v;
        for &k in axes {
            (v, ix) = merge_axis(v, ix, k, |_| 0, pick);
        }
        Ok(ArgPartial { values: T::into_chunk(v), index: ix })
    }
    let ArgPartial { values, index } = p;
    crate::each!(values, v => go(v, index, axes, pick))
}

/// Stored partials back as values of type `dtype` and indices; refuses data
/// of another layout.
pub fn decode(data: ChunkData, dtype: DType) -> Result<ArgPartial, KernelError> {
    match data {
        ChunkData::Int64(a) if a.shape().last() == Some(&2) => {
            let last = Axis(a.ndim() - 1);
            let keys = a.index_axis(last, 0);
            let values = crate::with_type!(dtype, T, V => V(keys.mapv(T::from_key)));
            Ok(ArgPartial { values, index: a.index_axis(last, 1).to_owned() })
        }
        other => Err(KernelError(format!("arg partials are int64 with a trailing axis of (value, index), not {} of shape {:?}", other.dtype(), other.shape()))),
    }
}

impl ArgPartial {
    /// Merges another partial of the same shape and type into this one.
    pub fn merge(self, other: ArgPartial, pick: Pick) -> Result<ArgPartial, KernelError> {
        fn go<T: ArgKey>(mut av: ArrayD<T>, mut ai: ArrayD<i64>, bv: &ArrayD<T>, bi: &ArrayD<i64>, pick: Pick) -> ArgPartial {
            Zip::from(&mut av).and(&mut ai).and(bv).and(bi).for_each(|av, ai, &bv, &bi| {
                if pick.beats(*av, *ai, bv, bi) {
                    *av = bv;
                    *ai = bi;
                }
            });
            ArgPartial { values: T::into_chunk(av), index: ai }
        }
        same_shape(self.index.shape(), other.index.shape())?;
        same_shape(self.values.shape(), other.values.shape())?;
        let (ai, bi) = (self.index, other.index);
        crate::each_pair!(self.values, other.values, (a, b) => Ok(go(a, ai, &b, &bi, pick)), (a, b) => Err(KernelError(format!("cannot merge arg partials of {} and {}", a.dtype(), b.dtype()))))
    }

    /// The partial as stored: int64 with a trailing axis of (key, index).
    pub fn encode(self) -> ChunkData {
        let keys = crate::each!(&self.values, v => v.mapv(|x| x.to_key()));
        let last = Axis(keys.ndim());
        ChunkData::Int64(ndarray::stack(last, &[keys.view(), self.index.view()]).expect("values and indices have the same shape"))
    }

    /// The indices, refusing a NaN value when NaN is skipped (every value of
    /// the slice was NaN: numpy raises "All-NaN slice encountered").
    pub fn finish(self, func: ReduceFunc) -> Result<ChunkData, TaskError> {
        let all_nan = Pick::of(func).skip_nan && crate::each!(&self.values, v => v.iter().any(|x| x.is_nan()));
        if all_nan {
            return Err(TaskError::fatal(format!("{}: All-NaN slice encountered (every value along the reduced axes is NaN)", func.name())));
        }
        Ok(ChunkData::Int64(self.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn arg(v: Vec<f64>, shape: &[usize], axes: &[usize], func: ReduceFunc) -> Vec<f64> {
        let data = ChunkData::Float64(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap());
        let shape64: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
        let strides = flat_strides(&shape64, axes).unwrap();
        block(&data, axes, &vec![0; shape.len()], &strides, Pick::of(func)).unwrap().finish(func).unwrap().to_f64_vec()
    }

    #[test]
    fn ties_go_to_the_first_occurrence_and_nan_to_the_first_nan() {
        let nan = f64::NAN;
        assert_eq!(arg(vec![1.0, 3.0, 3.0], &[3], &[0], ReduceFunc::ArgMax), vec![1.0]);
        assert_eq!(arg(vec![1.0, nan, 3.0, nan], &[4], &[0], ReduceFunc::ArgMax), vec![1.0]);
        assert_eq!(arg(vec![nan, 0.0], &[2], &[0], ReduceFunc::ArgMin), vec![0.0]);
        assert_eq!(arg(vec![1.0, nan, 3.0], &[3], &[0], ReduceFunc::NanArgMax), vec![2.0]);
        assert_eq!(arg(vec![0.0, -0.0], &[2], &[0], ReduceFunc::ArgMin), vec![0.0]);
        // Flat row-major indices over all axes (np.argmax(x) of a 2-d x).
        assert_eq!(arg(vec![1.0, 2.0, 3.0, 0.0, 3.0, 3.0], &[2, 3], &[0, 1], ReduceFunc::ArgMax), vec![2.0]);
        assert_eq!(arg(vec![1.0, 2.0, 3.0, 0.0, 3.0, 3.0], &[2, 3], &[1], ReduceFunc::ArgMax), vec![2.0, 1.0]);
        assert_eq!(arg(vec![1.0, 2.0, 3.0, 0.0, 3.0, 3.0], &[2, 3], &[0], ReduceFunc::ArgMin), vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn an_all_nan_slice_is_an_error_for_nanargmax_only() {
        let data = ChunkData::Float64(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![f64::NAN, 1.0, f64::NAN, 2.0]).unwrap());
        let strides = flat_strides(&[2, 2], &[0]).unwrap();
        let p = block(&data, &[0], &[0, 0], &strides, Pick::of(ReduceFunc::NanArgMax)).unwrap();
        let e = p.finish(ReduceFunc::NanArgMax).unwrap_err();
        assert!(e.message.starts_with("nanargmax: All-NaN slice encountered") && !e.retryable, "{}", e.message);
        let p = block(&data, &[0], &[0, 0], &strides, Pick::of(ReduceFunc::ArgMax)).unwrap();
        assert_eq!(p.finish(ReduceFunc::ArgMax).unwrap().to_f64_vec(), vec![0.0, 1.0]);
    }

    #[test]
    fn blocks_merged_in_any_order_give_the_whole_arrays_answer() {
        // A 1-d domain of 9 in blocks of 3 with ties across blocks.
        let v = [5i32, 1, 7, 7, 0, 1, 7, 0, 0];
        let strides = flat_strides(&[9], &[0]).unwrap();
        let part = |b: usize| {
            let data = ChunkData::Int32(ArrayD::from_shape_vec(IxDyn(&[3]), v[3 * b..3 * b + 3].to_vec()).unwrap());
            block(&data, &[0], &[3 * b as u64], &strides, Pick::of(ReduceFunc::ArgMax)).unwrap()
        };
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut acc = part(order[0]);
            for &b in &order[1..] {
                // Through the stored layout, as between rounds.
                let stored = decode(part(b).encode(), DType::Int32).unwrap();
                acc = acc.merge(stored, Pick::of(ReduceFunc::ArgMax)).unwrap();
            }
            assert_eq!(acc.finish(ReduceFunc::ArgMax).unwrap().to_f64_vec(), vec![2.0], "{order:?}");
        }
    }

    #[test]
    fn keys_hold_every_value_exactly() {
        assert_eq!(u64::from_key(u64::MAX.to_key()), u64::MAX);
        assert_eq!(i64::from_key(i64::MIN.to_key()), i64::MIN);
        assert_eq!(f32::from_key(0.1f32.to_key()), 0.1f32);
        assert!(f64::from_key(f64::NAN.to_key()).is_nan());
        assert!(bool::from_key(true.to_key()));
        let p = ArgPartial { values: ChunkData::Uint64(ArrayD::from_elem(IxDyn(&[2]), u64::MAX - 1)), index: ArrayD::from_elem(IxDyn(&[2]), 7) };
        assert_eq!(decode(p.clone().encode(), DType::Uint64).unwrap(), p);
        assert!(decode(ChunkData::Int64(ArrayD::zeros(IxDyn(&[2, 3]))), DType::Uint64).unwrap_err().0.contains("trailing axis"));
        assert!(flat_strides(&[u64::MAX, 4], &[0, 1]).is_err());
    }
}
