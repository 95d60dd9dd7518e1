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
use crate::kernel::reduce::scan::ScanFunc;
use crate::kernel::reduce::Finish;
use crate::kernel::{Node, ReduceFunc};

mod sizes;
mod validate;

pub use crate::grid::{block_pieces, block_region, clip_chunks, grid_shape, unravel, BlockPiece};
pub use sizes::{check_array_sizes, checked_product, saturating_product, MAX_ARRAY_BYTES, MAX_TASKS_PER_OP};

/// The plan format version this build reads and writes.
pub const PLAN_VERSION: u32 = 3;

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
    /// Axis names and attributes written with the array (requested outputs).
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
}

/// What an array says about itself besides its data: Zarr v3's
/// `dimension_names` (Zarr v2's `_ARRAY_DIMENSIONS` attribute, as xarray
/// writes it) and its user attributes, so that xarray opens a result with
/// the dimensions of its inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    /// One name per axis (`None`: unnamed); `None` when no axis is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension_names: Option<Vec<Option<String>>>,
    /// User attributes.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl Labels {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.dimension_names.is_none() && self.attributes.is_empty()
    }
}

impl ArrayMeta {
    /// True when the plan creates this array (an op writes it).
    pub fn is_written(&self) -> bool {
        self.codec.is_some()
    }

    /// How errors name this array: its name, and its URL when it has one.
    pub fn describe(&self) -> String {
        match (&self.location, self.is_written()) {
            (Location::Url { url }, false) => format!("array '{}' (input {url})", self.name),
            (Location::Url { url }, true) => format!("array '{}' (output {url})", self.name),
            (Location::Intermediate, _) => format!("array '{}' (intermediate)", self.name),
        }
    }

    /// Checks shape, chunks and type against cubed-rs's size limits (see
    /// [`check_array_sizes`]); once it passes, [`ArrayMeta::nbytes`],
    /// [`ArrayMeta::chunk_bytes`] and [`ArrayMeta::num_chunks`] are exact.
    pub fn check_sizes(&self) -> Result<(), PlanError> {
        check_array_sizes(&self.shape, &self.chunks, self.dtype).map_err(|e| PlanError::Size(format!("{}: {e}", self.describe())))
    }

    /// Bytes of the largest chunk (saturating at `u64::MAX` for an array that
    /// fails [`ArrayMeta::check_sizes`]).
    pub fn chunk_bytes(&self) -> u64 {
        saturating_product(&self.chunks).saturating_mul(self.dtype.itemsize())
    }

    /// Bytes of the whole array (saturating, as [`ArrayMeta::chunk_bytes`]).
    pub fn nbytes(&self) -> u64 {
        saturating_product(&self.shape).saturating_mul(self.dtype.itemsize())
    }

    /// Number of chunks along each axis.
    pub fn grid_shape(&self) -> Vec<u64> {
        grid_shape(&self.shape, &self.chunks)
    }

    /// Total number of chunks (saturating, as [`ArrayMeta::chunk_bytes`]).
    pub fn num_chunks(&self) -> u64 {
        saturating_product(&self.grid_shape())
    }
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
        #[serde(with = "crate::float_json::option")]
        divide_by: Option<f64>,
        /// True on the last round: drop the reduced axes from the output.
        squeeze: bool,
        /// True when the domain holds partial results of an earlier round of
        /// a function with several fields per partial ([`ReduceFunc::fields`]):
        /// the kernel reads them as they are, with their trailing field axis.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        partial_in: bool,
        /// For functions with several fields per partial: how the last round
        /// turns them into results. Without it the output holds partials,
        /// with the trailing field axis.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        finish: Option<Finish>,
    },
    /// One task per output chunk of a scan (cumulative sum or product) along
    /// `axis`: per domain block, its total ([`ScanStage::Totals`]) or its
    /// running totals with the carry of the blocks before
    /// ([`ScanStage::Cumulative`]).
    Scan {
        /// Elementwise computation feeding the scan (fused predecessors).
        kernel: Node,
        /// Shape of the domain the kernel is evaluated over.
        domain_shape: Vec<u64>,
        /// Block shape of that domain (one block per task).
        domain_chunks: Vec<u64>,
        /// The axis scanned.
        axis: usize,
        /// Running sums or products.
        func: ScanFunc,
        /// Type the scan computes and writes in (the kernel's result is cast to it).
        acc_dtype: DType,
        /// What the op writes.
        stage: ScanStage,
    },
    /// A rechunk stage: copy the input to the output one region at a time. Each
    /// region is a whole number of output chunks, so every write is a whole chunk.
    Copy {
        /// The region one task copies.
        region: Vec<u64>,
    },
}

