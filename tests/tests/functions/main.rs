//! Every function of the table against numpy itself.
//!
//! Cases (`case.rs`): the elementwise ones are generated from the function
//! table (`generate.rs`), the others are hand-written (`cases_core.rs`,
//! `cases_statistics.rs`, `cases_creation.rs`, `cases_manipulation.rs`, `cases_linalg.rs`); a table row without a case
//! fails `every_table_row_has_a_case`.
//!
//! How they run (`every_function_matches_numpy`):
//! 1. zarr-python writes the inputs (`write_inputs.py`, one process): `x`,
//!    `y` and `n` in each layout of `inputs::LAYOUTS` and every dtype, in
//!    Zarr v2 and v3, little- and big-endian.
//! 2. Per layout and pair of input dtypes (every dtype with itself, and
//!    `inputs::MIXED_PAIRS`), ONE `cubed eval` computes every case that runs
//!    for them, as a tuple with one `--output` per case. When the expression
//!    is refused, the error's column names the case: it is set aside and the
//!    rest evaluated again. When a task fails, the cases are halved until
//!    the failing ones are alone.
//! 3. ONE python run (`check.py`, forked into one process per core, up to
//!    4) compares every output with numpy's result, and asks numpy about
//!    every case cubed-rs refused (its table does not accept the dtypes, or
//!    the expression was refused): numpy must refuse it too.
//!
//! Disagreements fail the test unless `known.rs` lists them; entries that no
//! longer match fail it too. The test takes about 80 s on 2 cores. A case
//! cubed-rs refuses costs one more evaluation of its group: write refusals
//! that do not depend on x's dtype as cases without inputs (they run once).
//! `CUBED_E2E_KEEP=1` keeps the directory (inputs, outputs, `manifest.json`
//! and `result.json`) for inspection.
//!
//! Needs `scripts/python-env.sh` (the venv) and `cargo build -p cubed --bin cubed`.

mod case;
mod cases_core;
mod cases_creation;
mod cases_linalg;
mod cases_manipulation;
mod cases_statistics;
mod errors;
mod generate;
mod inputs;
mod known;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cubed_e2e::{memory_temp_dir, run_python, Eval};
use cubed_task::table::{self, Function, FUNCTIONS};
use cubed_task::DType;
use serde_json::{json, Value};

use case::{Case, Compare, Inputs};
use inputs::{Layout, LAYOUTS, MIXED_PAIRS, ROLES};
use known::{Known, BROKEN_LAYOUTS, KNOWN_FAILURES, REFUSED};

/// Every case: generated, then hand-written.
fn all_cases() -> Vec<Case> {
    let mut cases = generate::elementwise();
    for list in [cases_core::CASES, cases_statistics::CASES, cases_creation::CASES, cases_manipulation::CASES, cases_manipulation::JOINS, cases_linalg::CASES] {
        cases.extend(list.iter().cloned());
    }
    cases
}

/// The table row a case covers (by its table name, not an alias).
fn row(case: &Case) -> &'static Function {
    table::lookup(case.function)
        .filter(|f| f.name == case.function)
        .unwrap_or_else(|| panic!("case `{}` names `{}`, which is not the name of a table row", case.cubed, case.function))
}

#[test]
fn every_table_row_has_a_case() {
    let cases = all_cases();
    let missing: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).filter(|&n| !cases.iter().any(|c| c.function == n)).collect();
    assert!(missing.is_empty(), "table rows without a case (add them to tests/tests/functions/cases_*.rs): {missing:?}");
    let mut seen = BTreeSet::new();
    for c in &cases {
        row(c);
        assert!(seen.insert(c.cubed), "two cases have the expression `{}`", c.cubed);
    }
}

/// The label of a dtype combination, as in `known.rs`.
fn dtypes_label(inputs: Inputs, dx: DType, dy: DType) -> String {
    match inputs {
        Inputs::None => "-".into(),
        Inputs::X => dx.name().into(),
        Inputs::XY | Inputs::XN => format!("{dx},{dy}"),
    }
}

