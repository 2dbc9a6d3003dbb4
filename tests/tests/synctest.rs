//! `synctest`: virtual time in a bubble (Go 1.25's `testing/synctest`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use goscope::context::{Context, Error};
use goscope::prelude::*;
use goscope::time::{self, Ticker, Timer};
use goscope::{sync::Mutex, synctest};

/// What the timer tests allow in real time: the contract is "in
/// milliseconds"; this is far beyond it and far below the virtual times.
const REAL_BOUND: Duration = Duration::from_secs(5);

#[test]
fn an_hour_timer_fires_at_exactly_an_hour_of_virtual_time() {
    let real = Instant::now();
    let (start, fired) = synctest::run(|| {
        let start = time::now();
        let timer = Timer::new(Duration::from_secs(3600));
        let fired = timer.c().recv().expect("the timer fires");
        (start, fired)
    });
    assert_eq!(fired - start, Duration::from_secs(3600));
    assert!(real.elapsed() < REAL_BOUND, "took {:?}", real.elapsed());
}

#[test]
fn a_day_ticker_ticks_ten_times_at_exact_virtual_times() {
    let ticks = synctest::run(|| {
        let start = time::now();
        let ticker = Ticker::new(Duration::from_secs(24 * 3600));
        let ticks: Vec<Duration> = (0..10)
            .map(|_| ticker.c().recv().unwrap() - start)
            .collect();
        ticks
    });
    let want: Vec<Duration> = (1..=10)
        .map(|i| Duration::from_secs(i * 24 * 3600))
        .collect();
    assert_eq!(ticks, want);
}

#[test]
fn a_context_deadline_is_exceeded_at_exactly_its_timeout() {
    synctest::run(|| {
        const TIMEOUT: Duration = Duration::from_secs(5);
        let start = time::now();
        let (ctx, _cancel) = Context::background().with_timeout(TIMEOUT);
        sleep(TIMEOUT - Duration::from_nanos(1));
        synctest::wait();
        assert_eq!(ctx.err(), None, "done before its deadline");
        sleep(Duration::from_nanos(1));
        synctest::wait();
        assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
        assert_eq!(time::now() - start, TIMEOUT);
    });
}

#[test]
fn after_in_a_select_is_a_virtual_timeout() {
    let took = synctest::run(|| {
        let start = time::now();
        let (_tx, rx) = chan::<i32>(0);
        let got = select! {
            v = <-rx => v,
            <-after(Duration::from_secs(90)) => None,
        };
        assert_eq!(got, None);
        time::now() - start
    });
    assert_eq!(took, Duration::from_secs(90));
}

#[test]
fn recv_timeout_and_send_timeout_use_the_bubble_clock() {
    synctest::run(|| {
        let start = time::now();
        let (tx, rx) = chan::<i32>(0);
        assert!(
            rx.recv_timeout(Duration::from_secs(60))
                .unwrap_err()
                .is_timeout()
        );
        assert_eq!(time::now() - start, Duration::from_secs(60));
        assert!(
            tx.send_timeout(1, Duration::from_secs(30))
                .unwrap_err()
                .is_timeout()
        );
        assert_eq!(time::now() - start, Duration::from_secs(90));
    });
}

#[test]
fn goroutines_of_the_bubble_share_its_clock() {
    let order = synctest::run(|| {
        let (tx, rx) = chan(3);
        for secs in [3u64, 1, 2] {
            let tx = tx.clone();
            go!(static {
                sleep(Duration::from_secs(secs));
                tx.send(secs).unwrap();
            });
        }
        drop(tx);
        rx.iter().collect::<Vec<_>>()
    });
    assert_eq!(order, [1, 2, 3]);
}

