//! Cases for the creation functions (`table/creation.rs`). Those without
//! inputs run once: give `chunks` that do not divide the shape. The `*_like`
//! functions and `tril` / `triu` take `x`: they run over every layout and
//! dtype, as the other cases over `x` do.
//!
//! Deliberate differences (`driver/tests/creation.rs` tests them): `empty`
//! gives zeros (numpy's values are arbitrary: compared with `np.zeros`);
//! values that would wrap in the dtype are refused; `tril` / `triu` need
//! ndim >= 2 and an integer `k`, and `k` is keyword-only.

use crate::case::Case;

pub const CASES: &[Case] = &[
    Case::none("zeros", "zeros((3, 4))", "np.zeros((3, 4))"),
    Case::none("zeros", "zeros((2, 3), dtype=int8, chunks=(1, 2))", "np.zeros((2, 3), dtype=np.int8)"),
    Case::none("zeros", "zeros(5, dtype='uint16', chunks=(2,))", "np.zeros(5, dtype='uint16')"),
    Case::none("zeros", "zeros((), dtype=bool)", "np.zeros((), dtype=bool)"),
    Case::none("ones", "ones((4, 5), dtype=bool, chunks=(3, 2))", "np.ones((4, 5), dtype=bool)"),
    Case::none("ones", "ones(7, dtype=float32)", "np.ones(7, dtype=np.float32)"),
    Case::none("ones", "ones((2, 1, 3), dtype=uint64, chunks=(1, 1, 2))", "np.ones((2, 1, 3), dtype=np.uint64)"),
    // empty: zeros in cubed-rs.
    Case::none("empty", "empty((3, 4))", "np.zeros((3, 4))"),
    Case::none("empty", "empty(5, dtype=int16, chunks=(2,))", "np.zeros(5, dtype=np.int16)"),
    Case::none("empty", "empty((2, 0, 3), dtype=bool, chunks=(1, 1, 2))", "np.zeros((2, 0, 3), dtype=bool)"),
    Case::none("empty", "empty((), dtype=float32)", "np.zeros((), dtype=np.float32)"),
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
    Case::none("arange", "arange(250, 256, dtype=uint8, chunks=(4,))", "np.arange(250, 256, dtype=np.uint8)"),
    Case::none("arange", "arange(0, 1099511627776, 137438953472)", "np.arange(0, 2**40, 2**37)"),
    Case::none("arange", "arange(0.0, 1.0, 0.25)", "np.arange(0.0, 1.0, 0.25)"),
    Case::none("arange", "arange(0.5, 3)", "np.arange(0.5, 3)"),
    Case::none("arange", "arange(5, 5)", "np.arange(5, 5)"),
    // linspace: endpoint, num=1 and 0, dtypes, descending.
    Case::none("linspace", "linspace(0, 1, 5)", "np.linspace(0, 1, 5)"),
    Case::none("linspace", "linspace(-2.5, 10, 7, chunks=(3,))", "np.linspace(-2.5, 10, 7)"),
    Case::none("linspace", "linspace(0, 1, 10, endpoint=False, chunks=(4,))", "np.linspace(0, 1, 10, endpoint=False)"),
    Case::none("linspace", "linspace(1, 0, 9, dtype=float32)", "np.linspace(1, 0, 9, dtype=np.float32)"),
    Case::none("linspace", "linspace(0, 100, 11, dtype=int16, chunks=(4,))", "np.linspace(0, 100, 11, dtype=np.int16)"),
    Case::none("linspace", "linspace(-3.5, 2, 7, dtype=int8, endpoint=False)", "np.linspace(-3.5, 2, 7, dtype=np.int8, endpoint=False)"),
    Case::none("linspace", "linspace(0, 1, 5, dtype=bool)", "np.linspace(0, 1, 5, dtype=bool)"),
    Case::none("linspace", "linspace(2, 5, 1)", "np.linspace(2, 5, 1)"),
    Case::none("linspace", "linspace(2, 5, 1, endpoint=False)", "np.linspace(2, 5, 1, endpoint=False)"),
    Case::none("linspace", "linspace(3, 3, 0)", "np.linspace(3, 3, 0)"),
    // eye: square and not, diagonals above, below and beyond, dtypes.
    Case::none("eye", "eye(3)", "np.eye(3)"),
    Case::none("eye", "eye(4, 6, k=1, chunks=(3, 4))", "np.eye(4, 6, k=1)"),
    Case::none("eye", "eye(5, 3, k=-2, dtype=int8, chunks=(2, 2))", "np.eye(5, 3, k=-2, dtype=np.int8)"),
    Case::none("eye", "eye(2, 3, k=5, dtype=bool)", "np.eye(2, 3, k=5, dtype=bool)"),
    Case::none("eye", "eye(4, k=-1, dtype=uint64, chunks=(3, 3))", "np.eye(4, k=-1, dtype=np.uint64)"),
    Case::none("eye", "eye(3, 0)", "np.eye(3, 0)"),
    Case::none("eye", "eye(1, dtype=float32)", "np.eye(1, dtype=np.float32)"),
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
    // The *_like functions: x's shape (and chunks), its dtype unless given.
    Case::x("zeros_like", "zeros_like(x)", "np.zeros_like(x)"),
    Case::x("zeros_like", "zeros_like(x, dtype=int8, chunks=(4, 3))", "np.zeros_like(x, dtype=np.int8)").ndim(2, 2),
    Case::x("ones_like", "ones_like(x)", "np.ones_like(x)"),
    Case::x("ones_like", "ones_like(x, dtype=float32, chunks=(7,))", "np.ones_like(x, dtype=np.float32)").ndim(1, 1),
    Case::x("empty_like", "empty_like(x)", "np.zeros_like(x)"),
    Case::x("empty_like", "empty_like(x, dtype=uint16)", "np.zeros_like(x, dtype=np.uint16)"),
    // 7 in every dtype; 2.5 truncated in integers; -1 refused for unsigned, as numpy does.
    Case::x("full_like", "full_like(x, 7)", "np.full_like(x, 7)"),
    Case::x("full_like", "full_like(x, 2.5)", "np.full_like(x, 2.5)"),
    Case::x("full_like", "full_like(x, -1)", "np.full_like(x, -1)").ndim(1, 1),
    Case::x("full_like", "full_like(x, -inf, dtype=float32, chunks=(2, 5, 1))", "np.full_like(x, -np.inf, dtype=np.float32)").ndim(3, 3),
    Case::x("full_like", "full_like(x, 255, dtype=uint8)", "np.full_like(x, 255, dtype=np.uint8)"),
    // tril / triu: the last two axes, diagonals within and beyond them, fused with x's producer.
    Case::x("tril", "tril(x)", "np.tril(x)").min_ndim(2),
    Case::x("tril", "tril(x, k=-1)", "np.tril(x, k=-1)").min_ndim(2),
    Case::x("tril", "tril(x, k=3)", "np.tril(x, k=3)").min_ndim(2),
    Case::x("tril", "tril(x * 2, k=-20)", "np.tril(x * 2, k=-20)").min_ndim(2),
    Case::x("triu", "triu(x)", "np.triu(x)").min_ndim(2),
    Case::x("triu", "triu(x, k=2)", "np.triu(x, k=2)").min_ndim(2),
    Case::x("triu", "triu(x, k=-4)", "np.triu(x, k=-4)").min_ndim(2),
    Case::x("triu", "triu(x, k=100)", "np.triu(x, k=100)").min_ndim(2),
    // Refused, once (a refusal costs an evaluation per group): fewer than 2
    // dimensions (numpy has no 0-d triangle, but broadcasts a 1-d array), a float k.
    Case::none("tril", "tril(full((), 5))", "np.tril(np.full((), 5))"),
    Case::none("triu", "triu(arange(4), k=1)", "np.triu(np.arange(4), k=1)"),
    Case::none("tril", "tril(ones((3, 4)), k=1.5)", "np.tril(np.ones((3, 4)), k=1.5)"),
];
