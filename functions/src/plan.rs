//! The plan: the contract between the driver and every task.
//!
//! A plan is plain data (versioned JSON): the arrays (location, shape, chunks,
//! type, codec) and the operations in topological order, plus the [`Spec`].
//! Its content digest (sha256 of the canonical JSON) names it: the Lambda
//! handler caches parsed plans by digest, and intermediate arrays live under
//! `<work_dir>/cubed-<digest prefix>/` so that a re-run of the same plan finds
//! them again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dtype::DType;
use crate::kernel::{Node, ReduceFunc};

/// The plan format version this build reads and writes.
pub const PLAN_VERSION: u32 = 1;

/// Index of an array in [`Plan::arrays`].
pub type ArrayId = usize;

/// Resources every task may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// Where intermediates go: a `file://`, `memory://` or `s3://` URL, or a path.
    pub work_dir: String,
    /// Memory one task may use, in bytes, including `reserved_mem`.
    pub allowed_mem: u64,
    /// Memory the process needs before any array data (runtime, binary, buffers).
    pub reserved_mem: u64,
}

impl Spec {
    /// Cubed's defaults: 2 GB per task, of which 100 MB reserved.
    pub fn new(work_dir: impl Into<String>) -> Spec {
        Spec { work_dir: work_dir.into(), allowed_mem: 2_000_000_000, reserved_mem: 100_000_000 }
    }

    /// Sets the memory one task may use (bytes, including `reserved_mem`).
    pub fn with_allowed_mem(mut self, bytes: u64) -> Spec {
        self.allowed_mem = bytes;
        self
    }

    /// Sets the memory reserved for the process itself (bytes).
    pub fn with_reserved_mem(mut self, bytes: u64) -> Spec {
        self.reserved_mem = bytes;
        self
    }
}

/// Where an array lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// A user-given URL or path (an input or a requested output).
    Url {
        /// The URL or path.
        url: String,
    },
    /// Scratch space under `<work_dir>/cubed-<digest prefix>/<name>`.
    Intermediate,
}

/// Compression for arrays the plan writes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Codec {
    /// No compression.
    None,
    /// Zstandard at a level (1 fast … 22 small).
    Zstd {
        /// Compression level.
        level: i32,
    },
    /// Gzip at a level (0–9).
    Gzip {
        /// Compression level.
        level: u32,
    },
}

impl Codec {
    /// The default for outputs: interoperable and compact.
    pub const OUTPUT_DEFAULT: Codec = Codec::Zstd { level: 3 };
    /// The default for intermediates: scratch data, so pick speed.
    pub const INTERMEDIATE_DEFAULT: Codec = Codec::Zstd { level: 1 };

    /// Parses `zstd`, `zstd:5`, `gzip`, `gzip:6` or `none`.
    pub fn parse(text: &str) -> Result<Codec, String> {
        let (name, level) = match text.split_once(':') {
            Some((n, l)) => (n, Some(l)),
            None => (text, None),
        };
        let bad_level = |l: &str| format!("bad codec level '{l}' in '{text}': expected an integer");
        match name {
            "none" if level.is_none() => Ok(Codec::None),
            "zstd" => {
                let level = level.map(|l| l.parse().map_err(|_| bad_level(l))).transpose()?.unwrap_or(3);
                // zstd's own range, and what zarr-python accepts (at most 22).
                if !(-131072..=22).contains(&level) {
                    return Err(format!("zstd level {level} is out of range -131072 to 22 (1 fast ... 22 small; negative levels are faster still)"));
                }
                Ok(Codec::Zstd { level })
            }
            "gzip" => {
                let level = level.map(|l| l.parse().map_err(|_| bad_level(l))).transpose()?.unwrap_or(6);
                if level > 9 {
                    return Err(format!("gzip level {level} is out of range 0-9"));
                }
                Ok(Codec::Gzip { level })
            }
            _ => Err(format!("unknown codec '{text}': expected zstd[:LEVEL], gzip[:LEVEL] or none")),
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Codec::None => write!(f, "none"),
            Codec::Zstd { level } => write!(f, "zstd:{level}"),
            Codec::Gzip { level } => write!(f, "gzip:{level}"),
        }
    }
}

/// One array of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrayMeta {
    /// A short name, unique in the plan (`a`, `arr-003`, ...).
    pub name: String,
    /// Where it lives.
    pub location: Location,
    /// Shape.
    pub shape: Vec<u64>,
    /// Regular chunk shape.
    pub chunks: Vec<u64>,
    /// Element type.
    pub dtype: DType,
    /// Compression when the plan writes it; `None` for arrays the plan only reads.
    pub codec: Option<Codec>,
}

