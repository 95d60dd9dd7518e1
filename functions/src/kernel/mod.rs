//! Kernels: the per-chunk computation of blockwise and reduce ops, as a small
//! expression tree that is part of the plan (so a remote task can run it).
//!
//! A kernel is evaluated over a *region* of its domain (one output chunk). Each
//! leaf maps the region onto its own shape with numpy broadcasting: an axis of
//! length 1 reads index 0, missing leading axes are ignored.

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

pub mod concat;
pub mod dot;
pub mod elementwise;
pub mod halo;
pub mod reduce;
pub mod reshape;
pub mod scalar;
pub mod view;

use crate::chunk::{ChunkData, Element, KernelError};
use crate::dtype::DType;
use crate::grid::{block_pieces, block_region, grid_shape, BlockPiece};
use crate::random::uniform_block;
use crate::with_type;

pub use elementwise::{BinaryOp, BinaryRule, UnaryOp, UnaryRule};
pub use reduce::ReduceFunc;
pub use concat::Concat;
pub use dot::Dot;
pub use halo::{Halo, HaloOp};
pub use reshape::Reshape;
pub use view::{AxisMap, Fixed, View};

/// A node of a kernel expression tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum Node {
    /// The op's input number `input`.
    Input {
        /// Index into the op's `inputs`.
        input: usize,
    },
    /// A constant array (also scalars: shape `[]`).
    Full {
        /// The value.
        #[serde(with = "crate::float_json")]
        value: f64,
        /// Element type.
        dtype: DType,
        /// Global shape.
        shape: Vec<u64>,
    },
    /// `start + step * i` along one axis (computed in float64, then
    /// converted: `linspace`'s values; `arange` is [`Node::ArangeFill`]).
    Arange {
        /// First value.
        #[serde(with = "crate::float_json")]
        start: f64,
        /// Increment.
        #[serde(with = "crate::float_json")]
        step: f64,
        /// Number of values.
        len: u64,
        /// Element type.
        dtype: DType,
    },
    /// numpy's `arange` along one axis: `first`, `second`, then
    /// `first + i * (second - first)` computed in the arithmetic of `dtype`
    /// (float32 in float32, integers exactly, then wrapped to the type), as
    /// numpy fills an arange. `first` and `second` are numpy's first two
    /// values, already converted to `dtype` (integers truncated).
    ArangeFill {
        /// First value.
        #[serde(with = "crate::float_json")]
        first: f64,
        /// Second value.
        #[serde(with = "crate::float_json")]
        second: f64,
        /// Number of values.
        len: u64,
        /// Element type.
        dtype: DType,
    },
    /// The global index of each element along axis `axis` of an array of
    /// shape `shape` (lengths of 1 broadcast): the row or column number
    /// that diagonals and triangles (`eye`, `tril`, `triu`) compare.
    Index {
        /// The axis (of `shape`) counted along.
        axis: usize,
        /// Global shape.
        shape: Vec<u64>,
        /// Element type.
        dtype: DType,
    },
    /// Uniform random numbers in `[0, 1)`, deterministic per (seed, block index).
    Random {
        /// Seed.
        seed: u64,
        /// Element type (float32 or float64).
        dtype: DType,
        /// Global shape.
        shape: Vec<u64>,
        /// Block shape the random stream is keyed on.
        chunks: Vec<u64>,
    },
    /// Small data embedded in the plan (row-major values).
    Literal {
        /// Element type.
        dtype: DType,
        /// Shape.
        shape: Vec<u64>,
        /// Values in row-major order.
        #[serde(with = "crate::float_json::vec")]
        values: Vec<f64>,
    },
    /// `astype`.
    Cast {
        /// Target type.
        dtype: DType,
        /// Operand.
        arg: Box<Node>,
    },
    /// A unary function (operand already of the type its rule computes in).
    Unary {
        /// Operation.
        op: UnaryOp,
        /// Operand.
        arg: Box<Node>,
    },
    /// A binary operation computed in type `compute`.
    Binary {
        /// Operation.
        op: BinaryOp,
        /// Type both operands are cast to.
        compute: DType,
        /// Left operand.
        lhs: Box<Node>,
        /// Right operand.
        rhs: Box<Node>,
    },
    /// The argument read through a per-axis index map: indexing, transposes,
    /// new axes, flips, broadcasts, rolls, tiles and repeats (see [`View`]).
    View {
        /// How the argument is read.
        view: View,
        /// The argument, evaluated over regions of `view.source_shape`.
        arg: Box<Node>,
    },
    /// A contraction, one block of the contracted axes at a time (see [`Dot`]).
    Dot {
        /// How the operands are multiplied.
        dot: Dot,
        /// The left operand, evaluated over regions of `dot.lhs_shape`.
        lhs: Box<Node>,
        /// The right operand, evaluated over regions of `dot.rhs_shape`.
        rhs: Box<Node>,
    },
    /// Parts laid one after the other along an axis (see [`Concat`]).
    Concat {
        /// How the parts are laid out.
        concat: Concat,
        /// The parts, each evaluated over regions of its shape.
        parts: Vec<Node>,
    },
    /// A stencil along one axis: the argument over the region plus a margin
    /// (see [`Halo`]).
    Halo {
        /// What is computed.
        halo: Halo,
        /// The argument, evaluated over regions of `halo.source_shape`.
        arg: Box<Node>,
    },
    /// The argument's elements in another shape, row-major (see [`Reshape`]).
    Reshape {
        /// The shapes.
        reshape: Reshape,
        /// The argument, evaluated over regions of `reshape.source_shape`.
        arg: Box<Node>,
    },
    /// `where(cond, x, y)` (branches already of the same type).
    Where {
        /// Boolean condition.
        cond: Box<Node>,
        /// Value where true.
        x: Box<Node>,
        /// Value where false.
        y: Box<Node>,
    },
}

