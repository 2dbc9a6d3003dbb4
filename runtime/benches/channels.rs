//! Channel workloads of issues 5 and 18: ping-pong, producer/consumer, a
//! worker pool and the concurrent prime sieve, each as a goscope variant and
//! its raw std + crossbeam twin in one criterion group, so the ratio comes
//! from one run.
//!
//! | group | one iteration |
//! | --- | --- |
//! | `pingpong_unbuffered` | a round trip over two `chan(0)` / `bounded(0)` channels |
//! | `pingpong_cap1` | a round trip over two capacity-1 channels |
//! | `buffered_1p1c_cap1024` | one item from a producer goroutine to the consumer, capacity 1024 |
//! | `buffered_4p4c_cap1024` | one item, 4 producers and 4 consumers, capacity 1024 |
//! | `worker_pool_100k_5w` | 100,000 jobs through 5 workers and back (Go by Example's worker pool) |
//! | `prime_sieve_300` | the first 300 primes from a daisy chain of 300 filter goroutines (`examples/prime_sieve.rs`) |
//!
//! In each group `goscope` uses `go!`, `chan` and `for x in &rx`; `crossbeam`
//! uses `std::thread::scope` and `crossbeam_channel::bounded`. Goroutines
//! and threads that live across iterations (the ping-pong echo, the pool's
//! workers) are started once per benchmark, outside the timed loop; the
//! producer/consumer groups start theirs once per sample (`iter_custom`),
//! which criterion's large per-sample iteration counts amortise. The Go
//! versions are in `bench/go/bench_test.go`.
//!
//! The sieve group also prints the CPU time (user + system) the process
//! used per sieve, summed over every timed sample (see [`process_cpu`]):
//! a line `RESULT cpu prime_sieve_300/<fn> ns_per_iter=<ns> iters=<n>`
//! after each function, which `bench/compare.sh` reads.
//!
//! Run with `cargo bench -p goscope --bench channels [-- GROUP]`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, SamplingMode, Throughput};
use crossbeam_channel as cb;
use goscope::prelude::*;

#[path = "common/workloads.rs"]
mod workloads;
use workloads::WORKERS;

/// Capacity of the producer/consumer channels.
const CAP: usize = 1024;
/// Producers and consumers of the 4P/4C group.
const SIDES: u64 = 4;
/// Jobs per iteration of the worker pool.
const JOBS: u64 = 100_000;
/// Primes the sieve finds per iteration (one filter goroutine each).
const PRIMES: usize = 300;
/// The 300th prime: the generator's last number, so that once the sieve
/// has found it the chain closes by itself, link by link.
const LAST: u64 = 1987;

/// The raw twin of [`workloads::pingpong`].
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
        group.bench_function("goscope", |b| workloads::pingpong(b, cap));
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

/// The raw twin of [`workloads::worker_pool`].
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
    group.bench_function("goscope", |b| workloads::worker_pool(b, JOBS));
    group.bench_function("crossbeam", crossbeam_worker_pool);
    group.finish();
}

/// The sieve's generator: sends 2, 3, ..., [`LAST`], then closes.
fn generate(tx: Sender<u64>) {
    for i in 2..=LAST {
        if tx.send(i).is_err() {
            return;
        }
    }
}

/// Copies `input` to `out`, dropping the multiples of `prime`, until
/// `input` is closed (then `out` closes as it is dropped).
fn filter(input: Receiver<u64>, out: Sender<u64>, prime: u64) {
    for i in &input {
        if i % prime != 0 && out.send(i).is_err() {
            return;
        }
    }
}

/// The concurrent prime sieve of `examples/prime_sieve.rs` (Go's
/// `doc/play/sieve.go`): a goroutine per prime found, over unbuffered
/// channels. Returns the sum of the first [`PRIMES`] primes.
///
/// Unlike the example, whose generator runs until the chain is torn down,
/// the generator stops at the last prime wanted and every filter closes
/// its output when its input closes (the Go blog's pipelines): the Go twin
/// can then end its goroutines the same way, instead of leaking 300 per
/// iteration, and all three do the same work.
#[goscope::scoped]
fn goscope_sieve() -> u64 {
    let (tx, mut ch) = chan(0);
    go!(generate(tx));
    let mut sum = 0;
    for _ in 0..PRIMES {
        let prime = ch.recv().expect("the generator ends at the last prime");
        sum += prime;
        let (tx1, ch1) = chan(0);
        go!(filter(ch, tx1, prime));
        ch = ch1;
    }
    assert_eq!(ch.recv(), None, "nothing follows the last prime");
    sum
}