impl ArrayMeta {
    /// True when the plan creates this array (an op writes it).
    pub fn is_written(&self) -> bool {
        self.codec.is_some()
    }

    /// Bytes of the largest chunk.
    pub fn chunk_bytes(&self) -> u64 {
        self.chunks.iter().product::<u64>() * self.dtype.itemsize()
    }

    /// Bytes of the whole array.
    pub fn nbytes(&self) -> u64 {
        self.shape.iter().product::<u64>() * self.dtype.itemsize()
    }

    /// Number of chunks along each axis.
    pub fn grid_shape(&self) -> Vec<u64> {
        grid_shape(&self.shape, &self.chunks)
    }

    /// Total number of chunks.
    pub fn num_chunks(&self) -> u64 {
        self.grid_shape().iter().product()
    }
}

/// Number of blocks of size `chunks` covering `shape` along each axis.
pub fn grid_shape(shape: &[u64], chunks: &[u64]) -> Vec<u64> {
    shape.iter().zip(chunks).map(|(&s, &c)| s.div_ceil(c.max(1))).collect()
}

/// Row-major block coordinates of linear block `index` in `grid`.
pub fn unravel(mut index: u64, grid: &[u64]) -> Vec<u64> {
    let mut coords = vec![0; grid.len()];
    for k in (0..grid.len()).rev() {
        coords[k] = index % grid[k].max(1);
        index /= grid[k].max(1);
    }
    coords
}

/// The region `[start, stop)` per axis of block `coords` of size `chunks`, clipped to `shape`.
pub fn block_region(coords: &[u64], chunks: &[u64], shape: &[u64]) -> Vec<(u64, u64)> {
    coords
        .iter()
        .zip(chunks)
        .zip(shape)
        .map(|((&c, &n), &s)| (c * n, ((c + 1) * n).min(s)))
        .collect()
}

/// The part of one block of a regular grid that lies inside a region.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockPiece {
    /// Block coordinates.
    pub coords: Vec<u64>,
    /// `[start, stop)` per axis inside the block.
    pub local: Vec<(u64, u64)>,
    /// Where the piece starts inside the region.
    pub offset: Vec<u64>,
}

/// The blocks of size `chunks` that `region` overlaps, row-major, with the
/// overlapping part of each.
pub fn block_pieces(region: &[(u64, u64)], chunks: &[u64]) -> Vec<BlockPiece> {
    let first: Vec<u64> = region.iter().zip(chunks).map(|(&(a, _), &c)| a / c).collect();
    let last: Vec<u64> = region.iter().zip(chunks).map(|(&(_, b), &c)| (b.max(1) - 1) / c).collect();
    let spans: Vec<u64> = first.iter().zip(&last).map(|(&f, &l)| l - f + 1).collect();
    (0..spans.iter().product::<u64>())
        .map(|i| {
            let coords: Vec<u64> = unravel(i, &spans).iter().zip(&first).map(|(&r, &f)| r + f).collect();
            let origin: Vec<u64> = coords.iter().zip(chunks).map(|(&i, &c)| i * c).collect();
            let inter: Vec<(u64, u64)> =
                region.iter().zip(&origin).zip(chunks).map(|((&(a, b), &o), &c)| (a.max(o), b.min(o + c))).collect();
            BlockPiece {
                local: inter.iter().zip(&origin).map(|(&(a, b), &o)| (a - o, b - o)).collect(),
                offset: inter.iter().zip(region).map(|(&(a, _), &(r, _))| a - r).collect(),
                coords,
            }
        })
        .collect()
}

/// What an operation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpKind {
    /// One task per output chunk: evaluate `kernel` over the matching region of
    /// the inputs (broadcast where an input has length 1 on an axis).
    Blockwise {
        /// The (possibly fused) elementwise computation.
        kernel: Node,
    },
    /// One task per output chunk: stream up to `split_every` domain blocks per
    /// reduced axis through `kernel`, reduce each over `axes` and combine.
    Reduce {
        /// Elementwise computation feeding the reduction (fused predecessors).
        kernel: Node,
        /// Shape of the domain the kernel is evaluated over.
        domain_shape: Vec<u64>,
        /// Block shape of that domain (one block is read at a time).
        domain_chunks: Vec<u64>,
        /// The combining function.
        func: ReduceFunc,
        /// The reduced axes of the domain.
        axes: Vec<usize>,
        /// Blocks combined per reduced axis by one task.
        split_every: u64,
        /// Accumulation type (the kernel's result is cast to it first).
        acc_dtype: DType,
        /// When set, the final result is divided by this (a mean) after the combine.
        divide_by: Option<f64>,
        /// True on the last round: drop the reduced axes from the output.
        squeeze: bool,
    },
    /// A rechunk stage: copy the input to the output one region at a time. Each
    /// region is a whole number of output chunks, so every write is a whole chunk.
    Copy {
        /// The region one task copies.
        region: Vec<u64>,
    },
}

