//! Programs for the deadlock detector's tests (`tests/deadlock.rs` runs each
//! as a child process): `scenarios NAME`. Those named `deadlock_*` must be
//! reported (exit status 2); those named `ok_*` must finish normally;
//! `sigquit_dump` runs until `tests/sigquit.rs` sends it `SIGQUIT`. Those
//! named `exit_*` end while goroutines still run, as a Go program whose
//! `main` returns (`tests/attributes.rs`).
use goscope::prelude::*;
use goscope::sync::RwLock;
use std::process::{ExitCode, Termination};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    match name.as_str() {
        "deadlock_receive" => deadlock_receive(),
        "deadlock_send" => deadlock_send(),
        "deadlock_mutual" => deadlock_mutual(),
        "deadlock_wait_group" => deadlock_wait_group(),
        "deadlock_select" => deadlock_select(),
        "deadlock_main_returns" => deadlock_main_returns(),
        "deadlock_select_all_arms_off" => deadlock_select_all_arms_off(),
        "deadlock_select_no_cases" => deadlock_select_no_cases(),
        "deadlock_main_select_no_cases" => deadlock_main_select_no_cases(),
        "ok_sleeping" => ok_sleeping(),
        "ok_foreign_thread" => ok_foreign_thread(),
        "ok_computing" => ok_computing(),
        "ok_std_mutex" => ok_std_mutex(),
        "ok_soak" => ok_soak(),
        "deadlock_after_a_payload_drop_panicked" => deadlock_after_a_payload_drop_panicked(),
        "deadlock_philosophers" => deadlock_philosophers(),
        "ok_sync_mutex_computing" => ok_sync_mutex_computing(),
        "sigquit_dump" => sigquit_dump(),
        "exit_main_returns_while_goroutines_run" => exit_main_returns_while_goroutines_run(),
        // What these `main`s return is the program's status.
        "exit_main_returns_err" => return exit_main_returns_err().report(),
        "exit_main_returns_err_while_a_goroutine_computes" => {
            return exit_main_returns_err_while_a_goroutine_computes().report();
        }
        "exit_main_returns_an_exit_code_while_a_goroutine_computes" => {
            return exit_main_returns_an_exit_code_while_a_goroutine_computes();
        }
        "exit_unwinds_a_blocked_goroutine" => exit_unwinds_a_blocked_goroutine(),
        "exit_from_a_nested_scope" => exit_from_a_nested_scope(),
        other => tests::unknown_scenario(other),
    }
    ExitCode::SUCCESS
}

/// A receive nobody will send to.
#[goscope::main]
fn deadlock_receive() {
    let (_tx, rx) = chan::<i32>(0);
    rx.recv();
}

/// An unbuffered send nobody will receive.
#[goscope::main]
fn deadlock_send() {
    let (tx, _rx) = chan::<i32>(0);
    tx.send(1).unwrap();
}

/// Two goroutines waiting on each other while main waits on a WaitGroup.
#[goscope::main]
fn deadlock_mutual() {
    let (a_tx, a) = chan::<i32>(0);
    let (b_tx, b) = chan::<i32>(0);
    let wg = WaitGroup::new();
    wg.add(2);
    go!(relay(&a, &b_tx, &wg));
    go!(relay(&b, &a_tx, &wg));
    wg.wait();
}

fn relay(from: &Receiver<i32>, to: &Sender<i32>, wg: &WaitGroup) {
    defer!(wg.done());
    if let Some(v) = from.recv() {
        to.send(v).unwrap();
    }
}

/// A WaitGroup added twice and done once.
#[goscope::main]
fn deadlock_wait_group() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.add(1);
    go!(wg.done());
    wg.wait();
}

/// A select! over channels nobody uses.
#[goscope::main]
fn deadlock_select() {
    let (_a_tx, a) = chan::<i32>(0);
    let (b, _b_rx) = chan::<i32>(0);
    select! {
        v = <-a => println!("{v:?}"),
        b <- 1 => println!("sent"),
    }
}

