//! Channel workloads of issue 5: ping-pong, producer/consumer and a worker
//! pool, each as a goscope variant and its raw std + crossbeam twin in one
//! criterion group, so the ratio comes from one run.
//!
//! | group | one iteration |
//! | --- | --- |
//! | `pingpong_unbuffered` | a round trip over two `chan(0)` / `bounded(0)` channels |
//! | `pingpong_cap1` | a round trip over two capacity-1 channels |
//! | `buffered_1p1c_cap1024` | one item from a producer goroutine to the consumer, capacity 1024 |
//! | `buffered_4p4c_cap1024` | one item, 4 producers and 4 consumers, capacity 1024 |
//! | `worker_pool_100k_5w` | 100,000 jobs through 5 workers and back (Go by Example's worker pool) |
//!
//! In each group `goscope` uses `go!`, `chan` and `for x in &rx`; `crossbeam`
//! uses `std::thread::scope` and `crossbeam_channel::bounded`. Goroutines
//! and threads that live across iterations (the ping-pong echo, the pool's
//! workers) are started once per benchmark, outside the timed loop; the
//! producer/consumer groups start theirs once per sample (`iter_custom`),
//! which criterion's large per-sample iteration counts amortise. The Go
//! versions are in `bench/go/bench_test.go`.
//!
//! Run with `cargo bench -p goscope --bench channels [-- GROUP]`.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, Throughput};
use crossbeam_channel as cb;
use goscope::prelude::*;

/// Capacity of the producer/consumer channels.
const CAP: usize = 1024;
/// Producers and consumers of the 4P/4C group.
const SIDES: u64 = 4;
/// Jobs per iteration of the worker pool.
const JOBS: u64 = 100_000;
/// Workers of the worker pool.
const WORKERS: usize = 5;

/// The goroutine at the far end of a ping-pong: sends back what it gets.
fn echo(ping: &Receiver<u64>, pong: &Sender<u64>) {
    for v in ping {
        pong.send(v).unwrap();
    }
}

/// Ping-pong over goscope channels of capacity `cap`: one round trip per
/// iteration.
#[goscope::scoped]
fn goscope_pingpong(b: &mut Bencher<'_>, cap: usize) {
    let (ping_tx, ping_rx) = chan(cap);
    let (pong_tx, pong_rx) = chan(cap);
    go!(echo(&ping_rx, &pong_tx));
    b.iter(|| {
        ping_tx.send(black_box(1)).unwrap();
        pong_rx.recv().unwrap()
    });
    // Close `ping`: the echo goroutine ends and the scope joins it.
    drop(ping_tx);
}

/// The raw twin of [`goscope_pingpong`].
fn crossbeam_pingpong(b: &mut Bencher<'_>, cap: usize) {
    let (ping_tx, ping_rx) = cb::bounded::<u64>(cap);
    let (pong_tx, pong_rx) = cb::bounded::<u64>(cap);
    thread::scope(|s| {
        s.spawn(move || {
            for v in ping_rx {
                pong_tx.send(v).unwrap();
            }
        });
        b.iter(|| {
            ping_tx.send(black_box(1)).unwrap();
            pong_rx.recv().unwrap()
        });
        drop(ping_tx);
    });
}

fn pingpong(c: &mut Criterion) {
    for (name, cap) in [("pingpong_unbuffered", 0), ("pingpong_cap1", 1)] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        group.bench_function("goscope", |b| goscope_pingpong(b, cap));
        group.bench_function("crossbeam", |b| crossbeam_pingpong(b, cap));
        group.finish();
    }
}

/// Sends `n` items on `tx`.
fn produce(tx: &Sender<u64>, n: u64) {
    for i in 0..n {
        tx.send(i).unwrap();
    }
}

/// Receives until the channel is closed and drained.
fn consume(rx: &Receiver<u64>) {
    for v in rx {
        black_box(v);
    }
}

/// `n` items from one producer goroutine to this goroutine.
#[goscope::scoped]
fn goscope_1p1c(n: u64) {
    let (tx, rx) = chan(CAP);
    go!(produce(&tx, n));
    // The producer's copy is borrowed: drop ours only after it is done,
    // which `recv` tells us by having seen all `n` items.
    for _ in 0..n {
        black_box(rx.recv().unwrap());
    }
}

/// The raw twin of [`goscope_1p1c`].
fn crossbeam_1p1c(n: u64) {
    let (tx, rx) = cb::bounded(CAP);
    thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                tx.send(i).unwrap();
            }
        });
        for v in rx {
            black_box(v);
        }
    });
}

