//! Binding a call's arguments to a function's parameters (from the function
//! table), and taking them by name with the type each parameter needs.

use std::collections::HashMap;

use cubed_task::plan::Spec;
use cubed_task::table::{Function, Param, ParamDefault};
use cubed_task::DType;

use super::parse::{Expr, Keyword, Span, SyntaxError};
use super::value::{exact_int, to_array, Value};
use super::{auto_chunks, err, Evaluator};
use crate::array::Array;

/// The arguments of one call, bound to the function's parameters (from
/// the function table) and taken by name.
pub(crate) struct Args<'e> {
    func: &'static str,
    span: Span,
    values: HashMap<&'static str, (Value, Span)>,
    spec: &'e Spec,
}

impl<'e> Args<'e> {
    /// Binds positional and keyword arguments as Python would, filling in
    /// defaults; errors point at the offending argument.
    pub(crate) fn bind(ev: &mut Evaluator<'e>, f: &'static Function, span: Span, args: &[Expr], kwargs: &[Keyword]) -> Result<Args<'e>, SyntaxError> {
        let mut values = HashMap::new();
        let positional: Vec<&Param> = f.params.iter().filter(|p| !p.keyword_only).collect();
        for (i, x) in args.iter().enumerate() {
            if let Some(p) = positional.get(i).filter(|p| p.variadic) {
                // `*arrays`: this and every later positional argument, as a tuple.
                let rest = args[i..].iter().map(|a| ev.eval(a)).collect::<Result<Vec<_>, _>>()?;
                values.insert(p.name, (Value::Tuple(rest), x.span));
                break;
            }
            let Some(p) = positional.get(i) else {
                let n = positional.len();
                return Err(err(format!("{}() takes {n} positional argument{} but {} were given; signature: {}", f.name, if n == 1 { "" } else { "s" }, args.len(), f.signature()), x.span));
            };
            values.insert(p.name, (ev.eval(x)?, x.span));
        }
        for k in kwargs {
            let Some(p) = f.params.iter().find(|p| p.name == k.name) else {
                return Err(err(format!("{}() got an unexpected keyword argument '{}'; signature: {}", f.name, k.name, f.signature()), k.name_span));
            };
            if values.contains_key(p.name) {
                return Err(err(format!("{}() got multiple values for argument '{}'", f.name, p.name), k.name_span));
            }
            values.insert(p.name, (ev.eval(&k.value)?, k.value.span));
        }
        for p in &f.params {
            if values.contains_key(p.name) {
                continue;
            }
            let v = match p.default {
                ParamDefault::Required => return Err(err(format!("{}() is missing its argument '{}'; signature: {}", f.name, p.name, f.signature()), span)),
                ParamDefault::None => Value::None,
                ParamDefault::Bool(b) => Value::Bool(b),
                ParamDefault::Int(i) => Value::Int(i),
                ParamDefault::Float(x) => Value::Float(x),
                ParamDefault::Str(t) => Value::Str(t.to_string()),
            };
            values.insert(p.name, (v, span));
        }
        Ok(Args { func: f.name, span, values, spec: ev.spec })
    }

    fn take(&mut self, name: &str) -> (Value, Span) {
        self.values.remove(name).unwrap_or((Value::None, self.span))
    }

    pub(crate) fn missing(&self, name: &str) -> SyntaxError {
        err(format!("{}() is missing its argument '{name}'", self.func), self.span)
    }

    pub(crate) fn array(&mut self, name: &str) -> Result<Array, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Err(self.missing(name)),
            (v, s) => to_array(self.spec, v, s),
        }
    }

    pub(crate) fn opt_array(&mut self, name: &str) -> Result<Option<Array>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (v, s) => to_array(self.spec, v, s).map(Some),
        }
    }

    pub(crate) fn number(&mut self, name: &str) -> Result<Option<f64>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (Value::Int(i), s) => exact_int(i, s).map(Some),
            (Value::Float(f), _) => Ok(Some(f)),
            (Value::Bool(b), _) => Ok(Some(f64::from(u8::from(b)))),
            (v, s) => Err(err(format!("{name} must be a number, found {}", v.describe()), s)),
        }
    }

    pub(crate) fn uint(&mut self, name: &str) -> Result<Option<u64>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (Value::Int(i), _) if i >= 0 => Ok(Some(i as u64)),
            (v, s) => Err(err(format!("{name} must be a non-negative integer, found {}", v.describe()), s)),
        }
    }

    pub(crate) fn int(&mut self, name: &str) -> Result<Option<i64>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (Value::Int(i), _) => Ok(Some(i)),
            (v, s) => Err(err(format!("{name} must be an integer, found {}", v.describe()), s)),
        }
    }

    /// A tuple of arrays (numbers are taken as scalar arrays), or for a
    /// variadic parameter the remaining positional arguments.
    pub(crate) fn arrays(&mut self, name: &str) -> Result<Vec<Array>, SyntaxError> {
        match self.take(name) {
            (Value::Tuple(items), s) => items.into_iter().map(|v| to_array(self.spec, v, s)).collect(),
            (v, s) => Err(err(format!("{name} must be a tuple of arrays, found {}", v.describe()), s)),
        }
    }

    /// The value as given, with where it is (for parameters with their own syntax).
    pub(crate) fn raw(&mut self, name: &str) -> (Value, Span) {
        self.take(name)
    }

    pub(crate) fn bool(&mut self, name: &str) -> Result<bool, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(false),
            (Value::Bool(b), _) => Ok(b),
            (v, s) => Err(err(format!("{name} must be True or False, found {}", v.describe()), s)),
        }
    }

    pub(crate) fn dtype(&mut self, name: &str) -> Result<Option<DType>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (Value::DType(d), _) => Ok(Some(d)),
            (Value::Str(s), span) => DType::parse(&s).map(Some).ok_or_else(|| err(DType::unknown(&s), span)),
            (v, s) => Err(err(format!("{name} must be a dtype such as float64, found {}", v.describe()), s)),
        }
    }

    fn shape_of(v: Value, s: Span, name: &str) -> Result<Vec<u64>, SyntaxError> {
        let bad = |v: &Value| err(format!("{name} must be a tuple of non-negative integers, found {}", v.describe()), s);
        match v {
            Value::Int(i) if i >= 0 => Ok(vec![i as u64]),
            Value::Tuple(items) => items
                .iter()
                .map(|x| match x {
                    Value::Int(i) if *i >= 0 => Ok(*i as u64),
                    other => Err(bad(other)),
                })
                .collect(),
            other => Err(bad(&other)),
        }
    }

    pub(crate) fn shape(&mut self, name: &str) -> Result<Vec<u64>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Err(self.missing(name)),
            (v, s) => Self::shape_of(v, s, name),
        }
    }

    pub(crate) fn chunks(&mut self, shape: &[u64], dtype: DType) -> Result<Vec<u64>, SyntaxError> {
        match self.take("chunks") {
            (Value::None, _) => Ok(auto_chunks(shape, dtype.itemsize())),
            (v, s) => Self::shape_of(v, s, "chunks"),
        }
    }

    pub(crate) fn axes(&mut self, name: &str) -> Result<Option<Vec<i64>>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (Value::Int(i), _) => Ok(Some(vec![i])),
            (Value::Tuple(items), s) => items
                .iter()
                .map(|x| match x {
                    Value::Int(i) => Ok(*i),
                    other => Err(err(format!("{name} must hold integers, found {}", other.describe()), s)),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            (v, s) => Err(err(format!("{name} must be an integer, a tuple of integers or None, found {}", v.describe()), s)),
        }
    }

    /// A number or nested tuple of numbers: row-major values, shape, and the
    /// type numpy infers for them (bool when all are bools, int64 when all
    /// are integers or bools, else float64).
    pub(crate) fn nested(&mut self, name: &str) -> Result<(Vec<f64>, Vec<u64>, DType), SyntaxError> {
        fn walk(v: &Value, depth: usize, shape: &mut Vec<u64>, out: &mut Vec<f64>, kind: &mut DType, s: Span) -> Result<(), SyntaxError> {
            match v {
                Value::Int(i) => {
                    out.push(exact_int(*i, s)?);
                    *kind = (*kind).max(DType::Int64);
                }
                Value::Float(f) => {
                    out.push(*f);
                    *kind = DType::Float64;
                }
                Value::Bool(b) => out.push(f64::from(u8::from(*b))),
                Value::Tuple(items) => {
                    if shape.len() == depth {
                        shape.push(items.len() as u64);
                    } else if shape[depth] != items.len() as u64 {
                        return Err(err("asarray: nested tuples must all have the same length (a rectangular array)", s));
                    }
                    for x in items {
                        walk(x, depth + 1, shape, out, kind, s)?;
                    }
                }
                other => return Err(err(format!("asarray needs numbers or tuples of numbers, found {}", other.describe()), s)),
            }
            Ok(())
        }
        let (v, s) = match self.take(name) {
            (Value::None, _) => return Err(self.missing(name)),
            other => other,
        };
        let (mut shape, mut values, mut kind) = (vec![], vec![], DType::Bool);
        walk(&v, 0, &mut shape, &mut values, &mut kind, s)?;
        // An empty tuple holds no values: numpy makes it float64.
        if values.is_empty() {
            kind = DType::Float64;
        }
        Ok((values, shape, kind))
    }
}
