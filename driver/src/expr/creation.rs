//! Calls of the table's creation functions.

use cubed_task::kernel::Node;
use cubed_task::plan::Spec;
use cubed_task::table::Function;
use cubed_task::DType;

use super::args::Args;
use super::err;
use super::parse::{Span, SyntaxError};
use crate::array::{Array, LogicalOp};

/// A number argument and the type Python gives it, which is also numpy's
/// default dtype for it: `bool`, `int64` (an integer) or `float64` (a float);
/// `None` when it is not given.
fn number(a: &mut Args, name: &str, span: Span) -> Result<Option<(f64, DType)>, SyntaxError> {
    let Some(x) = a.opt_array(name)? else { return Ok(None) };
    match &x.node.op {
        LogicalOp::Create { leaf: Node::Full { value, .. }, .. } if x.is_weak() => Ok(Some((*value, x.dtype()))),
        _ => Err(err(format!("{name} must be a number, found an array"), span)),
    }
}

/// A number argument that must be given.
fn required(a: &mut Args, name: &str, span: Span) -> Result<(f64, DType), SyntaxError> {
    number(a, name, span)?.ok_or_else(|| a.missing(name))
}

/// An integer argument (a bool counts, as in Python), e.g. `k`.
fn integer(f: &Function, a: &mut Args, name: &str, span: Span) -> Result<i64, SyntaxError> {
    match number(a, name, span)? {
        None => Ok(0),
        Some((v, DType::Float64)) => Err(err(format!("{}: {name} must be an integer, found the float {v:?}", f.name), span)),
        // Integers are exact (at most 2^53).
        Some((v, _)) => Ok(v as i64),
    }
}

/// The single chunk length of a 1-d result.
fn one_chunk(f: &Function, chunks: &[u64], span: Span) -> Result<u64, SyntaxError> {
    match chunks {
        [c] => Ok(*c),
        _ => Err(err(format!("{}: the result is 1-d, so chunks must have one length, e.g. chunks=(1000,), not {chunks:?}", f.name), span)),
    }
}

