//! Cumulative sums and products along one axis (the Array API's
//! `cumulative_sum` and `cumulative_prod`, numpy's `cumsum` and `cumprod`),
//! in bounded memory and in parallel over blocks:
//!
//! 1. one task per block writes the block's total (a small array, one value
//!    per block along the axis);
//! 2. the carries — per block, the total of the blocks before it — are the
//!    `include_initial` scan of those totals, planned the same way (so a huge
//!    number of blocks is scanned in rounds too);
//! 3. one task per block scans it and combines its carry in.
//!
//! An array with a single block along the axis is one op.

use cubed_task::kernel::reduce::scan::ScanFunc;
use cubed_task::DType;

use crate::array::{Array, LogicalOp};
use crate::error::{CubedError, Result};
use crate::reduction::normalize_axes;

/// How a cumulative function runs: along which axis, in which type, and
/// whether the result starts with the identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cumulative {
    /// The axis (negative counts from the end); may be `None` only for a
    /// one-dimensional array, as the Array API says.
    pub axis: Option<i64>,
    /// The type to accumulate in and return (default numpy's, see
    /// [`DType::sum_type`]).
    pub dtype: Option<DType>,
    /// Start with the identity (0 or 1): the result has one more element
    /// along the axis.
    pub include_initial: bool,
}

impl Cumulative {
    /// Along `axis`.
    pub fn along(axis: i64) -> Cumulative {
        Cumulative { axis: Some(axis), ..Cumulative::default() }
    }

    /// Accumulates in, and returns, `dtype`.
    pub fn dtype(mut self, dtype: DType) -> Cumulative {
        self.dtype = Some(dtype);
        self
    }

    /// Starts the result with the identity.
    pub fn include_initial(mut self) -> Cumulative {
        self.include_initial = true;
        self
    }
}

/// A scan as the planner emits it (see `planner.rs`); it computes in the
/// result's type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scan {
    /// The user-facing name, for plans and errors.
    pub name: &'static str,
    /// Running sums or products.
    pub func: ScanFunc,
    /// The axis scanned.
    pub axis: usize,
    /// Start with the identity (one more element along the axis).
    pub include_initial: bool,
}

fn cumulative(a: &Array, name: &'static str, func: ScanFunc, opts: &Cumulative) -> Result<Array> {
    let axis = match (opts.axis, a.ndim()) {
        (_, 0) => {
            return Err(CubedError::Invalid(format!("{name}: x must have at least one dimension (the Array API; numpy takes a 0-d array as 1-d)")))
        }
        (None, 1) => 0,
        (None, n) => {
            return Err(CubedError::Invalid(format!(
                "{name}: axis is required for an array of {n} dimensions (shape {:?}), as the Array API says; pass axis=",
                a.shape()
            )))
        }
        (Some(k), n) => normalize_axes(n, Some(&[k]))?[0],
    };
    let dtype = opts.dtype.unwrap_or(a.dtype().sum_type());
    if dtype == DType::Bool {
        return Err(CubedError::Invalid(format!(
            "{name} with dtype bool is not supported: scans compute in a numeric type; numpy's running logical {} is {name}(astype(x, bool)) > 0",
            if func == ScanFunc::Sum { "or" } else { "and" }
        )));
    }
    let mut shape = a.shape().to_vec();
    shape[axis] += u64::from(opts.include_initial);
    let scan = Scan { name, func, axis, include_initial: opts.include_initial };
    let labels = crate::labels::from_axes(a, (0..a.ndim()).map(Some), false);
    Ok(Array::new(a.spec_arc(), shape, a.chunks().to_vec(), dtype, LogicalOp::Scan { scan, arg: a.clone() }).labelled(labels))
}

/// Running sums along the axis (numpy's `cumsum`, in numpy's accumulation
/// types; integers wrap). With `include_initial` the result starts with 0.
pub fn cumulative_sum(a: &Array, opts: &Cumulative) -> Result<Array> {
    cumulative(a, "cumulative_sum", ScanFunc::Sum, opts)
}

/// Running products along the axis (numpy's `cumprod`); with
/// `include_initial` the result starts with 1.
pub fn cumulative_prod(a: &Array, opts: &Cumulative) -> Result<Array> {
    cumulative(a, "cumulative_prod", ScanFunc::Prod, opts)
}
