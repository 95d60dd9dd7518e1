//! In-memory chunk data of any supported element type, and the type-generic
//! operations on it (casts, broadcasting, slicing, assembling).
//!
//! Kernels (see [`crate::kernel`]) work on whole `ndarray` arrays with `Zip`
//! loops over contiguous memory, never per-element dynamic dispatch: the
//! `match` on the element type happens once per chunk, through the macros of
//! this module, which list every variant in one place.

pub mod element;

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use crate::dtype::DType;
pub use element::{cast, Element, Numeric};

/// One chunk (or region) of an array, with its element type.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkData {
    /// Booleans.
    Bool(ArrayD<bool>),
    /// 8-bit integers.
    Int8(ArrayD<i8>),
    /// 16-bit integers.
    Int16(ArrayD<i16>),
    /// 32-bit integers.
    Int32(ArrayD<i32>),
    /// 64-bit integers.
    Int64(ArrayD<i64>),
    /// 8-bit unsigned integers.
    Uint8(ArrayD<u8>),
    /// 16-bit unsigned integers.
    Uint16(ArrayD<u16>),
    /// 32-bit unsigned integers.
    Uint32(ArrayD<u32>),
    /// 64-bit unsigned integers.
    Uint64(ArrayD<u64>),
    /// 32-bit floats.
    Float32(ArrayD<f32>),
    /// 64-bit floats.
    Float64(ArrayD<f64>),
}

/// Applies `$body` to the inner array whatever its element type.
#[macro_export]
#[doc(hidden)]
macro_rules! each {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            $crate::ChunkData::Bool($a) => $body,
            $crate::ChunkData::Int8($a) => $body,
            $crate::ChunkData::Int16($a) => $body,
            $crate::ChunkData::Int32($a) => $body,
            $crate::ChunkData::Int64($a) => $body,
            $crate::ChunkData::Uint8($a) => $body,
            $crate::ChunkData::Uint16($a) => $body,
            $crate::ChunkData::Uint32($a) => $body,
            $crate::ChunkData::Uint64($a) => $body,
            $crate::ChunkData::Float32($a) => $body,
            $crate::ChunkData::Float64($a) => $body,
        }
    };
}

/// Applies `$body` to the inner array and wraps the result in the same variant.
#[macro_export]
#[doc(hidden)]
macro_rules! map_same {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            $crate::ChunkData::Bool($a) => $crate::ChunkData::Bool($body),
            $crate::ChunkData::Int8($a) => $crate::ChunkData::Int8($body),
            $crate::ChunkData::Int16($a) => $crate::ChunkData::Int16($body),
            $crate::ChunkData::Int32($a) => $crate::ChunkData::Int32($body),
            $crate::ChunkData::Int64($a) => $crate::ChunkData::Int64($body),
            $crate::ChunkData::Uint8($a) => $crate::ChunkData::Uint8($body),
            $crate::ChunkData::Uint16($a) => $crate::ChunkData::Uint16($body),
            $crate::ChunkData::Uint32($a) => $crate::ChunkData::Uint32($body),
            $crate::ChunkData::Uint64($a) => $crate::ChunkData::Uint64($body),
            $crate::ChunkData::Float32($a) => $crate::ChunkData::Float32($body),
            $crate::ChunkData::Float64($a) => $crate::ChunkData::Float64($body),
        }
    };
}

/// Evaluates `$body` with `$t` bound to the Rust element type of a [`DType`]
/// and `$v` to the matching `ChunkData` constructor.
#[macro_export]
#[doc(hidden)]
macro_rules! with_type {
    ($dtype:expr, $t:ident, $v:ident => $body:expr) => {
        match $dtype {
            $crate::DType::Bool => {
                type $t = bool;
                #[allow(unused_imports)]
                use $crate::ChunkData::Bool as $v;
                $body
            }
            $crate::DType::Int8 => {
                type $t = i8;
                #[allow(unused_imports)]
                use $crate::ChunkData::Int8 as $v;
                $body
            }
            $crate::DType::Int16 => {
                type $t = i16;
                #[allow(unused_imports)]
                use $crate::ChunkData::Int16 as $v;
                $body
            }
            $crate::DType::Int32 => {
                type $t = i32;
                #[allow(unused_imports)]
                use $crate::ChunkData::Int32 as $v;
                $body
            }
            $crate::DType::Int64 => {
                type $t = i64;
                #[allow(unused_imports)]
                use $crate::ChunkData::Int64 as $v;
                $body
            }
            $crate::DType::Uint8 => {
                type $t = u8;
                #[allow(unused_imports)]
                use $crate::ChunkData::Uint8 as $v;
                $body
            }
            $crate::DType::Uint16 => {
                type $t = u16;
                #[allow(unused_imports)]
                use $crate::ChunkData::Uint16 as $v;
                $body
            }
            $crate::DType::Uint32 => {
                type $t = u32;
                #[allow(unused_imports)]
                use $crate::ChunkData::Uint32 as $v;
                $body
            }
            $crate::DType::Uint64 => {
                type $t = u64;
                #[allow(unused_imports)]
                use $crate::ChunkData::Uint64 as $v;
                $body
            }
            $crate::DType::Float32 => {
                type $t = f32;
                #[allow(unused_imports)]
                use $crate::ChunkData::Float32 as $v;
                $body
            }
            $crate::DType::Float64 => {
                type $t = f64;
                #[allow(unused_imports)]
                use $crate::ChunkData::Float64 as $v;
                $body
            }
        }
    };
}

