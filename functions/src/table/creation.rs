//! The creation functions.

use super::{arg, kw, named, with_aliases, Category::Creation, Function, ParamDefault as D, ParamKind as K, CHUNKS, DTYPE_NONE};

/// The rows of this part of the table.
pub(super) fn rows() -> Vec<Function> {
    vec![
        named(
            "random",
            Creation,
            vec![arg("shape", K::Shape, D::Required), DTYPE_NONE, CHUNKS, kw("seed", K::Int, D::Int(0))],
            "Uniform random numbers in [0, 1), reproducible from the seed.",
            "float64 (or float32)",
            vec![],
        ),
        named("zeros", Creation, vec![arg("shape", K::Shape, D::Required), DTYPE_NONE, CHUNKS], "An array of zeros.", "float64 unless dtype is given", vec![]),
        named("ones", Creation, vec![arg("shape", K::Shape, D::Required), DTYPE_NONE, CHUNKS], "An array of ones.", "float64 unless dtype is given", vec![]),
        named(
            "full",
            Creation,
            vec![arg("shape", K::Shape, D::Required), arg("fill_value", K::Number, D::Required), DTYPE_NONE, CHUNKS],
            "An array filled with fill_value.",
            "float64 unless dtype is given",
            vec![],
        ),
        named(
            "arange",
            Creation,
            vec![arg("start", K::Number, D::Required), arg("stop", K::Number, D::None), arg("step", K::Number, D::Int(1)), DTYPE_NONE, CHUNKS],
            "Evenly spaced values in [start, stop).",
            "int64 unless dtype is given",
            vec![],
        ),
        with_aliases(
            named("asarray", Creation, vec![arg("obj", K::Nested, D::Required), DTYPE_NONE, CHUNKS], "An array from a number or nested tuples of numbers.", "float64 unless dtype is given", vec![]),
            &["array"],
        ),
    ]
}