/// A select! whose refutable arms are all turned off by closed channels,
/// and no `default`: Go's select over nil channels, which blocks forever.
#[goscope::main]
fn deadlock_select_all_arms_off() {
    let (a_tx, a) = chan::<i32>(0);
    let (b_tx, b) = chan::<i32>(1);
    b_tx.send(-1).unwrap(); // refused by `Some(0..)`: turns its arm off too
    drop((a_tx, b_tx));
    select! {
        Some(v) = <-a => println!("{v}"),
        Some(v @ 0..) = <-b => println!("{v}"),
    }
}

/// main waits for a goroutine that waits in `select! {}` (Go's `select {}`).
#[goscope::main]
fn deadlock_select_no_cases() {
    let wg = WaitGroup::new();
    wg.add(1);
    go! {
        select! {} // the goroutine's wait
    }
    wg.wait();
}

/// main itself waits in `select! {}`, with nothing else running.
#[goscope::main]
fn deadlock_main_select_no_cases() {
    select! {} // main's wait
}

/// A scoped function returns while a goroutine it started can never
/// finish: it waits for it, and so does main. (main itself would not wait:
/// see the `exit_*` scenarios.)
#[goscope::main]
fn deadlock_main_returns() {
    returns_under_a_goroutine();
}

#[goscope::scoped]
fn returns_under_a_goroutine() {
    let (_tx, rx) = chan::<i32>(0);
    go! {
        rx.recv();
    }
    println!("main returns");
}

/// main waits 3 s for a sleeping goroutine.
#[goscope::main]
fn ok_sleeping() {
    let (tx, rx) = chan(0);
    go! {
        sleep(Duration::from_secs(3));
        tx.send("awake").unwrap();
    }
    println!("{}", rx.recv().unwrap());
}

/// main waits on a goscope channel fed by a plain std::thread busy for 3 s.
#[goscope::main]
fn ok_foreign_thread() {
    let (tx, rx) = chan(0);
    let thread = std::thread::spawn(move || {
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_secs(3) {
            x = x.wrapping_mul(31).wrapping_add(1);
        }
        tx.send(x).unwrap();
    });
    rx.recv().unwrap();
    thread.join().unwrap();
    println!("foreign thread done");
}

/// main waits on a WaitGroup while a goroutine computes for 2 s.
#[goscope::main]
fn ok_computing() {
    let wg = WaitGroup::new();
    let result = AtomicU64::new(0);
    wg.add(1);
    go!(compute(&wg, &result));
    wg.wait();
    println!("computed {}", result.load(Ordering::Relaxed) > 0);
}

fn compute(wg: &WaitGroup, result: &AtomicU64) {
    defer!(wg.done());
    let start = Instant::now();
    let mut x = 1u64;
    while start.elapsed() < Duration::from_secs(2) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    result.store(x | 1, Ordering::Relaxed);
}

/// A goroutine waits on a std Mutex held by main while main waits on a
/// channel that a sleeping goroutine will feed.
#[goscope::main]
fn ok_std_mutex() {
    let lock = Mutex::new(0);
    let (tx, rx) = chan(0);
    let guard = lock.lock().unwrap();
    go! {
        sleep(Duration::from_secs(1));
        tx.send(1).unwrap();
    }
    go!(bump(&lock));
    rx.recv().unwrap();
    drop(guard);
    println!("mutex ok");
}

fn bump(lock: &Mutex<i32>) {
    *lock.lock().unwrap() += 1;
}

/// Dozens of goroutines pass tokens through unbuffered channels and
/// selects, with random pauses, for about 3 s.
#[goscope::main]
fn ok_soak() {
    const N: usize = 32;
    let start = Instant::now();
    let chans: Vec<_> = (0..N).map(|_| chan::<u64>(0)).collect();
    let (done_tx, done) = chan::<()>(0);
    let passes = AtomicU64::new(0);
    let wg = WaitGroup::new();
    for i in 0..N {
        wg.add(1);
        let from = &chans[i].1;
        let to = &chans[(i + 1) % N].0;
        go!(pass_tokens(i as u64, from, to, &done, &passes, &wg));
    }
    // A few tokens circulate.
    for i in 0..4 {
        chans[i * 8].0.send(i as u64).unwrap();
    }
    while start.elapsed() < Duration::from_secs(3) {
        sleep(Duration::from_millis(50));
    }
    drop(done_tx);
    wg.wait();
    println!("soak passes {}", passes.load(Ordering::Relaxed) > 0);
}