/// Cases evaluated together: one layout and pair of input dtypes (or the creation cases).
struct Group<'c> {
    layout: Option<usize>,
    dx: DType,
    dy: DType,
    /// `x`, `y` and `n` of this layout and dtypes.
    inputs: Vec<(&'static str, PathBuf)>,
    cases: Vec<&'c Case>,
}

impl Group<'_> {
    fn layout_label(&self) -> String {
        self.layout.map_or("no inputs".into(), |l| LAYOUTS[l].label())
    }

    fn key(&self, case: &Case) -> Value {
        json!([case.cubed, dtypes_label(case.inputs, self.dx, self.dy), self.layout_label()])
    }

    fn inputs_json(&self) -> Value {
        json!(self.inputs.iter().map(|(n, p)| (*n, p.as_path())).collect::<BTreeMap<&str, &Path>>())
    }
}

/// The known-broken entry of a layout, if any.
fn broken(layout: &Layout) -> Option<&'static (&'static [u64], &'static [u64], &'static str)> {
    BROKEN_LAYOUTS.iter().find(|(shape, chunks, _)| *shape == layout.shape && *chunks == layout.chunks)
}

/// How one case's evaluation ended.
enum Outcome {
    /// Written here.
    Written(PathBuf),
    /// The expression was refused when planned (`error at line 1, column ...`).
    Refused(String),
    /// It failed otherwise (a task failed, a panic, ...).
    Failed(String),
}

struct Harness {
    dir: PathBuf,
    evals: usize,
    /// Expressions that failed in an earlier group: evaluated alone from
    /// then on, so that a failing case does not make every group bisect.
    suspects: BTreeSet<&'static str>,
}

impl Harness {
    fn input_path(&self, layout: usize, dtype: DType, role: &str) -> PathBuf {
        self.dir.join("in").join(format!("l{layout}-{dtype}-{role}.zarr"))
    }

    /// Writes every input with zarr-python (one process).
    fn write_inputs(&self) {
        let mut specs = vec![];
        for (l, layout) in LAYOUTS.iter().enumerate() {
            for (d, &dtype) in DType::ALL.iter().enumerate() {
                for (r, role) in ROLES.iter().enumerate() {
                    specs.push(json!({
                        "path": self.input_path(l, dtype, role),
                        "shape": layout.shape,
                        "chunks": layout.chunks,
                        "dtype": dtype.name(),
                        "role": role,
                        "storage": inputs::storage(l, dtype, r),
                        "seed": 1000 * l + 10 * d + r,
                    }));
                }
            }
        }
        let path = self.dir.join("inputs.json");
        std::fs::write(&path, serde_json::to_vec(&specs).unwrap()).unwrap();
        run_python(include_str!("write_inputs.py"), [&path]);
    }