/// The `chunks` of a `*_like` function: `None` keeps those of `x`.
fn like_chunks(f: &Function, a: &mut Args, span: Span) -> Result<Option<Vec<u64>>, SyntaxError> {
    let Some(chunks) = a.axes("chunks")? else { return Ok(None) };
    chunks
        .iter()
        .map(|&c| u64::try_from(c).map_err(|_| err(format!("{}: chunk lengths must be positive, got {chunks:?}", f.name), span)))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Evaluates a call of creation function `f` with bound arguments `a`.
pub(crate) fn call(f: &Function, a: &mut Args, spec: &Spec, span: Span) -> Result<crate::Result<Array>, SyntaxError> {
    Ok(match f.name {
        "random" => {
            let shape = a.shape("shape")?;
            let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
            let chunks = a.chunks(&shape, dtype)?;
            crate::random(spec, &shape, &chunks, a.uint("seed")?.unwrap_or(0), dtype)
        }
        "zeros" | "ones" | "empty" | "full" => {
            let shape = a.shape("shape")?;
            // full: numpy's dtype of fill_value; the others: float64.
            let (value, default) = match f.name {
                "full" => required(a, "fill_value", span)?,
                "ones" => (1.0, DType::Float64),
                _ => (0.0, DType::Float64),
            };
            let dtype = a.dtype("dtype")?.unwrap_or(default);
            let chunks = a.chunks(&shape, dtype)?;
            match f.name {
                "empty" => crate::empty(spec, &shape, &chunks, dtype),
                _ => crate::full(spec, &shape, value, &chunks, dtype),
            }
        }
        "empty_like" | "zeros_like" | "ones_like" | "full_like" => {
            let x = a.array("x")?;
            let value = match f.name {
                "full_like" => required(a, "fill_value", span)?.0,
                "ones_like" => 1.0,
                _ => 0.0,
            };
            let dtype = a.dtype("dtype")?;
            let chunks = like_chunks(f, a, span)?;
            let chunks = chunks.as_deref();
            match f.name {
                "empty_like" => crate::empty_like(&x, dtype, chunks),
                "zeros_like" => crate::zeros_like(&x, dtype, chunks),
                "ones_like" => crate::ones_like(&x, dtype, chunks),
                _ => crate::full_like(&x, value, dtype, chunks),
            }
        }
        "arange" => {
            let first = required(a, "start", span)?;
            let (start, stop) = match number(a, "stop", span)? {
                Some(stop) => (first, stop),
                None => ((0.0, DType::Int64), first),
            };
            let step = number(a, "step", span)?.unwrap_or((1.0, DType::Int64));
            // numpy: float64 when any argument is a float, else int64 (bools count as integers).
            let any_float = [start, stop, step].iter().any(|&(_, t)| t == DType::Float64);
            let dtype = a.dtype("dtype")?.unwrap_or(if any_float { DType::Float64 } else { DType::Int64 });
            let len = match crate::creation::arange_length(start.0, stop.0, step.0) {
                Ok(len) => len,
                Err(e) => return Ok(Err(e)),
            };
            let chunk = one_chunk(f, &a.chunks(&[len], dtype)?, span)?;
            crate::arange(spec, start.0, stop.0, step.0, chunk, dtype)
        }
        "linspace" => {
            let start = a.number("start")?.ok_or_else(|| a.missing("start"))?;
            let stop = a.number("stop")?.ok_or_else(|| a.missing("stop"))?;
            let num = a.uint("num")?.ok_or_else(|| a.missing("num"))?;
            let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
            let endpoint = a.bool("endpoint")?;
            let chunk = one_chunk(f, &a.chunks(&[num], dtype)?, span)?;
            crate::linspace(spec, start, stop, num, endpoint, chunk, dtype)
        }
        "eye" => {
            let n_rows = a.uint("n_rows")?.ok_or_else(|| a.missing("n_rows"))?;
            let n_cols = a.uint("n_cols")?.unwrap_or(n_rows);
            let k = integer(f, a, "k", span)?;
            let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
            let chunks = a.chunks(&[n_rows, n_cols], dtype)?;
            crate::eye(spec, n_rows, n_cols, k, &chunks, dtype)
        }
        "tril" | "triu" => {
            let x = a.array("x")?;
            let k = integer(f, a, "k", span)?;
            if f.name == "tril" {
                crate::tril(&x, k)
            } else {
                crate::triu(&x, k)
            }
        }
        "asarray" => {
            let (values, shape, inferred) = a.nested("obj")?;
            let dtype = a.dtype("dtype")?.unwrap_or(inferred);
            let chunks = a.chunks(&shape, dtype)?;
            crate::asarray(spec, values, &shape, &chunks, dtype)
        }
        other => return Err(err(format!("internal error: '{other}' is a creation function of the table without an implementation"), span)),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use cubed_task::table::{Category, FUNCTIONS};

    use super::*;

    fn eval(source: &str) -> Result<Array, String> {
        let spec = Spec::new("memory://expr-creation/work");
        let x = crate::zeros(&spec, &[3, 4], &[2, 3], DType::Int16).unwrap();
        let inputs = HashMap::from([("x".to_string(), x)]);
        crate::expr::evaluate(source, &spec, &inputs).map(|mut r| r.remove(0)).map_err(|e| e.to_string())
    }

    fn error(source: &str) -> String {
        eval(source).expect_err(source)
    }

    #[test]
    fn every_creation_row_is_implemented() {
        let calls = [
            "random((2,))", "zeros(2)", "ones(2)", "empty(2)", "full(2, 1)", "empty_like(x)", "zeros_like(x)", "ones_like(x)", "full_like(x, 1)",
            "arange(3)", "linspace(0, 1, 3)", "eye(2)", "tril(x)", "triu(x)", "asarray((1, 2))",
        ];
        for f in FUNCTIONS.iter().filter(|f| f.category == Category::Creation) {
            let call = calls.iter().find(|c| c.starts_with(&format!("{}(", f.name))).unwrap_or_else(|| panic!("no example call of {}", f.name));
            eval(call).unwrap_or_else(|e| panic!("{call}: {e}"));
        }
    }

    #[test]
    fn default_dtypes_follow_numpy() {
        let cases = [
            ("full(2, 3)", DType::Int64),
            ("full(2, True)", DType::Bool),
            ("full(2, 2.5)", DType::Float64),
            ("full(2, 3, dtype=uint8)", DType::Uint8),
            ("arange(3)", DType::Int64),
            ("arange(True)", DType::Int64),
            ("arange(3.0)", DType::Float64),
            ("arange(0, 3, 1.0)", DType::Float64),
            ("linspace(0, 3, 4)", DType::Float64),
            ("eye(3)", DType::Float64),
            ("empty(3)", DType::Float64),
            ("zeros_like(x)", DType::Int16),
            ("full_like(x, 2.5)", DType::Int16),
            ("ones_like(x, dtype=float32)", DType::Float32),
            ("tril(x)", DType::Int16),
            ("triu(x > 0)", DType::Bool),
        ];
        for (source, dtype) in cases {
            assert_eq!(eval(source).unwrap().dtype(), dtype, "{source}");
        }
    }

    #[test]
    fn like_functions_keep_the_shape_and_chunks_unless_given() {
        let a = eval("zeros_like(x)").unwrap();
        assert_eq!((a.shape(), a.chunks()), (&[3, 4][..], &[2, 3][..]));
        let b = eval("full_like(x, 7, chunks=(3, 1))").unwrap();
        assert_eq!((b.shape(), b.chunks()), (&[3, 4][..], &[3, 1][..]));
        // Only the shape is read: nothing of x is in the result's graph.
        assert!(matches!(b.node.op, LogicalOp::Create { .. }));
    }

    #[test]
    fn bad_arguments_are_clear_errors_at_their_column() {
        let cases = [
            ("linspace(0, 1, -1)", "num must be a non-negative integer", 16),
            ("linspace(0, 1, 2.0)", "num must be a non-negative integer, found a float", 16),
            ("eye(2.5)", "n_rows must be a non-negative integer, found a float", 5),
            ("eye(-1)", "n_rows must be a non-negative integer", 5),
            ("eye(3, k=1.5)", "eye: k must be an integer, found the float 1.5", 1),
            ("tril(x, k=1.0)", "tril: k must be an integer, found the float 1.0", 1),
            ("tril(arange(3))", "tril: x must have at least 2 dimensions", 1),
            ("triu(5)", "triu: x must have at least 2 dimensions", 1),
            ("tril(x, 1)", "tril() takes 1 positional argument but 2 were given", 9),
            ("full(2, 300, dtype=uint8)", "full: Python integer 300 out of bounds for uint8", 1),
            ("full_like(astype(x, uint8), -1)", "full_like: Python integer -1 out of bounds for uint8", 1),
            ("full(2, 'a')", "expected an array or a number, found a string", 9),
            ("full(2, x)", "fill_value must be a number, found an array", 1),
            ("arange(0, 10, 0)", "arange: the step must not be zero", 1),
            ("arange(0, nan)", "arange: cannot compute length", 1),
            ("arange(3, dtype=bool)", "arange: only supported for booleans when the result has at most length 2", 1),
            ("arange(-1, 2, dtype=uint8)", "arange: Python integer -1 out of bounds for uint8", 1),
            ("arange(250, 270, 10, dtype=uint8)", "arange: Python integer 260 out of bounds for uint8", 1),
            ("arange(0, 300, 100, dtype=int8)", "arange: its last value, 200, is out of bounds for int8", 1),
            ("arange(5, chunks=(2, 2))", "arange: the result is 1-d, so chunks must have one length", 1),
            ("linspace(0, 300, 4, dtype=uint8)", "linspace: 0 to 300 in 4 values gives 300, which uint8 cannot hold", 1),
            ("zeros_like(x, chunks=(-1, 2))", "zeros_like: chunk lengths must be positive", 1),
        ];
        for (source, words, column) in cases {
            let e = error(source);
            assert!(e.contains(words), "{source}: {e}");
            assert!(e.starts_with(&format!("error at line 1, column {column}: ")), "{source}: {e}");
        }
    }
}
