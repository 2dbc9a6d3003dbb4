//! Programs at the OS's limits for `tests/limits.rs` and
//! `tests/goroutine_threads.rs`, each run as a child process:
//! `limits NAME [N]`.
//!
//! - `live N`: `N` goroutines blocked at once, released, finished; prints
//!   `finished N`. Past the thread limit `go!` panics (exit status 2).
//! - `mapped_then_live N`: a goroutine, then 40,000 more memory mappings,
//!   then up to `N` blocked goroutines: the limit must be `go!`'s clean
//!   panic, never an abort.
//! - `maps_per_goroutine N`: prints the memory mappings each of `N` blocked
//!   goroutines adds (`/proc/self/maps`).
//! - `overflow_in_goroutine`, `overflow_on_main`: a stack overflow, in a
//!   goroutine, or on main once goroutine threads have started.
//! - `stack_too_large`: `GOSCOPE_STACK_SIZE` larger than the OS maps: the
//!   thread cannot start, and `go!` panics.
use std::hint::black_box;

use goscope::prelude::*;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    match name.as_str() {
        "live" => live(),
        "mapped_then_live" => mapped_then_live(),
        "maps_per_goroutine" => maps_per_goroutine(),
        "overflow_in_goroutine" => overflow_in_goroutine(),
        "overflow_on_main" => overflow_on_main(),
        "stack_too_large" => stack_too_large(),
        other => tests::unknown_scenario(other),
    }
}

/// The count the scenario was given: `limits NAME N`.
fn count() -> usize {
    std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect("a count: limits NAME N")
}

/// `N` goroutines blocked in one receive at the same time, then released
/// by closing the channel.
#[goscope::main]
fn live() {
    println!("alive at once: {}", start_blocked(count()));
}

/// Starts `n` goroutines that each block in a receive until `release`
/// closes, waits until all have started, then closes it and waits for them
/// to finish. Returns how many were alive at once.
#[goscope::scoped]
fn start_blocked(n: usize) -> usize {
    let ready = WaitGroup::new();
    let finished = WaitGroup::new();
    let (release, blocked) = chan::<()>(0);
    for _ in 0..n {
        ready.add(1);
        finished.add(1);
        go!(|| {
            ready.done();
            black_box(blocked.recv());
            finished.done();
        });
    }
    ready.wait();
    let alive = goscope::num_goroutine() - 1;
    drop(release);
    finished.wait();
    println!("finished {n}");
    alive
}

/// Memory mappings of the process, counted in `/proc/self/maps`.
fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("read /proc/self/maps")
        .lines()
        .count()
}

/// Issue 17 item 4: after its first goroutine the program maps 40,000
/// regions (each its own mapping: neighbours differ in protection, so the
/// kernel cannot merge them), then starts goroutines until the limit. The
/// thread limit's first estimate predates those mappings.
#[goscope::main]
fn mapped_then_live() {
    let (done_tx, done) = chan::<()>(0);
    go! {
        done_tx.send(()).unwrap();
    }
    done.recv();
    map_regions(40_000);
    println!("mappings: {}", mappings());
    println!("alive at once: {}", start_blocked(count()));
}

/// Maps `n` one-page regions that stay separate mappings.
#[cfg(target_os = "linux")]
fn map_regions(n: usize) {
    let page = 4096;
    for i in 0..n {
        let protection = if i % 2 == 0 {
            libc::PROT_READ
        } else {
            libc::PROT_READ | libc::PROT_WRITE
        };
        // SAFETY: a new private anonymous mapping, never touched, left to
        // the process's exit.
        let mapped = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                protection,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(mapped, libc::MAP_FAILED, "mapping {i} failed");
    }
}

#[cfg(not(target_os = "linux"))]
fn map_regions(_n: usize) {
    unimplemented!("memory mappings are counted on Linux only");
}

/// Prints the mappings each of `n` blocked goroutines adds.
#[goscope::main]
fn maps_per_goroutine() {
    let n = count();
    let ready = WaitGroup::new();
    let (release, blocked) = chan::<()>(0);
    let before = mappings();
    for _ in 0..n {
        ready.add(1);
        go!(|| {
            ready.done();
            black_box(blocked.recv());
        });
    }
    ready.wait();
    let after = mappings();
    drop(release);
    println!(
        "mappings per goroutine: {:.3}",
        (after - before) as f64 / n as f64
    );
}

/// Recurses until the stack is gone (`black_box` keeps every frame; the
/// condition, always true, hides that from the compiler).
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    if black_box(true) {
        black_box(recurse(depth + 1)) + frame[0]
    } else {
        frame[0]
    }
}

/// A goroutine that overflows its stack.
#[goscope::main]
fn overflow_in_goroutine() {
    let (tx, rx) = chan::<u64>(0);
    go! {
        tx.send(recurse(0)).unwrap();
    }
    rx.recv();
}

/// Main overflows its stack once goroutine threads (and goscope's fault
/// handler) exist: the fault is std's to report.
#[goscope::main]
fn overflow_on_main() {
    let (tx, rx) = chan::<()>(0);
    go! {
        tx.send(()).unwrap();
    }
    rx.recv();
    println!("{}", recurse(0));
}

/// `GOSCOPE_STACK_SIZE` (set by the test) asks for more stack than the OS
/// maps: the thread cannot start, and `go!` says so.
#[goscope::main]
fn stack_too_large() {
    go! {
        println!("unreachable: the goroutine started");
    }
}
