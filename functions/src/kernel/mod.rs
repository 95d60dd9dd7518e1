//! Kernels: the per-chunk computation of blockwise and reduce ops, as a small
//! expression tree that is part of the plan (so a remote task can run it).
//!
//! A kernel is evaluated over a *region* of its domain (one output chunk). Each
//! leaf maps the region onto its own shape with numpy broadcasting: an axis of
//! length 1 reads index 0, missing leading axes are ignored.

use serde::{Deserialize, Serialize};

pub mod elementwise;
pub mod reduce;
pub mod scalar;

use crate::chunk::{ChunkData, KernelError};
use crate::dtype::DType;
use crate::grid::{block_pieces, block_region, grid_shape, BlockPiece};
use crate::random::uniform_block;

pub use elementwise::{BinaryOp, BinaryRule, UnaryOp, UnaryRule};
pub use reduce::ReduceFunc;

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
    /// `start + step * i` along one axis.
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
            | Node::Random { dtype, .. }
            | Node::Literal { dtype, .. }
            | Node::Cast { dtype, .. } => *dtype,
            Node::Unary { op, arg } => op.result_type(arg.dtype(input_dtypes)),
            Node::Binary { op, compute, .. } => op.result_type(*compute),
            Node::Where { x, .. } => x.dtype(input_dtypes),
        }
    }

    /// Every node of the tree, parents before children.
    pub fn walk(&self) -> Vec<&Node> {
        let mut out = vec![self];
        match self {
            Node::Cast { arg, .. } | Node::Unary { arg, .. } => out.extend(arg.walk()),
            Node::Binary { lhs, rhs, .. } => {
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
