//! Cases for indexing and the manipulation functions (`table/manipulation.rs`).
//! They run over every layout (`inputs::LAYOUTS`: chunks not dividing the
//! shape, a single chunk larger than the array, a size-1 axis, no axes, no
//! elements) and every dtype: where an index is out of range for a layout,
//! numpy must refuse it too.

use crate::case::Case;

pub const CASES: &[Case] = &[
    // Slices: any step, negative too, empty, clamped past the ends.
    Case::x("getitem", "x[1:-1]", "x[1:-1]").min_ndim(1),
    Case::x("getitem", "x[::2]", "x[::2]").min_ndim(1),
    Case::x("getitem", "x[::-3]", "x[::-3]").min_ndim(1),
    Case::x("getitem", "x[5:1:-2]", "x[5:1:-2]").min_ndim(1),
    Case::x("getitem", "x[-4:]", "x[-4:]").min_ndim(1),
    Case::x("getitem", "x[10:20]", "x[10:20]").min_ndim(1),
    Case::x("getitem", "x[3:3]", "x[3:3]").min_ndim(1),
    Case::x("getitem", "x[-100:100:7]", "x[-100:100:7]").min_ndim(1),
    // Integers drop the axis; negative ones count from the end; out of range is refused.
    Case::x("getitem", "x[-1]", "x[-1]").min_ndim(1),
    Case::x("getitem", "x[5]", "x[5]").min_ndim(1),
    Case::x("getitem", "x[0, -1]", "x[0, -1]").min_ndim(2),
    Case::x("getitem", "x[:, 2]", "x[:, 2]").min_ndim(2),
    // Several at once, new axes, ellipsis.
    Case::x("getitem", "x[1:3, ::-1]", "x[1:3, ::-1]").min_ndim(2),
    Case::x("getitem", "x[0:3, ::2, -1]", "x[0:3, ::2, -1]").ndim(3, 3),
    Case::x("getitem", "x[1, :, ::-2]", "x[1, :, ::-2]").ndim(3, 3),
    Case::x("getitem", "x[:, None, 0:2, -1]", "x[:, None, 0:2, -1]").ndim(3, 3),
    Case::x("getitem", "x[..., None]", "x[..., None]"),
    Case::x("getitem", "x[None]", "x[None]"),
    Case::x("getitem", "x[...]", "x[...]"),
    Case::x("getitem", "x[-1, ..., ::3]", "x[-1, ..., ::3]").min_ndim(2),
    Case::x("getitem", "getitem(x, (0, None))", "x[0, None]").min_ndim(1),
    // take: any order, repeats, negative indices, a scalar index drops the axis.
    Case::x("take", "take(x, (0, -1, 0), axis=0)", "np.take(x, (0, -1, 0), axis=0)").min_ndim(1),
    // (numpy lets an out-of-range index through when x has no elements; cubed-rs refuses it.)
    Case::x("take", "take(x, (3, 1, 3, 1, 2), axis=-1)", "np.take(x, (3, 1, 3, 1, 2), axis=-1)").min_ndim(1),
    Case::x("take", "take(x, 2, axis=0)", "np.take(x, 2, axis=0)").min_ndim(1),
    Case::x("take", "take(x, (5, 0, 9, 2))", "np.take(x, (5, 0, 9, 2))"),
    Case::x("take", "take(x, -1)", "np.take(x, -1)"),
    // Indexing fused with what follows it.
    Case::x("getitem", "x[1:] == x[:-1]", "x[1:] == x[:-1]").min_ndim(1),
    Case::x("getitem", "sum(x[::2], axis=0)", "np.sum(x[::2], axis=0)").min_ndim(1).accumulated(),
    Case::x("getitem", "max(x.T[1:], axis=0)", "np.max(x.T[1:], axis=0)").min_ndim(1).any_zero_sign(),
    // Transposes.
    Case::x("permute_dims", "permute_dims(x, (1, 0))", "np.permute_dims(x, (1, 0))").ndim(2, 2),
    Case::x("permute_dims", "permute_dims(x, (2, 0, 1))", "np.permute_dims(x, (2, 0, 1))").ndim(3, 3),
    Case::x("permute_dims", "permute_dims(x, (-1, 0, 1))", "np.transpose(x, (-1, 0, 1))").ndim(3, 3),
    Case::x("permute_dims", "transpose(x)", "np.transpose(x)"),
    Case::x("permute_dims", "x.T", "x.T"),
    Case::x("permute_dims", "x.transpose(1, 0)", "x.transpose(1, 0)").ndim(2, 2),
    Case::x("matrix_transpose", "matrix_transpose(x)", "np.matrix_transpose(x)").min_ndim(2),
    Case::x("matrix_transpose", "x.mT", "x.mT").min_ndim(2),
    Case::x("moveaxis", "moveaxis(x, 0, -1)", "np.moveaxis(x, 0, -1)").min_ndim(1),
    Case::x("moveaxis", "moveaxis(x, (0, 2), (2, 1))", "np.moveaxis(x, (0, 2), (2, 1))").ndim(3, 3),
    Case::x("swapaxes", "swapaxes(x, 0, -1)", "np.swapaxes(x, 0, -1)").min_ndim(1),
    // Axes added and removed.
    Case::x("expand_dims", "expand_dims(x, 0)", "np.expand_dims(x, 0)"),
    Case::x("expand_dims", "expand_dims(x, axis=-1)", "np.expand_dims(x, axis=-1)"),
    Case::x("expand_dims", "expand_dims(x, (0, 2))", "np.expand_dims(x, (0, 2))").min_ndim(1),
    Case::x("squeeze", "squeeze(x)", "np.squeeze(x)"),
    Case::x("squeeze", "squeeze(x, axis=0)", "np.squeeze(x, axis=0)").min_ndim(1),
    Case::x("squeeze", "squeeze(expand_dims(x, 1), 1)", "np.squeeze(np.expand_dims(x, 1), 1)"),
    // Flips, broadcasts, rolls, tiles, repeats.
    Case::x("flip", "flip(x)", "np.flip(x)"),
    Case::x("flip", "flip(x, axis=-1)", "np.flip(x, axis=-1)").min_ndim(1),
    Case::x("flip", "flip(x, (0, 1))", "np.flip(x, (0, 1))").min_ndim(2),
    Case::x("broadcast_to", "broadcast_to(x, (3,) + x.shape)", "np.broadcast_to(x, (3,) + x.shape)"),
    Case::x("broadcast_to", "broadcast_to(x[..., :1], x.shape[:-1] + (4,))", "np.broadcast_to(x[..., :1], x.shape[:-1] + (4,))").min_ndim(1),
    Case::x("broadcast_arrays", "broadcast_arrays(x, x[..., None])[1]", "np.broadcast_arrays(x, x[..., None])[1]"),
    Case::x("broadcast_arrays", "broadcast_arrays(x[:1], x)[0]", "np.broadcast_arrays(x[:1], x)[0]").min_ndim(1),
    Case::x("roll", "roll(x, 2, axis=0)", "np.roll(x, 2, axis=0)").min_ndim(1),
    Case::x("roll", "roll(x, -7, axis=-1)", "np.roll(x, -7, axis=-1)").min_ndim(1),
    Case::x("roll", "roll(x, (1, 3), axis=(0, 1))", "np.roll(x, (1, 3), axis=(0, 1))").min_ndim(2),
    Case::x("roll", "roll(x, 3)", "np.roll(x, 3)"),
    Case::x("tile", "tile(x, 2)", "np.tile(x, 2)"),
    Case::x("tile", "tile(x, (2, 1, 3))", "np.tile(x, (2, 1, 3))"),
    Case::x("repeat", "repeat(x, 3, axis=0)", "np.repeat(x, 3, axis=0)").min_ndim(1),
    Case::x("repeat", "repeat(x, 2, axis=-1)", "np.repeat(x, 2, axis=-1)").min_ndim(1),
    Case::x("repeat", "repeat(x, 0, axis=0)", "np.repeat(x, 0, axis=0)").min_ndim(1),
    Case::x("repeat", "repeat(x, 2)", "np.repeat(x, 2)"),
    // Reshapes: merges, splits and both across chunk boundaries (x is
    // rechunked to whole rows where it must be); numpy refuses the sizes
    // that do not fit, so must cubed-rs.
    Case::x("reshape", "reshape(x, -1)", "np.reshape(x, -1)"),
    Case::x("reshape", "x.reshape(x.shape[::-1])", "x.reshape(x.shape[::-1])"),
    Case::x("reshape", "reshape(x, (-1, 3))", "np.reshape(x, (-1, 3))"),
    Case::x("reshape", "x.reshape(2, -1, 2)", "x.reshape(2, -1, 2)"),
    Case::x("reshape", "reshape(x, (1,) + x.shape + (1,))", "np.reshape(x, (1,) + x.shape + (1,))"),
    Case::x("reshape", "reshape(x.T, (x.size,))", "np.reshape(x.T, (x.size,))"),
    Case::x("reshape", "reshape(x, (x.size,))[1::2]", "np.reshape(x, (x.size,))[1::2]"),
    Case::x("reshape", "reshape(x, (1, -1))", "np.reshape(x, (1, -1))"),
    Case::x("reshape", "reshape(x, (-1, 4, 2))", "np.reshape(x, (-1, 4, 2))"),
    Case::x("reshape", "sum(x.reshape(-1, 2), axis=0)", "np.sum(x.reshape(-1, 2), axis=0)").accumulated(),
];

