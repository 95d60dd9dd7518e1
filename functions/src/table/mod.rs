//! The function table: every array function cubed-rs offers, declared once.
//!
//! A [`Function`] row holds what every layer needs to know about a function:
//! its names (Array API name first, then numpy aliases, and the operator
//! spelling it), its parameters with defaults, the element types it accepts
//! and its dtype rule, its memory cost and whether it fuses. The expression
//! language binds arguments and dispatches from these rows, `cubed functions`
//! prints them, the README's function list is checked against them, and the
//! table-driven tests need a case for each.
//!
//! Elementwise rows come from the declarations in [`elementwise`] (which also
//! generate their kernels); the other rows are declared below, and their
//! implementation is looked up by name in the `cubed` crate (a test there
//! fails when a row has none).

mod creation;
pub mod elementwise;
mod linalg;
pub mod listing;
mod manipulation;
mod stencil;
mod statistics;

use std::sync::LazyLock;

use crate::dtype::DType;
use crate::kernel::{BinaryOp, BinaryRule, UnaryOp, UnaryRule};

/// What part of the Array API a function belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Functions that make arrays.
    Creation,
    /// Elementwise functions.
    Elementwise,
    /// Reductions and scans.
    Statistical,
    /// Type conversion and selection (`astype`, `where`, `clip`).
    Utility,
    /// Changing shape or chunking.
    Manipulation,
    /// Windows along an axis (differences, moving sums and means).
    Stencil,
    /// Matrix and tensor products.
    LinearAlgebra,
}

impl Category {
    /// The heading used in listings.
    pub fn title(self) -> &'static str {
        match self {
            Category::Creation => "Creation",
            Category::Elementwise => "Elementwise",
            Category::Statistical => "Statistics",
            Category::Utility => "Types and selection",
            Category::Manipulation => "Manipulation",
            Category::LinearAlgebra => "Linear algebra",
            Category::Stencil => "Stencils",
        }
    }
}

/// What kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An array (numbers are taken as scalar arrays).
    Array,
    /// A number.
    Number,
    /// An integer.
    Int,
    /// A bool.
    Bool,
    /// An axis, a tuple of axes or None.
    Axes,
    /// A dtype (`float32`, `'int16'`, ...).
    DType,
    /// A shape: an integer or a tuple of integers.
    Shape,
    /// A nested tuple of numbers (`asarray`).
    Nested,
    /// A string (`mode='constant'`).
    Str,
    /// Arrays: a tuple of them, or for a variadic parameter the remaining
    /// positional arguments.
    Arrays,
    /// An index: an integer, `None` or a tuple of them (slices need the
    /// subscript syntax `x[1:5]`).
    Key,
}

/// A parameter's default value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamDefault {
    /// The argument must be given.
    Required,
    /// `None`.
    None,
    /// A bool.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(&'static str),
}

/// One parameter of a function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    /// The name (as a keyword).
    pub name: &'static str,
    /// What it takes.
    pub kind: ParamKind,
    /// Its default.
    pub default: ParamDefault,
    /// True when it can only be given by keyword (after `*` in the signature).
    pub keyword_only: bool,
    /// True when it takes all remaining positional arguments (`*arrays`).
    pub variadic: bool,
}

/// A positional-or-keyword parameter.
pub const fn arg(name: &'static str, kind: ParamKind, default: ParamDefault) -> Param {
    Param { name, kind, default, keyword_only: false, variadic: false }
}

/// A parameter taking all remaining positional arguments (`*arrays`).
pub const fn star(name: &'static str) -> Param {
    Param { name, kind: ParamKind::Arrays, default: ParamDefault::Required, keyword_only: false, variadic: true }
}

/// A keyword-only parameter.
pub const fn kw(name: &'static str, kind: ParamKind, default: ParamDefault) -> Param {
    Param { name, kind, default, keyword_only: true, variadic: false }
}

/// How the function is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// A unary elementwise kernel.
    Unary(UnaryOp),
    /// A binary elementwise kernel.
    Binary(BinaryOp),
    /// Implemented in the `cubed` crate under the function's name.
    Named,
}

