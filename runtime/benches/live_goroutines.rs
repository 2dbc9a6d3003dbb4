//! The cost of a live blocked goroutine (issue 5, second row; issue 19):
//! memory, memory mappings and start time, and how many this machine
//! allows.
//!
//! Not a criterion benchmark: memory is not a timing, and starting 10,000
//! threads that stay alive is not an iteration criterion can repeat. The
//! program starts `N` goroutines that each block on a receive from one
//! unbuffered channel, reads the process's resident set (`VmRSS` in
//! `/proc/self/status`) and memory-map count (`/proc/self/maps`) before and
//! after, prints the cost of one goroutine and how long they took to start
//! (until each has run), then closes the channel to release them all.
//!
//! ```text
//! cargo bench -p goscope --bench live_goroutines -- [N] [goscope|std|both]
//! ```
//!
//! `N` defaults to `$GOSCOPE_LIVE_N`, else 10,000. `goscope` uses `go!` in a
//! `#[goscope::scoped]` function with a `WaitGroup`; `std` is the raw twin
//! (`std::thread::scope` threads blocked in crossbeam's `recv`); `both` (the
//! default) runs them side by side: `goscope` then `std`, each in a child
//! process of its own, `$GOSCOPE_LIVE_RUNS` times (default 5), and prints
//! the medians and goscope's start time as a multiple of std's (a shared
//! machine's noise hits both alike). `bench/compare.sh` reads the `RESULT`
//! lines.
//!
//! # How far `N` can go
//!
//! While goroutines are OS threads, each live one holds a thread, a kernel
//! stack (16 KiB on x86-64, not in `VmRSS`) and memory mappings: a goroutine
//! thread 2 on Linux (its stack and guard page), a std thread 4 (std adds a
//! signal stack and its guard page). The program prints the limits that
//! bound `N` and the ceiling they imply:
//!
//! - `vm.max_map_count` (`/proc/sys/vm/max_map_count`, 65,530 by default):
//!   mappings per process; usually the first limit hit. Raise it with
//!   `sysctl -w vm.max_map_count=262144`.
//! - `kernel.threads-max` (`/proc/sys/kernel/threads-max`) and
//!   `kernel.pid_max`: threads on the whole machine.
//! - `ulimit -u` (`RLIMIT_NPROC`, "Max processes" in `/proc/self/limits`):
//!   threads of the user (root bypasses it).
//! - the cgroup's `pids.max`, in containers.
//! - memory: resident bytes per goroutine plus its kernel stack.
//!
//! It never goes past the `N` it is given: to find the real ceiling, raise
//! `N` by hand on a machine you may exhaust, never in CI. A start that
//! fails (a goroutine or thread that cannot be created) panics.

use std::fs;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel as cb;
use goscope::prelude::*;

/// `N` when neither the command line nor `$GOSCOPE_LIVE_N` gives one.
const DEFAULT_N: usize = 10_000;

/// Kernel stack of one thread on x86-64 (`THREAD_SIZE`), outside `VmRSS`.
const KERNEL_STACK_KIB: u64 = 16;

/// What the process holds at one moment.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    rss_kib: u64,
    maps: u64,
    threads: u64,
}

impl Snapshot {
    fn take() -> Snapshot {
        let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
        };
        let maps = fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
        Snapshot {
            rss_kib: field("VmRSS:"),
            maps: maps.lines().count() as u64,
            threads: field("Threads:"),
        }
    }
}

/// The cost of `n` live goroutines: the difference of two snapshots.
#[derive(Debug)]
struct Sample {
    n: usize,
    before: Snapshot,
    after: Snapshot,
    start_time: Duration,
}

impl Sample {
    fn kib_each(&self) -> f64 {
        (self.after.rss_kib as f64 - self.before.rss_kib as f64) / self.n as f64
    }

    fn maps_each(&self) -> f64 {
        (self.after.maps as f64 - self.before.maps as f64) / self.n as f64
    }

