//! Contractions: the kernel node behind `matmul` (`@`), `tensordot`,
//! `vecdot`, `inner` and `outer`.
//!
//! A [`Dot`] multiplies a left operand of axes `batch + free + contracted`
//! with a right one of axes `batch + contracted + free`, one block of the
//! contracted axes at a time: its result has, in place of each contracted
//! axis, one element per block of it (axis `kb` holds the product over block
//! `kb` only). A sum over those axes ([`crate::plan::OpKind::Reduce`], in
//! rounds of `split_every`) then completes the contraction, so that a task
//! holds one block of each operand whatever the contraction's length.
//! Batch axes broadcast between the operands, as numpy's `matmul` stacks.

use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewD, Axis, IxDyn};
use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkData, KernelError, Numeric};
use crate::dtype::DType;
use crate::error::TaskError;
use crate::kernel::Source;

/// How a contraction reads and multiplies its operands (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dot {
    /// Shape of the left operand: batch, free, then contracted axes.
    pub lhs_shape: Vec<u64>,
    /// Shape of the right operand: batch, contracted, then free axes.
    pub rhs_shape: Vec<u64>,
    /// Number of batch axes of the result (each operand has at most as many,
    /// aligned to the right, with numpy broadcasting).
    pub batch: usize,
    /// Number of batch axes of the left operand.
    pub lhs_batch: usize,
    /// Number of batch axes of the right operand.
    pub rhs_batch: usize,
    /// Block length of each contracted axis.
    pub blocks: Vec<u64>,
    /// The type both operands are cast to and the product is computed in.
    pub compute: DType,
}

impl Dot {
    fn contracted(&self) -> usize {
        self.blocks.len()
    }

    fn lhs_free(&self) -> usize {
        self.lhs_shape.len() - self.lhs_batch - self.contracted()
    }

    /// Lengths of the contracted axes.
    fn contracted_lens(&self) -> &[u64] {
        &self.rhs_shape[self.rhs_batch..self.rhs_batch + self.contracted()]
    }

    /// The broadcast batch shape.
    fn batch_shape(&self) -> Vec<u64> {
        let (l, r) = (&self.lhs_shape[..self.lhs_batch], &self.rhs_shape[..self.rhs_batch]);
        (0..self.batch)
            .map(|d| {
                let get = |s: &[u64]| if d + s.len() >= self.batch { s[d + s.len() - self.batch] } else { 1 };
                let (a, b) = (get(l), get(r));
                if a == 1 { b } else { a }
            })
            .collect()
    }

    /// The shape of the node's result: batch, left free axes, one element
    /// per block of each contracted axis, right free axes.
    pub fn shape(&self) -> Vec<u64> {
        let mut shape = self.batch_shape();
        shape.extend(&self.lhs_shape[self.lhs_batch..self.lhs_batch + self.lhs_free()]);
        shape.extend(self.contracted_lens().iter().zip(&self.blocks).map(|(&n, &b)| n.div_ceil(b)));
        shape.extend(&self.rhs_shape[self.rhs_batch + self.contracted()..]);
        shape
    }

    /// Checks the operands' shapes against each other; values come from plans.
    pub fn check(&self) -> Result<(), String> {
        let k = self.contracted();
        if self.lhs_batch > self.batch || self.rhs_batch > self.batch || self.lhs_batch + k > self.lhs_shape.len() || self.rhs_batch + k > self.rhs_shape.len() {
            return Err(format!("a contraction of shapes {:?} and {:?} over {k} axes with {} batch axes", self.lhs_shape, self.rhs_shape, self.batch));
        }
        if self.blocks.contains(&0) {
            return Err(format!("a contraction with blocks {:?}", self.blocks));
        }
        let lk = &self.lhs_shape[self.lhs_shape.len() - k..];
        if lk != self.contracted_lens() {
            return Err(format!("a contraction of axes of lengths {lk:?} with {:?}", self.contracted_lens()));
        }
        let (l, r) = (&self.lhs_shape[..self.lhs_batch], &self.rhs_shape[..self.rhs_batch]);
        let fits = l.iter().rev().zip(r.iter().rev()).all(|(&a, &b)| a == b || a == 1 || b == 1);
        if !fits {
            return Err(format!("a contraction of batch shapes {l:?} and {r:?}, which do not broadcast"));
        }
        if !self.compute.is_numeric() {
            return Err(format!("a contraction computed in {}", self.compute));
        }
        Ok(())
    }

