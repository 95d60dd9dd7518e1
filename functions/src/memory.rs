//! Memory measurement: a counting global allocator and the process peak RSS (VmHWM).
//!
//! The allocator keeps the process's live heap bytes. A task being measured
//! takes one of [`SLOTS`] slots; every allocation raises the peak of each
//! active slot to the current heap size. A task's measured peak is that peak
//! minus the heap size when it started. Allocations made for the task on other
//! threads (the I/O runtime reading its chunks, codec threads) are counted too.
//! With one task at a time this is exactly the task's peak; with several tasks
//! running at once it also includes their overlapping allocations, so it is an
//! upper bound.
//!
//! Binaries opt in with
//! `#[global_allocator] static A: cubed_task::memory::CountingAllocator = cubed_task::memory::CountingAllocator;`
//! and a call to [`mark_allocator_installed`]. Without it, [`TaskMemory::finish`] reports `None`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// How many tasks can be measured at once (more run unmeasured).
pub const SLOTS: usize = 64;

static INSTALLED: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicI64 = AtomicI64::new(0);
static ACTIVE: AtomicU64 = AtomicU64::new(0);
static PEAKS: [AtomicI64; SLOTS] = [const { AtomicI64::new(0) }; SLOTS];

fn track(delta: i64) {
    let now = CURRENT.fetch_add(delta, Ordering::Relaxed) + delta;
    if delta > 0 {
        let mut active = ACTIVE.load(Ordering::Relaxed);
        while active != 0 {
            let slot = active.trailing_zeros() as usize;
            PEAKS[slot].fetch_max(now, Ordering::Relaxed);
            active &= active - 1;
        }
    }
}

/// The system allocator, counting live heap bytes.
pub struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to `System`; the bookkeeping only
// touches atomics and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Count the moment both blocks may exist.
            track(new_size as i64);
            track(-(layout.size() as i64));
        }
        p
    }
}

/// Marks the counting allocator as installed and tunes the system allocator
/// (binaries call this once at start).
///
/// glibc serves blocks above its mmap threshold with fresh `mmap`s, so every
/// chunk-sized buffer page-faults on first touch and is unmapped on free: half
/// the CPU went to the kernel. Raising the threshold (and the trim threshold)
/// keeps freed chunk buffers in the heap for the next task to reuse.
pub fn mark_allocator_installed() {
    INSTALLED.store(true, Ordering::Relaxed);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes allocator tuning parameters; it is called
        // before any worker thread starts.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 512 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

/// Measures the heap peak of one task (see the module docs).
pub struct TaskMemory {
    slot: Option<usize>,
    start: i64,
}

impl TaskMemory {
    /// Starts measuring; takes a free slot (none free: the task goes unmeasured).
    pub fn start() -> TaskMemory {
        let start = CURRENT.load(Ordering::Relaxed);
        let mut slot = None;
        let mut active = ACTIVE.load(Ordering::Relaxed);
        while active != u64::MAX {
            let free = (!active).trailing_zeros() as usize;
            PEAKS[free].store(start, Ordering::Relaxed);
            match ACTIVE.compare_exchange(active, active | (1 << free), Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    slot = Some(free);
                    break;
                }
                Err(now) => active = now,
            }
        }
        TaskMemory { slot, start }
    }

    /// Stops measuring; the task's peak heap bytes above the heap at its start.
    pub fn finish(mut self) -> Option<u64> {
        let slot = self.slot.take()?;
        let peak = PEAKS[slot].load(Ordering::Relaxed);
        ACTIVE.fetch_and(!(1 << slot), Ordering::AcqRel);
        INSTALLED.load(Ordering::Relaxed).then_some((peak - self.start).max(0) as u64)
    }
}

impl Drop for TaskMemory {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            ACTIVE.fetch_and(!(1 << slot), Ordering::AcqRel);
        }
    }
}

/// The process peak resident set size (VmHWM), in bytes, on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    status_field("VmHWM:")
}

/// The process current resident set size (VmRSS), in bytes, on Linux.
pub fn current_rss_bytes() -> Option<u64> {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    let kb: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Resets the kernel's peak RSS counter so the next [`peak_rss_bytes`] covers
/// only what follows (Linux ≥ 4.0); returns false where unsupported.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
