//! Memory measurement: a counting global allocator that attributes heap use to
//! the task running on the current thread, and the process peak RSS (VmHWM).
//!
//! Binaries opt in with
//! `#[global_allocator] static A: cubed_task::memory::CountingAllocator = cubed_task::memory::CountingAllocator;`.
//! Without it, [`TaskMemory::finish`] reports `None`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static CURRENT: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn track(delta: i64) {
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            let now = CURRENT.with(|c| {
                let v = c.get() + delta;
                c.set(v);
                v
            });
            PEAK.with(|p| {
                if now > p.get() {
                    p.set(now)
                }
            });
        }
    });
}

/// The system allocator, plus per-thread accounting while a task is measured.
pub struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to `System`; the bookkeeping only
// touches const-initialised thread-locals, which never allocate.
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

/// Measures the heap peak of one task on the current thread.
pub struct TaskMemory(());

impl TaskMemory {
    /// Starts measuring on this thread.
    pub fn start() -> TaskMemory {
        ACTIVE.with(|a| a.set(true));
        CURRENT.with(|c| c.set(0));
        PEAK.with(|p| p.set(0));
        TaskMemory(())
    }

    /// Stops measuring; the peak heap bytes allocated by the task, if measured.
    pub fn finish(self) -> Option<u64> {
        let peak = PEAK.with(|p| p.get());
        ACTIVE.with(|a| a.set(false));
        INSTALLED.load(Ordering::Relaxed).then_some(peak.max(0) as u64)
    }
}

impl Drop for TaskMemory {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(false));
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
