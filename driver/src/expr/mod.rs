//! The expression language of `cubed eval`: a numpy-like syntax that maps one
//! to one onto the Rust API, e.g. `mean(a*a + b*b, axis=0)`.
//!
//! [`parse`] turns text into a syntax tree; [`evaluate`] turns the tree into
//! lazy [`Array`]s. Every error carries the span it is about, so the CLI can
//! point at the column.

pub mod parse;

use std::collections::HashMap;

use cubed_task::plan::Spec;
use cubed_task::DType;

use crate::array::Array;
use crate::error::CubedError;
use parse::{BinaryOp as SynBinary, Expr, ExprKind, Keyword, Literal, Span, SyntaxError, UnaryOp as SynUnary};

/// A value while evaluating.
#[derive(Clone)]
enum Value {
    Array(Array),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    None,
    Tuple(Vec<Value>),
    DType(DType),
}

impl Value {
    fn describe(&self) -> &'static str {
        match self {
            Value::Array(_) => "an array",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a bool",
            Value::Str(_) => "a string",
            Value::None => "None",
            Value::Tuple(_) => "a tuple",
            Value::DType(_) => "a dtype",
        }
    }
}

/// Target size of one chunk when a creation function is given no `chunks`.
const AUTO_CHUNK_BYTES: u64 = 32 << 20;

/// Chunks of at most ~32 MB: halve the longest chunk axis until small enough.
pub fn auto_chunks(shape: &[u64], itemsize: u64) -> Vec<u64> {
    let mut chunks: Vec<u64> = shape.iter().map(|&s| s.max(1)).collect();
    while cubed_task::plan::saturating_product(&chunks).saturating_mul(itemsize) > AUTO_CHUNK_BYTES {
        let k = (0..chunks.len()).max_by_key(|&k| chunks[k]).expect("non-empty when over the target");
        if chunks[k] == 1 {
            break;
        }
        chunks[k] = chunks[k].div_ceil(2);
    }
    chunks
}

/// Evaluates a program; returns the result arrays (a top-level tuple gives several).
pub fn evaluate(source: &str, spec: &Spec, inputs: &HashMap<String, Array>) -> Result<Vec<Array>, EvalError> {
    let program = parse::parse(source).map_err(|e| EvalError::Syntax(e.render(source)))?;
    let mut ev = Evaluator { spec, names: inputs.iter().map(|(k, v)| (k.clone(), Value::Array(v.clone()))).collect() };
    let run = |ev: &mut Evaluator| -> Result<Vec<Array>, SyntaxError> {
        for b in &program.bindings {
            let v = ev.eval(&b.value)?;
            ev.names.insert(b.name.clone(), v);
        }
        let result = ev.eval(&program.result)?;
        let items = match result {
            Value::Tuple(items) => items,
            other => vec![other],
        };
        items
            .into_iter()
            .map(|v| match v {
                Value::Array(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => to_array(spec, v, program.result.span),
                other => Err(SyntaxError::new(format!("the result must be an array, found {}", other.describe()), program.result.span)),
            })
            .collect()
    };
    run(&mut ev).map_err(|e| EvalError::Syntax(e.render(source)))
}

/// An expression that cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Syntax or type error, rendered with the source line and a caret.
    #[error("{0}")]
    Syntax(String),
}

struct Evaluator<'a> {
    spec: &'a Spec,
    names: HashMap<String, Value>,
}

fn err(message: impl Into<String>, span: Span) -> SyntaxError {
    SyntaxError::new(message, span)
}

fn api(span: Span) -> impl Fn(CubedError) -> SyntaxError {
    move |e| err(e.to_string(), span)
}

