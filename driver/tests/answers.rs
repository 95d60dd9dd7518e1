//! A runner's answers are checked, not trusted: a report for a task outside
//! the batch, a missing or duplicated report, or a success whose chunks are not
//! in storage is a failed attempt (retried, counted), never a panic and never
//! metadata published over a chunkless output.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use common::*;
use cubed::runner::{TaskBatch, TaskOutcome};
use cubed::{ComputeOptions, CubedError, LocalRunner, Output, PlanOptions, Runner};
use cubed_task::storage::StoreUrl;
use cubed_task::TaskStats;
use futures::future::BoxFuture;

#[derive(Clone, Copy, Debug)]
enum Lie {
    /// Leave out the report of the batch's last task.
    Missing,
    /// Report the first task twice.
    Duplicate,
    /// Report a task of another batch instead of the first one.
    Stray,
    /// Report success for every task without running any.
    Fake,
}

/// Runs tasks locally, but lies in its first `lies` answers.
struct LyingRunner {
    inner: LocalRunner,
    lie: Lie,
    lies: AtomicU32,
}

impl Runner for LyingRunner {
    fn name(&self) -> &'static str {
        "lying"
    }

    fn max_concurrency(&self) -> usize {
        1
    }

    fn tasks_per_batch(&self, _: &cubed::Plan, _: &cubed_task::plan::Op) -> u64 {
        2
    }

    fn run(&self, batch: TaskBatch) -> BoxFuture<'_, Vec<TaskOutcome>> {
        Box::pin(async move {
            let lying = self.lies.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if lying && matches!(self.lie, Lie::Fake) {
                return (batch.start..batch.stop).map(|index| TaskOutcome { index, result: Ok(TaskStats::default()) }).collect();
            }
            let (start, stop) = (batch.start, batch.stop);
            let mut out = self.inner.run(batch).await;
            if lying {
                match self.lie {
                    Lie::Missing => {
                        out.pop();
                    }
                    Lie::Duplicate => out.push(out[0].clone()),
                    Lie::Stray => out[0].index = stop + 100 + start,
                    Lie::Fake => unreachable!(),
                }
            }
            out
        })
    }
}

fn run_with(lie: Lie, lies: u32, attempts: u32) -> (Result<cubed::RunSummary, CubedError>, String, Option<ndarray::ArrayD<f64>>) {
    let s = spec();
    let (a, reference) = stored_input(&s, &[6, 6], &[2, 2], 5);
    let url = data_url(&s, &format!("out-{lie:?}-{attempts}"));
    let plus = cubed::multiply(&a, &a).unwrap();
    let built = cubed::build_plan(&[Output { array: plus, url: Some(url.clone()) }], &PlanOptions::default()).unwrap();
    let meta = built.plan.arrays[built.outputs[0]].clone();
    let runner = Arc::new(LyingRunner { inner: LocalRunner::new(1), lie, lies: AtomicU32::new(lies) });
    let options = ComputeOptions { quiet: true, attempts, backoff: std::time::Duration::from_millis(1), ..Default::default() };
    let result = block_on(cubed::execute(built.plan, runner, &options));
    let published = StoreUrl::parse(&url).unwrap().get("zarr.json").unwrap().is_some();
    let values = published.then(|| read_all(&url, &meta));
    let want = reference.mapv(|x| x * x);
    if let Some(v) = &values {
        assert_close(v, &want, &format!("{lie:?}"));
    }
    (result, url, values)
}

#[test]
fn every_kind_of_bad_answer_is_a_retried_attempt() {
    for lie in [Lie::Missing, Lie::Duplicate, Lie::Stray, Lie::Fake] {
        let (result, url, values) = run_with(lie, 2, 3);
        let summary = result.unwrap_or_else(|e| panic!("{lie:?}: {e}"));
        assert!(values.is_some(), "{lie:?}: {url} was not published");
        let op = &summary.ops[0];
        assert!(op.retries >= 1, "{lie:?}: the bad answer was not retried: {op:?}");
        assert_eq!(op.verified, op.tasks, "{lie:?}");
    }
}

#[test]
fn with_no_attempts_left_a_bad_answer_fails_the_run_and_publishes_nothing() {
    for lie in [Lie::Missing, Lie::Duplicate, Lie::Stray, Lie::Fake] {
        let (result, url, values) = run_with(lie, 1000, 2);
        let e = match result {
            Ok(summary) => panic!("{lie:?}: the run should fail: {summary:?}"),
            Err(e) => e.to_string(),
        };
        let expected = match lie {
            Lie::Missing | Lie::Stray => "the runner reported no result for task",
            Lie::Duplicate => "the runner reported more than one result for task",
            Lie::Fake => "the runner reported success, but the task's output chunks are not in storage",
        };
        assert!(e.contains(expected), "{lie:?}: {e}");
        assert!(values.is_none(), "{lie:?}: {url} was published over missing chunks");
    }
}
