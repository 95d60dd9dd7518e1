//! How many batches run at once: a ceiling (`--concurrency`, or the local
//! runner's workers) and, below it, a window that shrinks when the service
//! throttles and grows back while it does not (additive increase,
//! multiplicative decrease, as TCP's congestion window).
//!
//! - A throttle (Lambda's 429) cuts the window to [`DECREASE`] × what was in
//!   flight, never below 1; throttles of batches sent before the last cut
//!   are ignored (they were sent under the old window: one burst of 429s is
//!   one signal, as TCP ignores losses from before its last reduction).
//! - Each success adds `1 / window`: one more slot per window of successes.
//! - The window never exceeds the ceiling: `--concurrency` is a ceiling, not
//!   a target.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The window after a throttle, as a fraction of what was in flight.
pub const DECREASE: f64 = 0.5;

/// The concurrency limiter shared by the ops of a run.
pub struct Limiter {
    ceiling: usize,
    state: Mutex<State>,
    notify: Notify,
}

struct State {
    window: f64,
    in_flight: usize,
    /// Cuts so far: a permit remembers the count it was taken under.
    cuts: u64,
    smallest: usize,
}

/// A slot: released when dropped.
pub struct Permit {
    limiter: Arc<Limiter>,
    cuts: u64,
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
        Arc::new(Limiter { ceiling, state: Mutex::new(State { window: ceiling as f64, in_flight: 0, cuts: 0, smallest: ceiling }), notify: Notify::new() })
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
                    return Permit { limiter: self.clone(), cuts: st.cuts };
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

    /// The service throttled the batch sent under `permit`: the window
    /// shrinks, unless it already did since that batch was sent.
    pub fn throttled(&self, permit: &Permit) {
        let mut st = self.state.lock().expect("limiter lock");
        if permit.cuts != st.cuts {
            return;
        }
        st.cuts += 1;
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
        assert!(tokio::time::timeout(std::time::Duration::from_millis(20), l.acquire()).await.is_err());
        l.throttled(&permits[0]);
        assert_eq!(l.window(), 4);
        // A second throttle of the same burst (sent before the cut) is the same signal.
        l.throttled(&permits[1]);
        assert_eq!(l.window(), 4);
        drop(permits);
        let held = l.acquire().await;
        l.throttled(&held);
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
