//! Memory measurement: a counting global allocator that charges each
//! allocation to the task it was made for, and the process peak RSS (VmHWM).
//!
//! A task being measured ([`TaskMemory::start`]) takes one of [`SLOTS`] slots
//! and a tag (slot and generation) that its thread carries while the task
//! runs. Every allocation records, in a small header before the block, the tag
//! of the thread that made it (or none), so that freeing it later, on any
//! thread, is charged back to the task that allocated it, and never to a task
//! that has since taken the same slot.
//!
//! A task's measured peak is the most, at any moment while it ran, of
//! - the live bytes it allocated itself (its thread, including the storage
//!   futures it blocks on, which are polled on its thread), plus
//! - the growth, since it started, of the live bytes allocated by no task:
//!   shared threads (the I/O runtime's connection tasks and blocking pool, a
//!   codec thread pool, the driver's own threads) may be working for it, and
//!   which task they serve is not known, so that growth is charged to every
//!   task running at the time.
//!
//! With one task at a time this is the task's whole heap peak; with several at
//! once, one task's buffers are never charged to another, and only what the
//! shared threads hold is counted for each: an upper bound that stays close.
//! Memory allocated by C libraries with their own `malloc` (e.g. a compressor's
//! working state) is not seen by any Rust allocator, and is covered by the
//! task overhead of the memory model instead.
//!
//! Binaries opt in with
//! `#[global_allocator] static A: cubed_task::memory::CountingAllocator = cubed_task::memory::CountingAllocator;`
//! and a call to [`mark_allocator_installed`]. Without it, [`TaskMemory::finish`] reports `None`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// How many tasks can be measured at once (more run unmeasured).
pub const SLOTS: usize = 64;

/// Bits of a tag that hold the slot; the rest hold the generation (from 1, so
/// that no tag is 0, which means "no task").
const SLOT_BITS: u32 = SLOTS.trailing_zeros();

static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Live bytes allocated by no measured task.
static UNTAGGED: AtomicI64 = AtomicI64::new(0);
/// Slots in use, one bit each.
static ACTIVE: AtomicU64 = AtomicU64::new(0);
/// Generations handed out so far.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The tag of the task holding each slot (0: free).
static TAGS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
/// Live bytes allocated by the task of each slot.
static LIVE: [AtomicI64; SLOTS] = [const { AtomicI64::new(0) }; SLOTS];
/// [`UNTAGGED`] when the task of each slot started.
static BASE: [AtomicI64; SLOTS] = [const { AtomicI64::new(0) }; SLOTS];
/// Peak of `LIVE + max(0, UNTAGGED - BASE)` of each slot.
static PEAKS: [AtomicI64; SLOTS] = [const { AtomicI64::new(0) }; SLOTS];

thread_local! {
    /// The tag of the task this thread is running (0: none). Constant-
    /// initialised and without a destructor, so reading it never allocates.
    static THREAD_TAG: Cell<u64> = const { Cell::new(0) };
}

fn thread_tag() -> u64 {
    THREAD_TAG.try_with(Cell::get).unwrap_or(0)
}

fn slot_of(tag: u64) -> usize {
    (tag & (SLOTS as u64 - 1)) as usize
}

/// Raises the peak of `slot` to its live bytes plus the shared growth since it started.
fn raise_peak(slot: usize, untagged: i64) {
    let shared = (untagged - BASE[slot].load(Ordering::Relaxed)).max(0);
    PEAKS[slot].fetch_max(LIVE[slot].load(Ordering::Relaxed) + shared, Ordering::Relaxed);
}

/// Charges `delta` bytes to the owner `tag` of a block (0: no task). A block
/// whose task has ended (its slot free or taken by a later task) is no
/// longer counted anywhere.
fn account(tag: u64, delta: i64) {
    if tag == 0 {
        let now = UNTAGGED.fetch_add(delta, Ordering::Relaxed) + delta;
        if delta > 0 {
            let mut active = ACTIVE.load(Ordering::Relaxed);
            while active != 0 {
                raise_peak(active.trailing_zeros() as usize, now);
                active &= active - 1;
            }
        }
        return;
    }
    let slot = slot_of(tag);
    if TAGS[slot].load(Ordering::Relaxed) != tag {
        return;
    }
    LIVE[slot].fetch_add(delta, Ordering::Relaxed);
    if delta > 0 {
        raise_peak(slot, UNTAGGED.load(Ordering::Relaxed));
    }
}

