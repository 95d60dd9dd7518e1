//! Indexing (`x[0:90, ::2, -1]`, `x.T`) and calls of the table's
//! manipulation functions.

use cubed_task::table::Function;

use super::args::Args;
use super::parse::{Index as SynIndex, Span, SyntaxError};
use super::value::Value;
use super::{err, Evaluator};
use crate::array::Array;
use crate::indexing::{Index, Slice};
use crate::CubedError;

impl Evaluator<'_> {
    /// One item of a subscript's index list.
    pub(super) fn index_item(&mut self, item: &SynIndex) -> Result<Index, SyntaxError> {
        match item {
            SynIndex::Ellipsis(_) => Ok(Index::Ellipsis),
            SynIndex::Expr(e) => key_item(self.eval(e)?, e.span),
            SynIndex::Slice { start, stop, step, .. } => {
                let mut part = |p: &Option<Box<super::parse::Expr>>| -> Result<Option<i64>, SyntaxError> {
                    let Some(e) = p else { return Ok(None) };
                    match self.eval(e)? {
                        Value::None => Ok(None),
                        Value::Int(i) => Ok(Some(i)),
                        Value::Bool(b) => Ok(Some(i64::from(b))),
                        other => Err(err(format!("slice indices must be integers or None, found {}", other.describe()), e.span)),
                    }
                };
                Ok(Index::Slice(Slice::new(part(start)?, part(stop)?, part(step)?)))
            }
        }
    }

    /// `value[index]`: an array indexed, or one item of a tuple of results.
    pub(super) fn subscript(&mut self, value: Value, index: &[SynIndex], span: Span) -> Result<Value, SyntaxError> {
        let x = match value {
            Value::Array(a) => a,
            Value::Tuple(items) => return self.tuple_item(items, index, span),
            other => return Err(err(format!("{} cannot be indexed; only arrays (and tuples of results) can", other.describe()), span)),
        };
        let items = index.iter().map(|i| self.index_item(i)).collect::<Result<Vec<_>, _>>()?;
        crate::getitem(&x, &items).map(Value::Array).map_err(|e| err(e.to_string(), span))
    }

    /// A tuple (of results, or a shape) indexed as Python does: an integer
    /// gives one item, a slice a tuple.
    fn tuple_item(&mut self, items: Vec<Value>, index: &[SynIndex], span: Span) -> Result<Value, SyntaxError> {
        let one = "a tuple is indexed with one integer or slice";
        let [item] = index else { return Err(err(one, span)) };
        let n = items.len() as u64;
        match self.index_item(item)? {
            Index::Int(i) => crate::indexing::position(i, n)
                .and_then(|k| items.into_iter().nth(k as usize))
                .ok_or_else(|| err(format!("tuple index {i} is out of range for a tuple of {n}"), item.span())),
            Index::Slice(s) => {
                let (start, step, len) = s.indices(n).map_err(|e| err(e.to_string(), item.span()))?;
                let picked = (0..len).map(|t| items[(i128::from(start) + i128::from(step) * i128::from(t)) as usize].clone());
                Ok(Value::Tuple(picked.collect()))
            }
            _ => Err(err(one, item.span())),
        }
    }

    /// `value.name`: the transposes and the array's properties.
    pub(super) fn attribute(&mut self, value: Value, name: &str, span: Span) -> Result<Value, SyntaxError> {
        let Value::Array(x) = value else {
            return Err(err(format!("{} has no attribute '{name}'", value.describe()), span));
        };
        let api = |r: crate::Result<Array>| r.map(Value::Array).map_err(|e| err(e.to_string(), span));
        match name {
            "T" => api(crate::transpose(&x)),
            "mT" => api(crate::matrix_transpose(&x)),
            "shape" => Ok(Value::Tuple(x.shape().iter().map(|&s| Value::Int(s as i64)).collect())),
            "ndim" => Ok(Value::Int(x.ndim() as i64)),
            // Sizes are checked against 2^63 bytes, so the count fits.
            "size" => Ok(Value::Int(cubed_task::plan::saturating_product(x.shape()).min(i64::MAX as u64) as i64)),
            "dtype" => Ok(Value::DType(x.dtype())),
            other => Err(err(format!("arrays have no attribute '{other}': they have .T, .mT, .shape, .ndim, .size and .dtype, and methods x.f(...) for the functions f taking x first"), span)),
        }
    }
}

/// One index item given as a value (a subscript's item, or `getitem`'s key).
fn key_item(v: Value, span: Span) -> Result<Index, SyntaxError> {
    match v {
        Value::Int(i) => Ok(Index::Int(i)),
        Value::None => Ok(Index::NewAxis),
        Value::Bool(_) => Err(err("boolean indices are not supported yet (numpy adds an axis for them); use where(...)", span)),
        Value::Array(_) => Err(err("indexing with an array (numpy's advanced indexing) is not supported yet; use slices and integers", span)),
        other => Err(err(
            format!("only integers, slices (`:`), ellipsis (`...`) and None are valid indices, found {}", other.describe()),
            span,
        )),
    }
}