/// Joining, padding and stencils.
pub const JOINS: &[Case] = &[
    // Arrays of different chunkings (a rechunked copy) and types (y's).
    Case::xy("concat", "concat((x, y), axis=0)", "np.concat((x, y), axis=0)").min_ndim(1),
    Case::xy("concat", "concat((x[:2], rechunk(y, (3,) * y.ndim), x), axis=-1)", "np.concatenate((x[:2], y, x), axis=-1)").min_ndim(1),
    Case::x("concat", "concatenate((x[::-1], x[1:]), axis=0)", "np.concatenate((x[::-1], x[1:]), axis=0)").min_ndim(1),
    Case::x("concat", "concat((x, x, x), axis=-1)", "np.concat((x, x, x), axis=-1)").min_ndim(1),
    Case::xy("stack", "stack((x, y))", "np.stack((x, y))"),
    Case::xy("stack", "stack((x, y, x), axis=-1)", "np.stack((x, y, x), axis=-1)"),
    Case::x("unstack", "unstack(x)[0]", "np.unstack(x)[0]").min_ndim(1),
    Case::x("unstack", "unstack(x, axis=-1)[-1]", "np.unstack(x, axis=-1)[-1]").min_ndim(1),
    Case::x("pad", "pad(x, 2)", "np.pad(x, 2)"),
    Case::x("pad", "pad(x, (1, 3), constant_values=7)", "np.pad(x, (1, 3), constant_values=7)"),
    Case::x("pad", "pad(x, ((0, 2),) + ((1, 0),) * (x.ndim - 1))", "np.pad(x, ((0, 2),) + ((1, 0),) * (x.ndim - 1))").min_ndim(1),
    Case::x("diff", "diff(x)", "np.diff(x)").min_ndim(1),
    Case::x("diff", "diff(x, n=2, axis=0)", "np.diff(x, n=2, axis=0)").min_ndim(1),
    Case::x("diff", "diff(x, n=3, prepend=x[..., :1], append=0)", "np.diff(x, n=3, prepend=x[..., :1], append=0)").min_ndim(1),
    Case::x("diff", "diff(x, n=30)", "np.diff(x, n=30)").min_ndim(1),
    Case::x("moving_sum", "moving_sum(x, 3)", "moving(x, 3, -1)").min_ndim(1).accumulated(),
    Case::x("moving_sum", "moving_sum(x, 7, axis=0)", "moving(x, 7, 0)").min_ndim(1).accumulated(),
    Case::x("moving_mean", "moving_mean(x, 2, axis=0)", "moving(x, 2, 0) / 2").min_ndim(1).accumulated(),
    Case::x("moving_mean", "moving_mean(x, 1)", "moving(x, 1, -1)").min_ndim(1).accumulated(),
];