    /// One `cubed eval` of `exprs` as a tuple; Err(stderr) when it fails.
    fn eval(&mut self, group: &Group, exprs: &[&str], outs: &[PathBuf]) -> Result<(), String> {
        self.evals += 1;
        let expr = match exprs {
            // In parentheses, `-x` is not taken for an option.
            [one] => format!("({one})"),
            many => format!("({})", many.join(", ")),
        };
        // Failures are final here: no retries, no backups, no backtraces.
        let mut eval = Eval::new(&expr, self.dir.join("work")).args(["--attempts", "1", "--no-backups"]);
        eval.command().env("RUST_BACKTRACE", "0");
        for (name, path) in &group.inputs {
            eval = eval.input(name, path);
        }
        for o in outs {
            eval = eval.output(o);
        }
        let output = eval.command().output().expect("run cubed");
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    fn outs(&self, gid: usize, cases: &[usize], attempt: &mut usize) -> Vec<PathBuf> {
        *attempt += 1;
        let dir = self.dir.join("out").join(format!("g{gid}")).join(format!("a{attempt}"));
        cases.iter().map(|i| dir.join(format!("c{i}.zarr"))).collect()
    }

    /// Evaluates `cases` of `group` (indices into its cases). When the
    /// expression is refused, the error's column names the case: it is set
    /// aside and the others evaluated again; when a task fails, the cases are
    /// halved until the failing ones are alone.
    fn run(&mut self, gid: usize, group: &Group, cases: &[usize], attempt: &mut usize) -> Vec<(usize, Outcome)> {
        let outs = self.outs(gid, cases, attempt);
        let exprs: Vec<&str> = cases.iter().map(|&i| group.cases[i].cubed).collect();
        let stderr = match self.eval(group, &exprs, &outs) {
            Ok(()) => return cases.iter().copied().zip(outs.into_iter().map(Outcome::Written)).collect(),
            Err(stderr) => stderr,
        };
        let first = summary(&stderr);
        let planned = stderr.starts_with("error: error at line 1, column ") && !stderr.contains("panicked");
        if planned {
            if let Some(k) = refused_case(&first, &exprs) {
                let rest: Vec<usize> = cases.iter().enumerate().filter(|&(j, _)| j != k).map(|(_, &i)| i).collect();
                let mut r = vec![(cases[k], Outcome::Refused(first))];
                if !rest.is_empty() {
                    r.extend(self.run(gid, group, &rest, attempt));
                }
                return r;
            }
        }
        if let [only] = cases {
            return vec![(*only, if planned { Outcome::Refused(first) } else { Outcome::Failed(first) })];
        }
        let (a, b) = cases.split_at(cases.len() / 2);
        let mut r = self.run(gid, group, a, attempt);
        r.extend(self.run(gid, group, b, attempt));
        r
    }
}

/// The line of `stderr` that says what went wrong (a panic's message).
fn summary(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.iter().position(|l| l.contains("panicked at")) {
        Some(i) => format!("{} {}", lines[i].trim(), lines.get(i + 1).copied().unwrap_or_default().trim()),
        None => lines.first().copied().unwrap_or("(no message)").to_string(),
    }
}

/// Which of `exprs`, evaluated as the tuple `(e0, e1, ...)`, the column of
/// an `error at line 1, column C:` message points into.
fn refused_case(message: &str, exprs: &[&str]) -> Option<usize> {
    let rest = message.strip_prefix("error: error at line 1, column ")?;
    let column: usize = rest[..rest.find(':')?].parse().ok()?;
    let offset = column.checked_sub(1)?;
    let mut start = 1;
    for (k, e) in exprs.iter().enumerate() {
        if (start..start + e.len()).contains(&offset) {
            return Some(k);
        }
        start += e.len() + 2;
    }
    None
}

/// A case the table does not run for some dtypes: ask numpy whether it computes them.
struct NotRun<'c> {
    key: Value,
    case: &'c Case,
    inputs: Value,
}

/// The groups: the creation cases, then per layout every dtype with itself
/// (all cases) and the mixed pairs (cases over `x` and `y`/`n` only); on a
/// broken layout only float64 with itself. Also returns the cases not run
/// for a dtype combination (once each, on the first layout they fit).
fn groups<'c>(h: &Harness, cases: &'c [Case]) -> (Vec<Group<'c>>, Vec<NotRun<'c>>) {
    let creation: Vec<&Case> = cases.iter().filter(|c| c.inputs == Inputs::None).collect();
    let mut groups = vec![Group { layout: None, dx: DType::Bool, dy: DType::Bool, inputs: vec![], cases: creation }];
    let mut not_run = vec![];
    let mut seen = BTreeSet::new();
    for (l, layout) in LAYOUTS.iter().enumerate() {
        let pairs: Vec<(DType, DType)> = match broken(layout) {
            Some(_) => vec![(DType::Float64, DType::Float64)],
            None => DType::ALL.iter().map(|&d| (d, d)).chain(MIXED_PAIRS.iter().copied()).collect(),
        };
        for (dx, dy) in pairs {
            let inputs = vec![("x", h.input_path(l, dx, "x")), ("y", h.input_path(l, dy, "y")), ("n", h.input_path(l, dy, "n"))];
            let mut group = Group { layout: Some(l), dx, dy, inputs, cases: vec![] };
            for c in cases {
                let fits = match c.inputs {
                    Inputs::None => false,
                    Inputs::X => dx == dy,
                    Inputs::XY | Inputs::XN => true,
                } && c.ndim.contains(&layout.shape.len());
                if !fits {
                    continue;
                }
                if c.runs_for(&row(c).accepts, dx, dy) {
                    group.cases.push(c);
                } else if seen.insert((c.cubed, dtypes_label(c.inputs, dx, dy))) {
                    not_run.push(NotRun { key: group.key(c), case: c, inputs: group.inputs_json() });
                }
            }
            groups.push(group);
        }
    }
    (groups, not_run)
}

