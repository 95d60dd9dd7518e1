//! Elementwise cases generated from the function table: every unary row
//! `f(x)` and every binary row `f(x, y)`, under their name, each numpy alias
//! and their operator (`-x`, `x // y`), against numpy's function of the same
//! name (numpy 2 has the Array API names), or operator.

use cubed_task::table::{Implementation, FUNCTIONS};

use crate::case::Case;

/// Binary rows whose second operand must be a small non-negative integer
/// (see [`crate::case::Inputs::XN`]).
const NON_NEGATIVE_SECOND: &[&str] = &["pow", "bitwise_left_shift", "bitwise_right_shift"];

/// Rows whose results may be zeros of either sign (see [`crate::case::Compare::AnyZeroSign`]).
const ANY_ZERO_SIGN: &[&str] = &["maximum", "minimum"];

/// Aliases and operators call the same kernel as the name: they run on the
/// layouts with this many dimensions only (every dtype still), to save time.
/// The 3-d layout pairs every special value of x with every one of y.
const ALIAS_NDIM: usize = 3;

fn leak(s: String) -> &'static str {
    String::leak(s)
}

/// The generated cases, in table order.
pub fn elementwise() -> Vec<Case> {
    let mut cases = vec![];
    for f in FUNCTIONS.iter() {
        let names = std::iter::once(f.name).chain(f.aliases.iter().copied());
        match f.implementation {
            Implementation::Unary(_) => {
                for (k, name) in names.enumerate() {
                    let c = Case::x(f.name, leak(format!("{name}(x)")), leak(format!("np.{name}(x)")));
                    cases.push(if k == 0 { c } else { c.ndim(ALIAS_NDIM, ALIAS_NDIM) });
                }
                if let Some(op) = f.operator {
                    let e = leak(format!("{op}x"));
                    cases.push(Case::x(f.name, e, e).ndim(ALIAS_NDIM, ALIAS_NDIM));
                }
            }
            Implementation::Binary(_) => {
                let second = if NON_NEGATIVE_SECOND.contains(&f.name) { "n" } else { "y" };
                let case = |cubed: String, numpy: String| {
                    let c = if second == "n" { Case::xn(f.name, leak(cubed), leak(numpy)) } else { Case::xy(f.name, leak(cubed), leak(numpy)) };
                    if ANY_ZERO_SIGN.contains(&f.name) { c.promoted().any_zero_sign() } else { c.promoted() }
                };
                for (k, name) in names.enumerate() {
                    let c = case(format!("{name}(x, {second})"), format!("np.{name}(x, {second})"));
                    cases.push(if k == 0 { c } else { c.ndim(ALIAS_NDIM, ALIAS_NDIM) });
                }
                if let Some(op) = f.operator {
                    let e = format!("x {op} {second}");
                    cases.push(case(e.clone(), e).ndim(ALIAS_NDIM, ALIAS_NDIM));
                }
            }
            Implementation::Named => {}
        }
    }
    cases
}