#[test]
fn wait_returns_once_every_other_goroutine_is_blocked() {
    synctest::run(|| {
        static STEPS: AtomicUsize = AtomicUsize::new(0);
        let (tx, rx) = chan::<()>(0);
        go!(static {
            STEPS.fetch_add(1, Ordering::SeqCst);
            rx.recv(); // blocks durably
            STEPS.fetch_add(1, Ordering::SeqCst);
        });
        synctest::wait();
        assert_eq!(STEPS.load(Ordering::SeqCst), 1);
        tx.send(()).unwrap();
        synctest::wait();
        assert_eq!(STEPS.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn run_waits_for_every_goroutine_of_the_bubble() {
    static DONE: AtomicUsize = AtomicUsize::new(0);
    synctest::run(|| {
        for _ in 0..4 {
            go!(static {
                sleep(Duration::from_secs(10));
                DONE.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(DONE.load(Ordering::SeqCst), 4);
}

#[test]
fn a_bubble_deadlock_panics_in_run_with_the_report() {
    let payload = std::panic::catch_unwind(|| {
        synctest::run(|| {
            let (_tx, rx) = chan::<i32>(0);
            go!(static {
                rx.recv();
            });
            let (_tx2, rx2) = chan::<i32>(0);
            rx2.recv();
        })
    })
    .expect_err("a deadlocked bubble panics");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.starts_with("deadlock: all goroutines in bubble are blocked"),
        "{message}"
    );
    assert!(message.contains("[chan receive]"), "{message}");
    assert!(message.contains("synctest.rs:"), "{message}");
}

#[test]
fn a_bubble_inside_a_bubble_panics() {
    let payload = std::panic::catch_unwind(|| synctest::run(|| synctest::run(|| ())))
        .expect_err("nested bubbles panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .unwrap_or_default()
        });
    assert!(message.contains("within a synctest bubble"), "{message}");
}

#[test]
#[should_panic(expected = "not in a synctest bubble")]
fn wait_outside_a_bubble_panics() {
    synctest::wait();
}

#[test]
fn a_lock_held_outside_the_bubble_stops_the_clock() {
    // Waiting for a lock is not durable: the bubble's clock must not move
    // (and the bubble must not call it a deadlock) while a goroutine of the
    // bubble waits for a lock that a thread outside holds.
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock();
    let (started_tx, started) = std::sync::mpsc::channel();
    let bubble = std::thread::spawn(move || {
        synctest::run(|| {
            let start = time::now();
            go!(static {
                sleep(Duration::from_secs(1));
            });
            started_tx.send(()).unwrap();
            drop(LOCK.lock());
            time::now() - start
        })
    });
    started.recv().unwrap();
    // However long the lock is held, the sleeper's second has not passed:
    // the bubble waits for its lock-waiter, so run cannot return yet.
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !bubble.is_finished(),
        "the bubble went on while one of its goroutines waited for a lock"
    );
    drop(guard);
    let took = bubble.join().unwrap();
    assert!(took <= Duration::from_secs(1), "{took:?}");
}

#[goscope::test(synctest)]
fn the_synctest_attribute_runs_the_test_in_a_bubble() {
    let start = time::now();
    let (tx, rx) = chan(0);
    go! {
        sleep(Duration::from_secs(7 * 24 * 3600));
        tx.send("a week later").unwrap();
    }
    assert_eq!(rx.recv(), Some("a week later"));
    assert_eq!(time::now() - start, Duration::from_secs(7 * 24 * 3600));
}

#[goscope::test(synctest)]
#[should_panic(expected = "deadlock: all goroutines in bubble are blocked")]
fn a_deadlock_in_a_synctest_test_fails_only_that_test() {
    let (_tx, rx) = chan::<i32>(0);
    go! {
        rx.recv();
    }
}

/// A partner that completes a receive uncounts the receiver's wait by the
/// wait's number: should it do so late, after the receiver has gone on to
/// its next wait (here a virtual sleep), that wait stays counted and the
/// clock still moves (it used to be uncounted, and the sleep never ended).
/// Should it come early, before the receiver has marked its wait, and then
/// leave the bubble, the wait is not counted: it used to be, with nobody
/// left to uncount it, and the bubble was called deadlocked (in about one
/// run in three of 2,000 rounds). The windows are a few statements wide:
/// the test runs the race many times.
#[test]
fn a_late_partner_never_uncounts_the_next_wait() {
    for _ in 0..20_000 {
        synctest::run(|| {
            let (tx, rx) = chan::<i32>(0);
            go!(static {
                tx.send(1).unwrap();
            });
            assert_eq!(rx.recv(), Some(1));
            sleep(Duration::from_secs(1));
        });
    }
}

/// `WaitGroup::wait` has the same early window: `done` releases the waiter
/// before it has marked its wait, and the goroutine leaves the bubble; the
/// wait must not be left counted (the bubble was called deadlocked). And a
/// release that found the wait's key before the wait had its number took
/// the one before (0, for a first wait) for it and uncounted a wait never
/// counted: the count went below zero, a panic in `done`.
#[test]
fn an_early_release_never_leaves_the_wait_counted() {
    for _ in 0..20_000 {
        synctest::run(|| {
            let wg = std::sync::Arc::new(WaitGroup::new());
            wg.add(1);
            let done = std::sync::Arc::clone(&wg);
            go!(static {
                done.done();
            });
            wg.wait();
            sleep(Duration::from_secs(1));
        });
    }
}

/// A timed receive on a timer's channel made outside the bubble (a timer
/// on real time) is not durable blocking, but its timeout is on the
/// bubble's clock, which cannot move while the receiver waits so: the
/// timer fires, in real time, and the value arrives. It used to be timed
/// against the real clock with a deadline from the virtual one, and, the
/// bubble's clock being behind real time, timed out at once.
#[test]
fn a_timeout_on_an_outside_timer_is_on_the_bubble_clock() {
    let timer = Timer::new(Duration::from_millis(200));
    let fired = synctest::run(|| {
        std::thread::sleep(Duration::from_millis(100));
        timer.c().recv_timeout(Duration::from_millis(50))
    });
    assert!(fired.is_ok(), "{fired:?}");
}

/// A context made inside the bubble from a parent made outside it, with
/// the parent's deadline, is closed by the parent's timer, on real time:
/// waiting for it is not durable, and the bubble waits for that timer
/// instead of calling itself deadlocked (it did: the child's channel was
/// taken for one of the bubble's timers).
#[test]
fn a_context_under_an_outside_deadline_waits_for_real_time() {
    let (parent, _cancel) = Context::background().with_timeout(Duration::from_millis(100));
    let err = synctest::run(|| {
        let (child, _cancel) = parent.with_cancel();
        child.done().recv();
        child.err()
    });
    assert_eq!(err, Some(Error::DeadlineExceeded));
}
