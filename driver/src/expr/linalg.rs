//! Calls of the table's linear algebra functions.

use cubed_task::table::Function;

use super::args::Args;
use super::parse::SyntaxError;
use super::value::Value;
use super::err;
use crate::array::Array;

/// Evaluates a call of linear algebra function `f` with bound arguments `a`.
pub(crate) fn call(f: &Function, a: &mut Args) -> Result<crate::Result<Array>, SyntaxError> {
    let (x1, x2) = (a.array("x1")?, a.array("x2")?);
    Ok(match f.name {
        "matmul" => crate::matmul(&x1, &x2),
        "tensordot" => {
            let (axes, span) = a.raw("axes");
            let ints = |v: &Value| -> Option<Vec<i64>> {
                match v {
                    Value::Int(i) => Some(vec![*i]),
                    Value::Tuple(items) => items.iter().map(|x| if let Value::Int(i) = x { Some(*i) } else { None }).collect(),
                    _ => None,
                }
            };
            match axes {
                Value::Int(n) if n >= 0 => crate::tensordot_n(&x1, &x2, n as usize),
                Value::Tuple(pair) if pair.len() == 2 => match (ints(&pair[0]), ints(&pair[1])) {
                    (Some(p), Some(q)) => crate::tensordot(&x1, &x2, &p, &q),
                    _ => return Err(err("axes must be a non-negative integer or a pair of sequences of integers ((a_axes), (b_axes))", span)),
                },
                _ => return Err(err("axes must be a non-negative integer or a pair of sequences of integers ((a_axes), (b_axes))", span)),
            }
        }
        "vecdot" => crate::vecdot(&x1, &x2, a.int("axis")?.unwrap_or(-1)),
        "inner" => crate::inner(&x1, &x2),
        "outer" => crate::outer(&x1, &x2),
        other => Err(crate::CubedError::Invalid(format!("internal error: '{other}' is in the function table but has no implementation"))),
    })
}
