//! The lazy [`Array`]: every operation returns a new node of a graph; nothing
//! runs until the graph is planned ([`crate::planner`]) and computed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cubed_task::kernel::{BinaryOp, Node, UnaryOp};
use cubed_task::plan::Spec;
use cubed_task::DType;

/// A lazily computed, chunked n-dimensional array.
#[derive(Clone)]
pub struct Array {
    pub(crate) node: Arc<ArrayNode>,
}

pub(crate) struct ArrayNode {
    /// Creation order: a node's arguments always have smaller ids.
    pub id: u64,
    pub shape: Vec<u64>,
    pub chunks: Vec<u64>,
    pub dtype: DType,
    /// A Python-style scalar whose type yields to the other operand's.
    pub weak: bool,
    pub op: LogicalOp,
    pub spec: Arc<Spec>,
    /// Axis names and attributes (see [`crate::labels`]).
    pub labels: cubed_task::plan::Labels,
}

/// What produces an array, before fusion.
pub(crate) enum LogicalOp {
    /// An existing Zarr array.
    Stored { url: String },
    /// Generated data (a kernel leaf: full, arange, random, literal).
    Create { leaf: Node, name: &'static str },
    /// An elementwise operation.
    Map { kind: MapKind, args: Vec<Array> },
    /// A reduction (see [`crate::reduction`]).
    Reduce { reduction: crate::reduction::Reduction, arg: Array },
    /// A cumulative sum or product (see [`crate::cumulative`]).
    Scan { scan: crate::cumulative::Scan, arg: Array },
    /// A change of chunking.
    Rechunk { arg: Array },
    /// A kernel node reading its arguments over other regions than its own
    /// (views, contractions, concatenations, stencils); `name` is the
    /// function that made it, for plan labels.
    Regional { node: Regional, args: Vec<Array>, name: &'static str },
}

/// The kernel nodes of [`LogicalOp::Regional`], without their arguments.
#[derive(Clone)]
pub(crate) enum Regional {
    /// See [`crate::view`].
    View(cubed_task::kernel::View),
    /// Block products of a contraction (see [`crate::linalg`]), summed by the
    /// reduction that consumes them.
    Dot(cubed_task::kernel::Dot),
    /// See [`crate::concat`].
    Concat(cubed_task::kernel::Concat),
    /// See [`crate::stencil`].
    Halo(cubed_task::kernel::Halo),
    /// See [`crate::reshape`].
    Reshape(cubed_task::kernel::Reshape),
}

impl Regional {
    /// The kernel node applying this to argument kernels.
    pub fn apply(&self, mut args: Vec<Node>) -> Node {
        let mut next = || Box::new(args.remove(0));
        match self {
            Regional::View(view) => Node::View { view: view.clone(), arg: next() },
            Regional::Dot(dot) => Node::Dot { dot: dot.clone(), lhs: next(), rhs: next() },
            Regional::Halo(halo) => Node::Halo { halo: halo.clone(), arg: next() },
            Regional::Reshape(reshape) => Node::Reshape { reshape: reshape.clone(), arg: next() },
            Regional::Concat(concat) => Node::Concat { concat: concat.clone(), parts: args },
        }
    }

    /// True when the node can produce any chunking of its result (a rechunk
    /// of it is the same node with other chunks); a contraction's blocks
    /// are fixed by its operands, and a reshape's chunks read one input
    /// chunk each only in its own chunking.
    pub fn any_chunks(&self) -> bool {
        !matches!(self, Regional::Dot(_) | Regional::Reshape(_))
    }
}

/// The elementwise operations.
#[derive(Clone, Copy)]
pub(crate) enum MapKind {
    Unary(UnaryOp),
    Binary { op: BinaryOp, compute: DType },
    Where,
    Cast(DType),
}

impl MapKind {
    pub fn name(self) -> &'static str {
        match self {
            MapKind::Unary(op) => op.name(),
            MapKind::Binary { op, .. } => op.name(),
            MapKind::Where => "where",
            MapKind::Cast(_) => "astype",
        }
    }

    /// The kernel node applying this operation to argument kernels.
    pub fn apply(self, mut args: Vec<Node>) -> Node {
        let mut next = || Box::new(args.remove(0));
        match self {
            MapKind::Unary(op) => Node::Unary { op, arg: next() },
            MapKind::Binary { op, compute } => Node::Binary { op, compute, lhs: next(), rhs: next() },
            MapKind::Where => Node::Where { cond: next(), x: next(), y: next() },
            MapKind::Cast(dtype) => Node::Cast { dtype, arg: next() },
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Array {
    pub(crate) fn new(spec: Arc<Spec>, shape: Vec<u64>, chunks: Vec<u64>, dtype: DType, op: LogicalOp) -> Array {
        let chunks = cubed_task::plan::clip_chunks(&shape, &chunks);
        Array {
            node: Arc::new(ArrayNode { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), shape, chunks, dtype, weak: false, op, spec, labels: Default::default() }),
        }
    }

    /// With axis names and attributes (on a node just made).
    pub(crate) fn labelled(mut self, labels: cubed_task::plan::Labels) -> Array {
        Arc::get_mut(&mut self.node).expect("fresh node").labels = labels;
        self
    }

    /// Axis names and attributes, as the result will be written with.
    pub fn labels(&self) -> &cubed_task::plan::Labels {
        &self.node.labels
    }

    pub(crate) fn weak(mut self) -> Array {
        Arc::get_mut(&mut self.node).expect("fresh node").weak = true;
        self
    }

    /// The shape.
    pub fn shape(&self) -> &[u64] {
        &self.node.shape
    }

    /// The chunk shape.
    pub fn chunks(&self) -> &[u64] {
        &self.node.chunks
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.node.dtype
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.node.shape.len()
    }

    /// Total bytes if materialised, saturating at `u64::MAX` (the planner
    /// refuses arrays larger than [`cubed_task::plan::MAX_ARRAY_BYTES`]).
    pub fn nbytes(&self) -> u64 {
        cubed_task::plan::saturating_product(&self.node.shape).saturating_mul(self.node.dtype.itemsize())
    }

    /// The spec (work dir and memory limits) this array was created with.
    pub fn spec(&self) -> &Spec {
        &self.node.spec
    }

    pub(crate) fn spec_arc(&self) -> Arc<Spec> {
        self.node.spec.clone()
    }

    pub(crate) fn is_weak(&self) -> bool {
        self.node.weak
    }
}

impl std::fmt::Debug for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Array(shape={:?}, chunks={:?}, dtype={})", self.shape(), self.chunks(), self.dtype())
    }
}