fn pass_tokens(
    seed: u64,
    from: &Receiver<u64>,
    to: &Sender<u64>,
    done: &Receiver<()>,
    passes: &AtomicU64,
    wg: &WaitGroup,
) {
    defer!(wg.done());
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut held: Option<u64> = None;
    loop {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if rng.is_multiple_of(4) {
            sleep(Duration::from_micros(rng % 2000));
        }
        match held.take() {
            None => select! {
                t = <-from => held = t,
                <-done => return,
            },
            Some(t) => {
                _ = select! {
                    to <- t => passes.fetch_add(1, Ordering::Relaxed),
                    <-done => return,
                }
            }
        }
    }
}

/// Two goroutines of a scope panic with payloads whose `Drop` panics too;
/// main survives the scope's panic, then deadlocks for real. The dropped
/// second payload must not leave a goroutine counted (which kept the
/// detector from ever reporting): the deadlock is reported.
#[goscope::main]
fn deadlock_after_a_payload_drop_panicked() {
    let caught = std::panic::catch_unwind(two_bombs);
    // The payload that resumed here would panic when dropped, too.
    std::mem::forget(caught);
    println!("goroutines after the panics: {}", goscope::num_goroutine());
    let (_tx, rx) = chan::<i32>(0);
    rx.recv();
}

/// A panic payload that panics when dropped.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("a panic payload's drop panicked");
    }
}

#[goscope::scoped]
fn two_bombs() {
    for _ in 0..2 {
        go! {
            std::panic::panic_any(Bomb)
        }
    }
}

/// The dining philosophers with `goscope::sync::Mutex` forks, made to
/// deadlock every time: each takes its left fork, waits until all five hold
/// one, then reaches for its right fork, which its neighbour holds.
#[goscope::main]
fn deadlock_philosophers() {
    dine();
}

/// The philosophers' table: returns once every philosopher has eaten.
#[goscope::scoped]
fn dine() {
    const N: usize = 5;
    let forks: Vec<_> = (0..N).map(|_| goscope::sync::Mutex::new(())).collect();
    let seated = WaitGroup::new();
    seated.add(N as isize);
    for i in 0..N {
        go!(philosopher(i, &forks, &seated));
    }
}

fn philosopher(i: usize, forks: &[goscope::sync::Mutex<()>], seated: &WaitGroup) {
    let _left = forks[i].lock();
    seated.done();
    seated.wait();
    let _right = forks[(i + 1) % forks.len()].lock();
    println!("philosopher {i} eats");
}

/// A goroutine waits for a `goscope::sync::Mutex` that main holds while main
/// waits for a goroutine that computes for 3 s without calling goscope.
#[goscope::main]
fn ok_sync_mutex_computing() {
    let lock = goscope::sync::Mutex::new(0);
    let guard = lock.lock();
    let wg = WaitGroup::new();
    let result = AtomicU64::new(0);
    wg.add(1);
    go!(compute_for(Duration::from_secs(3), &wg, &result));
    go!(bump_sync(&lock));
    wg.wait();
    drop(guard);
    println!("sync mutex ok {}", result.load(Ordering::Relaxed) > 0);
}

fn bump_sync(lock: &goscope::sync::Mutex<i32>) {
    *lock.lock() += 1;
}

