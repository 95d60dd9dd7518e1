//! The `cubed` command line: evaluate expressions, inspect plans, run saved plans.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use cubed::expr;
use cubed::size::{format_size, parse_size};
use cubed::runner::{LambdaConfig, LambdaRunner};
use cubed::{Codec, CubedError, LocalRunner, Output, Plan, PlanOptions, Spec};
use cubed_task::storage::{read_region, StoreUrl};
use cubed_task::{ChunkData, LoadedPlan};

#[global_allocator]
static ALLOC: cubed_task::memory::CountingAllocator = cubed_task::memory::CountingAllocator;

/// Results larger than this are not printed.
const MAX_PRINT_BYTES: u64 = 1 << 20;

#[derive(Parser)]
#[command(name = "cubed", version, about = "Bounded-memory array processing on Zarr")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// AWS: the named profile of ~/.aws/config and ~/.aws/credentials for S3
    /// and Lambda (default: AWS_PROFILE, else the default chain: environment,
    /// SSO, web identity, container and instance roles).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate an expression such as 'mean(a*a + b*b, axis=0)' and write or print the result.
    Eval {
        #[command(flatten)]
        job: JobArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Show the plan of an expression (ops, tasks, projected memory, fusion) without running it.
    Plan {
        #[command(flatten)]
        job: JobArgs,
    },
    /// Run a plan saved with --save-plan.
    Run {
        /// The plan file (JSON).
        plan: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Batch jobs: scripts that run each op in partitions (sequential, GNU parallel, SLURM).
    #[command(subcommand)]
    Batch(BatchCommand),
    /// List every array function with its signature, other names, types and what it computes.
    Functions {
        /// Plain text, the markdown reference page (docs/FUNCTIONS.md), or the README's list of names.
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ListFormat {
    /// One block per function.
    Text,
    /// The reference page docs/FUNCTIONS.md.
    Markdown,
    /// Names by category (the README's list).
    Names,
}

#[derive(Subcommand)]
enum BatchCommand {
    /// Print a script that runs JOB with up to N partitions per op.
    GenerateScript {
        /// How the script runs partitions.
        #[arg(long, value_enum, default_value = "sequential")]
        runner: ScriptRunner,
        /// The job directory (from `cubed eval ... --save-job`).
        job: String,
        /// Partitions per op.
        n: u64,
        /// The cubed binary the script calls (default: this one).
        #[arg(long)]
        cubed_bin: Option<String>,
    },
    /// Run partition I of N of op OP of JOB (OP may be `create-arrays`).
    RunPartition {
        /// The job directory.
        job: String,
        /// Op id, e.g. op-001, or create-arrays.
        op: String,
        /// Number of partitions.
        n: u64,
        /// This partition (0 to N-1).
        i: u64,
        /// Concurrent tasks (default: cores, bounded by memory / allowed_mem).
        #[arg(long)]
        workers: Option<usize>,
        /// Attempts per task.
        #[arg(long, default_value_t = 3)]
        attempts: u32,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Show each op's progress (chunks written / total) from storage.
    Status {
        /// The job directory.
        job: String,
        /// Also list which of N partitions per op are incomplete.
        #[arg(long, value_name = "N")]
        partitions: Option<u64>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ScriptRunner {
    /// One partition after another.
    Sequential,
    /// GNU parallel, `parallel -j N` per op.
    GnuParallel,
    /// One SLURM job array per op, chained with --dependency=afterok.
    Slurm,
}

#[derive(Args)]
struct JobArgs {
    /// The expression, e.g. 'sum(sin(a)*b + 1, axis=1)'.
    expr: String,
    /// An input array: NAME=URL (a path, file://, s3://BUCKET/PREFIX or memory://). Repeatable.
    #[arg(long = "input", short = 'i', value_name = "NAME=URL")]
    inputs: Vec<String>,
    /// Where to write each result (Zarr v3), in order. Without it, a small result is printed.
    #[arg(long = "output", short = 'o', value_name = "URL")]
    outputs: Vec<String>,
    /// Memory one task may use, including reserved memory.
    #[arg(long, default_value = "2GB", value_parser = parse_size)]
    allowed_mem: u64,
    /// Memory reserved for the process itself.
    #[arg(long, default_value = "100MB", value_parser = parse_size)]
    reserved_mem: u64,
    /// Where intermediates go (default: the system temp dir /cubed-work).
    #[arg(long, value_name = "URL")]
    work_dir: Option<String>,
    /// Codec of outputs: zstd[:LEVEL], gzip[:LEVEL] or none.
    #[arg(long, default_value = "zstd:3", value_parser = Codec::parse)]
    codec: Codec,
    /// Codec of intermediates.
    #[arg(long, default_value = "zstd:1", value_parser = Codec::parse)]
    intermediate_codec: Codec,
    /// Do not fuse elementwise operations.
    #[arg(long)]
    no_fuse: bool,
    /// Save the plan as JSON to this file.
    #[arg(long, value_name = "FILE")]
    save_plan: Option<PathBuf>,
    /// Save the plan as a batch job without computing anything (default DIR:
    /// <work-dir>/cubed-<digest>/job), for `cubed batch generate-script`.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "")]
    save_job: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RunnerKind {
    /// In this process (the default).
    Local,
    /// AWS Lambda invocations of the cubed-rs task function.
    Lambda,
}

#[derive(Args)]
struct RunArgs {
    /// Where tasks run.
    #[arg(long, value_enum, default_value = "local")]
    runner: RunnerKind,
    /// Concurrent tasks of the local runner (default: cores, bounded by memory / allowed_mem).
    #[arg(long)]
    workers: Option<usize>,
    /// Lambda: the task function's name or ARN.
    #[arg(long, value_name = "NAME", required_if_eq("runner", "lambda"))]
    function: Option<String>,
    /// Lambda: alias or version of the function.
    #[arg(long)]
    qualifier: Option<String>,
    /// Lambda: region (default: AWS_REGION / the profile's).
    #[arg(long)]
    region: Option<String>,
    /// Lambda: Invoke endpoint override, e.g. an emulator (default: AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    lambda_endpoint: Option<String>,
    /// Lambda: most invocations in flight.
    #[arg(long, default_value_t = cubed::runner::lambda::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Lambda: tasks per invocation (default: chosen from each op's size).
    #[arg(long)]
    tasks_per_invocation: Option<u64>,
    /// Attempts per task before the run fails.
    #[arg(long, default_value_t = 3)]
    attempts: u32,
    /// How long one task may take before it is abandoned and tried again,
    /// e.g. 90s or 15m (default: per op, 120 s plus its bytes at 2 MB/s, as
    /// `cubed plan` prints; on Lambda never past the function's timeout).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    task_timeout: Option<std::time::Duration>,
    /// Continue an earlier run of the same plan: skip every task whose output
    /// chunks were already written.
    #[arg(long)]
    resume: bool,
    /// Do not launch backup copies of straggling tasks.
    #[arg(long)]
    no_backups: bool,
    /// Replace outputs that already exist, when they are Zarr arrays or groups
    /// (as zarr-python's mode="w"): their old data is deleted before the run
    /// starts. A directory holding anything else is never touched.
    #[arg(long)]
    overwrite: bool,
    /// Break the lease on an output held by another run that is no longer running.
    #[arg(long)]
    break_lease: bool,
    /// Keep the intermediates in the work dir after a successful run.
    #[arg(long)]
    keep_intermediates: bool,
    /// Do not list each op's output chunks before publishing it (a task that
    /// reported success without writing then goes unnoticed). Only for
    /// runners whose tasks write nothing: the fleet model of bench/fleet.sh.
    #[arg(long)]
    no_verify: bool,
    /// No progress output and no summary.
    #[arg(long, short)]
    quiet: bool,
    /// Also write the run summary (per-op time, projected and measured memory) as JSON.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
}

fn main() -> ExitCode {
    cubed_task::memory::mark_allocator_installed();
    let cli = Cli::parse();
    cubed_task::storage::aws::use_profile(cli.profile.clone()).expect("the AWS profile is chosen first");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = runtime.block_on(run(cli));
    // A straggler whose backup won may still be running on a blocking thread:
    // its chunk is already written by the winner, so do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, CubedError::TaskFailed { .. }) {
                eprintln!("the output is incomplete (it has no Zarr metadata); once the cause is fixed, run the same command again with --resume to reuse every chunk already written");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CubedError> {
    match cli.command {
        Command::Eval { job, run } => {
            let (plan, outputs, printed) = plan_job(&job)?;
            if let Some(dir) = &job.save_job {
                let dir = if dir.is_empty() { cubed::batch::default_job_dir(&plan) } else { dir.clone() };
                cubed::check_memory(&plan)?;
                cubed::batch::save_job(&plan, &dir, run.overwrite)?;
                println!("{dir}");
                eprintln!("job saved (nothing computed); next: cubed batch generate-script {dir} N > job.sh");
                return Ok(());
            }
            let keep = if printed { outputs.clone() } else { Vec::new() };
            execute(plan.clone(), &run, keep).await?;
            if printed {
                print_results(&plan, &outputs)?;
            }
            Ok(())
        }
        Command::Plan { job } => {
            let (plan, _, _) = plan_job(&job)?;
            cubed::summary::print_plan(&plan);
            if let Err(e) = cubed::check_memory(&plan) {
                eprintln!("warning: this plan would be refused at launch:\n{e}");
            }
            Ok(())
        }
        Command::Batch(cmd) => batch(cmd).await,
        Command::Functions { format } => {
            use cubed_task::table::listing;
            let text = match format {
                ListFormat::Text => listing::text(),
                ListFormat::Markdown => listing::markdown(),
                ListFormat::Names => listing::names(),
            };
            // A closed pipe (`| head`) just ends the output.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
            Ok(())
        }
        Command::Run { plan, run } => {
            let bytes = std::fs::read(&plan)
                .map_err(|e| CubedError::Invalid(format!("cannot read plan file '{}': {e}", plan.display())))?;
            let plan = Plan::from_json(&bytes)?;
            execute(plan, &run, Vec::new()).await
        }
    }
}

async fn batch(cmd: BatchCommand) -> Result<(), CubedError> {
    match cmd {
        BatchCommand::GenerateScript { runner, job, n, cubed_bin } => {
            if n == 0 {
                return Err(CubedError::Invalid("N must be at least 1 partition".into()));
            }
            let lp = tokio::task::block_in_place(|| cubed::batch::load_job(&job))?;
            let kind = match runner {
                ScriptRunner::Sequential => cubed::batch::ScriptKind::Sequential,
                ScriptRunner::GnuParallel => cubed::batch::ScriptKind::GnuParallel,
                ScriptRunner::Slurm => cubed::batch::ScriptKind::Slurm,
            };
            let bin = match cubed_bin {
                Some(b) => b,
                None => std::env::current_exe().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "cubed".into()),
            };
            print!("{}", cubed::batch::generate_script(&lp.plan, &job, kind, n, &bin)?);
            Ok(())
        }
        BatchCommand::RunPartition { job, op, n, i, workers, attempts, quiet } => {
            let lp = tokio::task::block_in_place(|| cubed::batch::load_job(&job))?;
            let runner = Arc::new(match workers {
                Some(w) => LocalRunner::new(w),
                None => LocalRunner::for_machine(lp.plan.spec.allowed_mem),
            });
            let options = cubed::ComputeOptions { attempts: attempts.max(1), quiet, ..Default::default() };
            cubed::batch::run_partition(&job, &op, n, i, runner, &options).await
        }
        BatchCommand::Status { job, partitions } => {
            print!("{}", tokio::task::block_in_place(|| cubed::batch::status(&job, partitions))?);
            Ok(())
        }
    }
}

/// Builds the plan of an `eval`/`plan` command; returns it, the output ids, and whether results are printed.
fn plan_job(job: &JobArgs) -> Result<(Plan, Vec<usize>, bool), CubedError> {
    let work_dir = job.work_dir.clone().unwrap_or_else(|| std::env::temp_dir().join("cubed-work").to_string_lossy().into_owned());
    let spec = Spec::new(work_dir).with_allowed_mem(job.allowed_mem).with_reserved_mem(job.reserved_mem);
    if job.reserved_mem >= job.allowed_mem {
        return Err(CubedError::Invalid(format!(
            "--reserved-mem ({}) must be smaller than --allowed-mem ({})",
            format_size(job.reserved_mem),
            format_size(job.allowed_mem)
        )));
    }
    let mut inputs = HashMap::new();
    for item in &job.inputs {
        let (name, url) = item
            .split_once('=')
            .ok_or_else(|| CubedError::Invalid(format!("bad --input '{item}': expected NAME=URL, e.g. a=data/a.zarr")))?;
        if inputs.contains_key(name) {
            return Err(CubedError::Invalid(format!("--input '{name}' is given twice: give each input name once")));
        }
        let array = cubed::from_zarr(&spec, url).map_err(|e| CubedError::Invalid(format!("input '{name}': {e}")))?;
        inputs.insert(name.to_string(), array);
    }
    let results = expr::evaluate(&job.expr, &spec, &inputs).map_err(|e| CubedError::Invalid(e.to_string()))?;
    let printed = job.outputs.is_empty();
    if !printed && job.outputs.len() != results.len() {
        return Err(CubedError::Invalid(format!(
            "the expression has {} result(s) but {} --output was given; give one --output per result",
            results.len(),
            job.outputs.len()
        )));
    }
    let outputs: Vec<Output> = results
        .into_iter()
        .enumerate()
        .map(|(i, array)| Output { array, url: job.outputs.get(i).cloned() })
        .collect();
    let opts = PlanOptions { output_codec: job.codec, intermediate_codec: job.intermediate_codec, fuse: !job.no_fuse, ..Default::default() };
    let built = cubed::build_plan(&outputs, &opts)?;
    if let Some(path) = &job.save_plan {
        std::fs::write(path, built.plan.to_json_pretty())
            .map_err(|e| CubedError::Invalid(format!("cannot write plan to '{}': {e}", path.display())))?;
        eprintln!("plan saved to {}", path.display());
    }
    Ok((built.plan, built.outputs, printed))
}

/// Runs `plan` with the CLI's runner options; `keep` names intermediates to
/// keep after success (results to print).
async fn execute(plan: Plan, run: &RunArgs, keep: Vec<usize>) -> Result<(), CubedError> {
    if let Some(path) = &run.summary_json {
        check_writable(path)?;
    }
    let runner: Arc<dyn cubed::Runner> = match run.runner {
        RunnerKind::Local => Arc::new(match run.workers {
            Some(n) => LocalRunner::new(n),
            None => LocalRunner::for_machine(plan.spec.allowed_mem),
        }),
        RunnerKind::Lambda => Arc::new(
            LambdaRunner::new(LambdaConfig {
                function: run.function.clone().expect("clap requires --function with --runner lambda"),
                qualifier: run.qualifier.clone(),
                region: run.region.clone(),
                endpoint: run.lambda_endpoint.clone(),
                concurrency: run.concurrency,
                tasks_per_invocation: run.tasks_per_invocation,
            })
            .await,
        ),
    };
    let options = cubed::ComputeOptions {
        attempts: run.attempts.max(1),
        quiet: run.quiet,
        resume: run.resume,
        backups: !run.no_backups,
        overwrite: run.overwrite,
        break_lease: run.break_lease,
        keep_intermediates: run.keep_intermediates,
        keep_arrays: keep,
        task_timeout: run.task_timeout,
        verify: !run.no_verify,
        ..Default::default()
    };
    let summary = cubed::execute(plan, runner, &options).await?;
    if !run.quiet {
        cubed::print_summary(&summary);
    }
    if let Some(path) = &run.summary_json {
        let json = serde_json::to_string_pretty(&summary).expect("summaries serialize");
        std::fs::write(path, json).map_err(|e| CubedError::Invalid(format!("cannot write summary to '{}': {e}", path.display())))?;
    }
    Ok(())
}

/// Fails before launch when a file cannot be written at `path`, leaving nothing behind.
fn check_writable(path: &std::path::Path) -> Result<(), CubedError> {
    let bad = |e: std::io::Error| CubedError::Invalid(format!("cannot write the summary to '{}': {e}; pick a writable path", path.display()));
    if path.is_dir() {
        return Err(CubedError::Invalid(format!("cannot write the summary to '{}': it is a directory", path.display())));
    }
    let existed = path.exists();
    std::fs::OpenOptions::new().append(true).create(true).open(path).map_err(bad)?;
    if !existed {
        std::fs::remove_file(path).map_err(bad)?;
    }
    Ok(())
}

fn print_results(plan: &Plan, outputs: &[usize]) -> Result<(), CubedError> {
    let lp = LoadedPlan::new(plan.clone());
    for &id in outputs {
        let meta = &plan.arrays[id];
        if meta.nbytes() > MAX_PRINT_BYTES {
            let _ = writeln!(
                std::io::stdout().lock(),
                "<array shape={:?} dtype={} ({}): too large to print; pass --output URL to write it>",
                meta.shape,
                meta.dtype,
                format_size(meta.nbytes())
            );
            continue;
        }
        let url = lp.url(id);
        let array = StoreUrl::parse(url)?.open_array(url)?;
        let region: Vec<(u64, u64)> = meta.shape.iter().map(|&s| (0, s)).collect();
        let data = read_region(&array, meta.dtype, &meta.chunks, &region)?;
        // A closed pipe (`| head`) just ends the output.
        if writeln!(std::io::stdout().lock(), "{}", format_chunk(&data)).is_err() {
            break;
        }
    }
    Ok(())
}

/// numpy-like text for a small array.
fn format_chunk(data: &ChunkData) -> String {
    let shape = data.shape().to_vec();
    let values: Vec<String> = match data {
        ChunkData::Bool(a) => a.iter().map(|&b| if b { "True".into() } else { "False".into() }).collect(),
        // Debug formatting is exact for every type (floats round-trip, `NaN`, `inf`).
        other => other.to_strings(),
    };
    fn nest(values: &[String], shape: &[usize]) -> String {
        match shape.split_first() {
            None => values.first().cloned().unwrap_or_default(),
            Some((&n, rest)) => {
                let step: usize = rest.iter().product();
                let parts: Vec<String> = (0..n).map(|i| nest(&values[i * step..(i + 1) * step], rest)).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }
    nest(&values, &shape)
}

/// A duration: a number of seconds with an optional unit `ms`, `s`, `m` or `h` (`90s`, `1.5m`, `200ms`).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let seconds = number.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0).map(|v| v * scale);
    seconds
        .filter(|&s| s < 1e9)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| format!("'{text}' is not a duration: give a positive number of seconds, e.g. 90s, 1.5m, 200ms or 2h"))
}
