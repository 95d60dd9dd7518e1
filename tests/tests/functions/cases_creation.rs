//! Cases for the creation functions (`table/creation.rs`). They have no
//! inputs: each runs once. Give `chunks` that do not divide the shape.

use crate::case::Case;

pub const CASES: &[Case] = &[
    Case::none("zeros", "zeros((3, 4))", "np.zeros((3, 4))"),
    Case::none("zeros", "zeros((2, 3), dtype=int8, chunks=(1, 2))", "np.zeros((2, 3), dtype=np.int8)"),
    Case::none("zeros", "zeros(5, dtype='uint16', chunks=(2,))", "np.zeros(5, dtype='uint16')"),
    Case::none("zeros", "zeros((), dtype=bool)", "np.zeros((), dtype=bool)"),
    Case::none("ones", "ones((4, 5), dtype=bool, chunks=(3, 2))", "np.ones((4, 5), dtype=bool)"),
    Case::none("ones", "ones(7, dtype=float32)", "np.ones(7, dtype=np.float32)"),
    Case::none("ones", "ones((2, 1, 3), dtype=uint64, chunks=(1, 1, 2))", "np.ones((2, 1, 3), dtype=np.uint64)"),
    Case::none("full", "full((3, 5), 2.5)", "np.full((3, 5), 2.5)"),
    Case::none("full", "full((3, 5), 7, dtype=int16, chunks=(2, 2))", "np.full((3, 5), 7, dtype=np.int16)"),
    Case::none("full", "full((3,), -128, dtype=int8)", "np.full((3,), -128, dtype=np.int8)"),
    Case::none("full", "full(4, True, dtype=bool)", "np.full(4, True, dtype=bool)"),
    Case::none("full", "full((2, 3), nan)", "np.full((2, 3), np.nan)"),
    Case::none("full", "full((2, 3), -inf, dtype=float32)", "np.full((2, 3), -np.inf, dtype=np.float32)"),
    Case::none("full", "full((2, 2), 3)", "np.full((2, 2), 3)"),
    Case::none("full", "full((2,), False)", "np.full((2,), False)"),
    Case::none("arange", "arange(10)", "np.arange(10)"),
    Case::none("arange", "arange(2, 11, 3, chunks=(2,))", "np.arange(2, 11, 3)"),
    Case::none("arange", "arange(10, 0, -3)", "np.arange(10, 0, -3)"),
    Case::none("arange", "arange(-3, 3, chunks=(4,))", "np.arange(-3, 3)"),
    Case::none("arange", "arange(5, dtype=float32)", "np.arange(5, dtype=np.float32)"),
    Case::none("arange", "arange(250, 260, dtype=uint8)", "np.arange(250, 260, dtype=np.uint8)"),
    Case::none("arange", "arange(0, 1099511627776, 137438953472)", "np.arange(0, 2**40, 2**37)"),
    Case::none("arange", "arange(0.0, 1.0, 0.25)", "np.arange(0.0, 1.0, 0.25)"),
    Case::none("arange", "arange(0.5, 3)", "np.arange(0.5, 3)"),
    Case::none("arange", "arange(5, 5)", "np.arange(5, 5)"),
    Case::none("asarray", "asarray(((1.5, 2), (3, -4)))", "np.asarray(((1.5, 2), (3, -4)))"),
    Case::none("asarray", "asarray((1, 2, 3), dtype=int8)", "np.asarray((1, 2, 3), dtype=np.int8)"),
    Case::none("asarray", "asarray(((1, 2, 3),), dtype=uint64, chunks=(1, 2))", "np.asarray(((1, 2, 3),), dtype=np.uint64)"),
    Case::none("asarray", "asarray(5.0)", "np.asarray(5.0)"),
    Case::none("asarray", "asarray((1, 2, 3))", "np.asarray((1, 2, 3))"),
    Case::none("asarray", "array((True, False))", "np.array((True, False))"),
    Case::none("asarray", "asarray((nan, -0.0, inf))", "np.asarray((np.nan, -0.0, np.inf))"),
    // random: numpy's generator differs; shape, dtype and [0, 1) only.
    Case::none("random", "random((5, 7), seed=3, chunks=(2, 3))", "np.random.default_rng(3).random((5, 7))").random(),
    Case::none("random", "random(9, dtype=float32)", "np.random.default_rng(0).random(9, dtype=np.float32)").random(),
];