/// Evaluates a node's argument over a region of the argument's shape: how
/// the nodes that read other regions ([`View`], [`Dot`], [`Halo`],
/// [`Reshape`]) ask for their operands.
pub type Source<'a> = dyn Fn(&[(u64, u64)]) -> Result<ChunkData, crate::error::TaskError> + 'a;

/// What a kernel needs from its surroundings: its inputs' shapes and data.
pub trait KernelInputs {
    /// Shape of input `input`.
    fn shape(&self, input: usize) -> &[u64];
    /// Reads `region` (`[start, stop)` per axis of that input) of input `input`.
    fn read(&self, input: usize, region: &[(u64, u64)]) -> Result<ChunkData, crate::error::TaskError>;
}

/// Maps a domain region onto a leaf of shape `shape` (numpy broadcasting).
fn leaf_region(region: &[(u64, u64)], shape: &[u64]) -> Vec<(u64, u64)> {
    let skip = region.len() - shape.len();
    shape
        .iter()
        .zip(&region[skip..])
        .map(|(&s, &r)| if s == 1 { (0, 1) } else { r })
        .collect()
}

fn region_shape(region: &[(u64, u64)]) -> Vec<usize> {
    region.iter().map(|&(a, b)| (b - a) as usize).collect()
}

impl Node {
    /// Evaluates the kernel over `region` of a domain of rank `region.len()`;
    /// the result is broadcast to the region's shape.
    pub fn evaluate(&self, region: &[(u64, u64)], inputs: &dyn KernelInputs) -> Result<ChunkData, crate::error::TaskError> {
        let out = self.eval(region, inputs)?;
        Ok(out.broadcast_to(&region_shape(region))?)
    }

