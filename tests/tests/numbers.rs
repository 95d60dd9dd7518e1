//! Numbers as numpy gives them: integer dtypes, Python (weak) scalars,
//! overflow and negative powers, checked against numpy 2 in the test venv.
//!
//! Each case is a cubed expression and the same computation in numpy. When
//! numpy raises, `cubed eval` must fail with a message holding the same
//! words; otherwise zarr-python reads cubed's output and it must equal numpy's
//! result exactly, dtype included.
//!
//! Needs `scripts/python-env.sh` (the venv) and `cargo build -p cubed --bin cubed`.

use cubed_e2e::{run_failing, run_python, temp_dir, Eval};

/// argv: OUT_JSON then NUMPY_EXPR...; writes, per expression, `null` when it
/// evaluates, else numpy's error message.
const NUMPY_ERRORS: &str = r#"
import sys, json, warnings
import numpy as np
warnings.simplefilter("ignore")
errors = []
for expr in sys.argv[2:]:
    try:
        eval(expr)
        errors.append(None)
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
json.dump(errors, open(sys.argv[1], "w"))
"#;

/// argv: (OUTPUT_PATH NUMPY_EXPR CUBED_EXPR)...; compares exactly.
const CHECK: &str = r#"
import sys, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
failures = []
for out, numpy_expr, expr in zip(*[iter(sys.argv[1:])] * 3):
    try:
        expected = np.asarray(eval(numpy_expr))
        got = np.asarray(zarr.open_array(out, mode="r")[...])
        assert got.dtype == expected.dtype, f"dtype {got.dtype}, numpy's {expected.dtype}"
        np.testing.assert_array_equal(got, expected, strict=True)
    except Exception as e:
        failures.append(f"cubed `{expr}` vs numpy `{numpy_expr}`: {type(e).__name__}: {e}")
if failures:
    sys.exit("\n\n".join(failures))
"#;

/// (cubed expression, numpy expression, words both errors share or "" when
/// numpy succeeds). Words starting with `!` mark a documented limitation:
/// numpy computes the value, cubed-rs refuses with that error.
const CASES: &[(&str, &str, &str)] = &[
    // Integer arrays to negative integer powers: refused at plan time for a
    // scalar exponent, by the task for an array exponent.
    ("ones((2,), dtype=int64) ** -1", "np.ones((2,), dtype=np.int64) ** -1", "Integers to negative integer powers are not allowed"),
    ("ones((2,), dtype=bool) ** -2", "np.ones((2,), dtype=bool) ** -2", "Integers to negative integer powers are not allowed"),
    ("ones((2,), dtype=int64) ** arange(-1, 1)", "np.ones((2,), dtype=np.int64) ** np.arange(-1, 1)", "Integers to negative integer powers are not allowed"),
    ("arange(3) ** -1.0", "np.arange(3) ** -1.0", ""),
    ("2 ** -1 + arange(2)", "2 ** -1 + np.arange(2)", ""),
    // Integer powers wrap, for any exponent.
    ("arange(4) ** (2 ** 32 + 1)", "np.arange(4) ** (2 ** 32 + 1)", ""),
    ("astype(arange(5), int32) ** 31", "np.arange(5, dtype=np.int32) ** 31", ""),
    // NEP 50: a Python integer must fit the integer array's type...
    ("astype(arange(3), int32) + 3000000000", "np.arange(3, dtype=np.int32) + 3000000000", "Python integer 3000000000 out of bounds for int32"),
    ("astype(arange(3), int32) - 2147483648", "np.arange(3, dtype=np.int32) - 2147483648", "Python integer 2147483648 out of bounds for int32"),
    ("astype(arange(3), int32) * -2147483649", "np.arange(3, dtype=np.int32) * -2147483649", "Python integer -2147483649 out of bounds for int32"),
    ("full((2,), 3000000000, dtype=int32)", "np.full((2,), 3000000000, dtype=np.int32)", "3000000000 out of bounds for int32"),
    // ... and then wraps like the array's type,
    ("astype(arange(3), int32) + 2147483647", "np.arange(3, dtype=np.int32) + 2147483647", ""),
    ("astype(arange(3), int32) * -2147483648", "np.arange(3, dtype=np.int32) * -2147483648", ""),
    ("asarray((4611686018427387904, -9007199254740992), dtype=int64) * 2", "np.array((2**62, -2**53), dtype=np.int64) * 2", ""),
    // ... except in comparisons, which are exact,
    ("astype(arange(3), int32) < 3000000000", "np.arange(3, dtype=np.int32) < 3000000000", ""),
    ("astype(arange(3), int32) == -3000000000", "np.arange(3, dtype=np.int32) == -3000000000", ""),
    // Integers beyond 2**53 would be rounded in the plan (numbers are held as float64): refused.
    ("arange(3) + 9007199254740993", "np.arange(3) + 9007199254740993", "!9007199254740993 cannot be used exactly"),
    ("full((2,), 9007199254740993, dtype=int64)", "np.full((2,), 9007199254740993, dtype=np.int64)", "!9007199254740993 cannot be used exactly"),
    ("asarray((9007199254740993,), dtype=int64)", "np.array((9007199254740993,), dtype=np.int64)", "!9007199254740993 cannot be used exactly"),
    // ... and arithmetic on Python scalars stays a Python scalar.
    ("astype(arange(3), int32) + (1 + 2)", "np.arange(3, dtype=np.int32) + (1 + 2)", ""),
    ("astype(arange(3), float32) * (3 / 2)", "np.arange(3, dtype=np.float32) * (3 / 2)", ""),
    ("(1 < 2) + arange(2)", "(1 < 2) + np.arange(2)", ""),
    // Floats with integers, bools with integers.
    ("astype(arange(3), int32) + 2.5", "np.arange(3, dtype=np.int32) + 2.5", ""),
    ("astype(arange(3), int32) * 1e10", "np.arange(3, dtype=np.int32) * 1e10", ""),
    ("astype(arange(3), float32) + 1e300", "np.arange(3, dtype=np.float32) + 1e300", ""),
    ("ones((3,), dtype=bool) + 1", "np.ones((3,), dtype=bool) + 1", ""),
    ("ones((3,), dtype=bool) * 2.5", "np.ones((3,), dtype=bool) * 2.5", ""),
    // Bool with bool: or, and, true division; subtract refused.
    ("ones((3,), dtype=bool) + (arange(3) > 0)", "np.ones((3,), dtype=bool) + (np.arange(3) > 0)", ""),
    ("(arange(3) > 0) * (arange(3) < 2)", "(np.arange(3) > 0) * (np.arange(3) < 2)", ""),
    ("(arange(3) > 0) + True", "(np.arange(3) > 0) + True", ""),
    ("(arange(3) > 0) / (arange(3) < 2)", "(np.arange(3) > 0) / (np.arange(3) < 2)", ""),
    ("(arange(3) > 0) - (arange(3) < 2)", "(np.arange(3) > 0) - (np.arange(3) < 2)", "numpy boolean subtract, the `-` operator, is not supported"),
    // True division of integers, by zero too; abs and casts at the edges.
    ("arange(3) / 0", "np.arange(3) / 0", ""),
    ("astype(arange(3), int32) / astype(arange(3), int32)", "np.arange(3, dtype=np.int32) / np.arange(3, dtype=np.int32)", ""),
    ("abs(asarray((-2147483648, 5), dtype=int32))", "np.abs(np.array((-2147483648, 5), dtype=np.int32))", ""),
    ("astype(asarray((1.7, -1.7, 2147483647.5)), int32)", "np.array((1.7, -1.7, 2147483647.5)).astype(np.int32)", ""),
    ("astype(asarray((0.0, 0.5, -2.0)), bool)", "np.array((0.0, 0.5, -2.0)).astype(bool)", ""),
];

