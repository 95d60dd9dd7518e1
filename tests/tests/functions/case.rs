//! What a case is: a cubed expression and the same computation in numpy.
//!
//! Add a case with one of the constructors, e.g.
//!
//! ```text
//! Case::x("sum", "sum(x, axis=0)", "np.sum(x, axis=0)").accumulated(),
//! Case::xy("where", "where(x, y, 0)", "np.where(x, y, 0)"),
//! Case::none("zeros", "zeros((2, 3), dtype=int8)", "np.zeros((2, 3), dtype=np.int8)"),
//! ```
//!
//! The harness runs an `x`/`xy` case over every input layout (see
//! `inputs::LAYOUTS`) and every dtype of `x` its function's table row
//! `accepts` (`y` runs through the same dtype and the mixed pairs of
//! `inputs::MIXED_PAIRS`), and compares cubed-rs's result with numpy's.

use std::ops::RangeInclusive;

use cubed_task::DType;

/// One case: a cubed expression and the same computation in numpy, over
/// inputs the harness writes.
#[derive(Debug, Clone)]
pub struct Case {
    /// The table name of the function it covers.
    pub function: &'static str,
    /// The cubed expression over inputs `x` (and `y` or `n`).
    pub cubed: &'static str,
    /// The numpy expression over the same `x` (and `y` or `n`) as numpy
    /// arrays (`np` is numpy). Python scalars in it are weak, as in cubed.
    pub numpy: &'static str,
    /// Which inputs it uses.
    pub inputs: Inputs,
    /// Which dtypes of `x` (and `y`) it runs for.
    pub dtypes: Dtypes,
    /// The layouts (by number of dimensions) it runs for, e.g. `2..=3` for
    /// `sum(x, axis=(0, 1))`.
    pub ndim: RangeInclusive<usize>,
    /// How its result is compared with numpy's.
    pub compare: Compare,
}

/// The inputs of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    /// None: creation functions. Runs once, not per layout.
    None,
    /// `x`.
    X,
    /// `x` and `y` (same shape): every dtype with itself, plus the mixed pairs.
    XY,
    /// `x` and `n`: like `y`, but integers hold only `0 <= n < bits of n's
    /// type` (bools and floats are as in `y`). For `pow` and the shifts:
    /// negative integer powers are refused (tested in `numbers.rs`), negative
    /// or too wide shifts are undefined.
    XN,
}

/// Which dtypes of the inputs a case runs for. The ones it does not run for
/// are still checked: numpy must refuse them too, or they must be listed in
/// `known::REFUSED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtypes {
    /// The dtypes of `x` that the function's row `accepts` (the default).
    Accepted,
    /// Pairs whose promoted type ([`DType::promote`]) the row accepts: binary
    /// elementwise functions, whose kernels run in that type.
    Promoted,
    /// All of them: for expressions whose first argument is not `x` itself
    /// (`where(x > 0, x, y)`), and for Python-scalar operands, whose
    /// promotion is not the table's `accepts`.
    All,
}

/// How a result is compared with numpy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// dtype and shape equal (but where numpy gives float16, which cubed-rs
    /// lacks, cubed-rs's float32 is compared with numpy's from float32
    /// inputs: see `numpy_result` in `check.py`); integers and bools exactly; floats to rtol
    /// 1e-12 (float64) / 1e-5 (float32), NaN at the same places, infinities
    /// equal, zeros of the same sign.
    Values,
    /// As [`Compare::Values`], but floats may differ by the rounding of an
    /// accumulation in another order (`sum`, `mean`): up to `2 * x.size *
    /// eps` times the numpy expression evaluated on `abs(x)`.
    Accumulated,
    /// As [`Compare::Accumulated`], for products (`prod`, `cumulative_prod`):
    /// where some order of multiplication could leave the result type's
    /// normal range (the product of x's magnitudes above 1 exceeds its max, or
    /// of those below 1 falls below its smallest normal: huge values,
    /// subnormals), any value is accepted. numpy multiplies in its order,
    /// cubed-rs per chunk and then across chunks (a scan: carry times the
    /// running product of the chunk), so one may overflow to inf, or
    /// underflow to 0 and lose precision, where the other does not, and then
    /// give inf, 0 or NaN (inf times 0). Elsewhere the order changes only the
    /// rounding; the sign of a zero is the same in any order.
    Product,
    /// As [`Compare::Values`], but a zero may have either sign: the Array API
    /// leaves `maximum(-0.0, +0.0)` to the implementation (numpy returns the
    /// second operand, cubed-rs the first); so `minimum`, `clip`, `min`, `max`.
    AnyZeroSign,
    /// As [`Compare::Values`], but where a float is cast to an integer type
    /// that cannot hold it (NaN, infinities, out of range), any value is
    /// accepted: numpy leaves that to the platform (x86 wraps or gives the
    /// minimum), the Array API leaves it unspecified.
    Cast,
    /// Random numbers: only the shape and dtype are compared with numpy's
    /// (the numpy expression makes an array of the same shape and dtype),
    /// and the values must lie in [0, 1) and not all be equal.
    Random,
}

