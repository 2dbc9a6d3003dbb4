//! Spawn + `WaitGroup`, 10k goroutines (issue 5, first row).
//!
//! One iteration starts 10,000 goroutines that each call `wg.done()`, then
//! waits for all of them: Go's
//!
//! ```go
//! var wg sync.WaitGroup
//! for i := 0; i < 10000; i++ {
//!     wg.Add(1)
//!     go func() { wg.Done() }()
//! }
//! wg.Wait()
//! ```
//!
//! The group `spawn_waitgroup_10k` holds
//! - `goscope`: scoped `go!` inside a `#[goscope::scoped]` function, with a
//!   [`WaitGroup`];
//! - `goscope_detached`: `wg.go(..)`, Go 1.25's `wg.Go`, which starts detached
//!   goroutines (a separate row: the pool must serve both kinds);
//! - `std`: the raw twin, `std::thread::scope` spawning 10,000 threads.
//!
//! Throughput is set to 10,000 elements, so criterion also prints
//! goroutines per second; `bench/compare.sh` divides the per-iteration time
//! by 10,000 to report the cost of one goroutine. Sampling is flat: an
//! iteration of the thread twin takes about half a second on a small VM.
//!
//! Run with `cargo bench -p goscope --bench spawn`.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use goscope::prelude::*;

/// Goroutines started per iteration.
const GOROUTINES: usize = 10_000;

/// Starts [`GOROUTINES`] scoped goroutines that each mark a `WaitGroup` done.
#[goscope::scoped]
fn goscope_spawn(n: usize) {
    let wg = WaitGroup::new();
    for _ in 0..n {
        wg.add(1);
        go!(wg.done());
    }
    wg.wait();
}

/// Same as [`goscope_spawn`], with detached goroutines started by `wg.go`.
fn goscope_spawn_detached(n: usize) {
    let wg = WaitGroup::new();
    for _ in 0..n {
        wg.go(|| black_box(()));
    }
    wg.wait();
}

/// The raw twin: one scoped std thread per goroutine, joined by the scope.
fn std_spawn(n: usize) {
    thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| black_box(()));
        }
    });
}

fn spawn_waitgroup(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_waitgroup_10k");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.throughput(Throughput::Elements(GOROUTINES as u64));
    group.bench_function("goscope", |b| {
        b.iter(|| goscope_spawn(black_box(GOROUTINES)))
    });
    group.bench_function("goscope_detached", |b| {
        b.iter(|| goscope_spawn_detached(black_box(GOROUTINES)))
    });
    group.bench_function("std", |b| b.iter(|| std_spawn(black_box(GOROUTINES))));
    group.finish();
}

// `criterion_group!` would generate an undocumented `pub fn`: this is
// what it and `criterion_main!` expand to, with command-line flags
// (`--measurement-time`, `--sample-size`, a filter, ...) applied last.
fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    spawn_waitgroup(&mut c);
    c.final_summary();
}
