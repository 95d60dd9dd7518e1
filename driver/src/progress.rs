//! Progress reporting: one bar per op on a terminal, plain log lines otherwise.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Where progress goes.
pub enum Progress {
    /// Live bars (stderr is a terminal).
    Bars(MultiProgress),
    /// A line per quarter of each op, on stderr.
    Lines,
    /// Nothing.
    Quiet,
}

impl Progress {
    /// Bars on a terminal, lines otherwise; `quiet` silences both.
    pub fn auto(quiet: bool) -> Progress {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            Progress::Bars(MultiProgress::new())
        } else {
            Progress::Lines
        }
    }

    /// A tracker for one op.
    pub fn op(&self, label: String, total: u64) -> OpProgress {
        let bar = match self {
            Progress::Bars(multi) => {
                let bar = multi.add(ProgressBar::new(total));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:<40} {bar:30} {pos}/{len} tasks {elapsed_precise}")
                        .expect("static template"),
                );
                bar.set_prefix(label.clone());
                Some(bar)
            }
            _ => None,
        };
        OpProgress { bar, lines: matches!(self, Progress::Lines), label, total, done: 0 }
    }
}

/// Progress of one op.
pub struct OpProgress {
    bar: Option<ProgressBar>,
    lines: bool,
    label: String,
    total: u64,
    done: u64,
}

impl OpProgress {
    /// One more task finished.
    pub fn inc(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if self.lines {
            let quarter = |n: u64| n * 4 / self.total.max(1);
            if self.done == self.total || quarter(self.done) != quarter(self.done - 1) {
                eprintln!("{}: {}/{} tasks", self.label, self.done, self.total);
            }
        }
    }

    /// Tasks skipped because their output already exists (resume).
    pub fn skip(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// The op ended.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