impl OpKind {
    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Blockwise { .. } => "blockwise",
            OpKind::Reduce { .. } => "reduce",
            OpKind::Copy { .. } => "rechunk",
        }
    }
}

/// One operation: a set of independent, idempotent tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// Unique id (`op-001`).
    pub id: String,
    /// What it does.
    pub kind: OpKind,
    /// Arrays it reads.
    pub inputs: Vec<ArrayId>,
    /// The array it writes.
    pub output: ArrayId,
    /// Number of tasks.
    pub num_tasks: u64,
    /// Projected peak memory of one task, in bytes (includes `reserved_mem`).
    pub projected_mem: u64,
    /// The logical operations this op performs (more than one when fused).
    pub fused: Vec<String>,
    /// Estimated bytes read over all tasks (uncompressed).
    pub bytes_read: u64,
    /// Estimated bytes written over all tasks (uncompressed).
    pub bytes_written: u64,
}

impl Op {
    /// The region of the output (or copy grid) that task `index` covers, and its block coordinates.
    pub fn task_block(&self, plan: &Plan, index: u64) -> Vec<u64> {
        let out = &plan.arrays[self.output];
        let grid = match &self.kind {
            OpKind::Copy { region } => grid_shape(&out.shape, region),
            _ => out.grid_shape(),
        };
        unravel(index, &grid)
    }
}

/// A whole computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Format version ([`PLAN_VERSION`]).
    pub version: u32,
    /// Resources.
    pub spec: Spec,
    /// Every array read or written.
    pub arrays: Vec<ArrayMeta>,
    /// Operations in topological order.
    pub ops: Vec<Op>,
}

/// A plan that could not be read or does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Not JSON or not the plan schema.
    #[error("not a valid cubed-rs plan: {0}")]
    Malformed(String),
    /// A version this build does not read.
    #[error("plan version {found} is not supported by this build (it reads version {PLAN_VERSION}); re-create the plan with this version of cubed")]
    Version {
        /// The version in the file.
        found: u32,
    },
    /// References that do not resolve.
    #[error("inconsistent plan: {0}")]
    Inconsistent(String),
}

impl Plan {
    /// Canonical JSON bytes (the digest is taken over these).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plans always serialize")
    }

    /// Pretty JSON for files people read.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("plans always serialize")
    }

    /// Hex sha256 of the canonical JSON.
    pub fn digest(&self) -> String {
        let hash = Sha256::digest(self.to_json());
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses and validates a plan.
    pub fn from_json(bytes: &[u8]) -> Result<Plan, PlanError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let v: VersionOnly = serde_json::from_slice(bytes).map_err(|e| PlanError::Malformed(e.to_string()))?;
        if v.version != PLAN_VERSION {
            return Err(PlanError::Version { found: v.version });
        }
        let plan: Plan = serde_json::from_slice(bytes).map_err(|e| PlanError::Malformed(e.to_string()))?;
        plan.validate()?;
        Ok(plan)
    }

    /// Checks that every reference resolves and every shape is consistent.
    pub fn validate(&self) -> Result<(), PlanError> {
        let bad = |m: String| Err(PlanError::Inconsistent(m));
        for a in &self.arrays {
            if a.shape.len() != a.chunks.len() {
                return bad(format!("array '{}' has shape {:?} but chunks {:?}", a.name, a.shape, a.chunks));
            }
            if a.chunks.contains(&0) {
                return bad(format!("array '{}' has a zero chunk length", a.name));
            }
        }
        let mut written = vec![false; self.arrays.len()];
        for op in &self.ops {
            if op.output >= self.arrays.len() || op.inputs.iter().any(|&i| i >= self.arrays.len()) {
                return bad(format!("{} refers to an array that does not exist", op.id));
            }
            if let Some(&i) = op.inputs.iter().find(|&&i| self.arrays[i].is_written() && !written[i]) {
                return bad(format!("{} reads '{}' before any op writes it", op.id, self.arrays[i].name));
            }
            if !self.arrays[op.output].is_written() {
                return bad(format!("{} writes '{}', which has no codec", op.id, self.arrays[op.output].name));
            }
            written[op.output] = true;
        }
        Ok(())
    }

    /// The op with this id.
    pub fn op(&self, id: &str) -> Option<&Op> {
        self.ops.iter().find(|o| o.id == id)
    }

}

/// The directory (under the work dir) that holds the intermediates of the plan with `digest`.
pub fn intermediate_dir_name(digest: &str) -> String {
    format!("cubed-{}", &digest[..16])
}
