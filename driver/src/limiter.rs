//! How many batches run at once: a ceiling (`--concurrency`, or the local
//! runner's workers) and, below it, a window that shrinks when the service
//! throttles and grows back while it does not (additive increase,
//! multiplicative decrease, as TCP's congestion window).
//!
//! - A throttle (Lambda's 429) cuts the window to [`DECREASE`] × what was in
//!   flight, at most once per [`CUT_INTERVAL`] (one burst of 429s is one
//!   signal), never below 1.
//! - Each success adds `1 / window`: one more slot per window of successes.
//! - The window never exceeds the ceiling: `--concurrency` is a ceiling, not
//!   a target.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The window after a throttle, as a fraction of what was in flight.
pub const DECREASE: f64 = 0.5;
/// Throttles closer together than this are one signal.
pub const CUT_INTERVAL: Duration = Duration::from_millis(100);

/// The concurrency limiter shared by the ops of a run.
pub struct Limiter {
    ceiling: usize,
    state: Mutex<State>,
    notify: Notify,
}

struct State {
    window: f64,
    in_flight: usize,
    last_cut: Option<Instant>,
    smallest: usize,
}

/// A slot: released when dropped.
pub struct Permit {
    limiter: Arc<Limiter>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut st = self.limiter.state.lock().expect("limiter lock");
        st.in_flight -= 1;
        drop(st);
        self.limiter.notify.notify_one();
    }
}

impl Limiter {
    /// A limiter allowing up to `ceiling` at once (at least 1), starting there.
    pub fn new(ceiling: usize) -> Arc<Limiter> {
        let ceiling = ceiling.max(1);
        Arc::new(Limiter { ceiling, state: Mutex::new(State { window: ceiling as f64, in_flight: 0, last_cut: None, smallest: ceiling }), notify: Notify::new() })
    }

    /// The most that may ever run at once.
    pub fn ceiling(&self) -> usize {
        self.ceiling
    }

    /// How many may run at once now.
    pub fn window(&self) -> usize {
        Self::allowed(&self.state.lock().expect("limiter lock"))
    }

    /// The smallest window so far.
    pub fn smallest_window(&self) -> usize {
        self.state.lock().expect("limiter lock").smallest
    }

    fn allowed(st: &State) -> usize {
        (st.window as usize).max(1)
    }

    /// Waits for a slot.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.state.lock().expect("limiter lock");
                if st.in_flight < Self::allowed(&st) {
                    st.in_flight += 1;
                    return Permit { limiter: self.clone() };
                }
            }
            notified.await;
        }
    }

    /// A batch succeeded: the window grows by `1 / window`.
    pub fn succeeded(&self) {
        let mut st = self.state.lock().expect("limiter lock");
        let before = Self::allowed(&st);
        st.window = (st.window + 1.0 / st.window).min(self.ceiling as f64);
        if Self::allowed(&st) > before {
            drop(st);
            self.notify.notify_one();
        }
    }

    /// The service throttled a batch: the window shrinks (see the module docs).
    pub fn throttled(&self) {
        let now = Instant::now();
        let mut st = self.state.lock().expect("limiter lock");
        if st.last_cut.is_some_and(|t| now - t < CUT_INTERVAL) {
            return;
        }
        st.last_cut = Some(now);
        st.window = (st.window.min(st.in_flight as f64) * DECREASE).max(1.0);
        st.smallest = st.smallest.min(Self::allowed(&st));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttles_halve_the_window_and_successes_grow_it_back_to_the_ceiling() {
        let l = Limiter::new(8);
        let permits: Vec<Permit> = futures::future::join_all((0..8).map(|_| l.acquire())).await;
        // A ninth waits.
        assert!(tokio::time::timeout(Duration::from_millis(20), l.acquire()).await.is_err());
        l.throttled();
        assert_eq!(l.window(), 4);
        // A second throttle of the same burst is the same signal.
        l.throttled();
        assert_eq!(l.window(), 4);
        drop(permits);
        tokio::time::sleep(CUT_INTERVAL).await;
        let held = l.acquire().await;
        l.throttled();
        // Cut from what was in flight (1), not below 1.
        assert_eq!((l.window(), l.smallest_window()), (1, 1));
        drop(held);
        for _ in 0..200 {
            l.succeeded();
        }
        assert_eq!(l.window(), 8, "never above the ceiling");
        let again: Vec<Permit> = futures::future::join_all((0..8).map(|_| l.acquire())).await;
        assert_eq!(again.len(), 8);
    }
}