/// The raw twin of [`goscope_sieve`]: a std scoped thread per filter.
fn crossbeam_sieve() -> u64 {
    thread::scope(|s| {
        let (tx, mut ch) = cb::bounded::<u64>(0);
        s.spawn(move || {
            for i in 2..=LAST {
                if tx.send(i).is_err() {
                    return;
                }
            }
        });
        let mut sum = 0;
        for _ in 0..PRIMES {
            let prime = ch.recv().expect("the generator ends at the last prime");
            sum += prime;
            let (tx1, ch1) = cb::bounded(0);
            let input = ch;
            s.spawn(move || {
                for i in input {
                    if i % prime != 0 && tx1.send(i).is_err() {
                        return;
                    }
                }
            });
            ch = ch1;
        }
        assert!(ch.recv().is_err(), "nothing follows the last prime");
        sum
    })
}

/// The sum of the first [`PRIMES`] primes, by trial division: what every
/// sieve must return.
fn expected_sum() -> u64 {
    let primes: Vec<u64> = (2..)
        .filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .take(PRIMES)
        .collect();
    assert_eq!(primes.last(), Some(&LAST));
    primes.iter().sum()
}

/// The CPU time (user + system, every thread of the process, those that
/// have exited included) used so far: fields 14 and 15 of
/// `/proc/self/stat`, in clock ticks of 10 ms (Linux's `USER_HZ` is 100).
/// Read around whole samples and summed, so the tick rounds off at most
/// one tick per sample, a few percent of one sieve at most and well under
/// one percent of the total.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("a /proc stat line") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // `rest` starts at field 3.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

/// Times `iters` sieves, checking each one's result, and adds the CPU
/// time they used to `cpu`.
fn per_sieve(b: &mut Bencher<'_>, sieve: fn() -> u64, expected: u64, cpu: &Cpu) {
    b.iter_custom(|iters| {
        let cpu_before = process_cpu();
        let start = Instant::now();
        for _ in 0..iters {
            assert_eq!(sieve(), expected);
        }
        let elapsed = start.elapsed();
        cpu.add(process_cpu() - cpu_before, iters);
        elapsed
    });
}

/// CPU time summed over the timed samples of one bench function.
#[derive(Default)]
struct Cpu {
    nanos: AtomicU64,
    iters: AtomicU64,
}

impl Cpu {
    fn add(&self, cpu: Duration, iters: u64) {
        let nanos = u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.iters.fetch_add(iters, Ordering::Relaxed);
    }

    /// Prints the CPU time per iteration, if anything was timed (a filter
    /// may have skipped the function).
    fn report(&self, name: &str) {
        let iters = self.iters.load(Ordering::Relaxed);
        if iters == 0 {
            return;
        }
        let per_iter = self.nanos.load(Ordering::Relaxed) / iters;
        println!(
            "{name}: CPU (user + sys) {:.2} ms per sieve over {iters} sieves",
            per_iter as f64 / 1e6
        );
        println!("RESULT cpu {name} ns_per_iter={per_iter} iters={iters}");
    }
}

fn prime_sieve(c: &mut Criterion) {
    let expected = expected_sum();
    let mut group = c.benchmark_group("prime_sieve_300");
    // One iteration is a whole sieve (tens of milliseconds): ten samples of
    // the same size.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for (name, sieve) in [
        ("goscope", goscope_sieve as fn() -> u64),
        ("crossbeam", crossbeam_sieve),
    ] {
        let cpu = Cpu::default();
        group.bench_function(name, |b| per_sieve(b, sieve, expected, &cpu));
        cpu.report(&format!("prime_sieve_300/{name}"));
    }
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
    prime_sieve(&mut c);
    c.final_summary();
}