impl Case {
    const fn new(function: &'static str, inputs: Inputs, cubed: &'static str, numpy: &'static str) -> Case {
        Case { function, cubed, numpy, inputs, dtypes: Dtypes::Accepted, ndim: 0..=usize::MAX, compare: Compare::Values }
    }

    /// A case without inputs (creation functions).
    pub const fn none(function: &'static str, cubed: &'static str, numpy: &'static str) -> Case {
        Case::new(function, Inputs::None, cubed, numpy)
    }

    /// A case over `x`.
    pub const fn x(function: &'static str, cubed: &'static str, numpy: &'static str) -> Case {
        Case::new(function, Inputs::X, cubed, numpy)
    }

    /// A case over `x` and `y`.
    pub const fn xy(function: &'static str, cubed: &'static str, numpy: &'static str) -> Case {
        Case::new(function, Inputs::XY, cubed, numpy)
    }

    /// A case over `x` and `n` (small non-negative integers, see [`Inputs::XN`]).
    pub const fn xn(function: &'static str, cubed: &'static str, numpy: &'static str) -> Case {
        Case::new(function, Inputs::XN, cubed, numpy)
    }

    /// Runs for the dtype pairs whose promoted type the row accepts.
    pub const fn promoted(mut self) -> Case {
        self.dtypes = Dtypes::Promoted;
        self
    }

    /// Runs for every dtype.
    pub const fn all_dtypes(mut self) -> Case {
        self.dtypes = Dtypes::All;
        self
    }

    /// Runs only for layouts with `min..=max` dimensions.
    pub const fn ndim(mut self, min: usize, max: usize) -> Case {
        self.ndim = min..=max;
        self
    }

    /// Runs only for layouts with at least `min` dimensions (numpy lets
    /// reductions of 0-d arrays take `axis=0`; the Array API does not).
    pub const fn min_ndim(mut self, min: usize) -> Case {
        self.ndim = min..=usize::MAX;
        self
    }

    /// Floats may differ by the rounding of an accumulation (see [`Compare::Accumulated`]).
    pub const fn accumulated(mut self) -> Case {
        self.compare = Compare::Accumulated;
        self
    }

    /// A product: over- and underflow may depend on the order (see [`Compare::Product`]).
    pub const fn product(mut self) -> Case {
        self.compare = Compare::Product;
        self
    }

    /// Zeros may have either sign (see [`Compare::AnyZeroSign`]).
    pub const fn any_zero_sign(mut self) -> Case {
        self.compare = Compare::AnyZeroSign;
        self
    }

    /// A cast: floats an integer type cannot hold may give anything (see [`Compare::Cast`]).
    pub const fn cast(mut self) -> Case {
        self.compare = Compare::Cast;
        self
    }

    /// Random values: shape, dtype and range only (see [`Compare::Random`]).
    pub const fn random(mut self) -> Case {
        self.compare = Compare::Random;
        self
    }

    /// True when the case runs for `x` of dtype `dx` and `y`/`n` of dtype
    /// `dy` (equal to `dx` for [`Inputs::X`]), given its row's `accepts`.
    pub fn runs_for(&self, accepts: &[DType], dx: DType, dy: DType) -> bool {
        match self.dtypes {
            Dtypes::Accepted => accepts.contains(&dx),
            Dtypes::Promoted => accepts.contains(&dx.promote(dy)),
            Dtypes::All => true,
        }
    }
}