/// Bytes before each block for its owner's tag: at least 16 and a multiple of
/// the alignment, so the block stays aligned and the tag (the 8 bytes just
/// before the block) is 8-aligned.
fn header_len(align: usize) -> usize {
    align.max(16)
}

/// The layout asked of the system allocator for a block of `layout`.
fn with_header(layout: Layout) -> Option<Layout> {
    Layout::from_size_align(layout.size().checked_add(header_len(layout.align()))?, layout.align()).ok()
}

/// The system allocator, counting live heap bytes per task (see the module docs).
pub struct CountingAllocator;

impl CountingAllocator {
    /// Writes the current thread's tag into the header of a fresh system block
    /// and returns the user's block after it.
    ///
    /// # Safety
    /// `base` is null or a block of `with_header(layout)` from `System`.
    unsafe fn tagged(base: *mut u8, layout: Layout) -> *mut u8 {
        if base.is_null() {
            return base;
        }
        let tag = thread_tag();
        // SAFETY: the block is header_len + size bytes long; the tag slot is
        // the 8 bytes before the user's block, inside the header, 8-aligned.
        let user = unsafe { base.add(header_len(layout.align())) };
        unsafe { (user.sub(8) as *mut u64).write(tag) };
        account(tag, layout.size() as i64);
        user
    }
}

