//! The creation functions.

use super::{all_dtypes, arg, kw, named, with_aliases, Category::Creation, Function, Param, ParamDefault as D, ParamKind as K, CHUNKS, DTYPE_NONE, X};

/// `k`: which diagonal (0 the main one, positive above it, negative below).
const K_DIAGONAL: Param = kw("k", K::Int, D::Int(0));

/// The rows of this part of the table.
pub(super) fn rows() -> Vec<Function> {
    let shape = arg("shape", K::Shape, D::Required);
    let like = |name, params: Vec<Param>, doc| named(name, Creation, params, doc, "the type of x unless dtype is given", all_dtypes());
    let triangle = |name, doc| Function { fuses: true, ..named(name, Creation, vec![X, K_DIAGONAL], doc, "the type of x", all_dtypes()) };
    vec![
        named(
            "random",
            Creation,
            vec![shape, DTYPE_NONE, CHUNKS, kw("seed", K::Int, D::Int(0))],
            "Uniform random numbers in [0, 1), reproducible from the seed.",
            "float64 (or float32)",
            vec![],
        ),
        named("zeros", Creation, vec![shape, DTYPE_NONE, CHUNKS], "An array of zeros.", "float64 unless dtype is given", vec![]),
        named("ones", Creation, vec![shape, DTYPE_NONE, CHUNKS], "An array of ones.", "float64 unless dtype is given", vec![]),
        named("empty", Creation, vec![shape, DTYPE_NONE, CHUNKS], "An uninitialised array: in cubed-rs, zeros.", "float64 unless dtype is given", vec![]),
        named(
            "full",
            Creation,
            vec![shape, arg("fill_value", K::Number, D::Required), DTYPE_NONE, CHUNKS],
            "An array filled with fill_value (an integer out of range for dtype is an error).",
            "bool, int64 or float64 as fill_value, unless dtype is given",
            vec![],
        ),
        like("empty_like", vec![X, DTYPE_NONE, CHUNKS], "An uninitialised array shaped like x (zeros; x's data is not read)."),
        like("zeros_like", vec![X, DTYPE_NONE, CHUNKS], "Zeros shaped (and chunked) like x; x's data is not read."),
        like("ones_like", vec![X, DTYPE_NONE, CHUNKS], "Ones shaped (and chunked) like x; x's data is not read."),
        like(
            "full_like",
            vec![X, arg("fill_value", K::Number, D::Required), DTYPE_NONE, CHUNKS],
            "fill_value everywhere, shaped (and chunked) like x; x's data is not read.",
        ),
        named(
            "arange",
            Creation,
            vec![arg("start", K::Number, D::Required), arg("stop", K::Number, D::None), arg("step", K::Number, D::Int(1)), DTYPE_NONE, CHUNKS],
            "Evenly spaced values in [start, stop), with numpy's length and values.",
            "int64, or float64 when an argument is a float, unless dtype is given",
            vec![],
        ),
        named(
            "linspace",
            Creation,
            vec![
                arg("start", K::Number, D::Required),
                arg("stop", K::Number, D::Required),
                arg("num", K::Int, D::Required),
                DTYPE_NONE,
                kw("endpoint", K::Bool, D::Bool(true)),
                CHUNKS,
            ],
            "num evenly spaced values from start to stop (included unless endpoint=False), as numpy computes them.",
            "float64 unless dtype is given",
            vec![],
        ),
        named(
            "eye",
            Creation,
            vec![arg("n_rows", K::Int, D::Required), arg("n_cols", K::Int, D::None), K_DIAGONAL, DTYPE_NONE, CHUNKS],
            "Ones on the k-th diagonal of an n_rows x n_cols array, zeros elsewhere.",
            "float64 unless dtype is given",
            vec![],
        ),
        triangle("tril", "x on and below the k-th diagonal of its last two axes, zeros above (ndim >= 2)."),
        triangle("triu", "x on and above the k-th diagonal of its last two axes, zeros below (ndim >= 2)."),
        with_aliases(
            named("asarray", Creation, vec![arg("obj", K::Nested, D::Required), DTYPE_NONE, CHUNKS], "An array from a number or nested tuples of numbers.", "float64 unless dtype is given", vec![]),
            &["array"],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::table::lookup;

    #[test]
    fn signatures_are_the_array_apis() {
        let cases = [
            ("linspace", "linspace(start, stop, num, *, dtype=None, endpoint=True, chunks=None)"),
            ("eye", "eye(n_rows, n_cols=None, *, k=0, dtype=None, chunks=None)"),
            ("empty", "empty(shape, *, dtype=None, chunks=None)"),
            ("empty_like", "empty_like(x, *, dtype=None, chunks=None)"),
            ("full_like", "full_like(x, fill_value, *, dtype=None, chunks=None)"),
            ("tril", "tril(x, *, k=0)"),
            ("triu", "triu(x, *, k=0)"),
            ("arange", "arange(start, stop=None, step=1, *, dtype=None, chunks=None)"),
        ];
        for (name, signature) in cases {
            assert_eq!(lookup(name).unwrap().signature(), signature);
        }
        assert!(lookup("tril").unwrap().fuses && !lookup("eye").unwrap().fuses);
    }
}