fn compare_mode(c: &Case) -> &'static str {
    match c.compare {
        Compare::Values => "values",
        Compare::Accumulated => "accumulated",
        Compare::Product => "product",
        Compare::AnyZeroSign => "any_zero_sign",
        Compare::Cast => "cast",
        Compare::Random => "random",
    }
}

/// Disagreements: (expression, dtypes) -> (layout, message) per layout.
type Disagreements = BTreeMap<(String, String), Vec<(String, String)>>;

/// Splits `found` into the entries `known` covers and the others (as
/// messages); also returns the entries of `known` that cover nothing.
fn against_known<'k>(found: &Disagreements, known: &'k [Known]) -> (Vec<String>, Vec<&'k Known>) {
    let mut unknown = vec![];
    let mut used = vec![false; known.len()];
    for ((expr, dtypes), places) in found {
        match known.iter().position(|k| k.covers(expr, dtypes)) {
            Some(i) => used[i] = true,
            None => {
                let (layout, message) = &places[0];
                let more = if places.len() > 1 { format!(" (and {} more layouts)", places.len() - 1) } else { String::new() };
                unknown.push(format!("`{expr}` [{dtypes}] {layout}{more}: {message}"));
            }
        }
    }
    let stale = known.iter().zip(used).filter(|(_, u)| !u).map(|(k, _)| k).collect();
    (unknown, stale)
}