    /// The regions of the operands that the product over `region` of
    /// [`Dot::shape`] reads (for planning what is read).
    pub fn operand_boxes(&self, region: &[(u64, u64)]) -> (Vec<(u64, u64)>, Vec<(u64, u64)>) {
        let (b, fl, k) = (self.batch, self.lhs_free(), self.contracted());
        let rk: Vec<(u64, u64)> = region[b + fl..b + fl + k]
            .iter()
            .zip(&self.blocks)
            .zip(self.contracted_lens())
            .map(|((&(s, e), &bl), &n)| ((s * bl).min(n), (e * bl).min(n)))
            .collect();
        self.operand_regions(region, &rk)
    }

    /// The operands' regions for `region` of [`Dot::shape`] with the
    /// contracted axes' element ranges `rk`: batch axes broadcast (a length
    /// of 1 reads index 0), free axes as the region's.
    fn operand_regions(&self, region: &[(u64, u64)], rk: &[(u64, u64)]) -> (Vec<(u64, u64)>, Vec<(u64, u64)>) {
        let (b, fl, k) = (self.batch, self.lhs_free(), self.contracted());
        let batch_of = |shape: &[u64]| -> Vec<(u64, u64)> {
            let skip = b - shape.len();
            shape.iter().zip(&region[skip..b]).map(|(&s, &r)| if s == 1 { (0, 1) } else { r }).collect()
        };
        let mut l = batch_of(&self.lhs_shape[..self.lhs_batch]);
        l.extend(&region[b..b + fl]);
        l.extend(rk);
        let mut r = batch_of(&self.rhs_shape[..self.rhs_batch]);
        r.extend(rk);
        r.extend(&region[b + fl + k..]);
        (l, r)
    }

    /// Evaluates the product over `region` of [`Dot::shape`]; `lhs` and
    /// `rhs` evaluate the operands over regions of their shapes.
    pub fn evaluate(
        &self,
        region: &[(u64, u64)],
        lhs: &Source,
        rhs: &Source,
    ) -> Result<ChunkData, TaskError> {
        let (b, fl, k) = (self.batch, self.lhs_free(), self.contracted());
        let rb = &region[..b];
        let rk = &region[b + fl..b + fl + k];
        let dims: Vec<usize> = region.iter().map(|&(a, z)| (z - a) as usize).collect();
        let combos: Vec<Vec<u64>> = block_combos(rk);
        let mut out: Option<ChunkData> = None;
        for combo in &combos {
            let kr: Vec<(u64, u64)> = combo.iter().zip(&self.blocks).zip(self.contracted_lens()).map(|((&kb, &bl), &n)| (kb * bl, ((kb + 1) * bl).min(n))).collect();
            let (lr, rr) = self.operand_regions(region, &kr);
            let a = lhs(&lr)?.cast(self.compute);
            let c = rhs(&rr)?.cast(self.compute);
            let product = contract(a, c, self, rb)?;
            if combos.len() == 1 {
                return Ok(product);
            }
            let target = out.get_or_insert_with(|| ChunkData::full(self.compute, &dims, 0.0));
            let mut offset = vec![0usize; dims.len()];
            for (j, (&kb, &(start, _))) in combo.iter().zip(rk).enumerate() {
                offset[b + fl + j] = (kb - start) as usize;
            }
            target.assign_at(&offset, &product)?;
        }
        Ok(out.unwrap_or_else(|| ChunkData::full(self.compute, &dims, 0.0)))
    }
}

/// Every block index combination of the contracted axes' regions.
fn block_combos(rk: &[(u64, u64)]) -> Vec<Vec<u64>> {
    let mut combos = vec![vec![]];
    for &(a, z) in rk {
        combos = combos.into_iter().flat_map(|c: Vec<u64>| (a..z).map(move |kb| [c.clone(), vec![kb]].concat())).collect();
    }
    combos
}

/// Matrix product of one pair of blocks.
trait MatMul: Numeric + 'static {
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self>;
}

