//! Human-readable plan and run tables.

use cubed_task::Plan;

use crate::scheduler::RunSummary;
use crate::size::format_size;

/// Prints the plan: ops, tasks, projected memory, bytes, fusion.
pub fn print_plan(plan: &Plan) {
    println!(
        "plan {} (version {}): {} ops, {} arrays; allowed_mem {}, reserved_mem {}, work_dir {}",
        &plan.digest()[..16],
        plan.version,
        plan.ops.len(),
        plan.arrays.len(),
        format_size(plan.spec.allowed_mem),
        format_size(plan.spec.reserved_mem),
        plan.spec.work_dir
    );
    println!("{:<8} {:<10} {:>7} {:>11} {:>10} {:>10} {:>8}  {:<24} fused", "op", "kind", "tasks", "projected", "read", "written", "timeout", "output");
    for op in &plan.ops {
        let out = &plan.arrays[op.output];
        let flag = if op.projected_mem > plan.spec.allowed_mem { " OVER BUDGET" } else { "" };
        println!(
            "{:<8} {:<10} {:>7} {:>11} {:>10} {:>10} {:>7.0}s  {:<24} {}{}",
            op.id,
            op.kind.name(),
            op.num_tasks,
            format_size(op.projected_mem),
            format_size(op.bytes_read),
            format_size(op.bytes_written),
            crate::scheduler::default_task_timeout(op).as_secs_f64(),
            format!("{} {:?}", out.name, out.shape),
            op.fused.join(" + "),
            flag
        );
    }
}

/// Prints the end-of-run summary: per op time and projected vs measured memory.
pub fn print_summary(summary: &RunSummary) {
    eprintln!(
        "{:<8} {:<10} {:>7} {:>8} {:>9} {:>11} {:>11} {:>6} {:>8} {:>8} {:>9} {:>9}",
        "op", "kind", "tasks", "skipped", "time", "projected", "measured", "util", "retries", "backups", "throttled", "abandoned"
    );
    for op in &summary.ops {
        let measured = op.measured_mem.map_or("-".to_string(), format_size);
        let util = op.measured_mem.map_or("-".to_string(), |m| format!("{:.0}%", 100.0 * m as f64 / op.projected_mem.max(1) as f64));
        eprintln!(
            "{:<8} {:<10} {:>7} {:>8} {:>8.2}s {:>11} {:>11} {:>6} {:>8} {:>8} {:>9} {:>9}",
            op.id,
            op.kind,
            op.tasks,
            op.skipped,
            op.wall_s,
            format_size(op.projected_mem),
            measured,
            util,
            op.retries,
            op.backups,
            op.throttles,
            op.abandoned
        );
    }
    let rss = summary.peak_rss.map_or("-".to_string(), format_size);
    eprintln!("total {:.2}s; process peak RSS {rss}; measured = task heap peak + reserved_mem", summary.wall_s);
    let c = &summary.cost;
    let prefix = if summary.runner == "lambda" { "Lambda cost" } else { "on Lambda this would cost" };
    eprintln!(
        "{prefix}: {:.1} GB-s at allowed_mem + {} requests ≈ ${:.6} (arm64 prices)",
        c.gb_seconds, c.requests, c.usd
    );
    if let Some(history) = &summary.history {
        eprintln!("task history ({} attempts, {}) saved under {history}", summary.history_events, format_size(summary.history_bytes));
    }
}