    fn eval(&self, region: &[(u64, u64)], inputs: &dyn KernelInputs) -> Result<ChunkData, crate::error::TaskError> {
        Ok(match self {
            Node::Input { input } => {
                let r = leaf_region(region, inputs.shape(*input));
                inputs.read(*input, &r)?
            }
            Node::Full { value, dtype, shape } => {
                ChunkData::full(*dtype, &region_shape(&leaf_region(region, shape)), *value)
            }
            Node::Arange { start, step, len, dtype } => {
                let (a, b) = leaf_region(region, &[*len])[0];
                let values = (a..b).map(|i| start + step * i as f64).collect();
                ChunkData::from_f64_values(*dtype, &[(b - a) as usize], values)?
            }
            Node::ArangeFill { first, second, len, dtype } => {
                let range = leaf_region(region, &[*len])[0];
                arange_fill(*first, *second, *dtype, range)?
            }
            Node::Index { axis, shape, dtype } => index_region(*axis, *dtype, &leaf_region(region, shape))?,
            Node::Random { seed, dtype, shape, chunks } => random_region(*seed, *dtype, shape, chunks, &leaf_region(region, shape))?,
            Node::Literal { dtype, shape, values } => {
                let all = ChunkData::from_f64_values(*dtype, &shape.iter().map(|&s| s as usize).collect::<Vec<_>>(), values.clone())?;
                let r: Vec<(usize, usize)> = leaf_region(region, shape).iter().map(|&(a, b)| (a as usize, b as usize)).collect();
                all.slice(&r)
            }
            Node::Cast { dtype, arg } => arg.eval(region, inputs)?.cast(*dtype),
            Node::Unary { op, arg } => op.apply(arg.eval(region, inputs)?)?,
            Node::Binary { op, compute, lhs, rhs } => {
                let l = lhs.eval(region, inputs)?;
                let r = rhs.eval(region, inputs)?;
                op.apply(l, r, *compute)?
            }
            Node::View { view, arg } => {
                let r = leaf_region(region, &view.shape);
                view.evaluate(&r, &|src: &[(u64, u64)]| arg.evaluate(src, inputs))?
            }
            Node::Dot { dot, lhs, rhs } => {
                let r = leaf_region(region, &dot.shape());
                dot.evaluate(&r, &|src: &[(u64, u64)]| lhs.evaluate(src, inputs), &|src: &[(u64, u64)]| rhs.evaluate(src, inputs))?
            }
            Node::Concat { concat, parts } => {
                let r = leaf_region(region, &concat.shape);
                let part = |i: usize, src: &[(u64, u64)]| -> Result<ChunkData, crate::error::TaskError> {
                    let p = parts.get(i).ok_or_else(|| KernelError(format!("a concatenation has no part {i}")))?;
                    p.evaluate(src, inputs)
                };
                concat.evaluate(&r, &part)?
            }
            Node::Halo { halo, arg } => {
                let r = leaf_region(region, &halo.shape());
                halo.evaluate(&r, &|src: &[(u64, u64)]| arg.evaluate(src, inputs))?
            }
            Node::Reshape { reshape, arg } => {
                let r = leaf_region(region, &reshape.shape);
                reshape.evaluate(&r, &|src: &[(u64, u64)]| arg.evaluate(src, inputs))?
            }
            Node::Where { cond, x, y } => {
                let c = cond.eval(region, inputs)?;
                let xv = x.eval(region, inputs)?;
                let yv = y.eval(region, inputs)?;
                elementwise::select(c, xv, yv)?
            }
        })
    }

    /// The result type, given the types of the op's inputs.
    pub fn dtype(&self, input_dtypes: &[DType]) -> DType {
        match self {
            Node::Input { input } => input_dtypes[*input],
            Node::Full { dtype, .. }
            | Node::Arange { dtype, .. }
            | Node::ArangeFill { dtype, .. }
            | Node::Index { dtype, .. }
            | Node::Random { dtype, .. }
            | Node::Literal { dtype, .. }
            | Node::Cast { dtype, .. } => *dtype,
            Node::Unary { op, arg } => op.result_type(arg.dtype(input_dtypes)),
            Node::Binary { op, compute, .. } => op.result_type(*compute),
            Node::Where { x, .. } => x.dtype(input_dtypes),
            Node::View { arg, .. } | Node::Reshape { arg, .. } => arg.dtype(input_dtypes),
            Node::Dot { dot, .. } => dot.compute,
            Node::Concat { concat, .. } => concat.dtype,
            Node::Halo { halo, .. } => halo.dtype,
        }
    }

    /// The bounding box (`[start, stop)` per axis) of each op input that
    /// evaluating the kernel over `region` of its domain reads, merged into
    /// `boxes` (indexed by input; `None` for inputs it does not read).
    /// `shapes` are the inputs' shapes. For planning: a slice reads only the
    /// part of its input it selects.
    pub fn input_boxes(&self, region: &[(u64, u64)], shapes: &[&[u64]], boxes: &mut [Option<Vec<(u64, u64)>>]) {
        match self {
            Node::Input { input } => {
                let (Some(shape), Some(slot)) = (shapes.get(*input), boxes.get_mut(*input)) else { return };
                let r = leaf_region(region, shape);
                *slot = Some(match slot.take() {
                    None => r,
                    Some(b) => b.iter().zip(&r).map(|(&(a, b), &(c, d))| (a.min(c), b.max(d))).collect(),
                });
            }
            Node::View { view, arg } => {
                let src = view.source_box(&leaf_region(region, &view.shape));
                arg.input_boxes(&src, shapes, boxes);
            }
            Node::Cast { arg, .. } | Node::Unary { arg, .. } => arg.input_boxes(region, shapes, boxes),
            Node::Halo { halo, arg } => arg.input_boxes(&halo.source_region(&leaf_region(region, &halo.shape())), shapes, boxes),
            Node::Reshape { reshape, arg } => arg.input_boxes(&reshape.source_region(&leaf_region(region, &reshape.shape)), shapes, boxes),
            Node::Concat { concat, parts } => {
                let r = leaf_region(region, &concat.shape);
                for (i, range, _) in concat.pieces(r[concat.axis]) {
                    let (Some(p), mut pr) = (parts.get(i), r.clone()) else { continue };
                    pr[concat.axis] = range;
                    p.input_boxes(&pr, shapes, boxes);
                }
            }
            Node::Binary { lhs, rhs, .. } => {
                lhs.input_boxes(region, shapes, boxes);
                rhs.input_boxes(region, shapes, boxes);
            }
            Node::Dot { dot, lhs, rhs } => {
                // Every block of the contracted axes over the free axes the region covers.
                let (l, r) = dot.operand_boxes(&leaf_region(region, &dot.shape()));
                lhs.input_boxes(&l, shapes, boxes);
                rhs.input_boxes(&r, shapes, boxes);
            }
            Node::Where { cond, x, y } => {
                for n in [cond, x, y] {
                    n.input_boxes(region, shapes, boxes);
                }
            }
            Node::Full { .. } | Node::Arange { .. } | Node::ArangeFill { .. } | Node::Index { .. } | Node::Random { .. } | Node::Literal { .. } => {}
        }
    }

