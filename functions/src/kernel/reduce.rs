//! Reduction kernels: reduce one block over some axes, and combine partial
//! results of the same shape (the tree steps of a reduce op).

use ndarray::{ArrayD, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkData, Element, KernelError, Numeric};

/// Reduction combining functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReduceFunc {
    /// Sum (also the first stage of `mean`).
    Sum,
    /// Minimum (NaN propagates).
    Min,
    /// Maximum (NaN propagates).
    Max,
}

fn combine<T: Numeric>(func: ReduceFunc, x: T, y: T) -> T {
    match func {
        ReduceFunc::Sum => x.add(y),
        ReduceFunc::Min => nan_min(x, y),
        ReduceFunc::Max => nan_max(x, y),
    }
}

fn nan_min<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        if a.is_nan() { a } else { b }
    } else if b < a {
        b
    } else {
        a
    }
}

fn nan_max<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        if a.is_nan() { a } else { b }
    } else if b > a {
        b
    } else {
        a
    }
}

/// Applies `$body` to the inner array of every numeric variant, wrapping the
/// result in the same variant; `$bool` for bool chunks.
macro_rules! numeric {
    ($data:expr, $a:ident => $body:expr, $bool:expr) => {
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
            ChunkData::Bool(_) => return Err($bool),
        }
    };
}

/// Reduces `data` over `axes`, keeping them as length-1 axes. Sums are taken
/// in the chunk's own type (the planner casts to the accumulation type first).
pub fn reduce(data: &ChunkData, func: ReduceFunc, axes: &[usize]) -> Result<ChunkData, KernelError> {
    fn go<T: Numeric>(a: &ArrayD<T>, func: ReduceFunc, axes: &[usize]) -> ArrayD<T> {
        // Combine whole sub-arrays along each axis: contiguous, vectorisable loops.
        let one = |v: ndarray::ArrayViewD<T>, k: usize| {
            let mut acc = v.index_axis(Axis(k), 0).to_owned();
            for i in 1..v.len_of(Axis(k)) {
                Zip::from(&mut acc).and(v.index_axis(Axis(k), i)).for_each(|x, &y| *x = combine(func, *x, y));
            }
            acc.insert_axis(Axis(k))
        };
        let mut out: Option<ArrayD<T>> = None;
        for &k in axes {
            out = Some(match out {
                None => one(a.view(), k),
                Some(o) => one(o.view(), k),
            });
        }
        out.unwrap_or_else(|| a.to_owned())
    }
    Ok(numeric!(data, a => go(a, func, axes), KernelError("reductions over bool need a cast to int64 first".into())))
}

/// Combines two partial reductions of the same shape elementwise.
pub fn combine_partials(acc: ChunkData, other: ChunkData, func: ReduceFunc) -> Result<ChunkData, KernelError> {
    fn go<T: Numeric>(mut a: ArrayD<T>, b: &ArrayD<T>, func: ReduceFunc) -> ArrayD<T> {
        Zip::from(&mut a).and(b).for_each(|x, &y| *x = combine(func, *x, y));
        a
    }
    if acc.shape() != other.shape() || acc.dtype() != other.dtype() {
        return Err(KernelError(format!(
            "cannot combine partial results of shapes {:?} ({}) and {:?} ({})",
            acc.shape(),
            acc.dtype(),
            other.shape(),
            other.dtype()
        )));
    }
    macro_rules! pairs {
        ($($v:ident),*) => {
            match (acc, other) {
                $((ChunkData::$v(a), ChunkData::$v(b)) => Ok(ChunkData::$v(go(a, &b, func))),)*
                (a, _) => Err(KernelError(format!("cannot combine {} partial results", a.dtype()))),
            }
        };
    }
    pairs!(Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn integer_sums_wrap_and_min_max_propagate_nan() {
        let s = reduce(&ChunkData::Int64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![i64::MAX, 1]).unwrap()), ReduceFunc::Sum, &[0]).unwrap();
        assert_eq!(s.to_f64_vec(), vec![i64::MIN as f64]);
        let f = ChunkData::Float32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, f32::NAN, 0.0]).unwrap());
        assert!(reduce(&f, ReduceFunc::Max, &[0]).unwrap().to_f64_vec()[0].is_nan());
        let a = ChunkData::Uint8(ArrayD::from_shape_vec(IxDyn(&[2]), vec![3, 9]).unwrap());
        let b = ChunkData::Uint8(ArrayD::from_shape_vec(IxDyn(&[2]), vec![5, 1]).unwrap());
        assert_eq!(combine_partials(a, b, ReduceFunc::Min).unwrap().to_f64_vec(), vec![3.0, 1.0]);
    }
}
