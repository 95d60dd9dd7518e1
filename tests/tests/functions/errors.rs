//! Unknown functions and bad arguments: an error pointing at the column,
//! naming close names or the signature from the table, never a panic.

use cubed_e2e::{run_failing, temp_dir, Eval};

/// (expression, column the caret points at, words the message holds).
const ERRORS: &[(&str, usize, &[&str])] = &[
    ("maximun(arange(3), 1)", 1, &["unknown function 'maximun'", "did you mean `maximum`"]),
    ("1 + arcsinn(arange(3))", 5, &["unknown function 'arcsinn'", "did you mean `arcsin`"]),
    ("sum(arange(3), axs=0)", 16, &["sum() got an unexpected keyword argument 'axs'", "signature: sum(x, *, axis=None, dtype=None, keepdims=False, split_every=None)"]),
    ("sqrt(arange(3), 2)", 17, &["sqrt() takes 1 positional argument but 2 were given", "signature: sqrt(x)"]),
    ("atan2(arange(3))", 1, &["atan2() is missing its argument 'x2'"]),
    ("astype(arange(3), 'float16')", 19, &["dtype 'float16' is not supported yet"]),
    ("sum(arange(3), axis=0, axis=0)", 24, &["keyword argument 'axis' repeated in the call to 'sum'"]),
    ("arange(3) + sqrt", 13, &["unknown name 'sqrt'", "sqrt is a function: call it, e.g. sqrt(x)"]),
];

#[test]
fn errors_point_at_the_column_with_close_names() {
    let dir = temp_dir("function-errors");
    for &(expr, column, words) in ERRORS {
        let mut eval = Eval::new(expr, dir.path().join("work"));
        let stderr = run_failing(eval.command());
        assert!(!stderr.contains("panicked"), "`{expr}` panicked:\n{stderr}");
        for w in words {
            assert!(stderr.contains(w), "`{expr}`: expected {w:?} in:\n{stderr}");
        }
        assert!(stderr.contains(&format!("error at line 1, column {column}:")), "`{expr}`: expected column {column} in:\n{stderr}");
        // The caret line: two spaces of indent, then the caret under the column.
        let lines: Vec<&str> = stderr.lines().collect();
        let at = lines.iter().position(|l| l.trim_end() == format!("  {expr}")).unwrap_or_else(|| panic!("`{expr}`: no source line in:\n{stderr}"));
        let caret = lines.get(at + 1).and_then(|l| l.find('^'));
        assert_eq!(caret, Some(column + 1), "`{expr}`: the caret should point at column {column}:\n{stderr}");
    }
}
