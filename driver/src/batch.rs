//! Batch execution, after Cubed Batch: save a plan as a *job* without running
//! it, generate a script that runs each op in N partitions (sequentially, with
//! GNU parallel, or as SLURM job arrays), and run one partition at a time.
//!
//! A partition is a contiguous range of an op's tasks. Running one skips the
//! tasks whose chunks exist (so re-running a failed partition is safe and
//! cheap), retries failures like any run, appends its task history to the job,
//! and — when it completes the op — writes the output's Zarr metadata.

use std::sync::Arc;

use cubed_task::plan::Plan;
use cubed_task::storage::StoreUrl;
use cubed_task::task::PLAN_MARKER;
use cubed_task::LoadedPlan;
use serde::{Deserialize, Serialize};

use crate::error::{CubedError, Result};
use crate::runner::Runner;
use crate::scheduler::ComputeOptions;
use crate::size::format_size;

/// The pseudo-op that prepares every array (run it first, as one partition).
pub const CREATE_ARRAYS: &str = "create-arrays";
const PLAN_FILE: &str = "plan.json";
const JOB_FILE: &str = "job.json";

/// Job metadata saved next to the plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobInfo {
    /// Digest of the plan.
    pub digest: String,
    /// Op ids in dependency order, each with its number of tasks.
    pub ops: Vec<(String, u64)>,
    /// Seconds since the Unix epoch when the job was saved.
    pub created_unix_s: u64,
    /// `create-arrays` may replace existing outputs that are Zarr (`--overwrite`).
    #[serde(default)]
    pub overwrite: bool,
}

/// The default job directory of a plan: `<work_dir>/cubed-<digest>/job`.
pub fn default_job_dir(plan: &Plan) -> String {
    format!("{}/job", crate::workdir::plan_dir(plan, &plan.digest()))
}

/// Saves `plan` as a job in `dir` (any storage URL) without computing
/// anything. `overwrite` lets its `create-arrays` step replace existing Zarr
/// outputs. The directory must be new, empty or an earlier job, and must not
/// overlap the plan's inputs or outputs.
pub fn save_job(plan: &Plan, dir: &str, overwrite: bool) -> Result<()> {
    crate::destination::check_locations(plan)?;
    let store = StoreUrl::parse(dir)?;
    for (id, a) in plan.arrays.iter().enumerate() {
        if let cubed_task::plan::Location::Url { url } = &a.location {
            if store.location.overlaps(&StoreUrl::parse(url)?.location) {
                return Err(CubedError::Invalid(format!("job dir '{dir}' overlaps array {id} of the plan at '{url}': save the job somewhere else")));
            }
        }
    }
    let keys = store.list_keys("")?;
    if !keys.is_empty() && !keys.iter().any(|k| k == JOB_FILE) {
        return Err(CubedError::Invalid(format!(
            "job dir '{dir}' already holds files that are not a cubed-rs job (e.g. '{}'): save the job in a new or empty directory",
            keys[0]
        )));
    }
    let info = JobInfo {
        digest: plan.digest(),
        ops: plan.ops.iter().map(|o| (o.id.clone(), o.num_tasks)).collect(),
        created_unix_s: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        overwrite,
    };
    store.put(PLAN_FILE, plan.to_json_pretty().into_bytes())?;
    store.put(JOB_FILE, serde_json::to_vec_pretty(&info).expect("job info serializes"))?;
    Ok(())
}

fn load_info(dir: &str) -> Result<JobInfo> {
    let bytes = StoreUrl::parse(dir)?
        .get(JOB_FILE)?
        .ok_or_else(|| CubedError::Invalid(format!("no job at '{dir}': {JOB_FILE} is missing (save one with `cubed eval ... --save-job DIR`)")))?;
    serde_json::from_slice(&bytes).map_err(|e| CubedError::Invalid(format!("'{dir}/{JOB_FILE}' is not a cubed-rs job file: {e}")))
}

