//! The manipulation functions: indexing, transposes, axes added and
//! removed, flips, broadcasts, rolls, tiles, repeats and rechunking. All but
//! `rechunk` only move elements: they are views, which fuse with their
//! neighbours and read only the chunks they touch.

use super::{all_dtypes, arg, named, star, Category::Manipulation, Function, Param, ParamDefault as D, ParamKind as K, X};

/// The rows of this part of the table.
pub(super) fn rows() -> Vec<Function> {
    let row = |name, params: Vec<Param>, doc| Function { fuses: true, ..named(name, Manipulation, params, doc, "the type of x", all_dtypes()) };
    let axis_none = arg("axis", K::Axes, D::None);
    vec![
        Function {
            operator: Some("x[key]"),
            ..row(
                "getitem",
                vec![X, arg("key", K::Key, D::Required)],
                "numpy basic indexing: an integer (negative from the end) drops its axis, a slice start:stop:step (any step, negative too) keeps it, None adds an axis, ... stands for the rest; out-of-range integers are an error before launch. Reads only the chunks it touches.",
            )
        },
        row(
            "take",
            vec![X, arg("indices", K::Key, D::Required), arg("axis", K::Int, D::None)],
            "The elements at indices along axis (negative from the end, any order, repeats allowed; without axis from the flattened x): inline, or a 1-d integer Zarr array given as an input; out-of-range indices are an error before launch.",
        ),
        Function {
            aliases: &["transpose"],
            operator: Some("x.T"),
            ..row("permute_dims", vec![X, axis_none_named("axes")], "The axes reordered: axis k of the result is axis axes[k] of x (all reversed when axes is None, as numpy's transpose and x.T).")
        },
        Function { operator: Some("x.mT"), ..row("matrix_transpose", vec![X], "The last two axes swapped (x needs at least two).") },
        row(
            "moveaxis",
            vec![X, arg("source", K::Axes, D::Required), arg("destination", K::Axes, D::Required)],
            "Axes source moved to positions destination; the other axes keep their order.",
        ),
        row("swapaxes", vec![X, arg("axis1", K::Int, D::Required), arg("axis2", K::Int, D::Required)], "Axes axis1 and axis2 interchanged."),
        row("expand_dims", vec![X, arg("axis", K::Axes, D::Int(0))], "New axes of length 1 at positions axis of the result."),
        row("squeeze", vec![X, axis_none], "Axes of length 1 removed: those given (each must have length 1), or all."),
        row("flip", vec![X, axis_none], "The order of elements reversed along axis (all axes when None)."),
        row("broadcast_to", vec![X, arg("shape", K::Shape, D::Required)], "x broadcast to shape (numpy's rules); the chunks of a broadcast axis grow up to 32 MB."),
        Function {
            rule: super::DTypeRule::Described("a tuple: the type of each array"),
            ..row("broadcast_arrays", vec![star("arrays")], "The arrays broadcast against each other: a tuple of results (one --output each).")
        },
        row(
            "roll",
            vec![X, arg("shift", K::Axes, D::Required), axis_none],
            "Elements shifted along axis, those past the end coming back at the start (one shift per axis, or one for all; without axis the flattened x is rolled, keeping its shape).",
        ),
        row(
            "reshape",
            vec![X, arg("shape", K::Shape, D::Required)],
            "x's elements in row-major order laid out in shape (one length may be -1); x is rechunked to whole rows of the axes that merge or split when its chunks are not.",
        ),
        row("tile", vec![X, arg("repetitions", K::Shape, D::Required)], "x repeated along each axis (a shorter repetitions is padded with 1s in front; a longer one adds leading axes)."),
        row(
            "repeat",
            vec![X, arg("repeats", K::Int, D::Required), arg("axis", K::Int, D::None)],
            "Each element repeated repeats times along axis (one count for all; without axis x is flattened first).",
        ),
        Function {
            aliases: &["concatenate"],
            rule: super::DTypeRule::Described("the arrays promoted"),
            ..row("concat", vec![arg("arrays", K::Arrays, D::Required), arg("axis", K::Int, D::Int(0))], "The arrays joined along axis (each output chunk reads only the parts it overlaps; they may be chunked differently).")
        },
        Function {
            rule: super::DTypeRule::Described("the arrays promoted"),
            ..row("stack", vec![arg("arrays", K::Arrays, D::Required), arg("axis", K::Int, D::Int(0))], "The arrays (of one shape) joined along a new axis.")
        },
        Function {
            rule: super::DTypeRule::Described("a tuple: the type of x"),
            ..row("unstack", vec![X, arg("axis", K::Int, D::Int(0))], "The arrays along axis, one per position: a tuple of results.")
        },
        row(
            "pad",
            vec![X, arg("pad_width", K::Nested, D::Required), arg("mode", K::Str, D::Str("constant")), arg("constant_values", K::Number, D::Int(0))],
            "x with constant_values added before and after each axis: pad_width is n, (before, after) or one pair per axis (mode 'constant' only).",
        ),
        named("rechunk", Manipulation, vec![X, arg("chunks", K::Shape, D::Required)], "x with a new chunk shape (bounded memory, through intermediates when needed).", "the type of x", all_dtypes()),
    ]
}

/// An optional axes parameter called `name`.
fn axis_none_named(name: &'static str) -> Param {
    arg(name, K::Axes, D::None)
}