impl Evaluator<'_> {
    fn eval(&mut self, e: &Expr) -> Result<Value, SyntaxError> {
        match &e.kind {
            ExprKind::Literal(l) => Ok(match l {
                Literal::Int(i) => Value::Int(*i),
                Literal::Float(f) => Value::Float(*f),
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Str(s) => Value::Str(s.clone()),
                Literal::None => Value::None,
            }),
            ExprKind::Name(n) => {
                if let Some(v) = self.names.get(n) {
                    return Ok(v.clone());
                }
                if let Some(d) = DType::parse(n) {
                    return Ok(Value::DType(d));
                }
                Err(err(format!("unknown name '{n}': not an input (pass --input {n}=URL), a binding or a dtype"), e.span))
            }
            ExprKind::Tuple(items) => Ok(Value::Tuple(items.iter().map(|i| self.eval(i)).collect::<Result<_, _>>()?)),
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand)?;
                match (op, v) {
                    (SynUnary::Pos, v) => Ok(v),
                    (SynUnary::Neg, Value::Int(i)) => {
                        i.checked_neg().map(Value::Int).ok_or_else(|| err(format!("-({i}) does not fit a 64-bit integer"), e.span))
                    }
                    (SynUnary::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
                    (SynUnary::Neg, v) => {
                        let a = self.array(v, operand.span)?;
                        Ok(Value::Array(crate::negative(&a).map_err(api(e.span))?))
                    }
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(lhs)?;
                let r = self.eval(rhs)?;
                self.binary(*op, l, r, lhs.span, rhs.span, e.span)
            }
            ExprKind::Call { func, func_span, args, kwargs } => self.call(func, *func_span, args, kwargs, e.span),
        }
    }

    fn binary(&self, op: SynBinary, l: Value, r: Value, ls: Span, rs: Span, span: Span) -> Result<Value, SyntaxError> {
        use cubed_task::kernel::BinaryOp as B;
        let op = match op {
            SynBinary::Add => B::Add,
            SynBinary::Sub => B::Sub,
            SynBinary::Mul => B::Mul,
            SynBinary::Div => B::Div,
            SynBinary::Pow => B::Pow,
            SynBinary::Lt => B::Lt,
            SynBinary::Le => B::Le,
            SynBinary::Gt => B::Gt,
            SynBinary::Ge => B::Ge,
            SynBinary::Eq => B::Eq,
            SynBinary::Ne => B::Ne,
        };
        if let (Some(x), Some(y)) = (Number::of(&l), Number::of(&r)) {
            return fold(op, x, y).map_err(|m| err(m, span));
        }
        let (a, b) = (self.array(l, ls)?, self.array(r, rs)?);
        Ok(Value::Array(crate::elementwise::binary(op, &a, &b).map_err(api(span))?))
    }

    fn array(&self, v: Value, span: Span) -> Result<Array, SyntaxError> {
        to_array(self.spec, v, span)
    }


    fn call(&mut self, func: &str, fspan: Span, args: &[Expr], kwargs: &[Keyword], span: Span) -> Result<Value, SyntaxError> {
        let mut a = Args::new(self, func, fspan, args, kwargs)?;
        let result = match func {
            "abs" | "sqrt" | "exp" | "log" | "sin" | "cos" | "negative" | "logical_not" => {
                let x = a.array(0, "x")?;
                a.done()?;
                let f = match func {
                    "abs" => crate::abs,
                    "sqrt" => crate::sqrt,
                    "exp" => crate::exp,
                    "log" => crate::log,
                    "sin" => crate::sin,
                    "cos" => crate::cos,
                    "negative" => crate::negative,
                    _ => crate::logical_not,
                };
                f(&x)
            }
            "add" | "subtract" | "multiply" | "divide" | "pow" | "less" | "less_equal" | "greater" | "greater_equal" | "equal" | "not_equal" => {
                let (x, y) = (a.array(0, "x1")?, a.array(1, "x2")?);
                a.done()?;
                let f = match func {
                    "add" => crate::add,
                    "subtract" => crate::subtract,
                    "multiply" => crate::multiply,
                    "divide" => crate::divide,
                    "pow" => crate::pow,
                    "less" => crate::less,
                    "less_equal" => crate::less_equal,
                    "greater" => crate::greater,
                    "greater_equal" => crate::greater_equal,
                    "equal" => crate::equal,
                    _ => crate::not_equal,
                };
                f(&x, &y)
            }
            "where" => {
                let (c, x, y) = (a.array(0, "condition")?, a.array(1, "x1")?, a.array(2, "x2")?);
                a.done()?;
                crate::where_(&c, &x, &y)
            }
            "astype" => {
                let x = a.array(0, "x")?;
                let d = a.dtype_req(1, "dtype")?;
                a.done()?;
                crate::astype(&x, d)
            }
            "sum" | "mean" | "min" | "max" => {
                let x = a.array(0, "x")?;
                let axes = a.axes("axis")?;
                let split_every = a.opt_uint(usize::MAX, "split_every")?;
                a.done()?;
                let f = match func {
                    "sum" => crate::sum,
                    "mean" => crate::mean,
                    "min" => crate::min,
                    _ => crate::max,
                };
                f(&x, axes.as_deref(), split_every)
            }
            "rechunk" => {
                let x = a.array(0, "x")?;
                let chunks = a.shape_req(1, "chunks")?;
                a.done()?;
                crate::rechunk(&x, &chunks)
            }
            "random" => {
                let shape = a.shape_req(0, "shape")?;
                let dtype = a.dtype_opt(usize::MAX, "dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                let seed = a.opt_uint(usize::MAX, "seed")?.unwrap_or(0);
                a.done()?;
                crate::random(self.spec, &shape, &chunks, seed, dtype)
            }
            "zeros" | "ones" | "full" => {
                let shape = a.shape_req(0, "shape")?;
                let value = if func == "full" { a.number_req(1, "fill_value")? } else { f64::from(u8::from(func == "ones")) };
                let dtype = a.dtype_opt(usize::MAX, "dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                a.done()?;
                let range = match dtype {
                    DType::Int32 => Some(i32::MIN as f64..i32::MAX as f64 + 1.0),
                    DType::Int64 => Some(-(2f64.powi(63))..2f64.powi(63)),
                    _ => None,
                };
                if range.is_some_and(|r| !r.contains(&value)) {
                    return Err(err(format!("{func}: fill value {value} out of bounds for {dtype}"), span));
                }
                crate::full(self.spec, &shape, value, &chunks, dtype)
            }
            "arange" => {
                let first = a.number_req(0, "start")?;
                let (start, stop) = match a.number_opt(1, "stop")? {
                    Some(stop) => (first, stop),
                    None => (0.0, first),
                };
                let step = a.number_opt(2, "step")?.unwrap_or(1.0);
                let dtype = a.dtype_opt(usize::MAX, "dtype")?.unwrap_or(DType::Int64);
                let len = ((stop - start) / step).ceil().max(0.0) as u64;
                let chunks = a.chunks(&[len], dtype)?;
                a.done()?;
                crate::arange(self.spec, start, stop, step, chunks[0], dtype)
            }
            "asarray" => {
                let (values, shape) = a.nested(0, "obj")?;
                let dtype = a.dtype_opt(usize::MAX, "dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                a.done()?;
                crate::asarray(self.spec, values, &shape, &chunks, dtype)
            }
            _ => {
                return Err(err(
                    format!("unknown function '{func}': expected one of {}", FUNCTIONS.join(", ")),
                    fspan,
                ))
            }
        };
        result.map(Value::Array).map_err(api(span))
    }
}

/// A number operand of scalar arithmetic (booleans count as integers, as in Python).
#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn of(v: &Value) -> Option<Number> {
        match *v {
            Value::Int(i) => Some(Number::Int(i)),
            Value::Bool(b) => Some(Number::Int(i64::from(b))),
            Value::Float(f) => Some(Number::Float(f)),
            _ => None,
        }
    }

    fn to_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Arithmetic and comparisons of two numbers, as Python computes them, so the
/// result is still a Python scalar (weak: `x + (1 + 2)` keeps `x`'s type).
/// Where Python would give a number cubed-rs cannot hold (an integer beyond
/// 64 bits, a complex number) or raise, the answer is a clear error.
fn fold(op: cubed_task::kernel::BinaryOp, x: Number, y: Number) -> Result<Value, String> {
    use cubed_task::kernel::BinaryOp as B;
    let (fx, fy) = (x.to_f64(), y.to_f64());
    if op.is_comparison() {
        let ord = match (x, y) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            _ => fx.partial_cmp(&fy),
        };
        return Ok(Value::Bool(match op {
            B::Lt => ord.is_some_and(|o| o.is_lt()),
            B::Le => ord.is_some_and(|o| o.is_le()),
            B::Gt => ord.is_some_and(|o| o.is_gt()),
            B::Ge => ord.is_some_and(|o| o.is_ge()),
            B::Eq => ord.is_some_and(|o| o.is_eq()),
            _ => !ord.is_some_and(|o| o.is_eq()),
        }));
    }
    let overflow = || format!("integer overflow: the result of {} does not fit a 64-bit integer", op.name());
    if op == B::Div || (op == B::Pow && matches!(y, Number::Int(b) if b < 0)) || matches!((x, y), (Number::Float(_), _) | (_, Number::Float(_))) {
        if op == B::Div && fy == 0.0 {
            return Err("division by zero".into());
        }
        if op == B::Pow && fx == 0.0 && fy < 0.0 {
            return Err("0.0 cannot be raised to a negative power".into());
        }
        if op == B::Pow && fx < 0.0 && fy.fract() != 0.0 {
            return Err(format!("{fx} ** {fy} is a complex number, which cubed-rs does not support"));
        }
        let r = match op {
            B::Add => fx + fy,
            B::Sub => fx - fy,
            B::Mul => fx * fy,
            B::Div => fx / fy,
            _ => fx.powf(fy),
        };
        if op == B::Pow && r.is_infinite() && fx.is_finite() && fy.is_finite() {
            return Err(format!("{fx} ** {fy} is too large for a float"));
        }
        return Ok(Value::Float(r));
    }
    let (Number::Int(a), Number::Int(b)) = (x, y) else { unreachable!("floats handled above") };
    match op {
        B::Add => a.checked_add(b),
        B::Sub => a.checked_sub(b),
        B::Mul => a.checked_mul(b),
        _ => u32::try_from(b).ok().and_then(|b| a.checked_pow(b)).or(match a {
            0 | 1 => Some(a),
            -1 => Some(if b % 2 == 0 { 1 } else { -1 }),
            _ => None,
        }),
    }
    .map(Value::Int)
    .ok_or_else(overflow)
}