    /// Every node of the tree, parents before children.
    pub fn walk(&self) -> Vec<&Node> {
        let mut out = vec![self];
        match self {
            Node::Cast { arg, .. } | Node::Unary { arg, .. } | Node::View { arg, .. } | Node::Halo { arg, .. } | Node::Reshape { arg, .. } => out.extend(arg.walk()),
            Node::Concat { parts, .. } => {
                for p in parts {
                    out.extend(p.walk());
                }
            }
            Node::Binary { lhs, rhs, .. } | Node::Dot { lhs, rhs, .. } => {
                out.extend(lhs.walk());
                out.extend(rhs.walk());
            }
            Node::Where { cond, x, y } => {
                out.extend(cond.walk());
                out.extend(x.walk());
                out.extend(y.walk());
            }
            _ => {}
        }
        out
    }
}

/// Values `range` (`[start, stop)`) of numpy's arange fill (see [`Node::ArangeFill`]).
fn arange_fill(first: f64, second: f64, dtype: DType, (a, b): (u64, u64)) -> Result<ChunkData, KernelError> {
    fn fill<T: Copy>((a, b): (u64, u64), first: T, second: T, at: impl Fn(u64) -> T) -> Result<ArrayD<T>, KernelError> {
        let values = (a..b).map(|i| match i {
            0 => first,
            1 => second,
            _ => at(i),
        });
        ArrayD::from_shape_vec(IxDyn(&[(b - a) as usize]), values.collect()).map_err(|e| KernelError(format!("arange of {} values: {e}", b - a)))
    }
    Ok(match dtype {
        DType::Float32 => {
            let (f0, f1) = (first as f32, second as f32);
            let delta = f1 - f0;
            ChunkData::Float32(fill((a, b), f0, f1, |i| f0 + i as f32 * delta)?)
        }
        DType::Float64 => {
            let delta = second - first;
            ChunkData::Float64(fill((a, b), first, second, |i| first + i as f64 * delta)?)
        }
        _ => {
            // Integers (and bools) exactly, wrapped to the type as numpy's fill does.
            let (f0, f1) = (first as i128, second as i128);
            let delta = f1.wrapping_sub(f0);
            let exact = fill((a, b), f0, f1, |i| f0.wrapping_add(i128::from(i).wrapping_mul(delta)))?;
            with_type!(dtype, T, V => V(exact.mapv(<T as Element>::from_i128)))
        }
    })
}

/// The index along `axis` of every element of `region` (see [`Node::Index`]).
fn index_region(axis: usize, dtype: DType, region: &[(u64, u64)]) -> Result<ChunkData, KernelError> {
    let &(start, _) = region.get(axis).ok_or_else(|| KernelError(format!("an index along axis {axis} of a {}-dimensional leaf", region.len())))?;
    let dims = region_shape(region);
    Ok(with_type!(dtype, T, V => V(ArrayD::from_shape_fn(IxDyn(&dims), |ix| <T as Element>::from_i128(i128::from(start + ix[axis] as u64))))))
}

