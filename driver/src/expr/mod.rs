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
use cubed_task::kernel::BinaryOp;
use cubed_task::table::{self, Function, Implementation, Param, ParamDefault};
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
                // The Array API's constants.
                match n.as_str() {
                    "nan" => return Ok(Value::Float(f64::NAN)),
                    "inf" => return Ok(Value::Float(f64::INFINITY)),
                    "pi" => return Ok(Value::Float(std::f64::consts::PI)),
                    "e" => return Ok(Value::Float(std::f64::consts::E)),
                    _ => {}
                }
                let hint = match table::lookup(n) {
                    Some(f) => format!("; {} is a function: call it, e.g. {}", f.name, f.signature()),
                    None => String::new(),
                };
                Err(err(format!("unknown name '{n}': not an input (pass --input {n}=URL), a binding, a dtype or a constant (nan, inf, pi, e){hint}"), e.span))
            }
            ExprKind::Tuple(items) => Ok(Value::Tuple(items.iter().map(|i| self.eval(i)).collect::<Result<_, _>>()?)),
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand)?;
                if let Some(x) = Number::of(&v) {
                    return fold_unary(*op, x).map_err(|m| err(m, e.span));
                }
                let f = table::by_operator(op.symbol(), 1)
                    .ok_or_else(|| err(format!("operator '{}' is not supported yet", op.symbol()), e.span))?;
                let a = self.array(v, operand.span)?;
                match f.implementation {
                    Implementation::Unary(u) => Ok(Value::Array(crate::elementwise::unary(u, &a).map_err(api(e.span))?)),
                    _ => Err(err(format!("operator '{}' is not supported yet", op.symbol()), e.span)),
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
        let f = table::by_operator(op.symbol(), 2);
        let Some(Implementation::Binary(kernel)) = f.map(|f| f.implementation) else {
            return Err(err(format!("operator '{}' is not supported yet", op.symbol()), span));
        };
        if let (Some(x), Some(y)) = (Number::of(&l), Number::of(&r)) {
            return fold(kernel, x, y, matches!((&l, &r), (Value::Bool(_), Value::Bool(_)))).map_err(|m| err(m, span));
        }
        let (a, b) = (self.array(l, ls)?, self.array(r, rs)?);
        Ok(Value::Array(crate::elementwise::binary(kernel, &a, &b).map_err(api(span))?))
    }

    fn array(&self, v: Value, span: Span) -> Result<Array, SyntaxError> {
        to_array(self.spec, v, span)
    }

    fn call(&mut self, name: &str, fspan: Span, args: &[Expr], kwargs: &[Keyword], span: Span) -> Result<Value, SyntaxError> {
        let Some(f) = table::lookup(name) else {
            let close = table::close_names(name);
            let hint = match close.as_slice() {
                [] => "run `cubed functions` for the list".to_string(),
                names => format!("did you mean {}? (`cubed functions` lists them all)", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ")),
            };
            return Err(err(format!("unknown function '{name}': {hint}"), fspan));
        };
        let mut a = Args::bind(self, f, span, args, kwargs)?;
        let result = match f.implementation {
            Implementation::Unary(op) => crate::elementwise::unary(op, &a.array("x")?),
            Implementation::Binary(op) => crate::elementwise::binary(op, &a.array("x1")?, &a.array("x2")?),
            Implementation::Named => self.named(f, &mut a, span)?,
        };
        result.map(Value::Array).map_err(api(span))
    }

    /// The functions of the table implemented by name (not by a kernel enum).
    fn named(&self, f: &Function, a: &mut Args, span: Span) -> Result<crate::Result<Array>, SyntaxError> {
        let spec = self.spec;
        Ok(match f.name {
            "astype" => crate::astype(&a.array("x")?, a.dtype("dtype")?.ok_or_else(|| a.missing("dtype"))?),
            "where" => crate::where_(&a.array("condition")?, &a.array("x1")?, &a.array("x2")?),
            "clip" => {
                let x = a.array("x")?;
                crate::elementwise::clip(&x, a.opt_array("min")?.as_ref(), a.opt_array("max")?.as_ref())
            }
            "sum" | "mean" | "min" | "max" => {
                let x = a.array("x")?;
                let opts = crate::Reduce { axis: a.axes("axis")?, keepdims: a.bool("keepdims")?, split_every: a.uint("split_every")? };
                let func = match f.name {
                    "sum" => crate::sum,
                    "mean" => crate::mean,
                    "min" => crate::min,
                    _ => crate::max,
                };
                func(&x, &opts)
            }
            "rechunk" => crate::rechunk(&a.array("x")?, &a.shape("chunks")?),
            "random" => {
                let shape = a.shape("shape")?;
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                crate::random(spec, &shape, &chunks, a.uint("seed")?.unwrap_or(0), dtype)
            }
            "zeros" | "ones" | "full" => {
                let shape = a.shape("shape")?;
                let value = if f.name == "full" { a.number("fill_value")?.ok_or_else(|| a.missing("fill_value"))? } else { f64::from(u8::from(f.name == "ones")) };
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                if let Some((lo, hi)) = dtype.int_range() {
                    if !(lo as f64..=hi as f64).contains(&value) || (hi as f64 == value && hi >= (1 << 53)) {
                        return Err(err(format!("{}: fill value {value} out of bounds for {dtype}", f.name), span));
                    }
                }
                crate::full(spec, &shape, value, &chunks, dtype)
            }
            "arange" => {
                let first = a.number("start")?.ok_or_else(|| a.missing("start"))?;
                let (start, stop) = match a.number("stop")? {
                    Some(stop) => (first, stop),
                    None => (0.0, first),
                };
                let step = a.number("step")?.unwrap_or(1.0);
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Int64);
                let len = ((stop - start) / step).ceil().max(0.0) as u64;
                let chunks = a.chunks(&[len], dtype)?;
                crate::arange(spec, start, stop, step, chunks[0], dtype)
            }
            "asarray" => {
                let (values, shape) = a.nested("obj")?;
                let dtype = a.dtype("dtype")?.unwrap_or(DType::Float64);
                let chunks = a.chunks(&shape, dtype)?;
                crate::asarray(spec, values, &shape, &chunks, dtype)
            }
            other => return Err(err(format!("internal error: '{other}' is in the function table but has no implementation"), span)),
        })
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

/// A prefix operator on a number, as Python computes it.
fn fold_unary(op: SynUnary, x: Number) -> Result<Value, String> {
    Ok(match (op, x) {
        (SynUnary::Pos, Number::Int(i)) => Value::Int(i),
        (SynUnary::Pos, Number::Float(f)) => Value::Float(f),
        (SynUnary::Neg, Number::Int(i)) => Value::Int(i.checked_neg().ok_or_else(|| format!("-({i}) does not fit a 64-bit integer"))?),
        (SynUnary::Neg, Number::Float(f)) => Value::Float(-f),
        (SynUnary::Invert, Number::Int(i)) => Value::Int(!i),
        (SynUnary::Invert, Number::Float(_)) => return Err("bad operand type for unary ~: 'float'".into()),
    })
}

/// Arithmetic, bitwise operations and comparisons of two numbers, as Python
/// computes them, so the result is still a Python scalar (weak: `x + (1 + 2)`
/// keeps `x`'s type). Where Python would give a number cubed-rs cannot hold
/// (an integer beyond 64 bits, a complex number) or raise, the answer is a
/// clear error. `both_bool`: `True & False` stays a bool, as in Python.
fn fold(op: BinaryOp, x: Number, y: Number, both_bool: bool) -> Result<Value, String> {
    use BinaryOp as B;
    let (fx, fy) = (x.to_f64(), y.to_f64());
    if op.is_comparison() {
        let ord = match (x, y) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            _ => fx.partial_cmp(&fy),
        };
        return Ok(Value::Bool(match op {
            B::Less => ord.is_some_and(|o| o.is_lt()),
            B::LessEqual => ord.is_some_and(|o| o.is_le()),
            B::Greater => ord.is_some_and(|o| o.is_gt()),
            B::GreaterEqual => ord.is_some_and(|o| o.is_ge()),
            B::Equal => ord.is_some_and(|o| o.is_eq()),
            _ => !ord.is_some_and(|o| o.is_eq()),
        }));
    }
    let overflow = || format!("integer overflow: the result of {} does not fit a 64-bit integer", op.name());
    let bitwise = matches!(op, B::BitwiseAnd | B::BitwiseOr | B::BitwiseXor | B::BitwiseLeftShift | B::BitwiseRightShift);
    if bitwise {
        let (Number::Int(a), Number::Int(b)) = (x, y) else {
            return Err(format!("unsupported operand type(s) for {}: {} needs integers or bools", op.operator().unwrap_or(op.name()), op.name()));
        };
        let r = match op {
            B::BitwiseAnd => a & b,
            B::BitwiseOr => a | b,
            B::BitwiseXor => a ^ b,
            _ if b < 0 => return Err("negative shift count".into()),
            B::BitwiseLeftShift => u32::try_from(b).ok().and_then(|b| a.checked_shl(b)).filter(|r| r >> b == a).ok_or_else(overflow)?,
            _ => if b >= 64 { if a < 0 { -1 } else { 0 } } else { a >> b },
        };
        return Ok(if both_bool && !matches!(op, B::BitwiseLeftShift | B::BitwiseRightShift) { Value::Bool(r != 0) } else { Value::Int(r) });
    }
    let floats = matches!((x, y), (Number::Float(_), _) | (_, Number::Float(_)));
    if op == B::Divide || (op == B::Pow && matches!(y, Number::Int(b) if b < 0)) || floats {
        if matches!(op, B::Divide | B::FloorDivide | B::Remainder) && fy == 0.0 {
            return Err(match op {
                B::Divide => "division by zero",
                B::FloorDivide => "float floor division by zero",
                _ => "float modulo by zero",
            }
            .into());
        }
        if op == B::Pow && fx == 0.0 && fy < 0.0 {
            return Err("0.0 cannot be raised to a negative power".into());
        }
        if op == B::Pow && fx < 0.0 && fy.fract() != 0.0 {
            return Err(format!("{fx} ** {fy} is a complex number, which cubed-rs does not support"));
        }
        use cubed_task::kernel::scalar::FloatMath;
        let r = match op {
            B::Add => fx + fy,
            B::Subtract => fx - fy,
            B::Multiply => fx * fy,
            B::Divide => fx / fy,
            B::FloorDivide => fx.floor_div(fy),
            B::Remainder => fx.py_mod(fy),
            B::Pow => fx.powf(fy),
            _ => return Err(format!("operator {} on numbers is not supported", op.name())),
        };
        if op == B::Pow && r.is_infinite() && fx.is_finite() && fy.is_finite() {
            return Err(format!("{fx} ** {fy} is too large for a float"));
        }
        return Ok(Value::Float(r));
    }
    let (Number::Int(a), Number::Int(b)) = (x, y) else { unreachable!("floats handled above") };
    if matches!(op, B::FloorDivide | B::Remainder) && b == 0 {
        return Err("integer division or modulo by zero".into());
    }
    use cubed_task::kernel::scalar::IntMath;
    match op {
        B::Add => a.checked_add(b),
        B::Subtract => a.checked_sub(b),
        B::Multiply => a.checked_mul(b),
        B::FloorDivide => a.checked_div(b).map(|_| a.floor_div(b)),
        B::Remainder => Some(a.py_mod(b)),
        B::Pow => u32::try_from(b).ok().and_then(|b| a.checked_pow(b)).or(match a {
            0 | 1 => Some(a),
            -1 => Some(if b % 2 == 0 { 1 } else { -1 }),
            _ => None,
        }),
        _ => return Err(format!("operator {} on numbers is not supported", op.name())),
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

/// The arguments of one call, bound to the function's parameters (from
/// the function table) and taken by name.
struct Args<'e> {
    func: &'static str,
    span: Span,
    values: HashMap<&'static str, (Value, Span)>,
    spec: &'e Spec,
}

impl<'e> Args<'e> {
    /// Binds positional and keyword arguments as Python would, filling in
    /// defaults; errors point at the offending argument.
    fn bind(ev: &mut Evaluator<'e>, f: &'static Function, span: Span, args: &[Expr], kwargs: &[Keyword]) -> Result<Args<'e>, SyntaxError> {
        let mut values = HashMap::new();
        let positional: Vec<&Param> = f.params.iter().filter(|p| !p.keyword_only).collect();
        for (i, x) in args.iter().enumerate() {
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
            };
            values.insert(p.name, (v, span));
        }
        Ok(Args { func: f.name, span, values, spec: ev.spec })
    }

    fn take(&mut self, name: &str) -> (Value, Span) {
        self.values.remove(name).unwrap_or((Value::None, self.span))
    }

    fn missing(&self, name: &str) -> SyntaxError {
        err(format!("{}() is missing its argument '{name}'", self.func), self.span)
    }

    fn array(&mut self, name: &str) -> Result<Array, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Err(self.missing(name)),
            (v, s) => to_array(self.spec, v, s),
        }
    }

    fn opt_array(&mut self, name: &str) -> Result<Option<Array>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (v, s) => to_array(self.spec, v, s).map(Some),
        }
    }

    fn number(&mut self, name: &str) -> Result<Option<f64>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (Value::Int(i), s) => exact_int(i, s).map(Some),
            (Value::Float(f), _) => Ok(Some(f)),
            (Value::Bool(b), _) => Ok(Some(f64::from(u8::from(b)))),
            (v, s) => Err(err(format!("{name} must be a number, found {}", v.describe()), s)),
        }
    }

    fn uint(&mut self, name: &str) -> Result<Option<u64>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(None),
            (Value::Int(i), _) if i >= 0 => Ok(Some(i as u64)),
            (v, s) => Err(err(format!("{name} must be a non-negative integer, found {}", v.describe()), s)),
        }
    }

    fn bool(&mut self, name: &str) -> Result<bool, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Ok(false),
            (Value::Bool(b), _) => Ok(b),
            (v, s) => Err(err(format!("{name} must be True or False, found {}", v.describe()), s)),
        }
    }

    fn dtype(&mut self, name: &str) -> Result<Option<DType>, SyntaxError> {
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

    fn shape(&mut self, name: &str) -> Result<Vec<u64>, SyntaxError> {
        match self.take(name) {
            (Value::None, _) => Err(self.missing(name)),
            (v, s) => Self::shape_of(v, s, name),
        }
    }

    fn chunks(&mut self, shape: &[u64], dtype: DType) -> Result<Vec<u64>, SyntaxError> {
        match self.take("chunks") {
            (Value::None, _) => Ok(auto_chunks(shape, dtype.itemsize())),
            (v, s) => Self::shape_of(v, s, "chunks"),
        }
    }

    fn axes(&mut self, name: &str) -> Result<Option<Vec<i64>>, SyntaxError> {
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

    /// A number or nested tuple of numbers: row-major values and shape.
    fn nested(&mut self, name: &str) -> Result<(Vec<f64>, Vec<u64>), SyntaxError> {
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
        let (v, s) = match self.take(name) {
            (Value::None, _) => return Err(self.missing(name)),
            other => other,
        };
        let (mut shape, mut values) = (vec![], vec![]);
        walk(&v, 0, &mut shape, &mut values, s)?;
        Ok((values, shape))
    }
}