/// Every integer up to this magnitude is exact as a float64 (how plans hold numbers).
const MAX_EXACT_INT: i64 = 1 << 53;

/// An integer as the float64 a plan holds it in, refused when it would not be exact.
fn exact_int(i: i64, span: Span) -> Result<f64, SyntaxError> {
    if (i as f64) as i128 != i128::from(i) {
        return Err(err(
            format!("the integer {i} cannot be used exactly: cubed-rs holds numbers in plans as float64, exact for every integer up to 2**53 ({MAX_EXACT_INT})"),
            span,
        ));
    }
    Ok(i as f64)
}

/// Converts numbers to weak scalars; refuses non-numeric values.
fn to_array(spec: &Spec, v: Value, span: Span) -> Result<Array, SyntaxError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Int(i) => Ok(crate::scalar(spec, exact_int(i, span)?, DType::Int64)),
        Value::Float(f) => Ok(crate::scalar(spec, f, DType::Float64)),
        Value::Bool(b) => Ok(crate::scalar(spec, f64::from(u8::from(b)), DType::Bool)),
        other => Err(err(format!("expected an array or a number, found {}", other.describe()), span)),
    }
}

/// Every function of the language.
pub const FUNCTIONS: &[&str] = &[
    "abs", "add", "arange", "asarray", "astype", "cos", "divide", "equal", "exp", "full", "greater", "greater_equal",
    "less", "less_equal", "log", "logical_not", "max", "mean", "min", "multiply", "negative", "not_equal", "ones",
    "pow", "random", "rechunk", "sin", "sqrt", "subtract", "sum", "where", "zeros",
];