/// Loads the plan of a job.
pub fn load_job(dir: &str) -> Result<LoadedPlan> {
    let bytes = StoreUrl::parse(dir)?
        .get(PLAN_FILE)?
        .ok_or_else(|| CubedError::Invalid(format!("no job at '{dir}': {PLAN_FILE} is missing (save one with `cubed eval ... --save-job DIR`)")))?;
    Ok(LoadedPlan::new(Plan::from_json(&bytes)?))
}

/// Tasks `[start, stop)` of partition `i` of `n` of an op with `tasks` tasks.
pub fn partition_range(tasks: u64, n: u64, i: u64) -> std::ops::Range<u64> {
    (i * tasks / n)..((i + 1) * tasks / n)
}

/// Partitions actually used for an op: no more than it has tasks.
pub fn partitions_for(tasks: u64, n: u64) -> u64 {
    n.min(tasks).max(1)
}

/// Where a generated script runs partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    /// One command after another.
    Sequential,
    /// `parallel -j N` per op.
    GnuParallel,
    /// One SLURM job array per op, chained with `--dependency=afterok`.
    Slurm,
}

/// Characters a generated script may write without quotes: each is literal in
/// every shell (`=` is left out so that no word reads as an assignment).
fn is_shell_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_./:@%+,-".contains(c)
}

/// `s` as one shell word: unchanged when every character is
/// [shell-safe](is_shell_safe), else single-quoted (`'` written as `'\''`).
/// The result is read back as exactly `s` by bash and by POSIX `sh`, for any
/// `s` without control characters (which [`generate_script`] refuses).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(is_shell_safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Longest op id a script accepts.
const MAX_OP_ID_LEN: usize = 64;

/// Refuses an op id outside `[A-Za-z0-9_.-]` (first character a letter or a
/// digit, at most 64 characters), or one that is the `create-arrays` step.
fn check_op_id(id: &str) -> Result<()> {
    let valid = id.len() <= MAX_OP_ID_LEN
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !valid {
        return Err(CubedError::Invalid(format!(
            "op id {id:?} of the job's plan cannot go into a script: op ids are 1 to {MAX_OP_ID_LEN} characters of [A-Za-z0-9_.-], starting with a letter or a digit (the planner names them op-001, op-002, ...; re-save the job with `cubed eval ... --save-job`)"
        )));
    }
    if id == CREATE_ARRAYS {
        return Err(CubedError::Invalid(format!("op id '{id}' of the job's plan is reserved for the step that prepares the arrays: re-save the job with `cubed eval ... --save-job`")));
    }
    Ok(())
}

/// Refuses a path with control characters (newlines, tabs, NUL, ...): any
/// other character is quoted.
fn check_path(what: &str, path: &str) -> Result<()> {
    if path.is_empty() || path.chars().any(char::is_control) {
        return Err(CubedError::Invalid(format!(
            "the {what} {path:?} cannot go into a script: it must be non-empty and free of control characters (newline, tab, ...); any other character is quoted"
        )));
    }
    Ok(())
}

/// The shell variable holding the SLURM job id of an op: `job_` and the op id
/// with `-` and `.` as `_` (a valid, lowercase name no shell or SLURM variable uses).
fn slurm_var(op_id: &str) -> String {
    format!("job_{}", op_id.replace(['-', '.'], "_"))
}

/// SLURM time limit for one partition: a generous estimate from the bytes its
/// tasks move (at 50 MB/s) plus a minute per task, at least 10 minutes.
fn slurm_time(op: &cubed_task::plan::Op, partitions: u64) -> String {
    let per_partition = op.num_tasks.div_ceil(partitions);
    let bytes = (op.bytes_read + op.bytes_written) / op.num_tasks.max(1) * per_partition;
    let secs = (bytes / 50_000_000 + 60 * per_partition).max(600);
    format!("{:02}:{:02}:00", secs / 3600, (secs % 3600).div_ceil(60).min(59))
}