/// Random values for `region` of a random array: every block of `chunks` has
/// its own stream, so any region is reproducible whichever task computes it.
fn random_region(seed: u64, dtype: DType, shape: &[u64], chunks: &[u64], region: &[(u64, u64)]) -> Result<ChunkData, KernelError> {
    let grid = grid_shape(shape, chunks);
    let block_of = |coords: &[u64]| -> Result<ChunkData, KernelError> {
        let linear = coords.iter().zip(&grid).fold(0u64, |acc, (&c, &g)| acc * g + c);
        let r = block_region(coords, chunks, shape);
        let dims: Vec<usize> = r.iter().map(|&(a, b)| (b - a) as usize).collect();
        ChunkData::from_f64_values(dtype, &dims, uniform_block(seed, linear, dims.iter().product()))
    };
    let local = |p: &BlockPiece| -> Vec<(usize, usize)> { p.local.iter().map(|&(a, b)| (a as usize, b as usize)).collect() };
    let pieces = block_pieces(region, chunks);
    if let [piece] = pieces.as_slice() {
        let block = block_of(&piece.coords)?;
        let whole = local(piece).iter().zip(block.shape()).all(|(&(a, b), &n)| a == 0 && b == n);
        return Ok(if whole { block } else { block.slice(&local(piece)) });
    }
    let mut out = ChunkData::full(dtype, &region_shape(region), 0.0);
    for piece in &pieces {
        let offset: Vec<usize> = piece.offset.iter().map(|&o| o as usize).collect();
        out.assign_at(&offset, &block_of(&piece.coords)?.slice(&local(piece)))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kernel of leaves only: no inputs.
    struct NoInputs;

    impl KernelInputs for NoInputs {
        fn shape(&self, _: usize) -> &[u64] {
            &[]
        }
        fn read(&self, _: usize, _: &[(u64, u64)]) -> Result<ChunkData, crate::error::TaskError> {
            unreachable!("leaves read no input")
        }
    }

    fn eval(node: &Node, region: &[(u64, u64)]) -> ChunkData {
        node.evaluate(region, &NoInputs).unwrap()
    }

    #[test]
    fn arange_fill_continues_from_the_first_two_values_in_the_types_arithmetic() {
        // numpy: np.arange(1, 1.3, 0.1) is 1 + i * (1.1 - 1), not 1 + i * 0.1.
        let node = Node::ArangeFill { first: 1.0, second: 1.0 + 0.1, len: 4, dtype: DType::Float64 };
        let delta = (1.0 + 0.1) - 1.0;
        assert_eq!(eval(&node, &[(0, 4)]).to_f64_vec(), vec![1.0, 1.1, 1.0 + 2.0 * delta, 1.0 + 3.0 * delta]);
        // Any region gives the same values as the whole.
        assert_eq!(eval(&node, &[(2, 4)]).to_f64_vec(), vec![1.0 + 2.0 * delta, 1.0 + 3.0 * delta]);
        // float32 in float32: np.arange(0, 1, 0.1, dtype=np.float32)[9] is 0.90000004.
        let f32s = eval(&Node::ArangeFill { first: 0.0, second: 0.1, len: 10, dtype: DType::Float32 }, &[(9, 10)]);
        assert_eq!(f32s, ChunkData::Float32(ArrayD::from_elem(IxDyn(&[1]), 9.0 * 0.1f32)));
        assert_eq!(9.0 * 0.1f32, 0.90000004);
        // Integers exactly, wrapping like numpy's fill: np.arange(2, -3, -1, dtype=np.uint8).
        let u8s = eval(&Node::ArangeFill { first: 2.0, second: 1.0, len: 5, dtype: DType::Uint8 }, &[(0, 5)]);
        assert_eq!(u8s.to_f64_vec(), vec![2.0, 1.0, 0.0, 255.0, 254.0]);
        let bools = eval(&Node::ArangeFill { first: 1.0, second: 0.0, len: 2, dtype: DType::Bool }, &[(0, 2)]);
        assert_eq!(bools.to_f64_vec(), vec![1.0, 0.0]);
    }

    #[test]
    fn index_counts_along_its_axis_and_broadcasts() {
        let rows = Node::Index { axis: 0, shape: vec![5, 1], dtype: DType::Int64 };
        // Over a region of a [batch, 5, 7] domain: rows 2..4, one column (broadcast later).
        let r = rows.eval(&[(0, 2), (2, 4), (3, 6)], &NoInputs).unwrap();
        assert_eq!((r.shape(), r.to_f64_vec()), (&[2, 1][..], vec![2.0, 3.0]));
        assert_eq!(eval(&rows, &[(2, 4), (3, 5)]).to_f64_vec(), vec![2.0, 2.0, 3.0, 3.0]);
        let cols = Node::Index { axis: 1, shape: vec![4, 7], dtype: DType::Float32 };
        let c = eval(&cols, &[(1, 3), (5, 7)]);
        assert_eq!((c.dtype(), c.to_f64_vec()), (DType::Float32, vec![5.0, 6.0, 5.0, 6.0]));
        // An axis the shape lacks (a tampered plan) is an error, not a panic.
        assert!(Node::Index { axis: 2, shape: vec![3, 3], dtype: DType::Int64 }.evaluate(&[(0, 3), (0, 3)], &NoInputs).is_err());
    }
}