#[test]
fn integer_and_scalar_semantics_match_numpy() {
    let dir = temp_dir("numbers");
    let dir = dir.path();
    let errors_json = dir.join("numpy-errors.json");
    let mut args = vec![errors_json.display().to_string()];
    args.extend(CASES.iter().map(|c| c.1.to_string()));
    run_python(NUMPY_ERRORS, &args);
    let errors: Vec<Option<String>> = serde_json::from_str(&std::fs::read_to_string(&errors_json).unwrap()).unwrap();

    let mut check = Vec::new();
    for (i, (&(expr, numpy_expr, words), numpy_error)) in CASES.iter().zip(&errors).enumerate() {
        let mut eval = Eval::new(expr, dir.join("work")).output(dir.join(format!("out{i}.zarr")));
        if let Some(limitation) = words.strip_prefix('!') {
            assert!(numpy_error.is_none(), "numpy raised for `{numpy_expr}`: {numpy_error:?}");
            let stderr = run_failing(eval.command());
            assert!(stderr.contains(limitation), "cubed `{expr}` should fail saying {limitation:?}; stderr:\n{stderr}");
            continue;
        }
        match numpy_error {
            Some(numpy_error) => {
                assert!(!words.is_empty(), "numpy raised for `{numpy_expr}` ({numpy_error}) but the case expects a value");
                assert!(numpy_error.contains(words), "numpy's error for `{numpy_expr}` is {numpy_error:?}, not about {words:?}");
                let stderr = run_failing(eval.command());
                assert!(stderr.contains(words), "cubed `{expr}` should fail saying {words:?} as numpy does; stderr:\n{stderr}");
                assert!(!stderr.contains("panicked"), "cubed `{expr}` panicked:\n{stderr}");
                // A task's error is final: retrying would only repeat it.
                assert!(!stderr.contains("attempt 2"), "cubed `{expr}` retried a final error:\n{stderr}");
            }
            None => {
                assert!(words.is_empty(), "numpy computes `{numpy_expr}`, but the case expects the error {words:?}");
                eval.run();
                check.extend([dir.join(format!("out{i}.zarr")).display().to_string(), numpy_expr.to_string(), expr.to_string()]);
            }
        }
    }
    run_python(CHECK, &check);
}
