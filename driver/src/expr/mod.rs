//! The expression language of `cubed eval`: a numpy-like syntax that maps one
//! to one onto the Rust API, e.g. `mean(a*a + b*b, axis=0)`.
//!
//! [`parse`] turns text into a syntax tree; [`evaluate`] turns the tree into
//! lazy [`Array`]s. Every error carries the span it is about, so the CLI can
//! point at the column.

mod args;
mod creation;
mod lex;
mod linalg;
mod manipulation;
pub mod parse;
mod statistics;
mod stencil;
mod value;

use std::collections::HashMap;

use cubed_task::plan::Spec;
use cubed_task::DType;

use crate::array::Array;
use crate::error::CubedError;
use args::Args;
use cubed_task::table::{self, Category, Function, Implementation};
use value::{fold, fold_unary, to_array, Number, Value};
use parse::{BinaryOp as SynBinary, Expr, ExprKind, Keyword, Literal, Span, SyntaxError};

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
                if DType::unknown(n).contains("not supported yet") {
                    return Err(err(DType::unknown(n), e.span));
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
                // Tuples concatenate, as in Python: `(3,) + x.shape`.
                if let (SynBinary::Add, Value::Tuple(a), Value::Tuple(b)) = (op, &l, &r) {
                    return Ok(Value::Tuple(a.iter().chain(b).cloned().collect()));
                }
                // ... and repeat: `(3,) * x.ndim`.
                if let (SynBinary::Mul, Value::Tuple(t), Value::Int(n)) | (SynBinary::Mul, Value::Int(n), Value::Tuple(t)) = (op, &l, &r) {
                    let n = usize::try_from(*n).unwrap_or(0);
                    if t.len().saturating_mul(n) > 1 << 16 {
                        return Err(err(format!("a tuple of {} items repeated {n} times is too long", t.len()), e.span));
                    }
                    return Ok(Value::Tuple(t.iter().cloned().cycle().take(t.len() * n).collect()));
                }
                self.binary(*op, l, r, lhs.span, rhs.span, e.span)
            }
            ExprKind::Call { func, func_span, args, kwargs } => self.call(func, *func_span, args, kwargs, e.span),
            ExprKind::Subscript { value, index, .. } => {
                let v = self.eval(value)?;
                self.subscript(v, index, e.span)
            }
            ExprKind::Attribute { value, name, .. } => {
                let v = self.eval(value)?;
                self.attribute(v, name, e.span)
            }
            ExprKind::Method { receiver, name, name_span, args, kwargs } => self.method(receiver, name, *name_span, args, kwargs, e.span),
        }
    }

    fn binary(&self, op: SynBinary, l: Value, r: Value, ls: Span, rs: Span, span: Span) -> Result<Value, SyntaxError> {
        let f = table::by_operator(op.symbol(), 2);
        if f.is_some_and(|f| f.name == "matmul") {
            let (a, b) = (self.array(l, ls)?, self.array(r, rs)?);
            return Ok(Value::Array(crate::matmul(&a, &b).map_err(api(span))?));
        }
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
            Implementation::Unary(op) => crate::elementwise::unary(op, &a.array("x")?).map(Value::Array),
            Implementation::Binary(op) => crate::elementwise::binary(op, &a.array("x1")?, &a.array("x2")?).map(Value::Array),
            Implementation::Named => match f.category {
                Category::Manipulation => manipulation::call(f, &mut a)?,
                _ => self.named(f, &mut a, span)?.map(Value::Array),
            },
        };
        result.map_err(api(span))
    }

    /// `receiver.name(args)`: the table's function `name` with the receiver
    /// as its first argument (`x.sum(axis=0)`, `x.astype(int8)`); numpy's
    /// `x.transpose(1, 0)` and `x.reshape(2, 3)` take the axes or lengths
    /// one by one too.
    fn method(&mut self, receiver: &Expr, name: &str, name_span: Span, args: &[Expr], kwargs: &[Keyword], span: Span) -> Result<Value, SyntaxError> {
        let takes_x = table::lookup(name).is_some_and(|f| f.params.first().is_some_and(|p| p.kind == table::ParamKind::Array && !p.variadic));
        if !takes_x {
            return Err(err(format!("arrays have no method '{name}': methods are the functions taking an array first (x.sum(axis=0), x.astype(int8), ...); run `cubed functions` for them"), name_span));
        }
        let mut all = vec![receiver.clone()];
        if matches!(name, "transpose" | "reshape") && args.len() > 1 {
            let span = args[0].span.to(args[args.len() - 1].span);
            all.push(Expr { kind: ExprKind::Tuple(args.to_vec()), span });
        } else {
            all.extend(args.iter().cloned());
        }
        self.call(name, name_span, &all, kwargs, span)
    }

    /// The functions of the table implemented by name (not by a kernel enum).
    fn named(&self, f: &Function, a: &mut Args, span: Span) -> Result<crate::Result<Array>, SyntaxError> {
        match f.category {
            Category::Statistical => return statistics::call(f, a),
            Category::Creation => return creation::call(f, a, self.spec, span),
            Category::LinearAlgebra => return linalg::call(f, a),
            Category::Stencil => return stencil::call(f, a),
            _ => {}
        }
        Ok(match f.name {
            "astype" => crate::astype(&a.array("x")?, a.dtype("dtype")?.ok_or_else(|| a.missing("dtype"))?),
            "where" => crate::where_(&a.array("condition")?, &a.array("x1")?, &a.array("x2")?),
            "clip" => {
                let x = a.array("x")?;
                crate::elementwise::clip(&x, a.opt_array("min")?.as_ref(), a.opt_array("max")?.as_ref())
            }
            other => return Err(err(format!("internal error: '{other}' is in the function table but has no implementation"), span)),
        })
    }
}