/// `n` items split over [`SIDES`] producers and [`SIDES`] consumers.
#[goscope::scoped]
fn goscope_4p4c(n: u64) {
    let (tx, rx) = chan(CAP);
    for p in 0..SIDES {
        let tx = tx.clone();
        go!(move || produce(&tx, share(n, p)));
    }
    // The producers own the remaining senders: the channel closes when the
    // last of them is done.
    drop(tx);
    for _ in 0..SIDES {
        go!(consume(&rx));
    }
}

/// The raw twin of [`goscope_4p4c`].
fn crossbeam_4p4c(n: u64) {
    let (tx, rx) = cb::bounded(CAP);
    thread::scope(|s| {
        for p in 0..SIDES {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..share(n, p) {
                    tx.send(i).unwrap();
                }
            });
        }
        drop(tx);
        for _ in 0..SIDES {
            let rx = rx.clone();
            s.spawn(move || {
                for v in rx {
                    black_box(v);
                }
            });
        }
    });
}

/// Producer `p`'s part of `n` items, so that the parts add up to `n`.
fn share(n: u64, p: u64) -> u64 {
    n / SIDES + u64::from(p < n % SIDES)
}

/// Times `run(iters)`: one iteration is one item.
fn per_item(b: &mut Bencher<'_>, run: fn(u64)) {
    b.iter_custom(|iters| {
        let start = Instant::now();
        run(iters);
        start.elapsed()
    });
}

fn buffered(c: &mut Criterion) {
    let mut group = c.benchmark_group("buffered_1p1c_cap1024");
    group.throughput(Throughput::Elements(1));
    group.bench_function("goscope", |b| per_item(b, goscope_1p1c));
    group.bench_function("crossbeam", |b| per_item(b, crossbeam_1p1c));
    group.finish();

    let mut group = c.benchmark_group("buffered_4p4c_cap1024");
    group.throughput(Throughput::Elements(1));
    group.bench_function("goscope", |b| per_item(b, goscope_4p4c));
    group.bench_function("crossbeam", |b| per_item(b, crossbeam_4p4c));
    group.finish();
}

/// A worker of the pool: Go by Example's `worker`, without the sleep.
fn worker(jobs: &Receiver<u64>, results: &Sender<u64>) {
    for j in jobs {
        results.send(j * 2).unwrap();
    }
}

/// [`JOBS`] jobs per iteration through [`WORKERS`] goroutines that live for
/// the whole benchmark; both channels hold all jobs, as in Go by Example.
#[goscope::scoped]
fn goscope_worker_pool(b: &mut Bencher<'_>) {
    let (jobs_tx, jobs) = chan(JOBS as usize);
    let (results, results_rx) = chan(JOBS as usize);
    for _ in 0..WORKERS {
        go!(worker(&jobs, &results));
    }
    b.iter(|| {
        for j in 0..JOBS {
            jobs_tx.send(j).unwrap();
        }
        let mut sum = 0;
        for _ in 0..JOBS {
            sum += results_rx.recv().unwrap();
        }
        sum
    });
    // Close `jobs`: the workers' `for` loops end and the scope joins them.
    drop(jobs_tx);
}

/// The raw twin of [`goscope_worker_pool`].
fn crossbeam_worker_pool(b: &mut Bencher<'_>) {
    let (jobs_tx, jobs) = cb::bounded::<u64>(JOBS as usize);
    let (results, results_rx) = cb::bounded::<u64>(JOBS as usize);
    thread::scope(|s| {
        for _ in 0..WORKERS {
            let (jobs, results) = (jobs.clone(), results.clone());
            s.spawn(move || {
                for j in jobs {
                    results.send(j * 2).unwrap();
                }
            });
        }
        b.iter(|| {
            for j in 0..JOBS {
                jobs_tx.send(j).unwrap();
            }
            let mut sum = 0;
            for _ in 0..JOBS {
                sum += results_rx.recv().unwrap();
            }
            sum
        });
        drop(jobs_tx);
    });
}

fn worker_pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("worker_pool_100k_5w");
    group.throughput(Throughput::Elements(JOBS));
    group.bench_function("goscope", goscope_worker_pool);
    group.bench_function("crossbeam", crossbeam_worker_pool);
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
    pingpong(&mut c);
    buffered(&mut c);
    worker_pool(&mut c);
    c.final_summary();
}