/// Which element types a function accepts, and what it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DTypeRule {
    /// Elementwise: see [`UnaryRule`].
    Unary(UnaryRule),
    /// Elementwise: see [`BinaryRule`].
    Binary(BinaryRule),
    /// Described in words (the row's `dtypes` text).
    Described(&'static str),
}

/// One array function.
#[derive(Debug, Clone)]
pub struct Function {
    /// The Array API name.
    pub name: &'static str,
    /// numpy's other names for it.
    pub aliases: &'static [&'static str],
    /// The operator spelling it, if any (`+`, `//`, `~`, ...).
    pub operator: Option<&'static str>,
    /// The part of the API it belongs to.
    pub category: Category,
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// One line saying what it computes.
    pub doc: &'static str,
    /// Where its kernel or planning lives.
    pub implementation: Implementation,
    /// Its dtype rule.
    pub rule: DTypeRule,
    /// Element types it accepts (its first array argument).
    pub accepts: Vec<DType>,
    /// Extra result-sized buffers one chunk needs (memory model).
    pub temporaries: u64,
    /// True when the planner can fuse it into its neighbours.
    pub fuses: bool,
}

impl Function {
    /// The Python-style signature, e.g. `sum(x, /, *, axis=None, keepdims=False)`.
    pub fn signature(&self) -> String {
        let mut parts = vec![];
        let mut star = false;
        for p in &self.params {
            if p.variadic {
                parts.push(format!("*{}", p.name));
                star = true;
                continue;
            }
            if p.keyword_only && !star {
                parts.push("*".to_string());
                star = true;
            }
            parts.push(match p.default {
                ParamDefault::Required => p.name.to_string(),
                ParamDefault::None => format!("{}=None", p.name),
                ParamDefault::Bool(b) => format!("{}={}", p.name, if b { "True" } else { "False" }),
                ParamDefault::Int(i) => format!("{}={i}", p.name),
                ParamDefault::Float(f) => format!("{}={f:?}", p.name),
                ParamDefault::Str(t) => format!("{}='{t}'", p.name),
            });
        }
        format!("{}({})", self.name, parts.join(", "))
    }

