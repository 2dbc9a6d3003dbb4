//! Two-way select (issue 5's last row, issue 18's unbuffered row).
//!
//! Two producer goroutines each fill their own channel; the consumer runs
//! one `select!` per item over both receives, so that one iteration is one
//! select that completes a receive. Go's
//!
//! ```go
//! for i := 0; i < b.N; i++ {
//!     select {
//!     case v := <-a:
//!         sink += v
//!     case v := <-b:
//!         sink += v
//!     }
//! }
//! ```
//!
//! | group | channels |
//! | --- | --- |
//! | `select_2way_buffered` | capacity 1024: the select mostly finds a ready arm |
//! | `select_2way_unbuffered` | unbuffered: every select is a rendezvous with a producer |
//!
//! Each group holds `goscope` (`goscope::select!`) and `crossbeam`
//! (`crossbeam_channel::select!`, the raw twin, on std scoped threads); the
//! buffered one also `goscope_some_pattern` (the same with refutable arms,
//! `Some(v) = <-a`). The producers are started once per sample
//! (`iter_custom`). The Go versions are `BenchmarkSelect2WayBuffered` and
//! `BenchmarkSelect2WayUnbuffered` in `bench/go/bench_test.go`.
//!
//! Run with `cargo bench -p goscope --bench select [-- GROUP]`.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, Throughput};
use crossbeam_channel as cb;
use goscope::prelude::*;

/// Capacity of both channels of `select_2way_buffered`.
const CAP: usize = 1024;

/// Sends `n` items on `tx`.
fn produce(tx: &Sender<u64>, n: u64) {
    for i in 0..n {
        tx.send(i).unwrap();
    }
}

/// `n` selects, each receiving one of the `n` items that two producers
/// split between two channels of capacity `cap`.
#[goscope::scoped]
fn goscope_select(n: u64, cap: usize) {
    let (a_tx, a) = chan(cap);
    let (b_tx, b) = chan(cap);
    go!(produce(&a_tx, n / 2));
    go!(produce(&b_tx, n - n / 2));
    let mut sum = 0;
    for _ in 0..n {
        sum += goscope::select! {
            v = <-a => v.unwrap(),
            v = <-b => v.unwrap(),
        };
    }
    black_box(sum);
}

/// [`goscope_select`] with refutable arms, `Some(v) = <-a`: each value
/// received is tested against the pattern.
#[goscope::scoped]
fn goscope_select_some(n: u64) {
    let (a_tx, a) = chan(CAP);
    let (b_tx, b) = chan(CAP);
    go!(produce(&a_tx, n / 2));
    go!(produce(&b_tx, n - n / 2));
    let mut sum = 0;
    for _ in 0..n {
        sum += goscope::select! {
            Some(v) = <-a => v,
            Some(v) = <-b => v,
        };
    }
    black_box(sum);
}

/// The raw twin of [`goscope_select`], with crossbeam's `select!`.
fn crossbeam_select(n: u64, cap: usize) {
    let (a_tx, a) = cb::bounded(cap);
    let (b_tx, b) = cb::bounded(cap);
    // The producers borrow the senders, as the goscope variant's do: a
    // channel whose senders are gone is always ready in a select (closed),
    // which would end the measurement early.
    let (a_tx, b_tx) = (&a_tx, &b_tx);
    thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n / 2 {
                a_tx.send(i).unwrap();
            }
        });
        s.spawn(move || {
            for i in 0..n - n / 2 {
                b_tx.send(i).unwrap();
            }
        });
        let mut sum = 0;
        for _ in 0..n {
            sum += cb::select! {
                recv(a) -> v => v.unwrap(),
                recv(b) -> v => v.unwrap(),
            };
        }
        black_box(sum);
    });
}

/// Times `run(iters)`: one iteration is one select.
fn per_select(b: &mut Bencher<'_>, run: impl Fn(u64)) {
    b.iter_custom(|iters| {
        let start = Instant::now();
        run(iters);
        start.elapsed()
    });
}

fn select_2way(c: &mut Criterion) {
    let mut group = c.benchmark_group("select_2way_buffered");
    group.throughput(Throughput::Elements(1));
    group.bench_function("goscope", |b| per_select(b, |n| goscope_select(n, CAP)));
    group.bench_function("goscope_some_pattern", |b| {
        per_select(b, goscope_select_some)
    });
    group.bench_function("crossbeam", |b| per_select(b, |n| crossbeam_select(n, CAP)));
    group.finish();

    let mut group = c.benchmark_group("select_2way_unbuffered");
    group.throughput(Throughput::Elements(1));
    group.bench_function("goscope", |b| per_select(b, |n| goscope_select(n, 0)));
    group.bench_function("crossbeam", |b| per_select(b, |n| crossbeam_select(n, 0)));
    group.finish();
}

// `criterion_group!` would generate an undocumented `pub fn`: this is
// what it and `criterion_main!` expand to, with command-line flags
// (`--measurement-time`, `--sample-size`, a filter, ...) applied last.
fn main() {
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    select_2way(&mut c);
    c.final_summary();
}