/// Two chunks of the same type: `$body` with both inner arrays, or `$else`
/// (given the two chunks back) when their types differ.
#[macro_export]
#[doc(hidden)]
macro_rules! each_pair {
    ($x:expr, $y:expr, ($a:ident, $b:ident) => $body:expr, ($ea:ident, $eb:ident) => $else:expr) => {
        match ($x, $y) {
            ($crate::ChunkData::Bool($a), $crate::ChunkData::Bool($b)) => $body,
            ($crate::ChunkData::Int8($a), $crate::ChunkData::Int8($b)) => $body,
            ($crate::ChunkData::Int16($a), $crate::ChunkData::Int16($b)) => $body,
            ($crate::ChunkData::Int32($a), $crate::ChunkData::Int32($b)) => $body,
            ($crate::ChunkData::Int64($a), $crate::ChunkData::Int64($b)) => $body,
            ($crate::ChunkData::Uint8($a), $crate::ChunkData::Uint8($b)) => $body,
            ($crate::ChunkData::Uint16($a), $crate::ChunkData::Uint16($b)) => $body,
            ($crate::ChunkData::Uint32($a), $crate::ChunkData::Uint32($b)) => $body,
            ($crate::ChunkData::Uint64($a), $crate::ChunkData::Uint64($b)) => $body,
            ($crate::ChunkData::Float32($a), $crate::ChunkData::Float32($b)) => $body,
            ($crate::ChunkData::Float64($a), $crate::ChunkData::Float64($b)) => $body,
            ($ea, $eb) => $else,
        }
    };
}

/// The error for an operation that the planner should never have produced.
#[derive(Debug, thiserror::Error)]
#[error("kernel error: {0}")]
pub struct KernelError(pub String);

/// Wraps a typed array in the matching variant.
pub trait IntoChunk: Element {
    /// The chunk holding `a`.
    fn into_chunk(a: ArrayD<Self>) -> ChunkData;
    /// The array inside `data`, when it has this element type.
    fn from_chunk(data: ChunkData) -> Option<ArrayD<Self>>;
}

macro_rules! into_chunk {
    ($($t:ty => $v:ident),*) => {$(
        impl IntoChunk for $t {
            fn into_chunk(a: ArrayD<$t>) -> ChunkData {
                ChunkData::$v(a)
            }
            fn from_chunk(data: ChunkData) -> Option<ArrayD<$t>> {
                match data {
                    ChunkData::$v(a) => Some(a),
                    _ => None,
                }
            }
        }
    )*};
}
into_chunk!(bool => Bool, i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64, u8 => Uint8, u16 => Uint16, u32 => Uint32, u64 => Uint64, f32 => Float32, f64 => Float64);