    /// True when `name` names this function (its name or an alias).
    pub fn is_called(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

pub(super) const X: Param = arg("x", ParamKind::Array, ParamDefault::Required);
pub(super) const AXIS: Param = kw("axis", ParamKind::Axes, ParamDefault::None);
pub(super) const KEEPDIMS: Param = kw("keepdims", ParamKind::Bool, ParamDefault::Bool(false));
pub(super) const SPLIT_EVERY: Param = kw("split_every", ParamKind::Int, ParamDefault::None);
pub(super) const CHUNKS: Param = kw("chunks", ParamKind::Shape, ParamDefault::None);
pub(super) const DTYPE_NONE: Param = kw("dtype", ParamKind::DType, ParamDefault::None);

pub(super) fn all_dtypes() -> Vec<DType> {
    DType::ALL.to_vec()
}

pub(super) fn numeric() -> Vec<DType> {
    DType::ALL.into_iter().filter(|d| d.is_numeric()).collect()
}

pub(super) fn named(name: &'static str, category: Category, params: Vec<Param>, doc: &'static str, dtypes: &'static str, accepts: Vec<DType>) -> Function {
    let fuses = matches!(category, Category::Elementwise | Category::Utility);
    Function {
        name,
        aliases: &[],
        operator: None,
        category,
        params,
        doc,
        implementation: Implementation::Named,
        rule: DTypeRule::Described(dtypes),
        accepts,
        temporaries: 0,
        fuses,
    }
}

pub(super) fn with_aliases(mut f: Function, aliases: &'static [&'static str]) -> Function {
    f.aliases = aliases;
    f
}

fn rows() -> Vec<Function> {
    use Category::*;
    use ParamDefault as D;
    use ParamKind as K;
    let mut rows = vec![];
    for &op in UnaryOp::ALL {
        rows.push(Function {
            name: op.name(),
            aliases: op.aliases(),
            operator: op.operator(),
            category: Elementwise,
            params: vec![arg("x", K::Array, D::Required)],
            doc: op.doc(),
            implementation: Implementation::Unary(op),
            rule: DTypeRule::Unary(op.rule()),
            accepts: DType::ALL.into_iter().filter(|&d| op.accepts(d)).collect(),
            temporaries: op.temporaries(),
            fuses: true,
        });
    }
    for &op in BinaryOp::ALL {
        rows.push(Function {
            name: op.name(),
            aliases: op.aliases(),
            operator: op.operator(),
            category: Elementwise,
            params: vec![arg("x1", K::Array, D::Required), arg("x2", K::Array, D::Required)],
            doc: op.doc(),
            implementation: Implementation::Binary(op),
            rule: DTypeRule::Binary(op.rule()),
            accepts: DType::ALL.into_iter().filter(|&d| op.accepts(op.compute_type(d))).collect(),
            temporaries: op.temporaries(),
            fuses: true,
        });
    }
    rows.extend([
        named("astype", Utility, vec![X, arg("dtype", K::DType, D::Required)], "x converted to dtype (numpy astype: integers wrap, floats truncate).", "the given dtype", all_dtypes()),
        named(
            "where",
            Utility,
            vec![arg("condition", K::Array, D::Required), arg("x1", K::Array, D::Required), arg("x2", K::Array, D::Required)],
            "Elements of x1 where condition is true (non-zero), else of x2.",
            "x1 and x2 promoted",
            all_dtypes(),
        ),
        named(
            "clip",
            Utility,
            vec![X, arg("min", K::Array, D::None), arg("max", K::Array, D::None)],
            "x limited to [min, max] elementwise (NaN propagates).",
            "the type of x",
            numeric(),
        ),
    ]);
    rows.extend(manipulation::rows());
    rows.extend(linalg::rows());
    rows.extend(stencil::rows());
    rows.extend(statistics::rows());
    rows.extend(creation::rows());
    rows
}

/// Every function, elementwise first, in declaration order.
pub static FUNCTIONS: LazyLock<Vec<Function>> = LazyLock::new(rows);

/// The function called `name` (its Array API name or a numpy alias).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.is_called(name))
}

/// The function an operator spells, with `arity` operands (`-` is both
/// `negative` and `subtract`).
pub fn by_operator(symbol: &str, arity: usize) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.operator == Some(symbol) && f.params.len() == arity)
}

/// Names close to `name` (edit distance at most 2, or sharing a prefix of
/// 3), closest first: for "did you mean" hints.
pub fn close_names(name: &str) -> Vec<&'static str> {
    let mut scored: Vec<(usize, &'static str)> = FUNCTIONS
        .iter()
        .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
        .filter_map(|n| {
            let d = edit_distance(name, n);
            let prefix = name.len() >= 3 && (n.starts_with(name) || name.starts_with(n));
            (d <= 2 || prefix).then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.dedup_by_key(|(_, n)| *n);
    scored.into_iter().map(|(_, n)| n).take(3).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_operators_resolve() {
        let mut seen = std::collections::HashSet::new();
        for f in FUNCTIONS.iter() {
            for n in std::iter::once(f.name).chain(f.aliases.iter().copied()) {
                assert!(seen.insert(n), "{n} declared twice");
            }
        }
        assert_eq!(by_operator("-", 1).map(|f| f.name), Some("negative"));
        assert_eq!(by_operator("-", 2).map(|f| f.name), Some("subtract"));
        assert_eq!(by_operator("//", 2).map(|f| f.name), Some("floor_divide"));
        assert_eq!(lookup("arctan2").map(|f| f.name), Some("atan2"));
        assert_eq!(lookup("sum").unwrap().signature(), "sum(x, *, axis=None, dtype=None, keepdims=False, split_every=None)");
        assert_eq!(close_names("sqr")[0], "sqrt");
        assert!(close_names("maximun").contains(&"maximum"));
    }
}