#[test]
fn every_function_matches_numpy() {
    let tmp = memory_temp_dir("functions");
    let mut h = Harness { dir: tmp.path().to_path_buf(), evals: 0, suspects: BTreeSet::new() };
    let cases = all_cases();
    let started = std::time::Instant::now();
    h.write_inputs();
    let written = started.elapsed();
    let (groups, not_run) = groups(&h, &cases);

    let mut failures = Disagreements::new();
    let mut problems = vec![];
    let mut manifest_groups = vec![];
    let mut manifest_refused: Vec<Value> = not_run.iter().map(|r| json!({"key": r.key, "numpy": r.case.numpy, "inputs": r.inputs})).collect();
    let mut ran: BTreeSet<&str> = BTreeSet::new();
    let mut compared = 0;
    for (gid, group) in groups.iter().enumerate() {
        let all: Vec<usize> = (0..group.cases.len()).collect();
        let mut attempt = 0;
        if let Some((_, _, why)) = group.layout.and_then(|l| broken(&LAYOUTS[l])) {
            // Known broken: one eval of all the cases, expected to fail.
            let outs = h.outs(gid, &all, &mut attempt);
            let exprs: Vec<&str> = group.cases.iter().map(|c| c.cubed).collect();
            if h.eval(group, &exprs, &outs).is_ok() {
                problems.push(format!("known::BROKEN_LAYOUTS has {} ({why}), but cubed-rs evaluates it now: remove the entry", group.layout_label()));
            }
            continue;
        }
        let (alone, together): (Vec<usize>, Vec<usize>) = all.iter().partition(|&&i| h.suspects.contains(group.cases[i].cubed));
        let mut results = if together.is_empty() { vec![] } else { h.run(gid, group, &together, &mut attempt) };
        for i in alone {
            results.extend(h.run(gid, group, &[i], &mut attempt));
        }
        let mut checks = vec![];
        for (i, outcome) in results {
            let c = group.cases[i];
            let key = group.key(c);
            match outcome {
                Outcome::Written(out) => {
                    ran.insert(c.function);
                    compared += 1;
                    checks.push(json!({"key": key, "out": out, "numpy": c.numpy, "compare": compare_mode(c)}));
                }
                Outcome::Refused(error) => {
                    manifest_refused.push(json!({"key": key, "numpy": c.numpy, "inputs": group.inputs_json(), "error": error}));
                }
                Outcome::Failed(error) => {
                    h.suspects.insert(c.cubed);
                    let dtypes = key[1].as_str().unwrap().to_string();
                    failures.entry((c.cubed.into(), dtypes)).or_default().push((group.layout_label(), format!("cubed eval fails: {error}")));
                }
            }
        }
        manifest_groups.push(json!({"inputs": group.inputs_json(), "cases": checks}));
    }
    let evaluated = started.elapsed();
    let manifest = h.dir.join("manifest.json");
    std::fs::write(&manifest, serde_json::to_vec(&json!({"groups": manifest_groups, "refused": manifest_refused})).unwrap()).unwrap();
    let result_path = h.dir.join("result.json");
    run_python(include_str!("check.py"), [&manifest, &result_path]);
    let result: Value = serde_json::from_slice(&std::fs::read(&result_path).unwrap()).unwrap();

    let key_of = |v: &Value| -> ((String, String), String) {
        let s = |i: usize| v["key"][i].as_str().unwrap().to_string();
        ((s(0), s(1)), s(2))
    };
    for f in result["failures"].as_array().unwrap() {
        let (key, layout) = key_of(f);
        failures.entry(key).or_default().push((layout, f["message"].as_str().unwrap().to_string()));
    }
    let mut refusals = Disagreements::new();
    for c in result["computes"].as_array().unwrap() {
        let (key, layout) = key_of(c);
        let refusal = match c["error"].as_str() {
            Some(error) => format!("cubed-rs refuses it ({error})"),
            None => "the table does not accept these dtypes".to_string(),
        };
        let message = format!("numpy computes it (giving {}), but {refusal}", c["dtype"].as_str().unwrap());
        refusals.entry(key).or_default().push((layout, message));
    }
    eprintln!(
        "inputs written in {:.1?}, cubed evals done after {:.1?}, numpy compared after {:.1?}",
        written,
        evaluated,
        started.elapsed()
    );
    eprintln!(
        "{} cases, {} groups, {} cubed evals, {} results compared with numpy, {} refused by cubed-rs ({} computed by numpy)",
        cases.len(),
        groups.len(),
        h.evals,
        compared,
        manifest_refused.len(),
        refusals.len()
    );
    for k in KNOWN_FAILURES.iter().chain(REFUSED) {
        eprintln!("known: {:?} [{}]: {}", k.cases, k.dtypes, k.why);
    }

    let (unknown, stale) = against_known(&failures, KNOWN_FAILURES);
    if !unknown.is_empty() {
        problems.push(format!("{} cases disagree with numpy:\n{}", unknown.len(), unknown.join("\n")));
    }
    for k in stale {
        problems.push(format!("known::KNOWN_FAILURES entry {:?} [{}] matches no failure any more: remove it", k.cases, k.dtypes));
    }
    let (unknown, stale) = against_known(&refusals, REFUSED);
    if !unknown.is_empty() {
        problems.push(format!("{} cases are refused by cubed-rs for dtypes numpy computes (accept them, or list them in known::REFUSED):\n{}", unknown.len(), unknown.join("\n")));
    }
    for k in stale {
        problems.push(format!("known::REFUSED entry {:?} [{}] matches nothing any more: remove it", k.cases, k.dtypes));
    }
    let never: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).filter(|n| !ran.contains(n)).collect();
    if !never.is_empty() {
        problems.push(format!("table rows no case was compared for (for no dtype or layout): {never:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
