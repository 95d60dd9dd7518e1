//! Known disagreements with numpy, listed so the harness stays green while
//! they are open. Remove an entry once its cause is fixed: the harness fails
//! on entries that no longer match anything, so they cannot go stale.

/// Some cases, over some dtypes.
pub struct Known {
    /// The cases' cubed expressions, exactly.
    pub cases: &'static [&'static str],
    /// Their dtypes label: `int8` for cases over `x`, `int8,uint8` for `x`
    /// and `y` (or `n`), `-` without inputs. `*` matches any text, `|`
    /// separates alternatives.
    pub dtypes: &'static str,
    /// What differs, and why.
    pub why: &'static str,
}

impl Known {
    /// True when this entry covers the case `expr` over `dtypes`.
    pub fn covers(&self, expr: &str, dtypes: &str) -> bool {
        self.cases.contains(&expr) && matches(self.dtypes, dtypes)
    }
}

/// Cases whose result differs from numpy's, or that cubed-rs fails to
/// evaluate although its table accepts them. Semantic bugs in cubed-rs (or
/// numpy quirks to decide on): empty this list.
pub const KNOWN_FAILURES: &[Known] = &[
    Known {
        cases: &["reciprocal(x)"],
        dtypes: "int*|uint*|bool",
        why: "dtype float32/float64, numpy's the integer type: numpy's reciprocal of integers is an integer \
              (1 // x); cubed-rs gives a float (the Array API defines it for floats only)",
    },
    Known {
        cases: &["x ** 2"],
        dtypes: "bool",
        why: "dtype int64, numpy's int8: numpy's power has no bool loop and takes bool ** 2 to int8, while \
              bool + 1 gives int64 in both",
    },
    Known {
        cases: &[
            "std(x)", "std(x, axis=-1, correction=1, keepdims=True)", "std(x, axis=(1, 0), split_every=2)",
            "nanstd(x)", "nanstd(x, axis=-1, correction=1.5, keepdims=True)", "nanstd(x, axis=0, split_every=2)",
        ],
        dtypes: "float32",
        why: "deliberate: cubed-rs computes float32 variances in float64 and casts the result, so the standard \
              deviation of a slice holding 1e36 is finite (about 3e35); numpy squares the deviations in float32, \
              where they overflow, and gives inf",
    },
];

/// Dtypes cubed-rs refuses for a case (its table does not accept them, or
/// the expression is refused) although numpy computes it: by design, or
/// missing. Remove entries as cubed-rs accepts them.
pub const REFUSED: &[Known] = &[
    Known {
        cases: &["x @ x.mT"],
        dtypes: "bool",
        why: "cubed-rs contracts numeric types only, so x @ x.mT of a bool x is refused; numpy gives a bool result",
    },
    Known {
        cases: &[
            "x @ y.mT", "matmul(x.mT, y)", "x @ y", "x @ rechunk(y.mT, (2, 3))", "x[0] @ y.mT", "x @ y[..., 0, :]", "tensordot(x, y, axes=x.ndim)",
            "tensordot(x, y, axes=((0,), (0,)))", "tensordot(x, y, axes=((0, -1), (0, -1)))", "tensordot(x, y, axes=0)",
            "vecdot(x, y)", "vecdot(x, y, axis=-2)", "inner(x, y)", "outer(x, y)",
        ],
        dtypes: "bool,bool",
        why: "cubed-rs contracts numeric types only (the Array API's matmul and friends are for numeric types); numpy's \
              give bool results (logical or of ands)",
    },
    Known {
        cases: &["ceil(x)", "floor(x)", "trunc(x)", "fix(x)", "round(x)", "signbit(x)", "square(x)"],
        dtypes: "bool",
        why: "no bool kernel (the Array API defines these for numeric dtypes); numpy computes them on bools",
    },
    Known {
        cases: &[
            "floor_divide(x, y)", "x // y", "remainder(x, y)", "mod(x, y)", "x % y", "pow(x, n)", "power(x, n)", "x ** n",
            "bitwise_left_shift(x, n)", "left_shift(x, n)", "x << n", "bitwise_right_shift(x, n)", "right_shift(x, n)", "x >> n",
        ],
        dtypes: "bool,bool",
        why: "no bool kernel (the Array API defines these for numeric or integer dtypes); numpy computes \
              them on two bools in int8",
    },
    Known {
        cases: &["clip(x, 1, 10)", "clip(x, None, 5)", "clip(x, min=2)", "clip(x, y)", "clip(x, max=y)"],
        dtypes: "bool|bool,*",
        why: "clip accepts numeric dtypes only; numpy clips bools too",
    },
    Known {
        cases: &["clip(x, y)", "clip(x, max=y)"],
        dtypes: "int8,uint8|int64,uint64|int16,float32|int32,float32|uint32,int32|float32,float64|uint8,int64|uint16,int16|uint64,float32",
        why: "refused: a min or max of another type would change x's type (the Array API keeps it); numpy \
              promotes",
    },
    Known {
        cases: &["arange(250, 260, dtype=uint8)"],
        dtypes: "-",
        why: "deliberate: its last value, 259, is out of bounds for uint8, and cubed-rs refuses it (\"use a wider \
              dtype\") rather than wrap; numpy computes it in the dtype, wrapping (250, ..., 255, 0, 1, 2, 3)",
    },
    Known {
        cases: &["triu(arange(4), k=1)"],
        dtypes: "-",
        why: "deliberate: tril / triu need at least 2 dimensions (the Array API's rule); numpy broadcasts a 1-d x \
              to a square matrix (it refuses 0-d arrays too)",
    },
    Known {
        cases: &["tril(ones((3, 4)), k=1.5)"],
        dtypes: "-",
        why: "deliberate: k must be an integer (the Array API's); numpy accepts a float k",
    },
    Known {
        cases: &["cumulative_sum(asarray(5))"],
        dtypes: "-",
        why: "deliberate: the scans need at least one dimension (the Array API's rule); numpy takes a 0-d \
              array as 1-d",
    },
    Known {
        cases: &["cumulative_sum(arange(4), dtype=bool)"],
        dtypes: "-",
        why: "deliberate: a scan with dtype=bool is refused; numpy computes it (a running logical or)",
    },
];

/// Layouts (shape, chunks) on which cubed-rs fails whatever the case. The
/// harness evaluates only one group of cases on them, expecting it to fail.
pub const BROKEN_LAYOUTS: &[(&[u64], &[u64], &str)] = &[];

/// True when `text` matches `pattern` (`*` any text, `|` alternatives).
pub fn matches(pattern: &str, text: &str) -> bool {
    fn glob(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| glob(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && glob(rest, &t[1..]),
        }
    }
    pattern.split('|').any(|p| glob(p.as_bytes(), text.as_bytes()))
}

#[test]
fn dtype_patterns() {
    assert!(matches("*", "int8,uint8"));
    assert!(matches("int*,int8|bool", "bool"));
    assert!(matches("int*,int8|bool", "int16,int8"));
    assert!(!matches("int*,int8|bool", "uint16,int8"));
    assert!(!matches("int8", "int8,int8"));
}