impl ChunkData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        fn of<T: Element>(_: &ArrayD<T>) -> DType {
            T::DTYPE
        }
        each!(self, a => of(a))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// Size of the elements in bytes.
    pub fn nbytes(&self) -> u64 {
        self.shape().iter().product::<usize>() as u64 * self.dtype().itemsize()
    }

    /// An array of `shape` filled with `value` converted to `dtype` (numpy
    /// `astype` of the float `value`).
    pub fn full(dtype: DType, shape: &[usize], value: f64) -> ChunkData {
        with_type!(dtype, T, V => V(ArrayD::from_elem(IxDyn(shape), <T as Element>::from_f64(value))))
    }

    /// Builds an array of `dtype` from `f64` values (used by generators).
    pub fn from_f64_values(dtype: DType, shape: &[usize], values: Vec<f64>) -> Result<ChunkData, KernelError> {
        let a = ArrayD::from_shape_vec(IxDyn(shape), values)
            .map_err(|e| KernelError(format!("values do not fit shape {shape:?}: {e}")))?;
        Ok(ChunkData::Float64(a).cast(dtype))
    }

    /// Converts to `dtype` (numpy `astype`, see [`element::cast`]); a no-op
    /// when the type already matches.
    pub fn cast(self, dtype: DType) -> ChunkData {
        if self.dtype() == dtype {
            return self;
        }
        with_type!(dtype, T, V => V(each!(&self, a => a.mapv(cast::<_, T>))))
    }

    /// Broadcasts to `shape` (materialising the result) unless it already has it.
    pub fn broadcast_to(self, shape: &[usize]) -> Result<ChunkData, KernelError> {
        if self.shape() == shape {
            return Ok(self);
        }
        let err = || KernelError(format!("cannot broadcast a chunk to {shape:?}"));
        Ok(map_same!(self, a => a.broadcast(IxDyn(shape)).ok_or_else(err)?.to_owned()))
    }

    /// The elements inside `region` (start/stop per axis, relative to this chunk).
    pub fn slice(&self, region: &[(usize, usize)]) -> ChunkData {
        map_same!(self, a => {
            let mut v = a.view();
            for (k, &(start, stop)) in region.iter().enumerate() {
                v.slice_axis_inplace(Axis(k), Slice::from(start..stop));
            }
            v.to_owned()
        })
    }

    /// Copies `src` into this chunk at `offset` (per axis). Types must match.
    pub fn assign_at(&mut self, offset: &[usize], src: &ChunkData) -> Result<(), KernelError> {
        each_pair!(self, src, (d, s) => {
            let mut v = d.view_mut();
            for (k, (&o, &n)) in offset.iter().zip(s.shape()).enumerate() {
                v.slice_axis_inplace(Axis(k), Slice::from(o..o + n));
            }
            v.assign(s);
            Ok(())
        }, (d, s) => Err(KernelError(format!("cannot assign {} into {}", s.dtype(), d.dtype()))))
    }

    /// Removes the given length-1 axes.
    pub fn squeeze(self, axes: &[usize]) -> ChunkData {
        let mut sorted = axes.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        map_same!(self, a => {
            let mut a = a;
            for &k in &sorted {
                a = a.index_axis_move(Axis(k), 0);
            }
            a
        })
    }

    /// Inserts length-1 axes at the given (sorted) positions of the result.
    pub fn expand(self, axes: &[usize]) -> ChunkData {
        map_same!(self, a => {
            let mut a = a;
            for &k in axes {
                a = a.insert_axis(Axis(k));
            }
            a
        })
    }

    /// The elements at `indices` along `axis`, in that order (repeats and
    /// reversals allowed; numpy `take` with in-range indices).
    pub fn select(&self, axis: usize, indices: &[usize]) -> ChunkData {
        map_same!(self, a => a.select(Axis(axis), indices))
    }

    /// The same elements in row-major order, in `shape` (numpy `reshape`);
    /// copies only when the chunk is not already in row-major memory.
    pub fn reshape(self, shape: &[usize]) -> Result<ChunkData, KernelError> {
        let from = self.shape().to_vec();
        let err = |_| KernelError(format!("cannot reshape a chunk of shape {from:?} into {shape:?}"));
        Ok(map_same!(self, a => {
            let a = if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() };
            a.into_shape_with_order(IxDyn(shape)).map_err(err)?
        }))
    }

    /// The axes reordered: axis `k` of the result is axis `order[k]` of this
    /// chunk (numpy `transpose`), in row-major memory.
    pub fn permute(self, order: &[usize]) -> ChunkData {
        if order.iter().enumerate().all(|(k, &o)| k == o) {
            return self;
        }
        map_same!(self, a => a.permuted_axes(IxDyn(order)).as_standard_layout().into_owned())
    }

    /// Values as `f64` in row-major order (for printing small results and tests).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        each!(self, a => a.iter().map(|x| x.to_f64()).collect())
    }

    /// Values as strings in row-major order, exact for every type (for printing).
    pub fn to_strings(&self) -> Vec<String> {
        each!(self, a => a.iter().map(|x| format!("{x:?}")).collect())
    }
}

/// The numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, KernelError> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], k: usize| if k + s.len() >= n { s[k + s.len() - n] } else { 1 };
    (0..n)
        .map(|k| match (get(a, k), get(b, k)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(KernelError(format!("shapes {a:?} and {b:?} do not broadcast (axis {k}: {x} vs {y})"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_to_int_casts_saturate_and_full_converts_like_astype() {
        let f = ChunkData::Float64(ArrayD::from_shape_vec(IxDyn(&[5]), vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e20, -1.7]).unwrap());
        assert_eq!(f.clone().cast(DType::Int32).to_f64_vec(), vec![0.0, i32::MAX as f64, i32::MIN as f64, i32::MAX as f64, -1.0]);
        assert_eq!(f.clone().cast(DType::Uint8).to_f64_vec(), vec![0.0, 255.0, 0.0, 255.0, 0.0]);
        assert_eq!(f.cast(DType::Bool).to_f64_vec(), vec![1.0, 1.0, 1.0, 1.0, 1.0]);
        for d in DType::ALL {
            let c = ChunkData::full(d, &[2, 3], 1.0);
            assert_eq!((c.dtype(), c.shape(), c.nbytes()), (d, &[2usize, 3][..], 6 * d.itemsize()));
        }
        let w = ChunkData::full(DType::Int64, &[1], -1.0).cast(DType::Uint16);
        assert_eq!(w.to_strings(), vec!["65535"]);
    }
}