/// Evaluates a call of manipulation function `f` with bound arguments `a`.
pub(crate) fn call(f: &Function, a: &mut Args) -> Result<crate::Result<Value>, SyntaxError> {
    let tuple = |r: crate::Result<Vec<Array>>| r.map(|v| Value::Tuple(v.into_iter().map(Value::Array).collect()));
    match f.name {
        "broadcast_arrays" | "concat" | "stack" => {
            let arrays = a.arrays("arrays")?;
            let refs: Vec<&Array> = arrays.iter().collect();
            return Ok(match f.name {
                "broadcast_arrays" => tuple(crate::broadcast_arrays(&refs)),
                "concat" => crate::concat(&refs, a.int("axis")?.unwrap_or(0)).map(Value::Array),
                _ => crate::stack(&refs, a.int("axis")?.unwrap_or(0)).map(Value::Array),
            });
        }
        "unstack" => {
            let x = a.array("x")?;
            return Ok(tuple(crate::unstack(&x, a.int("axis")?.unwrap_or(0))));
        }
        _ => {}
    }
    let x = a.array("x")?;
    let required = |v: Option<Vec<i64>>, name: &str| v.ok_or_else(|| CubedError::Invalid(format!("{}: {name} is required", f.name)));
    let result = match f.name {
        "getitem" => {
            let (key, span) = a.raw("key");
            let items = match key {
                Value::Tuple(items) => items.into_iter().map(|v| key_item(v, span)).collect::<Result<Vec<_>, _>>()?,
                v => vec![key_item(v, span)?],
            };
            crate::getitem(&x, &items)
        }
        "take" => {
            let (indices, span) = a.raw("indices");
            let axis = a.int("axis")?;
            match indices {
                Value::Array(i) => crate::take_array(&x, &i, axis),
                Value::Int(i) => crate::take(&x, &[i], axis).and_then(|t| {
                    // A scalar index drops the axis, as numpy's.
                    let k = axis.unwrap_or(0);
                    crate::squeeze(&t, Some(&[k]))
                }),
                Value::Tuple(items) => {
                    let list = items.iter().map(|v| if let Value::Int(i) = v { Some(*i) } else { None }).collect::<Option<Vec<_>>>();
                    let list = list.ok_or_else(|| err("take: indices must be integers", span))?;
                    crate::take(&x, &list, axis)
                }
                other => return Err(err(format!("take: indices must be an integer, a tuple of integers or an integer array, found {}", other.describe()), span)),
            }
        }
        "permute_dims" => match a.axes("axes")? {
            Some(axes) => crate::permute_dims(&x, &axes),
            None => crate::transpose(&x),
        },
        "matrix_transpose" => crate::matrix_transpose(&x),
        "moveaxis" => {
            let (source, destination) = (a.axes("source")?, a.axes("destination")?);
            required(source, "source").and_then(|s| crate::moveaxis(&x, &s, &required(destination, "destination")?))
        }
        "swapaxes" => {
            let (a1, a2) = (a.int("axis1")?, a.int("axis2")?);
            crate::swapaxes(&x, a1.unwrap_or(0), a2.unwrap_or(0))
        }
        "expand_dims" => crate::expand_dims(&x, &a.axes("axis")?.unwrap_or_default()),
        "squeeze" => crate::squeeze(&x, a.axes("axis")?.as_deref()),
        "flip" => crate::flip(&x, a.axes("axis")?.as_deref()),
        "broadcast_to" => crate::broadcast_to(&x, &a.shape("shape")?),
        "roll" => {
            let (shift, axis) = (a.axes("shift")?, a.axes("axis")?);
            required(shift, "shift").and_then(|s| crate::roll(&x, &s, axis.as_deref()))
        }
        "tile" => crate::tile(&x, &a.shape("repetitions")?),
        "reshape" => required(a.axes("shape")?, "shape").and_then(|s| crate::reshape(&x, &s)),
        "repeat" => {
            let repeats = a.int("repeats")?.unwrap_or(1);
            let axis = a.int("axis")?;
            match u64::try_from(repeats) {
                Ok(r) => crate::repeat(&x, r, axis),
                Err(_) => Err(CubedError::Invalid(format!("repeat: repeats must be non-negative, got {repeats}"))),
            }
        }
        "pad" => {
            let (mode, mode_span) = a.raw("mode");
            if !matches!(&mode, Value::Str(m) if m == "constant") {
                return Err(err("pad: only mode='constant' is supported yet", mode_span));
            }
            let (widths, span) = a.raw("pad_width");
            let widths = pad_widths(widths, x.ndim()).ok_or_else(|| err("pad_width must be n, (before, after) or one (before, after) pair per axis, of non-negative integers", span))?;
            let value = a.number("constant_values")?.unwrap_or(0.0);
            crate::pad(&x, &widths, value)
        }
        "rechunk" => crate::rechunk(&x, &a.shape("chunks")?),
        other => Err(CubedError::Invalid(format!("internal error: '{other}' is in the function table but has no implementation"))),
    };
    Ok(result.map(Value::Array))
}

/// numpy's forms of `pad_width`: `n`, `(n,)`, `(before, after)` for every
/// axis, or one such per axis.
fn pad_widths(v: Value, ndim: usize) -> Option<Vec<(u64, u64)>> {
    let int = |v: &Value| match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    };
    let pair = |v: &Value| -> Option<(u64, u64)> {
        match v {
            Value::Int(_) => int(v).map(|n| (n, n)),
            Value::Tuple(items) => match items.as_slice() {
                [n] => int(n).map(|n| (n, n)),
                [b, a] => Some((int(b)?, int(a)?)),
                _ => None,
            },
            _ => None,
        }
    };
    match &v {
        Value::Tuple(items) if items.len() == ndim && items.iter().all(|i| matches!(i, Value::Tuple(_))) => items.iter().map(pair).collect(),
        _ => pair(&v).map(|p| vec![p; ndim]),
    }
}