fn compute_for(d: Duration, wg: &WaitGroup, result: &AtomicU64) {
    defer!(wg.done());
    let start = Instant::now();
    let mut x = 1u64;
    while start.elapsed() < d {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    result.store(x | 1, Ordering::Relaxed);
}

/// Runs until killed, in states a `SIGQUIT` dump must show: main waits to
/// write-lock an `RwLock` that goroutine 2 reads, goroutine 2 waits on a
/// channel holding that read lock and a `Mutex`, goroutine 3 waits for the
/// `Mutex`, and goroutine 4 computes (so no deadlock is reported). Goroutine
/// 4 prints `ready` once main is queued for the write lock (seen from
/// outside: `try_read` then fails) and goroutines 2 and 3 are at their
/// blocking calls.
#[goscope::main]
fn sigquit_dump() {
    let rw = RwLock::new(0);
    let mutex = goscope::sync::Mutex::new(0);
    let (_never_tx, never) = chan::<()>(0);
    let (at_tx, at) = chan::<&str>(2);
    go!(hold_and_wait(&rw, &mutex, &never, &at_tx));
    // Goroutine 2 holds both locks before the others start.
    assert_eq!(at.recv(), Some("holding"));
    go!(wait_for_mutex(&mutex, &at_tx));
    go!(report_ready(&rw, &at));
    *rw.write() += 1;
}

fn hold_and_wait(
    rw: &RwLock<i32>,
    mutex: &goscope::sync::Mutex<i32>,
    never: &Receiver<()>,
    at: &Sender<&str>,
) {
    let _read = rw.read();
    let _held = mutex.lock();
    at.send("holding").unwrap();
    never.recv();
}

fn wait_for_mutex(mutex: &goscope::sync::Mutex<i32>, at: &Sender<&str>) {
    at.send("locking").unwrap();
    *mutex.lock() += 1;
}

fn report_ready(rw: &RwLock<i32>, at: &Receiver<&str>) {
    assert_eq!(at.recv(), Some("locking"));
    while rw.try_read().is_some() {
        std::thread::yield_now();
    }
    println!("ready");
    let mut x = 1u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// The tutorial's "if main exits, the program kills all other running
/// goroutines": main returns while goroutines sleep, compute and wait on a
/// channel. The program prints `main returns` and exits 0 at once.
#[goscope::main]
fn exit_main_returns_while_goroutines_run() {
    let (_tx, rx) = chan::<i32>(0);
    go! {
        sleep(Duration::from_secs(3600));
        println!("slept an hour");
    }
    go!(spin());
    go! {
        rx.recv();
    }
    println!("main returns");
}

/// Computes forever, without calling goscope.
fn spin_with(_: &i32) {
    spin();
}

/// Computes forever, without calling goscope.
fn spin() {
    let mut x = 1u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// main's `Err` ends the program as Rust's `main` does: `Error: ..` on
/// stderr, status 1.
#[goscope::main]
fn exit_main_returns_err() -> Result<(), String> {
    let (_tx, rx) = chan::<i32>(0);
    go! {
        rx.recv();
    }
    Err("the answer is not 42".to_owned())
}

/// The same, with a goroutine that never ends: the process exits without it.
#[goscope::main]
fn exit_main_returns_err_while_a_goroutine_computes() -> Result<(), String> {
    go!(spin());
    Err("the answer is not 42".to_owned())
}

/// main's `ExitCode` is the process's status, also when a goroutine is
/// still busy.
#[goscope::main]
fn exit_main_returns_an_exit_code_while_a_goroutine_computes() -> ExitCode {
    go!(spin());
    ExitCode::from(3)
}

/// A goroutine blocked on a channel when main returns unwinds: its
/// `defer!` runs (and prints) before the process exits.
#[goscope::main]
fn exit_unwinds_a_blocked_goroutine() {
    let (_tx, rx) = chan::<i32>(0);
    go! {
        defer!(println!("deferred"));
        rx.recv();
        println!("received");
    }
    println!("main returns");
}

/// main returns from the middle of its nested scopes (a `return` after
/// several `let`s that goroutines borrow), while goroutines of every level
/// wait and compute: all of them end with the program.
#[goscope::main]
fn exit_from_a_nested_scope() {
    let (_tx, rx) = chan::<i32>(0);
    go! {
        rx.recv();
    }
    let wg = WaitGroup::new();
    wg.add(1);
    go!(wg.wait());
    let busy = true;
    go!(spin());
    if busy {
        println!("main returns");
        return;
    }
    let late = 0;
    go!(spin_with(&late));
}