macro_rules! naive_matmul {
    ($($t:ty),*) => {$(
        impl MatMul for $t {
            /// Integers wrap on overflow, as numpy's.
            fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self> {
                let (m, n) = (a.nrows(), b.ncols());
                let mut c = Array2::from_elem((m, n), <$t as Numeric>::ZERO);
                for (i, row) in a.outer_iter().enumerate() {
                    let mut out = c.row_mut(i);
                    for (p, &x) in row.iter().enumerate() {
                        for (o, &y) in out.iter_mut().zip(b.row(p)) {
                            *o = Numeric::add(*o, Numeric::mul(x, y));
                        }
                    }
                }
                c
            }
        }
    )*};
}
naive_matmul!(i8, i16, i32, i64, u8, u16, u32, u64);

impl MatMul for f32 {
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self> {
        a.dot(&b)
    }
}

impl MatMul for f64 {
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self> {
        a.dot(&b)
    }
}

/// The product of operand blocks `a` and `b` (already of the compute type)
/// over the batch region `rb`: shape batch + left free + 1 per contracted
/// axis + right free.
fn contract(a: ChunkData, b: ChunkData, dot: &Dot, rb: &[(u64, u64)]) -> Result<ChunkData, KernelError> {
    fn typed<T: MatMul>(a: ArrayD<T>, b: ArrayD<T>, dot: &Dot, rb: &[(u64, u64)]) -> Result<ArrayD<T>, KernelError> {
        let (lb, rbn, k) = (dot.lhs_batch, dot.rhs_batch, dot.contracted());
        let batch: Vec<usize> = rb.iter().map(|&(s, e)| (e - s) as usize).collect();
        let free_l: Vec<usize> = a.shape()[lb..a.ndim() - k].to_vec();
        let free_r: Vec<usize> = b.shape()[rbn + k..].to_vec();
        let kk: usize = a.shape()[a.ndim() - k..].iter().product();
        let (m, n) = (free_l.iter().product::<usize>(), free_r.iter().product::<usize>());
        let mut block_dims = free_l.clone();
        block_dims.extend(std::iter::repeat_n(1, k));
        block_dims.extend(&free_r);
        let mut dims = batch.clone();
        dims.extend(&block_dims);
        let mut out = ArrayD::from_elem(IxDyn(&dims), T::ZERO);
        let count: usize = batch.iter().product();
        // An operand's batch axes align to the right; a length of 1 broadcasts.
        fn pick<'a, T>(x: &'a ArrayD<T>, nb: usize, bi: &[usize]) -> ArrayViewD<'a, T> {
            let mut v = x.view();
            for d in 0..nb {
                let at = if v.shape()[0] == 1 { 0 } else { bi[bi.len() - nb + d] };
                v = v.index_axis_move(Axis(0), at);
            }
            v
        }
        for flat in 0..count {
            let mut bi = vec![0usize; batch.len()];
            let mut rest = flat;
            for d in (0..batch.len()).rev() {
                bi[d] = rest % batch[d];
                rest /= batch[d];
            }
            let av = pick(&a, lb, &bi);
            let bv = pick(&b, rbn, &bi);
            let err = |e: ndarray::ShapeError| KernelError(format!("contraction block: {e}"));
            let a2 = av.to_shape((m, kk)).map_err(err)?;
            let b2 = bv.to_shape((kk, n)).map_err(err)?;
            let c = T::matmul(a2.view(), b2.view());
            let mut target = out.view_mut();
            for &i in &bi {
                target = target.index_axis_move(Axis(0), i);
            }
            // The product may be in column-major order (matrixmultiply picks it).
            let c = c.to_shape(IxDyn(&block_dims)).map_err(err)?;
            target.assign(&c);
        }
        Ok(out)
    }
    use ChunkData as C;
    Ok(match (a, b) {
        (C::Int8(a), C::Int8(b)) => C::Int8(typed(a, b, dot, rb)?),
        (C::Int16(a), C::Int16(b)) => C::Int16(typed(a, b, dot, rb)?),
        (C::Int32(a), C::Int32(b)) => C::Int32(typed(a, b, dot, rb)?),
        (C::Int64(a), C::Int64(b)) => C::Int64(typed(a, b, dot, rb)?),
        (C::Uint8(a), C::Uint8(b)) => C::Uint8(typed(a, b, dot, rb)?),
        (C::Uint16(a), C::Uint16(b)) => C::Uint16(typed(a, b, dot, rb)?),
        (C::Uint32(a), C::Uint32(b)) => C::Uint32(typed(a, b, dot, rb)?),
        (C::Uint64(a), C::Uint64(b)) => C::Uint64(typed(a, b, dot, rb)?),
        (C::Float32(a), C::Float32(b)) => C::Float32(typed(a, b, dot, rb)?),
        (C::Float64(a), C::Float64(b)) => C::Float64(typed(a, b, dot, rb)?),
        (a, b) => return Err(KernelError(format!("a contraction of {} and {} blocks (numeric types of one kind only)", a.dtype(), b.dtype()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iota(shape: &[u64], scale: f64) -> impl Fn(&[(u64, u64)]) -> Result<ChunkData, TaskError> + '_ {
        move |region: &[(u64, u64)]| {
            let dims: Vec<usize> = region.iter().map(|&(a, b)| (b - a) as usize).collect();
            Ok(ChunkData::Float64(ArrayD::from_shape_fn(IxDyn(&dims), |ix| {
                let mut flat = 0f64;
                for (k, &s) in shape.iter().enumerate() {
                    flat = flat * s as f64 + (region[k].0 as f64 + ix[k] as f64);
                }
                flat * scale
            })))
        }
    }

    #[test]
    fn block_products_sum_to_the_matrix_product() {
        // a: 3 x 5, b: 5 x 2, contracted in blocks of 2 (3 blocks).
        let dot = Dot { lhs_shape: vec![3, 5], rhs_shape: vec![5, 2], batch: 0, lhs_batch: 0, rhs_batch: 0, blocks: vec![2], compute: DType::Float64 };
        dot.check().unwrap();
        assert_eq!(dot.shape(), vec![3, 3, 2]);
        let (la, lb) = (iota(&[3, 5], 1.0), iota(&[5, 2], 0.5));
        let all = dot.evaluate(&[(0, 3), (0, 3), (0, 2)], &la, &lb).unwrap();
        let v = all.to_f64_vec();
        for i in 0..3 {
            for j in 0..2 {
                let want: f64 = (0..5).map(|p| (i * 5 + p) as f64 * ((p * 2 + j) as f64 * 0.5)).sum();
                let got: f64 = (0..3).map(|kb| v[(i * 3 + kb) * 2 + j]).sum();
                assert_eq!(got, want, "({i}, {j})");
            }
        }
        // One block alone, in a sub-region.
        let one = dot.evaluate(&[(1, 2), (2, 3), (1, 2)], &la, &lb).unwrap().to_f64_vec();
        // Block 2 of the contraction is p = 4 alone: a[1, 4] * b[4, 1] = 9 * 4.5.
        assert_eq!(one, vec![40.5]);
    }

    #[test]
    fn batch_axes_broadcast_and_integers_wrap() {
        // a: [2, 1, 2] (batch 2), b: [1, 2, 1] (batch 1, broadcast): int8 wraps.
        let dot = Dot { lhs_shape: vec![2, 1, 2], rhs_shape: vec![1, 2, 1], batch: 1, lhs_batch: 1, rhs_batch: 1, blocks: vec![2], compute: DType::Int8 };
        dot.check().unwrap();
        let a = |r: &[(u64, u64)]| Ok(ChunkData::full(DType::Int8, &r.iter().map(|&(s, e)| (e - s) as usize).collect::<Vec<_>>(), 100.0));
        let got = dot.evaluate(&[(0, 2), (0, 1), (0, 1), (0, 1)], &a, &a).unwrap();
        // 100 * 100 + 100 * 100 = 20000, wrapped to int8: 20000 mod 256 = 32.
        assert_eq!(got.to_f64_vec(), vec![32.0, 32.0]);
        let bad = Dot { rhs_shape: vec![1, 3, 1], ..dot.clone() };
        assert!(bad.check().unwrap_err().contains("lengths [2] with [3]"));
    }
}
