//! The function table rendered for people: `cubed functions` (text), the
//! reference page `docs/FUNCTIONS.md` (markdown) and the README's list of
//! names. A test checks the committed documents against these renderings.

use super::{Category, DTypeRule, Function, FUNCTIONS};
use crate::dtype::DType;
use crate::kernel::{BinaryRule, UnaryRule};

/// The categories in listing order, with their rows.
fn grouped() -> Vec<(Category, Vec<&'static Function>)> {
    let mut cats: Vec<Category> = FUNCTIONS.iter().map(|f| f.category).collect();
    cats.sort();
    cats.dedup();
    cats.into_iter().map(|c| (c, FUNCTIONS.iter().filter(|f| f.category == c).collect())).collect()
}

/// The element types a row accepts, compactly (`all`, `numeric`, `float`, ...).
pub fn accepts_text(f: &Function) -> String {
    let all: Vec<DType> = DType::ALL.to_vec();
    let numeric: Vec<DType> = all.iter().copied().filter(|d| d.is_numeric()).collect();
    let integer_bool: Vec<DType> = all.iter().copied().filter(|d| !d.is_float()).collect();
    let integer: Vec<DType> = all.iter().copied().filter(|d| d.is_integer()).collect();
    let float: Vec<DType> = all.iter().copied().filter(|d| d.is_float()).collect();
    let known = [(&all, "all"), (&numeric, "numeric"), (&integer_bool, "integer, bool"), (&integer, "integer"), (&float, "float")];
    match known.iter().find(|(set, _)| **set == f.accepts) {
        Some((_, name)) => name.to_string(),
        None if f.accepts.is_empty() => "-".into(),
        None => f.accepts.iter().map(|d| d.name()).collect::<Vec<_>>().join(", "),
    }
}

/// The result type rule of a row in words.
pub fn result_text(f: &Function) -> &'static str {
    match f.rule {
        DTypeRule::Unary(UnaryRule::Same) => "type of x",
        DTypeRule::Unary(UnaryRule::ToBool) => "bool",
        DTypeRule::Unary(UnaryRule::Float) => "float (float32 for 8/16-bit integers and bool)",
        DTypeRule::Unary(UnaryRule::Logical) => "bool",
        DTypeRule::Binary(BinaryRule::Promote) => "promoted type",
        DTypeRule::Binary(BinaryRule::Compare) => "bool",
        DTypeRule::Binary(BinaryRule::TrueDivide) => "promoted float (float64 for integers)",
        DTypeRule::Binary(BinaryRule::Float) => "promoted float",
        DTypeRule::Binary(BinaryRule::Logical) => "bool",
        DTypeRule::Described(text) => text,
    }
}

fn also(f: &Function) -> Vec<String> {
    let mut v: Vec<String> = f.aliases.iter().map(|a| a.to_string()).collect();
    if let Some(op) = f.operator {
        // Spellings on x itself (`x[key]`, `x.T`) are shown as they are.
        v.push(if op.starts_with('x') { op.to_string() } else if f.params.len() == 1 { format!("{op}x") } else { format!("x {op} y") });
    }
    v
}

/// Plain text for `cubed functions`: one block per category.
pub fn text() -> String {
    let mut out = String::new();
    for (cat, rows) in grouped() {
        out.push_str(&format!("{} ({})\n", cat.title(), rows.len()));
        for f in rows {
            out.push_str(&format!("  {}\n      {}\n", f.signature(), f.doc));
            let also = also(f);
            if !also.is_empty() {
                out.push_str(&format!("      also: {}\n", also.join(", ")));
            }
            out.push_str(&format!("      types: {} -> {}\n", accepts_text(f), result_text(f)));
        }
        out.push('\n');
    }
    out
}

/// The reference page `docs/FUNCTIONS.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Functions\n\n<!-- Generated from the function table (functions/src/table): `cubed functions --format markdown > docs/FUNCTIONS.md`. A test checks it. -->\n\n\
         Every function of the expression language and the Rust API (`cubed::NAME`), with its signature, its other names \
         (numpy aliases and operators), the element types it accepts and the type it returns. Types follow the Array API \
         promotion table, with numpy 2's answers where the standard is silent (see the README).\n\n",
    );
    for (cat, rows) in grouped() {
        out.push_str(&format!("## {} ({})\n\n| Function | Also | Accepts | Result | Description |\n|---|---|---|---|---|\n", cat.title(), rows.len()));
        for f in rows {
            let also = also(f).iter().map(|a| format!("`{}`", a.replace('|', "\\|"))).collect::<Vec<_>>().join(", ");
            out.push_str(&format!("| `{}` | {also} | {} | {} | {} |\n", f.signature(), accepts_text(f), result_text(f), f.doc));
        }
        out.push('\n');
    }
    out
}

/// The README's list: function names by category.
pub fn names() -> String {
    let mut out = String::new();
    for (cat, rows) in grouped() {
        let names: Vec<String> = rows.iter().map(|f| format!("`{}`", f.name)).collect();
        out.push_str(&format!("- **{}** ({}): {}\n", cat.title(), rows.len(), names.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_listed_in_every_rendering() {
        let (text, markdown, names) = (text(), markdown(), names());
        for f in FUNCTIONS.iter() {
            assert!(text.contains(&f.signature()), "{}", f.name);
            assert!(markdown.contains(&format!("`{}`", f.signature())), "{}", f.name);
            assert!(names.contains(&format!("`{}`", f.name)), "{}", f.name);
        }
        assert!(markdown.contains("| `x // y`") || markdown.contains("`x // y`"));
    }
}
