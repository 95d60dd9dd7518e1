//! Fault injection for tests and benchmarks, inert unless `CUBED_FAULTS` is set.
//!
//! `CUBED_FAULTS="fail=0.2;slow=0.05x10;hang=0.01;crash=0.01;seed=7"` makes each
//! task attempt, deterministically from (seed, op, task, attempt):
//! - `fail`: return a retryable error, with this probability;
//! - `slow=PxN`: take N times its normal duration, with probability P;
//! - `hang`: sleep for an hour (only a backup task gets past it);
//! - `crash`: end the process (in a Lambda function: abort, as an out-of-memory
//!   kill would; in-process: a panic of the worker thread).
//!
//! Because the draw includes the attempt, a retried task gets a fresh draw.

use std::sync::OnceLock;
use std::time::Duration;

use crate::error::TaskError;

/// The fault plan parsed from `CUBED_FAULTS`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    fail: f64,
    slow: f64,
    slow_factor: f64,
    hang: f64,
    crash: f64,
    seed: u64,
}

/// What to do to one attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Run normally.
    None,
    /// Fail with a retryable error before doing anything.
    Fail,
    /// Run, then sleep so the attempt takes this many times longer.
    Slow(f64),
    /// Sleep for an hour.
    Hang,
    /// End the process.
    Crash,
}

impl Faults {
    /// Parses a spec such as `fail=0.2;slow=0.05x10;seed=3`.
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults { slow_factor: 10.0, ..Default::default() };
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("bad CUBED_FAULTS entry '{part}': expected KEY=VALUE"))?;
            let prob = |v: &str| -> Result<f64, String> {
                v.parse::<f64>().ok().filter(|p| (0.0..=1.0).contains(p)).ok_or_else(|| format!("bad probability '{v}' in CUBED_FAULTS"))
            };
            match key {
                "fail" => f.fail = prob(value)?,
                "hang" => f.hang = prob(value)?,
                "crash" => f.crash = prob(value)?,
                "seed" => f.seed = value.parse().map_err(|_| format!("bad seed '{value}' in CUBED_FAULTS"))?,
                "slow" => {
                    let (p, n) = value.split_once('x').unwrap_or((value, "10"));
                    f.slow = prob(p)?;
                    f.slow_factor = n.parse().map_err(|_| format!("bad slow factor '{n}' in CUBED_FAULTS"))?;
                }
                _ => return Err(format!("unknown CUBED_FAULTS key '{key}': use fail, slow, hang, crash, seed")),
            }
        }
        Ok(f)
    }

    /// The process-wide fault plan (`None` when `CUBED_FAULTS` is unset); a
    /// bad spec fails every task with a non-retryable error saying why.
    pub fn from_env() -> Result<Option<&'static Faults>, TaskError> {
        static FAULTS: OnceLock<Result<Option<Faults>, String>> = OnceLock::new();
        match FAULTS.get_or_init(|| std::env::var("CUBED_FAULTS").ok().map(|s| Faults::parse(&s)).transpose()) {
            Ok(f) => Ok(f.as_ref()),
            Err(e) => Err(TaskError::fatal(e.clone())),
        }
    }

    /// The fault for one attempt of one task.
    pub fn draw(&self, op: &str, task: u64, attempt: u32) -> Fault {
        let mut h = self.seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in op.bytes().chain(task.to_le_bytes()).chain(attempt.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        h = (h ^ (h >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 29;
        let u = (h >> 11) as f64 / (1u64 << 53) as f64;
        let mut edge = self.crash;
        if u < edge {
            return Fault::Crash;
        }
        edge += self.hang;
        if u < edge {
            return Fault::Hang;
        }
        edge += self.fail;
        if u < edge {
            return Fault::Fail;
        }
        edge += self.slow;
        if u < edge {
            return Fault::Slow(self.slow_factor);
        }
        Fault::None
    }
}

/// Applies a fault that acts before the task runs.
pub fn before(fault: Fault, what: &str) -> Result<(), TaskError> {
    match fault {
        Fault::Fail => Err(TaskError::retryable(format!("injected failure of {what}"))),
        Fault::Hang => {
            std::thread::sleep(Duration::from_secs(3600));
            Err(TaskError::retryable(format!("injected hang of {what} ended")))
        }
        Fault::Crash if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => std::process::abort(),
        Fault::Crash => panic!("injected crash of {what}"),
        _ => Ok(()),
    }
}

/// Applies a slowdown after the task ran for `took`.
pub fn after(fault: Fault, took: Duration) {
    if let Fault::Slow(factor) = fault {
        std::thread::sleep(took.mul_f64((factor - 1.0).max(0.0)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_match_the_rates() {
        let f = Faults::parse("fail=0.2;slow=0.05x10;seed=7").unwrap();
        let draws: Vec<Fault> = (0..10_000).map(|t| f.draw("op-001", t, 1)).collect();
        assert_eq!(draws, (0..10_000).map(|t| f.draw("op-001", t, 1)).collect::<Vec<_>>());
        let fails = draws.iter().filter(|d| **d == Fault::Fail).count();
        let slows = draws.iter().filter(|d| matches!(d, Fault::Slow(x) if *x == 10.0)).count();
        assert!((1800..2200).contains(&fails), "{fails}");
        assert!((400..600).contains(&slows), "{slows}");
        // A retry gets a fresh draw.
        assert!((0..1000).any(|t| f.draw("op-001", t, 1) != f.draw("op-001", t, 2)));
        assert!(Faults::parse("explode=1").unwrap_err().contains("unknown"));
        assert!(Faults::parse("fail=2").unwrap_err().contains("probability"));
    }
}
