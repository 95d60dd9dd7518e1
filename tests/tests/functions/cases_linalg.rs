//! Cases for the linear algebra functions (`table/linalg.rs`): `x` and `y`
//! share a layout, so the products transpose one of them; contractions over
//! several chunks, of non-square chunks, and empty ones come from the
//! layouts (`inputs::LAYOUTS`).

use crate::case::Case;

pub const CASES: &[Case] = &[
    Case::xy("matmul", "x @ y.mT", "x @ np.matrix_transpose(y)").promoted().min_ndim(2).accumulated(),
    Case::xy("matmul", "matmul(x.mT, y)", "np.matmul(np.matrix_transpose(x), y)").promoted().min_ndim(2).accumulated(),
    Case::xy("matmul", "x @ y", "x @ y").promoted().ndim(1, 1).accumulated(),
    // One input as both operands: two different blocks of it per task.
    Case::x("matmul", "x @ x.mT", "x @ np.matrix_transpose(x)").min_ndim(2).accumulated(),
    Case::xy("matmul", "x[0] @ y.mT", "x[0] @ np.matrix_transpose(y)").promoted().min_ndim(2).accumulated(),
    Case::xy("matmul", "x @ y[..., 0, :]", "x @ y[..., 0, :]").promoted().min_ndim(2).accumulated(),
    // The operands chunked differently: x's blocks of the contraction, y's of 2 by 3.
    Case::xy("matmul", "x @ rechunk(y.mT, (2, 3))", "x @ np.matrix_transpose(y)").promoted().ndim(2, 2).accumulated(),
    Case::xy("tensordot", "tensordot(x, y, axes=x.ndim)", "np.tensordot(x, y, axes=x.ndim)").promoted().min_ndim(1).accumulated(),
    Case::xy("tensordot", "tensordot(x, y, axes=((0,), (0,)))", "np.tensordot(x, y, axes=((0,), (0,)))").promoted().min_ndim(1).accumulated(),
    Case::xy("tensordot", "tensordot(x, y, axes=((0, -1), (0, -1)))", "np.tensordot(x, y, axes=((0, -1), (0, -1)))").promoted().min_ndim(2).accumulated(),
    Case::xy("tensordot", "tensordot(x, y, axes=0)", "np.tensordot(x, y, axes=0)").promoted().ndim(1, 2).accumulated(),
    Case::xy("vecdot", "vecdot(x, y)", "np.vecdot(x, y)").promoted().min_ndim(1).accumulated(),
    Case::xy("vecdot", "vecdot(x, y, axis=-2)", "np.vecdot(x, y, axis=-2)").promoted().min_ndim(2).accumulated(),
    Case::xy("inner", "inner(x, y)", "np.inner(x, y)").promoted().accumulated(),
    Case::xy("outer", "outer(x, y)", "np.outer(x, y)").promoted().accumulated(),
];