/// The script running `job_dir` in `n` partitions per op, calling `cubed_bin`.
///
/// Every value in the script goes through [`shell_quote`]. A partition's
/// command line (binary, job dir, op id, partition count and index, each one
/// word) is built from quoted words and, for SLURM's `--wrap` (which `sh`
/// parses again on the compute node), quoted once more as a whole. GNU
/// parallel expands its replacement strings (`{= perl =}` included) inside
/// any text of its command, so there the binary and the job dir are passed
/// in environment variables and the command holds only validated words. Op
/// ids must be `[A-Za-z0-9_.-]` starting with a letter or digit, and paths
/// free of control characters: anything else is refused with an error naming it.
pub fn generate_script(plan: &Plan, job_dir: &str, kind: ScriptKind, n: u64, cubed_bin: &str) -> Result<String> {
    if n == 0 {
        return Err(CubedError::Invalid("N must be at least 1 partition".into()));
    }
    check_path("job directory", job_dir)?;
    check_path("cubed binary", cubed_bin)?;
    let mut vars = std::collections::HashMap::new();
    for op in &plan.ops {
        check_op_id(&op.id)?;
        if let Some(other) = vars.insert(slurm_var(&op.id), &op.id) {
            return Err(CubedError::Invalid(format!(
                "op ids '{other}' and '{}' of the job's plan are not distinct once '-' and '.' are read as '_': re-save the job with `cubed eval ... --save-job`",
                op.id
            )));
        }
    }
    // One partition's command line; `index` is a number or SLURM's task id,
    // which the shell running the line expands.
    let line = |op: &str, parts: u64, index: &str| {
        [cubed_bin, "batch", "run-partition", job_dir, op, &parts.to_string()].map(shell_quote).join(" ") + " " + index
    };
    let mut s = String::new();
    let digest = plan.digest();
    let how = match kind {
        ScriptKind::Sequential => "one partition after another",
        ScriptKind::GnuParallel => "GNU parallel, partitions of an op in parallel",
        ScriptKind::Slurm => "SLURM job arrays chained with afterok; run it on a login node to submit",
    };
    s += "#!/usr/bin/env bash\n";
    s += &format!("# cubed-rs batch job {} ({} ops): up to {n} partitions per op, {how}.\n", &digest[..16], plan.ops.len());
    s += "# Re-running is safe: a partition skips the chunks that already exist.\n";
    s += "set -euo pipefail\n";
    match kind {
        ScriptKind::Sequential => {
            s += &line(CREATE_ARRAYS, 1, "0");
            s += "\n";
            for op in &plan.ops {
                let p = partitions_for(op.num_tasks, n);
                for i in 0..p {
                    s += &line(&op.id, p, &i.to_string());
                    s += "\n";
                }
            }
        }
        ScriptKind::GnuParallel => {
            // GNU parallel runs its command through a shell after expanding
            // its replacement strings ({}, {#}, {= perl =}, ...) anywhere in
            // it, quoted or not: the binary and the job dir reach the command
            // through the environment, never in its text.
            s += &format!("export CUBED_BATCH_BIN={} CUBED_BATCH_JOB={}\n", shell_quote(cubed_bin), shell_quote(job_dir));
            let command = |op: &str, parts: u64| {
                let words = ["batch", "run-partition", "\"$CUBED_BATCH_JOB\"", &shell_quote(op), &shell_quote(&parts.to_string()), "{}"];
                shell_quote(&format!("\"$CUBED_BATCH_BIN\" {}", words.join(" ")))
            };
            s += &format!("parallel -j 1 --halt now,fail=1 {} ::: 0\n", command(CREATE_ARRAYS, 1));
            for op in &plan.ops {
                let p = partitions_for(op.num_tasks, n);
                s += &format!(
                    "parallel -j {} --halt now,fail=1 {} ::: $(seq 0 {})\n",
                    shell_quote(&p.to_string()),
                    command(&op.id, p),
                    shell_quote(&(p - 1).to_string())
                );
            }
        }
        ScriptKind::Slurm => {
            // sbatch runs the --wrap string with sh on the compute node: the
            // line is quoted as a whole, so that string is exactly `line`.
            let mem = shell_quote(&format!("{}M", plan.spec.allowed_mem.div_ceil(1_000_000)));
            let create = slurm_var(CREATE_ARRAYS);
            s += "# sbatch --parsable prints JOBID or JOBID;CLUSTER: keep the id.\n";
            s += "submit() { local id; id=$(sbatch --parsable \"$@\") || return; echo \"${id%%;*}\"; }\n";
            s += &format!(
                "{create}=$(submit --job-name={} --mem={mem} --time=00:10:00 --wrap {})\n",
                shell_quote(&format!("cubed-{CREATE_ARRAYS}")),
                shell_quote(&line(CREATE_ARRAYS, 1, "0"))
            );
            for op in &plan.ops {
                let p = partitions_for(op.num_tasks, n);
                let mut deps = vec![format!("${{{create}}}")];
                for &input in &op.inputs {
                    if let Some(producer) = plan.ops.iter().find(|o| o.output == input) {
                        deps.push(format!("${{{}}}", slurm_var(&producer.id)));
                    }
                }
                s += &format!(
                    "{}=$(submit --job-name={} --array=0-{} --mem={mem} --time={} \"--dependency=afterok:{}\" --wrap {})\n",
                    slurm_var(&op.id),
                    shell_quote(&format!("cubed-{}", op.id)),
                    shell_quote(&(p - 1).to_string()),
                    shell_quote(&slurm_time(op, p)),
                    deps.join(":"),
                    shell_quote(&line(&op.id, p, "\"$SLURM_ARRAY_TASK_ID\""))
                );
            }
            s += &format!("echo \"submitted: {CREATE_ARRAYS} ${{{create}}}");
            for op in &plan.ops {
                s += &format!(", {} ${{{}}}", op.id, slurm_var(&op.id));
            }
            s += "\"\n";
        }
    }
    Ok(s)
}