/// What a scan op writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanStage {
    /// The total of each domain block along the axis: the output is the
    /// domain with that axis one element per block (in chunks of 1).
    Totals,
    /// Each domain block's running totals (the output has the domain's
    /// chunks), combined with the carry of the blocks before it.
    Cumulative {
        /// Start with the identity (exclusive scan, one more element along
        /// the axis: numpy's `include_initial`).
        include_initial: bool,
        /// The op input holding the carry: per block along the axis, the
        /// total of all the blocks before it (the include_initial scan of the
        /// block totals, one more than the domain's blocks along the axis).
        /// `None` when the output has a single block along the axis.
        carry: Option<usize>,
    },
}

impl OpKind {
    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Blockwise { .. } => "blockwise",
            OpKind::Reduce { .. } => "reduce",
            OpKind::Scan { .. } => "scan",
            OpKind::Copy { .. } => "rechunk",
        }
    }

    /// The grid of this op's tasks over its output `out`: one task per output
    /// chunk, or one per copy region.
    pub fn task_grid(&self, out: &ArrayMeta) -> Vec<u64> {
        match self {
            OpKind::Copy { region } => grid_shape(&out.shape, region),
            _ => out.grid_shape(),
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
    /// The number of tasks this op must have (see [`OpKind::task_grid`]).
    /// Derived from the arrays, so a plan cannot claim another.
    pub fn derived_tasks(&self, plan: &Plan) -> u64 {
        saturating_product(&self.kind.task_grid(&plan.arrays[self.output]))
    }

    /// The block coordinates (in [`OpKind::task_grid`]) of task `index`.
    pub fn task_block(&self, plan: &Plan, index: u64) -> Vec<u64> {
        unravel(index, &self.kind.task_grid(&plan.arrays[self.output]))
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
    /// An array or op larger than cubed-rs can address or schedule.
    #[error("{0}")]
    Size(String),
}

impl Plan {
    /// Canonical JSON bytes (the digest is taken over these).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plans always serialize")
    }

    /// Pretty JSON for files people read and save, carrying the plan's digest
    /// in a `digest` field: [`Plan::from_json`] refuses a file whose content
    /// no longer matches it.
    pub fn to_json_pretty(&self) -> String {
        let mut value = serde_json::to_value(self).expect("plans always serialize");
        value.as_object_mut().expect("a plan is a JSON object").insert("digest".into(), serde_json::Value::String(self.digest()));
        serde_json::to_string_pretty(&value).expect("plans always serialize")
    }

    /// Hex sha256 of the canonical JSON.
    pub fn digest(&self) -> String {
        let hash = Sha256::digest(self.to_json());
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses and validates a plan.
    pub fn from_json(bytes: &[u8]) -> Result<Plan, PlanError> {
        #[derive(Deserialize)]
        struct Header {
            version: u32,
            #[serde(default)]
            digest: Option<String>,
        }
        let header: Header = serde_json::from_slice(bytes).map_err(|e| PlanError::Malformed(e.to_string()))?;
        if header.version != PLAN_VERSION {
            return Err(PlanError::Version { found: header.version });
        }
        let plan: Plan = serde_json::from_slice(bytes).map_err(|e| PlanError::Malformed(e.to_string()))?;
        plan.validate()?;
        if let Some(saved) = header.digest {
            if saved != plan.digest() {
                return Err(PlanError::Inconsistent(format!(
                    "the plan was changed after it was saved (it carries digest {saved}, its content has {}); create it again with `cubed eval ... --save-plan` (a plan without a `digest` field is taken as written, after validation)",
                    plan.digest()
                )));
            }
        }
        Ok(plan)
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

#[cfg(test)]
mod tests {
    use super::*;

    const HUGE: u64 = 1 << 63;

    fn array(name: &str, shape: &[u64], chunks: &[u64], written: bool) -> ArrayMeta {
        ArrayMeta {
            name: name.into(),
            location: if written { Location::Intermediate } else { Location::Url { url: format!("s3://bucket/{name}.zarr") } },
            shape: shape.to_vec(),
            chunks: chunks.to_vec(),
            dtype: DType::Float64,
            codec: written.then_some(Codec::None),
            labels: Labels::default(),
        }
    }

    fn op(kind: OpKind, inputs: Vec<ArrayId>, output: ArrayId, num_tasks: u64) -> Op {
        Op { id: "op-001".into(), kind, inputs, output, num_tasks, projected_mem: 0, fused: vec![], bytes_read: 0, bytes_written: 0 }
    }

    fn plan(arrays: Vec<ArrayMeta>, ops: Vec<Op>) -> Plan {
        Plan { version: PLAN_VERSION, spec: Spec::new("memory://w"), arrays, ops }
    }

    fn copy(region: &[u64]) -> OpKind {
        OpKind::Copy { region: region.to_vec() }
    }

    #[test]
    fn sizes_beyond_2_63_bytes_are_refused_with_the_numbers() {
        let e = check_array_sizes(&[HUGE, HUGE], &[1000, 1000], DType::Float64).unwrap_err();
        assert_eq!(e, "shape [9223372036854775808, 9223372036854775808] has 8.5e37 elements of 8 bytes, more than cubed-rs can address (2^63 bytes)");
        let e = check_array_sizes(&[0, HUGE], &[1, 1000], DType::Float64).unwrap_err();
        assert!(e.contains("length 9223372036854775808 on axis 1"), "{e}");
        let e = check_array_sizes(&[1 << 32, 1 << 32], &[1 << 16, 1 << 16], DType::Float64).unwrap_err();
        assert!(e.contains("[4294967296, 4294967296] has 1.8e19 elements of 8 bytes") && e.contains("2^63 bytes"), "{e}");
        // Fits as elements, not as bytes.
        let e = check_array_sizes(&[1 << 62], &[1 << 20], DType::Float64).unwrap_err();
        assert!(e.contains("4.6e18 elements of 8 bytes"), "{e}");
        // A zero-length axis makes no elements, but a chunk must still fit.
        assert!(check_array_sizes(&[0, 1 << 40], &[1, 1 << 20], DType::Float64).is_ok());
        let e = check_array_sizes(&[0, 1 << 62, 1 << 62], &[1, 1 << 62, 1 << 62], DType::Int32).unwrap_err();
        assert!(e.contains("chunks [1, 4611686018427387904, 4611686018427387904] have 2.1e37 elements"), "{e}");
        assert!(check_array_sizes(&[3], &[0], DType::Int32).unwrap_err().contains("zero length"));
        assert!(check_array_sizes(&[3], &[1, 1], DType::Int32).unwrap_err().contains("1 dimensions but chunks [1, 1] have 2"));
        // The largest array there is: 2^63 - 1 one-byte elements.
        assert!(check_array_sizes(&[MAX_ARRAY_BYTES], &[1 << 30], DType::Bool).is_ok());
        assert!(check_array_sizes(&[MAX_ARRAY_BYTES, 2], &[1, 1], DType::Bool).is_err());
    }

    #[test]
    fn every_block_of_a_checked_array_has_an_exact_region() {
        // Near the limit on one axis and awkward chunk lengths: the last block
        // ends at the shape, with no overflow on the way.
        let cases: &[(&[u64], &[u64])] = &[
            (&[MAX_ARRAY_BYTES], &[(1 << 62) + 1]),
            (&[MAX_ARRAY_BYTES], &[MAX_ARRAY_BYTES]),
            (&[MAX_ARRAY_BYTES], &[3]),
            (&[(1 << 31) - 1, (1 << 32) + 1], &[1 << 30, 7]),
            (&[0, MAX_ARRAY_BYTES], &[1, 1 << 40]),
        ];
        for &(shape, chunks) in cases {
            check_array_sizes(shape, chunks, DType::Bool).unwrap();
            let grid = grid_shape(shape, chunks);
            let last: Vec<u64> = grid.iter().map(|&g| g.saturating_sub(1)).collect();
            let region = block_region(&last, chunks, shape);
            for ((&(a, b), &s), &g) in region.iter().zip(shape).zip(&grid) {
                assert!(a <= b && b <= s, "{shape:?} {chunks:?}: {region:?}");
                if g > 0 {
                    assert_eq!(b, s, "{shape:?} {chunks:?}: the last block ends at the shape");
                }
            }
            let meta = ArrayMeta { dtype: DType::Bool, ..array("x", shape, chunks, true) };
            assert_eq!(meta.num_chunks(), checked_product(&grid).unwrap());
            assert_eq!(meta.nbytes(), checked_product(shape).unwrap());
        }
    }

    #[test]
    fn unchecked_sizes_saturate_instead_of_wrapping() {
        let a = array("a", &[HUGE, HUGE], &[HUGE, HUGE], false);
        assert_eq!(a.nbytes(), u64::MAX);
        assert_eq!(a.chunk_bytes(), u64::MAX);
        assert_eq!(a.num_chunks(), 1);
        assert_eq!(saturating_product(&[HUGE, 2]), u64::MAX);
        assert_eq!(checked_product(&[HUGE, 2]), None);
        assert_eq!(checked_product(&[HUGE, 0, 2]), Some(0));
    }

    #[test]
    fn validate_names_an_input_too_large_to_address() {
        let p = plan(
            vec![array("in-000", &[HUGE, HUGE], &[1000, 1000], false), array("out-001", &[4], &[2], true)],
            vec![op(OpKind::Blockwise { kernel: Node::Input { input: 0 } }, vec![0], 1, 2)],
        );
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("array 'in-000' (input s3://bucket/in-000.zarr): shape [9223372036854775808, 9223372036854775808]"), "{e}");
        assert!(e.contains("2^63 bytes"), "{e}");
    }

    #[test]
    fn validate_bounds_tasks_and_chunks_per_op() {
        let blockwise = || OpKind::Blockwise { kernel: Node::Full { value: 0.0, dtype: DType::Float64, shape: vec![] } };
        let ok = plan(vec![array("out", &[1 << 20], &[1], true)], vec![op(blockwise(), vec![], 0, 1 << 20)]);
        ok.validate().unwrap();
        let e = plan(vec![array("out", &[4], &[1], true)], vec![op(blockwise(), vec![], 0, MAX_TASKS_PER_OP + 1)]).validate().unwrap_err().to_string();
        assert!(e.contains("op-001 (writing array 'out' (intermediate)): 2097153 tasks, more than MAX_TASKS_PER_OP (2097152)"), "{e}");
        let e = plan(vec![array("out", &[1 << 40], &[1000], true)], vec![op(blockwise(), vec![], 0, 1)]).validate().unwrap_err().to_string();
        assert!(e.contains("array 'out' (intermediate): shape [1099511627776] in chunks [1000] is 1099511628 chunks"), "{e}");
        // A read-only input may have any number of chunks.
        let p = plan(
            vec![array("in", &[1 << 40], &[1000], false), array("out", &[1 << 40], &[1 << 30], true)],
            vec![op(copy(&[1 << 30]), vec![0], 1, 1024)],
        );
        p.validate().unwrap();
        let e = plan(vec![array("out", &[4], &[1], true)], vec![Op { bytes_read: u64::MAX, ..op(blockwise(), vec![], 0, 4) }])
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("2^63 bytes"), "{e}");
    }

    #[test]
    fn validate_checks_copy_regions_and_reduction_domains() {
        let arrays = || vec![array("in", &[8, 8], &[2, 2], false), array("out", &[8, 8], &[4, 4], true)];
        let e = plan(arrays(), vec![op(copy(&[4]), vec![0], 1, 4)]).validate().unwrap_err().to_string();
        assert!(e.contains("copy region [4] has 1 dimensions but the output has 2"), "{e}");
        let e = plan(arrays(), vec![op(copy(&[4, 0]), vec![0], 1, 4)]).validate().unwrap_err().to_string();
        assert!(e.contains("copy region") && e.contains("zero length"), "{e}");
        let reduce = |domain_shape: &[u64], axes: &[usize], split_every: u64, squeeze: bool| OpKind::Reduce {
            kernel: Node::Input { input: 0 },
            domain_shape: domain_shape.to_vec(),
            domain_chunks: vec![2, 2],
            func: crate::kernel::ReduceFunc::Sum,
            axes: axes.to_vec(),
            split_every,
            acc_dtype: DType::Float64,
            divide_by: None,
            squeeze,
            partial_in: false,
            finish: None,
        };
        let reduced = || vec![array("in", &[8, 8], &[2, 2], false), array("out", &[8], &[2], true)];
        plan(reduced(), vec![op(reduce(&[8, 8], &[1], 4, true), vec![0], 1, 4)]).validate().unwrap();
        for (kind, want) in [
            (reduce(&[8, 8], &[1], 1, true), "split_every is 1"),
            (reduce(&[8, 8], &[1], 0, true), "split_every is 0"),
            (reduce(&[8, 8], &[2], 4, true), "reduces axis 2 of a 2-dimensional domain"),
            (reduce(&[8, 8], &[1, 0], 4, false), "not strictly increasing"),
            (reduce(&[8, 8], &[1], 4, false), "output has 1 dimensions but reducing axes [1] of a 2-dimensional domain gives 2"),
            (reduce(&[HUGE, 8], &[1], 4, true), "reduction domain: shape [9223372036854775808, 8]"),
        ] {
            let e = plan(reduced(), vec![op(kind, vec![0], 1, 4)]).validate().unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn validate_checks_partials_with_fields() {
        use crate::kernel::reduce::Finish;
        use crate::kernel::ReduceFunc;
        // var of [8, 6] in blocks [2, 3] over axis 0, split_every 2: round 1 writes
        // [2, 6, 3] (count, sum, M2) partials, round 2 finishes them into [6].
        let typed = |mut a: ArrayMeta, d: DType| {
            a.dtype = d;
            a
        };
        let arrays = || vec![array("in", &[8, 6], &[2, 3], false), array("partials", &[2, 6, 3], &[1, 3, 3], true), array("out", &[6], &[3], true)];
        let round = |domain_shape: &[u64], domain_chunks: &[u64], partial_in: bool, finish: Option<Finish>, squeeze: bool| OpKind::Reduce {
            kernel: Node::Input { input: 0 },
            domain_shape: domain_shape.to_vec(),
            domain_chunks: domain_chunks.to_vec(),
            func: ReduceFunc::Moments,
            axes: vec![0],
            split_every: 2,
            acc_dtype: DType::Float64,
            divide_by: None,
            squeeze,
            partial_in,
            finish,
        };
        let var = Some(Finish::Var { correction: 1.0 });
        let first = || op(round(&[8, 6], &[2, 3], false, None, false), vec![0], 1, 4);
        let last = |kind: OpKind| Op { id: "op-002".into(), ..op(kind, vec![1], 2, 2) };
        plan(arrays(), vec![first(), last(round(&[2, 6, 3], &[1, 3, 3], true, var, true))]).validate().unwrap();
        let refused = |ops: Vec<Op>, arrays: Vec<ArrayMeta>, want: &str| {
            let e = plan(arrays, ops).validate().unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        };
        // The second round must read the partials as they are, with their field axis.
        refused(vec![first(), last(round(&[2, 6, 3], &[1, 3, 3], false, var, true))], arrays(), "gives");
        refused(vec![first(), last(round(&[2, 6, 3], &[1, 3, 1], true, var, true))], arrays(), "ending in one block of its 3 fields");
        // An input that broadcasts to the domain but is not the partials.
        let mut with_row = arrays();
        with_row.push(array("row", &[6, 3], &[3, 3], false));
        let reads_row = Op { id: "op-002".into(), ..op(round(&[2, 6, 3], &[1, 3, 3], true, var, true), vec![3], 2, 2) };
        refused(vec![first(), reads_row], with_row, "reads its input 0 as it is (float64 of the domain's shape [2, 6, 3]), not 'row'");
        // A finish the function does not take, a round of partials that squeezes, a wrong accumulation type.
        refused(vec![first(), last(round(&[2, 6, 3], &[1, 3, 3], true, Some(Finish::Index), true))], arrays(), "cannot be finished as Index");
        refused(vec![op(round(&[8, 6], &[2, 3], false, None, true), vec![0], 1, 4)], arrays(), "keeps the reduced axes");
        let mut f32_partials = arrays();
        f32_partials[1] = typed(f32_partials[1].clone(), DType::Float32);
        refused(vec![first()], f32_partials, "writes moments partials as float32; they are float64");
        let mut int_acc = round(&[8, 6], &[2, 3], false, None, false);
        if let OpKind::Reduce { acc_dtype, .. } = &mut int_acc {
            *acc_dtype = DType::Int64;
        }
        refused(vec![op(int_acc, vec![0], 1, 4)], arrays(), "moments accumulates in float64, not int64");
        // Single-value functions take neither.
        let mut sum = round(&[8, 6], &[2, 3], false, var, true);
        if let OpKind::Reduce { func, .. } = &mut sum {
            *func = ReduceFunc::Sum;
        }
        refused(vec![op(sum, vec![0], 2, 2)], arrays(), "single-value partials");
    }

    #[test]
    fn validate_checks_scans_and_their_carries() {
        use crate::kernel::reduce::scan::ScanFunc;
        // cumulative_sum of [10] in blocks [4]: totals [3] in chunks [1], their
        // include_initial scan [4] (the carry), then the scan of the data.
        let arrays = || vec![array("in", &[10], &[4], false), array("totals", &[3], &[1], true), array("carry", &[4], &[4], true), array("out", &[10], &[4], true)];
        let scan_as = |shape: &[u64], chunks: &[u64], stage: ScanStage, axis: usize, acc_dtype: DType| OpKind::Scan {
            kernel: Node::Input { input: 0 },
            domain_shape: shape.to_vec(),
            domain_chunks: chunks.to_vec(),
            axis,
            func: ScanFunc::Sum,
            acc_dtype,
            stage,
        };
        let scan = |shape: &[u64], chunks: &[u64], stage: ScanStage| scan_as(shape, chunks, stage, 0, DType::Float64);
        let ops = |last: OpKind, inputs: Vec<ArrayId>| {
            vec![
                op(scan(&[10], &[4], ScanStage::Totals), vec![0], 1, 3),
                Op { id: "op-002".into(), ..op(scan(&[3], &[4], ScanStage::Cumulative { include_initial: true, carry: None }), vec![1], 2, 1) },
                Op { id: "op-003".into(), ..op(last, inputs, 3, 3) },
            ]
        };
        let cumulative = |carry| ScanStage::Cumulative { include_initial: false, carry };
        plan(arrays(), ops(scan(&[10], &[4], cumulative(Some(1))), vec![0, 2])).validate().unwrap();
        for (last, inputs, want) in [
            (scan(&[10], &[4], cumulative(None)), vec![0, 2], "scans 3 blocks along axis 0 without a carry"),
            (scan(&[10], &[4], cumulative(Some(2))), vec![0, 2], "its carry is input 2, but the op has 2 input(s)"),
            (scan(&[10], &[4], cumulative(Some(0))), vec![0, 2], "needs [4] float64"),
            (scan(&[10], &[2], cumulative(Some(1))), vec![0, 2], "writes shape [10] in chunks [2]"),
            (scan(&[10], &[4], ScanStage::Cumulative { include_initial: true, carry: Some(1) }), vec![0, 2], "writes shape [11]"),
            (scan_as(&[10], &[4], cumulative(Some(1)), 1, DType::Float64), vec![0, 2], "scans axis 1 of a 1-dimensional domain"),
            (scan_as(&[10], &[4], cumulative(Some(1)), 0, DType::Bool), vec![0, 2], "acc_dtype bool, output float64"),
            (scan_as(&[10], &[4], cumulative(Some(1)), 0, DType::Float32), vec![0, 2], "acc_dtype float32, output float64"),
        ] {
            let e = plan(arrays(), ops(last, inputs)).validate().unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