// SAFETY: every block handed out is a `System` block of the same alignment,
// offset by a header that is a multiple of that alignment, and it is given
// back to `System` with the layout it was allocated with; the bookkeeping
// only touches atomics and a constant thread-local, and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(full) = with_header(layout) else { return std::ptr::null_mut() };
        unsafe { Self::tagged(System.alloc(full), layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let Some(full) = with_header(layout) else { return std::ptr::null_mut() };
        unsafe { Self::tagged(System.alloc_zeroed(full), layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let h = header_len(layout.align());
        // SAFETY: `ptr` came from `alloc` with this layout: the header precedes it.
        let tag = unsafe { (ptr.sub(8) as *const u64).read() };
        unsafe { System.dealloc(ptr.sub(h), Layout::from_size_align_unchecked(layout.size() + h, layout.align())) };
        account(tag, -(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let h = header_len(layout.align());
        let Some(new_full) = new_size.checked_add(h).filter(|&n| Layout::from_size_align(n, layout.align()).is_ok()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: as in `dealloc`; the header (and the tag in it) moves with the block.
        let tag = unsafe { (ptr.sub(8) as *const u64).read() };
        let old = unsafe { Layout::from_size_align_unchecked(layout.size() + h, layout.align()) };
        let base = unsafe { System.realloc(ptr.sub(h), old, new_full) };
        if base.is_null() {
            return base;
        }
        // The block stays its first owner's. Count the moment both blocks may exist.
        account(tag, new_size as i64);
        account(tag, -(layout.size() as i64));
        unsafe { base.add(h) }
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

/// Measures the heap peak of one task run on this thread (see the module docs).
pub struct TaskMemory {
    slot: Option<usize>,
    /// Started and finished on one thread: not `Send`.
    _thread: std::marker::PhantomData<*const ()>,
}

impl TaskMemory {
    /// Starts measuring the task this thread runs from now on; takes a free
    /// slot (none free: the task goes unmeasured).
    pub fn start() -> TaskMemory {
        let mut active = ACTIVE.load(Ordering::Relaxed);
        while active != u64::MAX {
            let free = (!active).trailing_zeros() as usize;
            match ACTIVE.compare_exchange(active, active | (1 << free), Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    let generation = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
                    let tag = (generation << SLOT_BITS) | free as u64;
                    LIVE[free].store(0, Ordering::Relaxed);
                    BASE[free].store(UNTAGGED.load(Ordering::Relaxed), Ordering::Relaxed);
                    PEAKS[free].store(0, Ordering::Relaxed);
                    TAGS[free].store(tag, Ordering::Release);
                    let _ = THREAD_TAG.try_with(|t| t.set(tag));
                    return TaskMemory { slot: Some(free), _thread: std::marker::PhantomData };
                }
                Err(now) => active = now,
            }
        }
        TaskMemory { slot: None, _thread: std::marker::PhantomData }
    }

    /// Stops measuring; the task's peak (see the module docs), in bytes.
    pub fn finish(mut self) -> Option<u64> {
        let slot = self.slot.take()?;
        let peak = PEAKS[slot].load(Ordering::Relaxed);
        release(slot);
        INSTALLED.load(Ordering::Relaxed).then_some(peak.max(0) as u64)
    }
}

/// Ends the task of `slot`: its thread stops tagging, and blocks it allocated
/// are no longer counted when freed.
fn release(slot: usize) {
    let _ = THREAD_TAG.try_with(|t| t.set(0));
    TAGS[slot].store(0, Ordering::Release);
    ACTIVE.fetch_and(!(1 << slot), Ordering::AcqRel);
}

impl Drop for TaskMemory {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            release(slot);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;
    use std::sync::{Arc, Barrier};

    const MB: u64 = 1 << 20;

    /// Runs `f` as a measured task on this thread; its peak in bytes.
    fn measured(f: impl FnOnce()) -> u64 {
        let m = TaskMemory::start();
        f();
        m.finish().expect("the allocator is installed")
    }

    fn assert_near(what: &str, peak: u64, want: u64) {
        // Within 256 KiB above: the test's own small allocations.
        assert!(peak >= want && peak < want + MB / 4, "{what}: measured {peak} bytes, expected {want} (+ < 256 KiB)");
    }

    #[test]
    fn tasks_are_measured_apart() {
        // In a process of its own: other tests' allocations would be shared growth.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["memory::tests::tasks_are_measured_apart_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("CUBED_TEST_MEMORY_CHILD", "1")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("1 passed"), "{text}");
    }

    #[test]
    #[ignore = "run by tasks_are_measured_apart, alone in a process"]
    fn tasks_are_measured_apart_child() {
        assert!(std::env::var_os("CUBED_TEST_MEMORY_CHILD").is_some(), "run by tasks_are_measured_apart");
        mark_allocator_installed();

        // Two tasks at once, each holding its buffer while the other holds its own:
        // neither is charged the other's.
        let both = Arc::new(Barrier::new(2));
        let task = |bytes: u64, both: Arc<Barrier>| {
            std::thread::spawn(move || {
                measured(|| {
                    let buffer = black_box(vec![1u8; bytes as usize]);
                    both.wait();
                    both.wait();
                    drop(buffer);
                })
            })
        };
        let (a, b) = (task(64 * MB, both.clone()), task(16 * MB, both));
        assert_near("task A (64 MB) beside task B", a.join().unwrap(), 64 * MB);
        assert_near("task B (16 MB) beside task A", b.join().unwrap(), 16 * MB);

        // A buffer freed on another thread is given back to its task.
        let peak = measured(|| {
            let first = black_box(vec![1u8; (32 * MB) as usize]);
            std::thread::spawn(move || drop(first)).join().unwrap();
            black_box(vec![1u8; (32 * MB) as usize]);
        });
        assert_near("32 MB freed on another thread, then 32 MB again", peak, 32 * MB);

        // What a shared thread allocates while the task runs is charged to it.
        let peak = measured(|| {
            let made = std::thread::spawn(|| black_box(vec![1u8; (8 * MB) as usize])).join().unwrap();
            drop(made);
        });
        assert_near("8 MB allocated for the task by a helper thread", peak, 8 * MB);

        // A buffer that outlives its task, freed by a later task of the same
        // slot, is not subtracted from the later task.
        let mut kept = vec![];
        measured(|| kept.push(black_box(vec![1u8; (16 * MB) as usize])));
        let peak = measured(|| {
            drop(kept);
            black_box(vec![1u8; (4 * MB) as usize]);
        });
        assert_near("a later task freeing an earlier task's 16 MB, then 4 MB", peak, 4 * MB);

        // Odd alignments survive the header, through realloc too.
        #[repr(align(4096))]
        struct Page([u8; 4096]);
        let mut pages: Vec<Page> = (0..3).map(|_| Page([7; 4096])).collect();
        pages.reserve(100);
        assert!(pages.iter().all(|p| (p as *const Page as usize).is_multiple_of(4096) && p.0[4095] == 7));
    }
}
