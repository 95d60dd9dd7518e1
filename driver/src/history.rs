//! The task history of a run, streamed to the work dir in parts so that a
//! million-task run never holds it whole:
//! `<work_dir>/cubed-<digest>/history/run-<millis>/` holds
//! `events-00000.jsonl`, `events-00001.jsonl`, ... (one [`TaskEvent`] per
//! line, [`PART_EVENTS`] per part) and, when the run ends, `run.json` (the
//! digest, whether it succeeded, its error or summary, and the parts).

use serde::Serialize;
use tokio::task::JoinHandle;

use crate::error::{CubedError, Result};
use crate::scheduler::{RunSummary, TaskEvent};

/// Events per part file.
pub const PART_EVENTS: usize = 100_000;

/// Where events go.
pub(crate) struct History {
    /// The run's directory; `None` keeps every event in memory (batch partitions).
    dir: Option<String>,
    buffer: Vec<TaskEvent>,
    parts: usize,
    events: u64,
    writes: Vec<JoinHandle<Result<u64>>>,
}

/// What [`History::finish`] wrote.
pub(crate) struct Written {
    /// The run's directory.
    pub dir: String,
    /// Events recorded.
    pub events: u64,
    /// Bytes of the parts and `run.json`.
    pub bytes: u64,
    /// Seconds the end of the run waited for the history.
    pub wait_s: f64,
}

/// `run.json`.
#[derive(Serialize)]
struct RunRecord<'a> {
    digest: &'a str,
    ok: bool,
    error: Option<String>,
    events: u64,
    parts: Vec<String>,
    summary: Option<&'a RunSummary>,
}

fn part_name(k: usize) -> String {
    format!("events-{k:05}.jsonl")
}

impl History {
    /// A history streamed under `dir`.
    pub fn streamed(dir: String) -> History {
        History { dir: Some(dir), buffer: Vec::new(), parts: 0, events: 0, writes: Vec::new() }
    }

    /// A history kept in memory ([`History::into_events`]).
    pub fn in_memory() -> History {
        History { dir: None, buffer: Vec::new(), parts: 0, events: 0, writes: Vec::new() }
    }

    /// Records one event; a full part is written in the background.
    pub fn push(&mut self, event: TaskEvent) {
        self.buffer.push(event);
        self.events += 1;
        if self.dir.is_some() && self.buffer.len() >= PART_EVENTS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let Some(dir) = self.dir.clone() else { return };
        if self.buffer.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.buffer);
        let name = part_name(self.parts);
        self.parts += 1;
        self.writes.push(tokio::task::spawn_blocking(move || {
            let mut lines = Vec::with_capacity(events.len() * 160);
            for e in &events {
                serde_json::to_writer(&mut lines, e).expect("events serialize");
                lines.push(b'\n');
            }
            let n = lines.len() as u64;
            cubed_task::storage::StoreUrl::parse(&dir)?.put(&name, lines)?;
            Ok(n)
        }));
    }

    /// Writes what is left and `run.json`.
    pub async fn finish(mut self, digest: &str, ok: bool, error: Option<String>, summary: Option<&RunSummary>) -> Result<Written> {
        let started = std::time::Instant::now();
        self.flush();
        let dir = self.dir.clone().ok_or_else(|| CubedError::Runner("an in-memory history has no directory".into()))?;
        let (mut failed, mut bytes) = (None, 0u64);
        for w in self.writes.drain(..) {
            match w.await.map_err(|e| CubedError::Runner(e.to_string())).and_then(|r| r) {
                Ok(n) => bytes += n,
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        let record = RunRecord { digest, ok, error, events: self.events, parts: (0..self.parts).map(part_name).collect(), summary };
        let json = serde_json::to_vec_pretty(&record).expect("history serializes");
        bytes += json.len() as u64;
        let d = dir.clone();
        tokio::task::spawn_blocking(move || cubed_task::storage::StoreUrl::parse(&d)?.put("run.json", json))
            .await
            .map_err(|e| CubedError::Runner(e.to_string()))??;
        Ok(Written { dir, events: self.events, bytes, wait_s: started.elapsed().as_secs_f64() })
    }

    /// Every event (an in-memory history).
    pub fn into_events(self) -> Vec<TaskEvent> {
        self.buffer
    }
}