    fn report(&self, variant: &str) {
        println!(
            "{variant}: {n} live blocked goroutines: VmRSS {b} -> {a} KiB ({kib:.2} KiB each), \
             {mb} -> {ma} mappings ({maps:.2} each), {tb} -> {ta} threads, started in {ms:.1} ms",
            n = self.n,
            b = self.before.rss_kib,
            a = self.after.rss_kib,
            kib = self.kib_each(),
            mb = self.before.maps,
            ma = self.after.maps,
            maps = self.maps_each(),
            tb = self.before.threads,
            ta = self.after.threads,
            ms = self.start_time.as_secs_f64() * 1e3,
        );
        println!(
            "RESULT {variant} n={} kib_per_goroutine={:.2} maps_per_goroutine={:.2} start_ms={:.1}",
            self.n,
            self.kib_each(),
            self.maps_each(),
            self.start_time.as_secs_f64() * 1e3,
        );
    }
}

/// Lets goroutines that have signalled readiness reach their blocking
/// receive before the second snapshot.
const SETTLE: Duration = Duration::from_millis(200);

/// `n` goroutines blocked in `recv` on one unbuffered goscope channel.
#[goscope::scoped]
fn goscope_live(n: usize) -> Sample {
    let ready = WaitGroup::new();
    let (release, blocked) = chan::<()>(0);
    let before = Snapshot::take();
    let start = Instant::now();
    for _ in 0..n {
        ready.add(1);
        go!(|| {
            ready.done();
            black_box(blocked.recv());
        });
    }
    ready.wait();
    let start_time = start.elapsed();
    sleep(SETTLE);
    let after = Snapshot::take();
    // Close the channel: every `recv` returns `None`, and the scope joins.
    drop(release);
    Sample {
        n,
        before,
        after,
        start_time,
    }
}

/// The raw twin of [`goscope_live`]: std scoped threads blocked in crossbeam's
/// `recv`.
fn std_live(n: usize) -> Sample {
    let ready = AtomicUsize::new(0);
    let (release, blocked) = cb::bounded::<()>(0);
    let before = Snapshot::take();
    let start = Instant::now();
    thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                ready.fetch_add(1, Ordering::Release);
                black_box(blocked.recv().ok());
            });
        }
        while ready.load(Ordering::Acquire) < n {
            thread::sleep(Duration::from_millis(1));
        }
        let start_time = start.elapsed();
        thread::sleep(SETTLE);
        let after = Snapshot::take();
        drop(release);
        Sample {
            n,
            before,
            after,
            start_time,
        }
    })
}

