//! `goscope::time`: timers, tickers and `after_func` on the timer thread,
//! and how waits on them look to the deadlock detector.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use goscope::prelude::*;
use goscope::time::{Ticker, Timer, after_func};

#[goscope::test]
fn waiting_on_a_timer_is_sleeping_not_a_deadlock() {
    // Longer than the detector's grace: a wait it took for blocking would
    // fail this test with a deadlock report.
    let timer = Timer::new(Duration::from_millis(800));
    assert!(timer.c().recv().is_some());
    let ticker = Ticker::new(Duration::from_millis(800));
    select! {
        <-ticker.c() => {}
        <-never::<()>() => unreachable!(),
    }
}

#[goscope::test]
fn a_stopped_after_func_never_runs() {
    let ran = Arc::new(AtomicUsize::new(0));
    let timers: Vec<_> = (0..100)
        .map(|_| {
            let ran = Arc::clone(&ran);
            after_func(Duration::from_millis(30), move || {
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in &timers {
        assert!(t.stop());
    }
    sleep(Duration::from_millis(100));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[goscope::test]
fn reset_runs_an_after_func_again() {
    let (tx, rx) = chan(2);
    let timer = after_func(Duration::ZERO, move || {
        let _ = tx.try_send(());
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!timer.reset(Duration::ZERO), "it had run: not pending");
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
}

/// Go's `time.AfterFunc(d, func() { close(done) })`: the sender in an
/// `Option` that the call takes; no lock.
#[goscope::test]
fn after_func_closes_a_channel() {
    let (done_tx, done) = chan::<()>(0);
    let mut done_tx = Some(done_tx);
    let _timer = after_func(Duration::from_millis(5), move || drop(done_tx.take()));
    assert_eq!(
        done.recv_timeout(Duration::from_secs(10)),
        Err(goscope::RecvTimeoutError::Closed),
        "closed by the function"
    );
}

/// A closed-over `Cell` is `Send` but not `Sync`: `f` is called by one
/// goroutine at a time, so it need not be `Sync` (this did not compile
/// when `f` had to be `Fn + Send + Sync`).
#[goscope::test]
fn after_func_takes_an_fn_mut_that_is_not_sync() {
    let (tx, rx) = chan(2);
    let calls = std::cell::Cell::new(0);
    let mut log = Vec::new();
    let timer = after_func(Duration::ZERO, move || {
        calls.set(calls.get() + 1);
        log.push(calls.get());
        let _ = tx.send(log.clone());
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(vec![1]));
    assert!(!timer.reset(Duration::ZERO), "it had run: not pending");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok(vec![1, 2]),
        "the second call sees the state the first left"
    );
}

/// Go may run `f` twice at once when a `Reset` fires while `f` still runs;
/// an `FnMut` is called by one goroutine at a time, so the second call
/// starts once the first has returned.
#[goscope::test]
fn a_reset_while_f_runs_runs_it_again_after_it_returns() {
    let (events_tx, events) = chan(4);
    let (release_tx, release) = chan::<()>(0);
    let mut calls = 0;
    let timer = after_func(Duration::ZERO, move || {
        calls += 1;
        events_tx.send(("start", calls)).unwrap();
        if calls == 1 {
            release.recv(); // the first call waits for the test
        }
        events_tx.send(("end", calls)).unwrap();
    });
    let recv = || events.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(recv(), ("start", 1));
    assert!(!timer.reset(Duration::ZERO), "f had started: not pending");
    // Bounded wait for "does not start while the first call runs".
    assert!(
        events.recv_timeout(Duration::from_millis(100)).is_err(),
        "a second call started while the first was running"
    );
    drop(release_tx);
    assert_eq!(recv(), ("end", 1));
    assert_eq!(recv(), ("start", 2));
    assert_eq!(recv(), ("end", 2));
}

/// Go's self-rescheduling `AfterFunc`: `f` resets its own timer until it
/// has run three times.
#[goscope::test]
fn after_func_can_reset_its_own_timer() {
    let (tx, rx) = chan(3);
    let me = Arc::new(std::sync::OnceLock::<Timer>::new());
    let mut runs = 0;
    let timer = after_func(Duration::from_millis(1), {
        // Weak: the timer keeps `f`, which must not keep the timer.
        let me = Arc::downgrade(&me);
        move || {
            runs += 1;
            tx.send(runs).unwrap();
            if runs < 3 {
                let me = me.upgrade().expect("the test holds the timer");
                // `wait`: the first call may come before the test has set it.
                // False: f is running, so the timer is not pending.
                assert!(!me.wait().reset(Duration::from_millis(1)));
            }
        }
    });
    assert!(me.set(timer).is_ok());
    let runs: Vec<_> = (0..3)
        .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();
    assert_eq!(runs, [1, 2, 3]);
}

#[goscope::test]
fn dropping_an_after_func_timer_does_not_cancel_it() {
    let (tx, rx) = chan(1);
    drop(after_func(Duration::from_millis(5), move || {
        let _ = tx.try_send("ran");
    }));
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("ran"));
}

#[goscope::test]
fn a_slow_receiver_sees_no_burst_of_ticks() {
    let ticker = Ticker::new(Duration::from_millis(1));
    sleep(Duration::from_millis(50));
    // Ticks missed meanwhile are dropped: one waits, not fifty.
    assert!(ticker.c().len() <= 1);
    let t0 = ticker.c().recv().unwrap();
    let t1 = ticker.c().recv().unwrap();
    assert!(t1 > t0);
}

#[goscope::test]
fn the_time_received_is_when_the_timer_fired() {
    let start = Instant::now();
    let timer = Timer::new(Duration::from_millis(10));
    let fired = timer.c().recv().unwrap();
    assert!(fired >= start + Duration::from_millis(10));
    assert!(fired <= Instant::now());
}

#[goscope::test]
fn after_func_runs_f_in_a_goroutine() {
    let (tx, rx) = chan(1);
    let _t = after_func(Duration::ZERO, move || {
        let _ = tx.try_send(goscope::num_goroutine());
    });
    let seen = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(seen >= 2, "main and f's goroutine, saw {seen}");
}

#[test]
#[should_panic(expected = "non-positive interval for NewTicker")]
fn a_zero_ticker_panics_as_go_does() {
    let _ = Ticker::new(Duration::ZERO);
}

#[test]
fn timers_are_send_sync_and_debug() {
    fn check<T: Send + Sync + std::fmt::Debug + 'static>() {}
    check::<Timer>();
    check::<Ticker>();
    check::<goscope::context::CancelFunc>();
    check::<goscope::errgroup::Group<std::io::Error>>();
}
