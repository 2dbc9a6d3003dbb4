//! What a timer costs: Go's `BenchmarkStop` (`NewTimer(1*Second).Stop()`),
//! `BenchmarkReset` and `BenchmarkStartStop` (`AfterFunc(Hour, nil)` then
//! `Stop`), and a context deadline made and cancelled
//! (`WithTimeout(bg, d)` + `cancel()`), plus, before the timings, the heap
//! memory one live timer holds.
//!
//! Every goscope timer is an entry in the one timer thread's ordered map:
//! making one takes that map's lock, and may wake the thread when the new
//! deadline is the earliest. The benches keep 10,000 other timers armed
//! (Go's `benchmark` helper keeps 1<<15 garbage timers per P), so the map
//! is not trivially small.
//!
//! Memory is counted by a global allocator that sums live heap bytes (a
//! relaxed atomic per allocation, the same for every bench here); the
//! `RESULT` line gives bytes per live `Timer`, `Ticker` and context with a
//! deadline.
//!
//! Run with `cargo bench -p goscope --bench timers`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use criterion::Criterion;
use goscope::context::Context;
use goscope::time::{Ticker, Timer, after_func};

/// The system allocator, counting live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments,
// so `System`'s guarantees hold; the counter does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` came from `System.alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes per value that `make` returns, over `n` live values.
fn bytes_per<T>(n: usize, make: impl Fn() -> T) -> isize {
    // Warm up: the timer thread and its map exist before counting.
    drop(make());
    let before = LIVE.load(Ordering::SeqCst);
    let values: Vec<T> = (0..n).map(|_| make()).collect();
    let after = LIVE.load(Ordering::SeqCst);
    // The vector holding them is not the timers' cost.
    let held = (after - before) - (values.capacity() * std::mem::size_of::<T>()) as isize;
    drop(values);
    held / n as isize
}

fn report_memory() {
    const N: usize = 10_000;
    const HOUR: Duration = Duration::from_secs(3600);
    let timer = bytes_per(N, || Timer::new(HOUR));
    let ticker = bytes_per(N, || Ticker::new(HOUR));
    let func = bytes_per(N, || after_func(HOUR, || {}));
    let ctx = bytes_per(N, || Context::background().with_timeout(HOUR));
    println!(
        "RESULT memory per live Timer: {timer} B, Ticker: {ticker} B, after_func: {func} B, \
         context with deadline (+ its CancelFunc): {ctx} B (heap, {N} live)"
    );
}

fn timers(c: &mut Criterion) {
    // Go's garbage timers: the map is not empty.
    let _garbage: Vec<Timer> = (0..10_000)
        .map(|_| Timer::new(Duration::from_secs(3600)))
        .collect();
    let mut group = c.benchmark_group("timer");
    group.bench_function("new_stop", |b| {
        b.iter(|| black_box(Timer::new(Duration::from_secs(1))).stop());
    });
    group.bench_function("reset", |b| {
        let t = Timer::new(Duration::from_secs(3600));
        b.iter(|| black_box(t.reset(Duration::from_secs(3600))));
    });
    group.bench_function("after_func_stop", |b| {
        b.iter(|| black_box(after_func(Duration::from_secs(3600), || {})).stop());
    });
    group.bench_function("context_with_timeout_cancel", |b| {
        let bg = Context::background();
        b.iter(|| {
            let (ctx, cancel) = bg.with_timeout(Duration::from_millis(5));
            cancel.cancel();
            black_box(ctx);
        });
    });
    group.bench_function("context_with_cancel_cancel", |b| {
        let (parent, _cancel) = Context::background().with_cancel();
        b.iter(|| {
            let (ctx, cancel) = parent.with_cancel();
            cancel.cancel();
            black_box(ctx);
        });
    });
    group.finish();
}

fn main() {
    report_memory();
    let mut c = Criterion::default().configure_from_args();
    timers(&mut c);
    c.final_summary();
}
