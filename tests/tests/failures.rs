//! What a panic does (in the owner, in a goroutine, in main), scope
//! cancellation reaching every kind of goscope wait, and the goroutine limit.
//! Programs whose exit matters run as child processes (`src/bin/failures.rs`).
use std::panic::{self, AssertUnwindSafe};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use goscope::prelude::*;
use tests::{PATIENCE, panic_message};

/// Runs a scenario of `src/bin/failures.rs`, failing the test if it has not
/// ended within [`tests::TIMEOUT`] (a hang is the bug these tests look for).
fn run(args: &[&str]) -> Output {
    tests::Program::new(env!("CARGO_BIN_EXE_failures"))
        .args(args)
        .run()
}

/// Runs `f` on a plain thread and returns its result, failing the test if it
/// has not returned within [`PATIENCE`] instead of hanging the suite.
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(PATIENCE)
        .expect("hung: a cancelled wait did not end")
}

#[test]
fn a_panic_in_main_while_a_goroutine_sleeps_exits_with_status_2() {
    let out = run(&["panic_while_sleeping"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("boom"), "{stderr}");
}

#[test]
fn a_goroutine_panic_ends_main_waiting_on_a_channel() {
    let out = run(&["goroutine_panics_while_main_receives"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("worker failed"), "{stderr}");
    assert!(!stderr.contains("unreachable"), "{stderr}");
}

#[test]
fn the_goroutine_limit_is_a_clear_panic_never_an_abort() {
    // One at a time: each run takes the process to the OS's thread limit.
    for n in ["40000", "100000"] {
        for run_no in 0..10 {
            let out = run(&["blocked_goroutines", n]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let code = out.status.code();
            assert_eq!(code, Some(2), "{n} goroutines, run {run_no}: {stderr}");
            assert!(
                stderr.contains("go!: cannot start a goroutine")
                    && stderr.contains("vm.max_map_count")
                    && stderr.contains("kernel.pid_max")
                    && stderr.contains("ulimit -u"),
                "{n} goroutines, run {run_no}: {stderr}"
            );
            assert!(!stderr.contains("fatal runtime error"), "{stderr}");
        }
    }
}

#[test]
fn a_sender_kept_in_a_thread_local_is_no_deadlock() {
    let out = run(&["ok_sender_in_thread_local"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("deadlock"), "false report: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "recv returned None"
    );
}

/// Counts the goroutines that unwound out of their wait.
struct Unwound<'a>(&'a AtomicUsize);

impl Drop for Unwound<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[goscope::scoped]
fn blocked_in_every_kind_of_wait(unwound: &AtomicUsize, panic_in_goroutine: bool) {
    let (_tx, rx) = chan::<i32>(0);
    let (tx, _rx) = chan::<i32>(0);
    let (_never_tx, never_rx) = chan::<i32>(0);
    let wg = WaitGroup::new();
    wg.add(1);
    let started = WaitGroup::new();
    started.add(7);
    let (started, rx, tx, wg, never_rx) = (&started, &rx, &tx, &wg, &never_rx);
    go!(move || {
        let _u = Unwound(unwound);
        started.done();
        rx.recv();
    });
    go!(move || {
        let _u = Unwound(unwound);
        started.done();
        // Nobody receives on this one.
        let _ = tx.send(1);
    });
    go!(move || {
        let _u = Unwound(unwound);
        started.done();
        select! {
            <-never_rx => {},
            <-rx => {},
        }
    });
    go!(move || {
        let _u = Unwound(unwound);
        started.done();
        wg.wait();
    });
    go!(move || {
        let _u = Unwound(unwound);
        started.done();
        sleep(Duration::from_secs(3600));
    });
    go!(move || {
        let _u = Unwound(unwound);
        started.done();
        // A select with a timer arm: time would end it, an hour from now.
        select! {
            <-rx => {},
            <-after(Duration::from_secs(3600)) => {},
        }
    });
    // A goroutine that owns a scope whose goroutine waits: cancelled inward.
    go!(move || {
        let _u = Unwound(unwound);
        nested_scope(unwound, started, never_rx);
    });
    started.wait();
    if panic_in_goroutine {
        go! {
            panic!("a goroutine failed");
        }
        // The owner waits too, on a channel nobody sends to.
        let (_keep, wait) = chan::<i32>(0);
        wait.recv();
        unreachable!("the owner's receive is cancelled");
    } else {
        panic!("the owner failed");
    }
}

#[goscope::scoped]
fn nested_scope(unwound: &AtomicUsize, started: &WaitGroup, rx: &Receiver<i32>) {
    go!(move || {
        let _u = Unwound(unwound);
        started.done();
        rx.recv();
    });
}

/// Runs [`blocked_in_every_kind_of_wait`] (bounded): the panic message
/// that resumed, and how many goroutines unwound out of their wait.
fn every_kind_of_wait(panic_in_goroutine: bool) -> (String, usize) {
    bounded(move || {
        let unwound = AtomicUsize::new(0);
        let payload = panic::catch_unwind(AssertUnwindSafe(|| {
            blocked_in_every_kind_of_wait(&unwound, panic_in_goroutine)
        }))
        .unwrap_err();
        (panic_message(&*payload).to_string(), unwound.into_inner())
    })
}

#[test]
fn an_owner_panic_ends_goroutines_blocked_in_every_kind_of_goscope_wait() {
    // Seven goroutines, and the one inside the nested scope.
    assert_eq!(
        every_kind_of_wait(false),
        ("the owner failed".to_string(), 8)
    );
}

#[test]
fn a_goroutine_panic_ends_its_siblings_and_the_waiting_owner_with_its_payload() {
    assert_eq!(
        every_kind_of_wait(true),
        ("a goroutine failed".to_string(), 8)
    );
}

#[goscope::scoped]
fn enters_a_wait_after_the_cancellation(entered: &AtomicUsize) {
    let (_tx, rx) = chan::<i32>(0);
    let go_on = AtomicBool::new(false);
    let (rx, go_on) = (&rx, &go_on);
    go!(move || {
        // Computing (no goscope call) while the scope is cancelled, then
        // waiting: the wait must unwind at once.
        while !go_on.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        entered.fetch_add(1, Ordering::SeqCst);
        rx.recv();
        unreachable!("cancelled");
    });
    go! {
        panic!("first");
    }
    // The owner's own timed wait unwinds once the scope is cancelled.
    let cancelled = loop {
        let waited = panic::catch_unwind(AssertUnwindSafe(|| {
            select! {
                <-rx => {},
                <-after(Duration::from_millis(1)) => {},
            }
        }));
        if let Err(payload) = waited {
            break payload;
        }
    };
    go_on.store(true, Ordering::SeqCst);
    panic::resume_unwind(cancelled);
}

#[test]
fn a_goroutine_entering_a_wait_after_the_cancellation_unwinds() {
    let (message, entered) = bounded(|| {
        let entered = AtomicUsize::new(0);
        let payload = panic::catch_unwind(AssertUnwindSafe(|| {
            enters_a_wait_after_the_cancellation(&entered)
        }))
        .unwrap_err();
        (panic_message(&*payload).to_string(), entered.into_inner())
    });
    assert_eq!(message, "first");
    assert_eq!(entered, 1);
}

#[goscope::test]
#[should_panic(expected = "boom")]
fn a_test_that_panics_while_a_goroutine_sleeps_fails_promptly() {
    go! {
        loop {
            sleep(Duration::from_millis(100));
        }
    }
    sleep(Duration::from_millis(50));
    panic!("boom");
}

/// Issue 13 item 2: a deferred receive that blocks while the test unwinds
/// used to be ended with a second unwind inside a destructor: the process
/// aborted and every test result of the binary was lost.
#[goscope::test]
#[should_panic(expected = "all goroutines are asleep - deadlock!")]
fn a_deadlock_while_unwinding_fails_the_test_with_the_report() {
    let (_tx, rx) = chan::<i32>(0);
    defer! {
        rx.recv();
    }
    panic!("boom");
}

#[test]
fn a_pending_after_func_is_no_deadlock() {
    let out = run(&["ok_after_func_sends"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("deadlock"), "false report: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "fired");
}

#[test]
fn wait_group_go_that_cannot_start_leaves_the_count_as_it_was() {
    let out = run(&["wait_group_go_at_the_limit"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "refused true, wait returned"
    );
}

/// A goroutine cancelled while it waits, whose deferred call then needs a
/// lock another goroutine still holds: it waits for the lock (it cannot
/// unwind twice), and the test fails with the owner's panic. It used to end
/// the whole test process with status 2.
#[goscope::test]
#[should_panic(expected = "boom")]
fn a_cancelled_goroutine_unwinding_waits_for_a_contended_lock() {
    let m = &goscope::sync::Mutex::new(0);
    let (_tx, rx) = chan::<()>(0);
    let (held_tx, held) = chan::<()>(1);
    go! {
        let _g = m.lock();
        held_tx.send(()).unwrap();
        // Outside goscope: the cancellation cannot end this.
        std::thread::sleep(Duration::from_millis(300));
    }
    held.recv();
    go! {
        defer! {
            *m.lock() += 1;
        }
        rx.recv();
    }
    panic!("boom");
}
