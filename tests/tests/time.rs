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