fn is_user_output(lp: &LoadedPlan, id: usize) -> bool {
    matches!(lp.plan.arrays[id].location, cubed_task::plan::Location::Url { .. })
}

fn array_complete(lp: &LoadedPlan, id: usize) -> Result<bool> {
    let store = StoreUrl::parse(lp.url(id))?;
    Ok(store.get("zarr.json")?.is_some())
}

/// Runs partition `i` of `n` of op `op_id` (or the `create-arrays` step).
pub async fn run_partition(job_dir: &str, op_id: &str, n: u64, i: u64, runner: Arc<dyn Runner>, options: &ComputeOptions) -> Result<()> {
    if n == 0 || i >= n {
        return Err(CubedError::Invalid(format!("partition {i} of {n} does not exist: partitions are numbered 0 to N-1")));
    }
    let lp = Arc::new(tokio::task::block_in_place(|| load_job(job_dir))?);
    crate::planner::check_memory(&lp.plan)?;
    crate::destination::check_locations(&lp.plan)?;
    if op_id == CREATE_ARRAYS {
        let info = tokio::task::block_in_place(|| load_info(job_dir))?;
        let (lp2, run) = (lp.clone(), format!("batch job {job_dir}"));
        return tokio::task::spawn_blocking(move || -> Result<()> {
            crate::workdir::record_or_check_inputs(&lp2, true)?;
            // The job holds its outputs until the partition completing each op releases them.
            let policy = crate::destination::OutputPolicy { overwrite: info.overwrite, resume: true, break_lease: false };
            let _held = crate::destination::claim_outputs(&lp2, &policy, crate::destination::Lease::new(run, &lp2.digest))?;
            for op in &lp2.plan.ops {
                // Keep the chunks of an earlier run of this job (resume); clear only metadata.
                lp2.begin_array(op.output)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| CubedError::Runner(e.to_string()))?;
    }
    let index = lp.plan.ops.iter().position(|o| o.id == op_id).ok_or_else(|| {
        let ids: Vec<&str> = lp.plan.ops.iter().map(|o| o.id.as_str()).collect();
        CubedError::Invalid(format!("unknown op '{op_id}': the job has {CREATE_ARRAYS}, {}", ids.join(", ")))
    })?;
    let op = lp.plan.ops[index].clone();
    let (lp2, op2) = (lp.clone(), op.clone());
    tokio::task::spawn_blocking(move || -> Result<()> {
        for &input in &op2.inputs {
            if let Some(producer) = lp2.plan.ops.iter().find(|o| o.output == input) {
                if !array_complete(&lp2, input)? {
                    return Err(CubedError::Invalid(format!(
                        "{} reads the output of {}, which is not complete: run every partition of {} first (see `cubed batch status`)",
                        op2.id, producer.id, producer.id
                    )));
                }
            }
        }
        let marker = StoreUrl::parse(lp2.url(op2.output))?.get(PLAN_MARKER)?;
        if marker.as_deref() != Some(lp2.digest.as_bytes()) {
            return Err(CubedError::Invalid(format!("the arrays of this job are not prepared: run `cubed batch run-partition JOB {CREATE_ARRAYS} 1 0` first")));
        }
        if is_user_output(&lp2, op2.output) {
            crate::destination::check_held(lp2.url(op2.output), &lp2.digest)?;
        }
        crate::workdir::record_or_check_inputs(&lp2, true)

    })
    .await
    .map_err(|e| CubedError::Runner(e.to_string()))??;
    let p = partitions_for(op.num_tasks, n);
    let range = if i < p { partition_range(op.num_tasks, p, i) } else { 0..0 };
    let (result, events) = crate::scheduler::run_partition(lp.clone(), index, range, runner, options).await;
    let history = serde_json::to_vec_pretty(&serde_json::json!({
        "digest": lp.digest, "op": op.id, "partition": i, "partitions": n,
        "ok": result.is_ok(), "error": result.as_ref().err().map(|e| e.to_string()), "events": events,
    }))
    .expect("history serializes");
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let (dir, name) = (format!("{}/history", job_dir.trim_end_matches('/')), format!("{}-part-{i}-of-{n}-{stamp}.json", op.id));
    let lp2 = lp.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        StoreUrl::parse(&dir)?.put(&name, history)?;
        // The partition that completes the op publishes the output's metadata.
        if result.is_ok() && lp2.finished_tasks(&op)?.iter().all(|d| *d) {
            lp2.write_metadata(op.output)?;
            if is_user_output(&lp2, op.output) {
                crate::destination::release_lease_of(lp2.url(op.output), &lp2.digest)?;
            }
        }
        result.map(|_| ())
    })
    .await
    .map_err(|e| CubedError::Runner(e.to_string()))?
}

