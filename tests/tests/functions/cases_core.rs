//! Cases for the utility and manipulation functions (`astype`, `where`,
//! `clip`, `rechunk`), and elementwise cases beyond the generated ones
//! (Python scalar operands). The elementwise functions themselves get their
//! cases from the table (see `generate.rs`).

use crate::case::Case;

pub const CASES: &[Case] = &[
    // astype to every dtype (floats to integers truncate towards zero; those
    // the integer type cannot hold are undefined in numpy: see Compare::Cast).
    Case::x("astype", "astype(x, bool)", "x.astype(np.bool_)").cast(),
    Case::x("astype", "astype(x, int8)", "x.astype(np.int8)").cast(),
    Case::x("astype", "astype(x, int16)", "x.astype(np.int16)").cast(),
    Case::x("astype", "astype(x, int32)", "x.astype(np.int32)").cast(),
    Case::x("astype", "astype(x, int64)", "x.astype(np.int64)").cast(),
    Case::x("astype", "astype(x, uint8)", "x.astype(np.uint8)").cast(),
    Case::x("astype", "astype(x, uint16)", "x.astype(np.uint16)").cast(),
    Case::x("astype", "astype(x, uint32)", "x.astype(np.uint32)").cast(),
    Case::x("astype", "astype(x, uint64)", "x.astype(np.uint64)").cast(),
    Case::x("astype", "astype(x, float32)", "x.astype(np.float32)").cast(),
    Case::x("astype", "astype(x, float64)", "x.astype(np.float64)").cast(),
    Case::x("astype", "astype(x, dtype='i2')", "x.astype('i2')").cast(),
    // where: x is the (bool) condition; y runs through every dtype paired with bool.
    Case::xy("where", "where(x, y, 0)", "np.where(x, y, 0)"),
    Case::xy("where", "where(x, 1.5, y)", "np.where(x, 1.5, y)"),
    Case::xy("where", "where(x, x, y)", "np.where(x, x, y)"),
    // ... and a computed condition, for every dtype.
    Case::xy("where", "where(x > y, x, y)", "np.where(x > y, x, y)").all_dtypes(),
    Case::x("where", "where(isnan(x), -x, x)", "np.where(np.isnan(x), -x, x)").all_dtypes(),
    // clip with scalars and with arrays.
    Case::x("clip", "clip(x, 1, 10)", "np.clip(x, 1, 10)").any_zero_sign(),
    Case::x("clip", "clip(x, None, 5)", "np.clip(x, None, 5)").any_zero_sign(),
    Case::x("clip", "clip(x, min=2)", "np.clip(x, min=2)").any_zero_sign(),
    Case::xy("clip", "clip(x, y)", "np.clip(x, y, None)").any_zero_sign(),
    Case::xy("clip", "clip(x, max=y)", "np.clip(x, None, y)").any_zero_sign(),
    // rechunk, to chunks that divide the shape or not, larger or smaller.
    Case::x("rechunk", "rechunk(x, (2,))", "x").ndim(1, 1),
    Case::x("rechunk", "rechunk(x, 30)", "x").ndim(1, 1),
    Case::x("rechunk", "rechunk(x, (4, 1))", "x").ndim(2, 2),
    Case::x("rechunk", "rechunk(x, (1, 7))", "x").ndim(2, 2),
    Case::x("rechunk", "rechunk(x, (3, 1, 6))", "x").ndim(3, 3),
    // Python scalars are weak (NEP 50): the array's type wins within a kind.
    Case::x("add", "x + 1", "x + 1").all_dtypes(),
    Case::x("subtract", "3 - x", "3 - x").all_dtypes(),
    Case::x("multiply", "x * 0.5", "x * 0.5").all_dtypes(),
    Case::x("divide", "x / 4", "x / 4").all_dtypes(),
    Case::x("floor_divide", "x // 3", "x // 3").all_dtypes(),
    Case::x("remainder", "x % -3", "x % -3").all_dtypes(),
    Case::x("pow", "x ** 2", "x ** 2").all_dtypes(),
    Case::x("less", "x < 2.5", "x < 2.5").all_dtypes(),
    Case::x("equal", "x == 0", "x == 0").all_dtypes(),
    Case::x("bitwise_and", "x & 6", "x & 6"),
    Case::x("maximum", "maximum(x, 0)", "np.maximum(x, 0)").any_zero_sign(),
];