/// Reads a number from a one-value file such as `/proc/sys/vm/max_map_count`.
fn read_number(path: &str) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The soft `RLIMIT_NPROC` (`ulimit -u`), `None` when unlimited.
fn nproc_limit() -> Option<u64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max processes"))?;
    line["Max processes".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The `pids.max` of this process's cgroup (v2), `None` when unlimited.
fn cgroup_pids_max() -> Option<u64> {
    let cgroup = fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    read_number(&format!(
        "/sys/fs/cgroup{}/pids.max",
        path.trim_end_matches('/')
    ))
}

/// `MemAvailable` in KiB.
fn mem_available_kib() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Prints the limits on live goroutines and the ceiling they imply, from
/// what one goroutine was measured to cost.
fn report_limits(variant: &str, sample: &Sample) {
    let mut bounds: Vec<(String, u64)> = Vec::new();
    let maps_each = sample.maps_each();
    if let Some(max) = read_number("/proc/sys/vm/max_map_count") {
        let free = max.saturating_sub(sample.before.maps);
        if maps_each > 0.0 {
            let bound = (free as f64 / maps_each) as u64;
            bounds.push((
                format!("vm.max_map_count = {max} ({maps_each:.2} mappings each)"),
                bound,
            ));
        }
    }
    let threads = sample.before.threads;
    if let Some(max) = read_number("/proc/sys/kernel/threads-max") {
        bounds.push((
            format!("kernel.threads-max = {max} (machine-wide)"),
            max - threads,
        ));
    }
    if let Some(max) = read_number("/proc/sys/kernel/pid_max") {
        bounds.push((
            format!("kernel.pid_max = {max} (machine-wide)"),
            max - threads,
        ));
    }
    match nproc_limit() {
        Some(max) => bounds.push((
            format!("ulimit -u = {max} (per user; root bypasses it)"),
            max - threads,
        )),
        None => println!("limit ({variant}): ulimit -u = unlimited"),
    }
    if let Some(max) = cgroup_pids_max() {
        bounds.push((format!("cgroup pids.max = {max}"), max - threads));
    }
    let kib_each = sample.kib_each().max(0.0) + KERNEL_STACK_KIB as f64;
    if let Some(avail) = mem_available_kib() {
        bounds.push((
            format!("MemAvailable = {avail} KiB ({kib_each:.1} KiB each with the kernel stack)"),
            (avail as f64 / kib_each) as u64,
        ));
    }
    for (what, bound) in &bounds {
        println!("limit ({variant}): {what}: at most {bound} more goroutines");
    }
    if let Some((what, bound)) = bounds.iter().min_by_key(|(_, bound)| *bound) {
        println!(
            "ceiling ({variant}): about {bound} live goroutines in one process, bound by {what}"
        );
    }
}

/// Prints one variant's sample and the ceiling it implies.
fn measure(variant: &str, sample: Sample) {
    sample.report(variant);
    report_limits(variant, &sample);
}

fn main() {
    // `cargo bench` passes `--bench` (and criterion-style flags): skip flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n = args
        .iter()
        .find_map(|a| a.replace('_', "").parse::<usize>().ok())
        .or_else(|| std::env::var("GOSCOPE_LIVE_N").ok()?.parse().ok())
        .unwrap_or(DEFAULT_N);
    let variant = args
        .iter()
        .find(|a| a.replace('_', "").parse::<usize>().is_err())
        .map_or("both", String::as_str);
    if !matches!(variant, "goscope" | "std" | "both") {
        eprintln!(
            "usage: live_goroutines [N] [goscope|std|both] (N defaults to $GOSCOPE_LIVE_N or {DEFAULT_N})"
        );
        std::process::exit(2);
    }
    if let Ok(stack) = std::env::var("RUST_MIN_STACK") {
        println!("RUST_MIN_STACK={stack}");
    }
    match variant {
        "goscope" => measure("goscope", goscope_live(n)),
        "std" => measure("std", std_live(n)),
        _ => side_by_side(n),
    }
}

/// What one child process reported on its `RESULT` line.
#[derive(Debug, Clone, Copy)]
struct Reported {
    kib: f64,
    maps: f64,
    start_ms: f64,
}

impl Reported {
    fn parse(line: &str) -> Option<Reported> {
        let field = |name: &str| -> Option<f64> {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))?
                .parse()
                .ok()
        };
        Some(Reported {
            kib: field("kib_per_goroutine")?,
            maps: field("maps_per_goroutine")?,
            start_ms: field("start_ms")?,
        })
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Runs `goscope` and `std` alternately, each in a child process of its own
/// (threads of one would still be exiting, and their memory being
/// returned, during the other), `$GOSCOPE_LIVE_RUNS` times, and prints the
/// medians.
fn side_by_side(n: usize) {
    let runs: usize = std::env::var("GOSCOPE_LIVE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5);
    let exe = std::env::current_exe().expect("current_exe");
    let mut results: [(&str, Vec<Reported>); 2] = [("goscope", Vec::new()), ("std", Vec::new())];
    for _ in 0..runs {
        for (variant, results) in &mut results {
            let output = std::process::Command::new(&exe)
                .arg(n.to_string())
                .arg(*variant)
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("run live_goroutines for one variant");
            let stdout = String::from_utf8_lossy(&output.stdout);
            print!("{stdout}");
            if !output.status.success() {
                eprintln!("live_goroutines {n} {variant} failed: {}", output.status);
                std::process::exit(1);
            }
            let result = stdout
                .lines()
                .find_map(|l| l.strip_prefix("RESULT ").and_then(Reported::parse))
                .expect("a RESULT line");
            results.push(result);
        }
    }
    let summary = |results: &[Reported]| {
        (
            median(results.iter().map(|r| r.start_ms).collect()),
            median(results.iter().map(|r| r.kib).collect()),
            median(results.iter().map(|r| r.maps).collect()),
        )
    };
    let (g_ms, g_kib, g_maps) = summary(&results[0].1);
    let (s_ms, s_kib, s_maps) = summary(&results[1].1);
    println!(
        "median of {runs} runs side by side, {n} live goroutines: \
         start {g_ms:.1} ms goscope, {s_ms:.1} ms std ({:.2}x); \
         {g_kib:.2} / {s_kib:.2} KiB each; {g_maps:.2} / {s_maps:.2} mappings each",
        g_ms / s_ms
    );
}