/// A report of each op's progress from what is in storage, and which of `n`
/// partitions are incomplete.
pub fn status(job_dir: &str, n: Option<u64>) -> Result<String> {
    let lp = load_job(job_dir)?;
    let mut out = format!("job {} at {job_dir}: {} ops\n", &lp.digest[..16], lp.plan.ops.len());
    for op in &lp.plan.ops {
        let done = lp.finished_tasks(op)?;
        let written = done.iter().filter(|d| **d).count();
        let state = if array_complete(&lp, op.output)? {
            "complete"
        } else if written == done.len() {
            "all chunks written (metadata pending: re-run any partition)"
        } else {
            "incomplete"
        };
        out += &format!(
            "{:<8} {:<10} {:>7}/{:<7} tasks' chunks written  {:<9} {state}\n",
            op.id,
            op.kind.name(),
            written,
            done.len(),
            format_size(lp.plan.arrays[op.output].nbytes())
        );
        if let Some(n) = n {
            let p = partitions_for(op.num_tasks, n);
            let missing: Vec<String> = (0..p)
                .filter(|&i| partition_range(op.num_tasks, p, i).any(|t| !done[t as usize]))
                .map(|i| i.to_string())
                .collect();
            if !missing.is_empty() {
                out += &format!("         incomplete partitions (of {p}): {}\n", missing.join(" "));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-op plan (`sum(random(...), axis=0)`) whose first op ids are `ids`.
    fn plan_with_ids(ids: &[&str]) -> Plan {
        let spec = crate::Spec::new("memory://batch-unit/work");
        let a = crate::random(&spec, &[40, 40], &[5, 5], 1, cubed_task::DType::Float64).unwrap();
        let m = crate::sum(&a, &crate::Reduce::axis(&[0])).unwrap();
        let mut plan = crate::build_plan(&[crate::Output { array: m, url: None }], &Default::default()).unwrap().plan;
        assert!(plan.ops.len() >= ids.len());
        for (op, id) in plan.ops.iter_mut().zip(ids) {
            op.id = id.to_string();
        }
        plan
    }

    #[test]
    fn shell_quote_gives_back_every_string_in_bash_and_sh() {
        let hostile = ["plain", "", "a b", "it's", "'", "''", "\"x\"", "$(touch PWNED)", "`touch PWNED`", "a;b", "a|b&c", "~user", "#x", "*", "a=b", "{}", "$SLURM_ARRAY_TASK_ID", "é ü"];
        for shell in ["bash", "sh"] {
            for s in hostile {
                let out = std::process::Command::new(shell).arg("-c").arg(format!("printf '%s' {}", shell_quote(s))).output().unwrap();
                assert!(out.status.success(), "{shell}: {s:?}");
                assert_eq!(String::from_utf8(out.stdout).unwrap(), s, "{shell} reads {} back", shell_quote(s));
            }
        }
        assert_eq!(shell_quote("op-001"), "op-001");
        assert_eq!(shell_quote("a=b"), "'a=b'");
    }

    #[test]
    fn op_ids_outside_the_character_set_are_refused_by_name() {
        let long = "o".repeat(65);
        for id in ["x 1 0 || touch PWNED ;#", "op'1", "-op", ".op", "", "op$1", "op\n1", &long] {
            let plan = plan_with_ids(&[id]);
            for kind in [ScriptKind::Sequential, ScriptKind::GnuParallel, ScriptKind::Slurm] {
                let e = generate_script(&plan, "/tmp/job", kind, 2, "cubed").unwrap_err().to_string();
                assert!(e.contains(&format!("op id {id:?}")) && e.contains("[A-Za-z0-9_.-]"), "{e}");
            }
        }
        let e = generate_script(&plan_with_ids(&[CREATE_ARRAYS]), "/tmp/job", ScriptKind::Sequential, 2, "cubed").unwrap_err().to_string();
        assert!(e.contains("op id 'create-arrays'") && e.contains("reserved"), "{e}");
        let e = generate_script(&plan_with_ids(&["a.b", "a-b"]), "/tmp/job", ScriptKind::Slurm, 2, "cubed").unwrap_err().to_string();
        assert!(e.contains("op ids 'a.b' and 'a-b'"), "{e}");
        for ok in ["op-001", "A_1.x", "9lives"] {
            generate_script(&plan_with_ids(&[ok]), "/tmp/job", ScriptKind::Slurm, 2, "cubed").unwrap();
        }
    }

    #[test]
    fn paths_with_control_characters_are_refused_and_others_quoted() {
        let plan = plan_with_ids(&[]);
        let e = generate_script(&plan, "/tmp/a\nb", ScriptKind::Sequential, 2, "cubed").unwrap_err().to_string();
        assert!(e.contains(r#"job directory "/tmp/a\nb""#) && e.contains("control characters"), "{e}");
        let e = generate_script(&plan, "/tmp/job", ScriptKind::Sequential, 2, "").unwrap_err().to_string();
        assert!(e.contains(r#"cubed binary """#), "{e}");
        let s = generate_script(&plan, "/tmp/a b/$(x)/`y`;'z'", ScriptKind::Sequential, 2, "/opt/my cubed/cubed").unwrap();
        assert!(s.contains(r#"'/opt/my cubed/cubed' batch run-partition '/tmp/a b/$(x)/`y`;'\''z'\''' create-arrays 1 0"#), "{s}");
    }

    #[test]
    fn partitions_cover_every_task_once() {
        for tasks in [1u64, 7, 10, 101] {
            for n in [1u64, 2, 3, 8] {
                let p = partitions_for(tasks, n);
                let all: Vec<u64> = (0..p).flat_map(|i| partition_range(tasks, p, i)).collect();
                assert_eq!(all, (0..tasks).collect::<Vec<_>>());
                assert!((0..p).all(|i| !partition_range(tasks, p, i).is_empty()));
            }
        }
    }
}
