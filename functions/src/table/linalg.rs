//! The linear algebra functions: contractions, one block of each operand
//! per task, summed over the contracted blocks in rounds of `split_every`.

use super::{arg, kw, named, numeric, Category::LinearAlgebra, Function, ParamDefault as D, ParamKind as K};

/// The rows of this part of the table.
pub(super) fn rows() -> Vec<Function> {
    let row = |name, params, doc| named(name, LinearAlgebra, params, doc, "x1 and x2 promoted", numeric());
    let pair = || vec![arg("x1", K::Array, D::Required), arg("x2", K::Array, D::Required)];
    vec![
        Function {
            operator: Some("@"),
            ..row("matmul", pair(), "Matrix product over the last two axes, the others stacks that broadcast; a 1-d operand is a vector (numpy's matmul).")
        },
        row(
            "tensordot",
            vec![arg("x1", K::Array, D::Required), arg("x2", K::Array, D::Required), kw("axes", K::Key, D::Int(2))],
            "Sum of products over the last `axes` axes of x1 and the first of x2, or over the axes of a pair of sequences ((a_axes), (b_axes)).",
        ),
        row("vecdot", vec![arg("x1", K::Array, D::Required), arg("x2", K::Array, D::Required), kw("axis", K::Int, D::Int(-1))], "Dot product along axis (negative, of the broadcast shape); the other axes broadcast."),
        row("inner", pair(), "Sum of products over the last axes of x1 and x2 (numpy's inner; scalars multiply)."),
        row("outer", pair(), "Outer product: every element of x1 times every element of x2 (operands that are not vectors are flattened, as numpy does)."),
    ]
}
