//! Uncontended lock/unlock of `goscope::sync` against `std::sync` (issue 11:
//! within 1.1x of `std::sync::Mutex`).
//!
//! One iteration locks, bumps the data, and unlocks, on one thread that no
//! other touches: the fast path, one compare-and-swap and one swap, with no
//! detector work. Each group holds `goscope` and its `std` twin side by
//! side: `mutex` (`Mutex::lock`), `rwlock_read` (`RwLock::read`),
//! `rwlock_write` (`RwLock::write`).
//!
//! Run with `taskset -c 1 cargo bench -p goscope --bench locks` (one core
//! keeps the numbers steady).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};

fn mutex(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex");
    group.throughput(Throughput::Elements(1));
    let goscope = goscope::sync::Mutex::new(0u64);
    group.bench_function("goscope", |b| {
        b.iter(|| *black_box(&goscope).lock() += 1);
    });
    let std = std::sync::Mutex::new(0u64);
    group.bench_function("std", |b| {
        b.iter(|| *black_box(&std).lock().unwrap() += 1);
    });
    group.finish();
}

fn rwlock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rwlock_read");
    group.throughput(Throughput::Elements(1));
    let goscope = goscope::sync::RwLock::new(0u64);
    group.bench_function("goscope", |b| {
        b.iter(|| *black_box(&goscope).read());
    });
    let std = std::sync::RwLock::new(0u64);
    group.bench_function("std", |b| {
        b.iter(|| *black_box(&std).read().unwrap());
    });
    group.finish();

    let mut group = c.benchmark_group("rwlock_write");
    group.throughput(Throughput::Elements(1));
    group.bench_function("goscope", |b| {
        b.iter(|| *black_box(&goscope).write() += 1);
    });
    group.bench_function("std", |b| {
        b.iter(|| *black_box(&std).write().unwrap() += 1);
    });
    group.finish();
}

// `criterion_group!` would generate an undocumented `pub fn`: this is
// what it and `criterion_main!` expand to, with command-line flags
// (`--measurement-time`, `--sample-size`, a filter, ...) applied last.
fn main() {
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    mutex(&mut c);
    rwlock(&mut c);
    c.final_summary();
}