/// Positional and keyword arguments of one call, consumed by name.
struct Args<'e> {
    func: String,
    span: Span,
    positional: Vec<Option<(Value, Span)>>,
    keywords: HashMap<String, (Value, Span)>,
    spec: &'e Spec,
}

impl<'e> Args<'e> {
    fn new(ev: &mut Evaluator<'e>, func: &str, span: Span, args: &[Expr], kwargs: &[Keyword]) -> Result<Args<'e>, SyntaxError> {
        let positional = args.iter().map(|x| Ok(Some((ev.eval(x)?, x.span)))).collect::<Result<_, SyntaxError>>()?;
        let keywords = kwargs.iter().map(|k| Ok((k.name.clone(), (ev.eval(&k.value)?, k.value.span)))).collect::<Result<_, SyntaxError>>()?;
        Ok(Args { func: func.to_string(), span, positional, keywords, spec: ev.spec })
    }

    /// Takes positional `index` or keyword `name`.
    fn take(&mut self, index: usize, name: &str) -> Option<(Value, Span)> {
        if let Some(v) = self.keywords.remove(name) {
            return Some(v);
        }
        self.positional.get_mut(index).and_then(Option::take)
    }

    fn missing(&self, name: &str) -> SyntaxError {
        err(format!("{}() is missing its argument '{name}'", self.func), self.span)
    }

    fn array(&mut self, index: usize, name: &str) -> Result<Array, SyntaxError> {
        let (v, s) = self.take(index, name).ok_or_else(|| self.missing(name))?;
        to_array(self.spec, v, s)
    }

    fn number_opt(&mut self, index: usize, name: &str) -> Result<Option<f64>, SyntaxError> {
        match self.take(index, name) {
            None | Some((Value::None, _)) => Ok(None),
            Some((Value::Int(i), s)) => exact_int(i, s).map(Some),
            Some((Value::Float(f), _)) => Ok(Some(f)),
            Some((Value::Bool(b), _)) => Ok(Some(f64::from(u8::from(b)))),
            Some((v, s)) => Err(err(format!("{name} must be a number, found {}", v.describe()), s)),
        }
    }

    fn number_req(&mut self, index: usize, name: &str) -> Result<f64, SyntaxError> {
        self.number_opt(index, name)?.ok_or_else(|| self.missing(name))
    }

    fn opt_uint(&mut self, index: usize, name: &str) -> Result<Option<u64>, SyntaxError> {
        match self.take(index, name) {
            None | Some((Value::None, _)) => Ok(None),
            Some((Value::Int(i), _)) if i >= 0 => Ok(Some(i as u64)),
            Some((v, s)) => Err(err(format!("{name} must be a non-negative integer, found {}", v.describe()), s)),
        }
    }

    fn dtype_opt(&mut self, index: usize, name: &str) -> Result<Option<DType>, SyntaxError> {
        match self.take(index, name) {
            None | Some((Value::None, _)) => Ok(None),
            Some((Value::DType(d), _)) => Ok(Some(d)),
            Some((Value::Str(s), span)) => DType::parse(&s)
                .map(Some)
                .ok_or_else(|| err(format!("unknown dtype '{s}': expected bool, int32, int64, float32 or float64"), span)),
            Some((v, s)) => Err(err(format!("{name} must be a dtype such as float64, found {}", v.describe()), s)),
        }
    }

    fn dtype_req(&mut self, index: usize, name: &str) -> Result<DType, SyntaxError> {
        self.dtype_opt(index, name)?.ok_or_else(|| self.missing(name))
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

    fn shape_req(&mut self, index: usize, name: &str) -> Result<Vec<u64>, SyntaxError> {
        let (v, s) = self.take(index, name).ok_or_else(|| self.missing(name))?;
        Self::shape_of(v, s, name)
    }

    fn chunks(&mut self, shape: &[u64], dtype: DType) -> Result<Vec<u64>, SyntaxError> {
        match self.take(usize::MAX, "chunks") {
            None | Some((Value::None, _)) => Ok(auto_chunks(shape, dtype.itemsize())),
            Some((v, s)) => Self::shape_of(v, s, "chunks"),
        }
    }

    fn axes(&mut self, name: &str) -> Result<Option<Vec<i64>>, SyntaxError> {
        match self.take(1, name) {
            None | Some((Value::None, _)) => Ok(None),
            Some((Value::Int(i), _)) => Ok(Some(vec![i])),
            Some((Value::Tuple(items), s)) => items
                .iter()
                .map(|x| match x {
                    Value::Int(i) => Ok(*i),
                    other => Err(err(format!("{name} must hold integers, found {}", other.describe()), s)),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some((v, s)) => Err(err(format!("{name} must be an integer, a tuple of integers or None, found {}", v.describe()), s)),
        }
    }

    /// A number or nested tuple of numbers: row-major values and shape.
    fn nested(&mut self, index: usize, name: &str) -> Result<(Vec<f64>, Vec<u64>), SyntaxError> {
        fn walk(v: &Value, depth: usize, shape: &mut Vec<u64>, out: &mut Vec<f64>, s: Span) -> Result<(), SyntaxError> {
            match v {
                Value::Int(i) => out.push(exact_int(*i, s)?),
                Value::Float(f) => out.push(*f),
                Value::Bool(b) => out.push(f64::from(u8::from(*b))),
                Value::Tuple(items) => {
                    if shape.len() == depth {
                        shape.push(items.len() as u64);
                    } else if shape[depth] != items.len() as u64 {
                        return Err(err("asarray: nested tuples must all have the same length (a rectangular array)", s));
                    }
                    for x in items {
                        walk(x, depth + 1, shape, out, s)?;
                    }
                }
                other => return Err(err(format!("asarray needs numbers or tuples of numbers, found {}", other.describe()), s)),
            }
            Ok(())
        }
        let (v, s) = self.take(index, name).ok_or_else(|| self.missing(name))?;
        let (mut shape, mut values) = (vec![], vec![]);
        walk(&v, 0, &mut shape, &mut values, s)?;
        Ok((values, shape))
    }

    /// Errors on arguments nobody asked for.
    fn done(self) -> Result<(), SyntaxError> {
        if let Some((_, s)) = self.positional.iter().flatten().next() {
            return Err(err(format!("too many positional arguments for {}()", self.func), *s));
        }
        if let Some((k, (_, s))) = self.keywords.iter().next() {
            return Err(err(format!("{}() got an unexpected keyword argument '{k}'", self.func), *s));
        }
        Ok(())
    }
}
