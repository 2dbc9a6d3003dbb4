//! Go's own timer and ticker tests, ported to goscope: `TestAfterFunc`,
//! `TestAfterStop`, `TestReset` (for a `Timer`, and for an `AfterFunc` with
//! the outcomes Go 1.23's `Timer.Reset` documents) and
//! `TestAfterQueuing`'s order of firing
//! from `src/time/sleep_test.go`, `TestTicker`'s stop and reset from
//! `src/time/tick_test.go`, and checks in the spirit of Go 1.23's
//! `TestTimerStopStaleC` (no stale value after `Stop`/`Reset`), in
//! golang/go, BSD-style licence, Copyright 2009 The Go Authors.
//!
//! Like Go's, the tests that depend on timing retry with longer durations
//! before failing, and only assert facts a loaded machine cannot break
//! (nothing fires early, stopped timers never fire); never an upper bound
//! on a duration.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Instant;

use goscope::prelude::*;
use goscope::time::{Ticker, Timer, after_func};

// `PATIENCE`: how long a timer that must fire may take before the test
// gives up.
use tests::PATIENCE;

/// Whether a value is ready on `rx` now (Go's `select` with `default`).
fn ready(rx: &Receiver<Instant>) -> bool {
    select! {
        <-rx => true,
        default => false,
    }
}

/// Go's recursive `f`: schedules itself `i` more times, then signals `c`.
fn countdown(i: Arc<AtomicI32>, c: Sender<bool>) {
    // Go: `i--; if i >= 0`.
    if i.fetch_sub(1, Ordering::SeqCst) > 0 {
        after_func(Duration::ZERO, move || countdown(Arc::clone(&i), c.clone()));
        sleep(Duration::from_millis(100));
    } else {
        c.send(true).unwrap();
    }
}

#[goscope::test]
fn after_func_runs() {
    let i = Arc::new(AtomicI32::new(10));
    let (c_tx, c) = chan(0);
    after_func(Duration::ZERO, move || {
        countdown(Arc::clone(&i), c_tx.clone())
    });
    assert_eq!(c.recv_timeout(PATIENCE), Ok(true));
}

/// One attempt of Go's `TestAfterStop`; the error, if it failed.
fn after_stop_once(unit: Duration) -> Result<(), &'static str> {
    after_func(2 * unit, || {});
    let t0 = Timer::new(unit);
    let (c1_tx, c1) = chan(1);
    let t1 = after_func(3 * unit, move || {
        let _ = c1_tx.try_send(true);
    });
    let c2 = after(4 * unit);
    if !t0.stop() {
        return Err("failed to stop event 0");
    }
    if !t1.stop() {
        return Err("failed to stop event 1");
    }
    c2.recv();
    if ready(t0.c()) {
        return Err("event 0 was not stopped");
    }
    if c1.try_recv().is_ok() {
        return Err("event 1 was not stopped");
    }
    if t1.stop() {
        return Err("stop returned true twice");
    }
    Ok(())
}

#[goscope::test]
fn after_stop() {
    // Go's retries: failing to stop a timer in time is the machine's fault
    // five times in a row at most.
    let mut errs = Vec::new();
    for attempt in 0..5 {
        match after_stop_once(Duration::from_millis(50 << attempt)) {
            Ok(()) => return,
            Err(e) => errs.push(e),
        }
    }
    panic!("saw {} errors: {errs:?}", errs.len());
}

/// One attempt of Go's `testReset`.
fn reset_once(d: Duration) -> Result<(), &'static str> {
    let t0 = Timer::new(2 * d);
    sleep(d);
    if !t0.reset(3 * d) {
        return Err("resetting unfired timer returned false");
    }
    sleep(2 * d);
    if ready(t0.c()) {
        return Err("timer fired early");
    }
    sleep(2 * d);
    if !ready(t0.c()) {
        return Err("reset timer did not fire");
    }
    if t0.reset(Duration::from_millis(50)) {
        return Err("resetting expired timer returned true");
    }
    Ok(())
}

#[goscope::test]
fn reset() {
    let unit = Duration::from_millis(25);
    let mut err = None;
    for d in [unit, 3 * unit, 7 * unit, 15 * unit, 31 * unit] {
        match reset_once(d) {
            Ok(()) => return,
            Err(e) => err = Some(e),
        }
    }
    panic!("{}", err.unwrap());
}

/// Go's `testReset` for a timer made by `AfterFunc`, with the outcomes
/// Go 1.23's `Timer.Reset` documents for one: a reset before `f` has run
/// only moves it (true); a reset after it has run runs it again (false).
/// `f` counts its calls in its own state (`FnMut`).
fn reset_after_func_once(d: Duration) -> Result<(), &'static str> {
    let (calls_tx, calls) = chan(2);
    let mut n = 0;
    let t0 = after_func(2 * d, move || {
        n += 1;
        let _ = calls_tx.try_send(n);
    });
    sleep(d);
    if !t0.reset(3 * d) {
        return Err("resetting a pending after_func returned false");
    }
    sleep(2 * d);
    if calls.try_recv().is_ok() {
        return Err("f ran early");
    }
    sleep(2 * d);
    if calls.try_recv() != Ok(1) {
        return Err("reset after_func did not run f");
    }
    if t0.reset(Duration::ZERO) {
        return Err("resetting an after_func that ran returned true");
    }
    if calls.recv_timeout(PATIENCE) != Ok(2) {
        return Err("a reset after f ran did not run it again");
    }
    Ok(())
}

#[goscope::test]
fn reset_after_func() {
    let unit = Duration::from_millis(25);
    let mut err = None;
    for d in [unit, 3 * unit, 7 * unit, 15 * unit, 31 * unit] {
        match reset_after_func_once(d) {
            Ok(()) => return,
            Err(e) => err = Some(e),
        }
    }
    panic!("{}", err.unwrap());
}

#[goscope::test]
fn after_queuing() {
    // Timers fire in the order of their deadlines, never early.
    let slots = [5u32, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0];
    let delta = Duration::from_millis(20);
    let (result_tx, result) = chan(slots.len());
    let t0 = Instant::now();
    let timers: Vec<(u32, Timer)> = slots
        .iter()
        .map(|&slot| (slot, Timer::new(slot * delta)))
        .collect();
    for (slot, timer) in &timers {
        let result_tx = result_tx.clone();
        go! {
            let at = timer.c().recv().unwrap();
            result_tx.send((*slot, at)).unwrap();
        }
    }
    let mut order = Vec::new();
    for _ in slots {
        let (slot, at) = result.recv().unwrap();
        assert!(
            at >= t0 + slot * delta,
            "timer {slot} fired at {:?}, before {:?}",
            at - t0,
            slot * delta
        );
        order.push((at, slot));
    }
    // Sorted by firing time, the slots are sorted too.
    order.sort();
    assert!(
        order.windows(2).all(|w| w[0].1 <= w[1].1),
        "timers fired out of order: {order:?}"
    );
}

#[goscope::test]
fn timer_stop_leaves_no_stale_value() {
    // Go 1.23: a value sent but not received is withdrawn by Stop, and
    // Stop reports the timer as stopped.
    let t = Timer::new(Duration::ZERO);
    sleep(Duration::from_millis(50)); // it fires; nobody receives
    assert!(t.stop(), "stop of a fired, unreceived timer returns true");
    assert!(!ready(t.c()), "stale value after stop");
    assert!(!t.stop());
    // Received first: stop has nothing to stop.
    let t = Timer::new(Duration::ZERO);
    t.c().recv_timeout(PATIENCE).unwrap();
    assert!(!t.stop(), "stop after the value was received returns false");
}

#[goscope::test]
fn timer_reset_leaves_no_stale_value() {
    let t = Timer::new(Duration::ZERO);
    sleep(Duration::from_millis(50)); // it fires; nobody receives
    let reset_at = Instant::now();
    assert!(
        t.reset(Duration::from_millis(20)),
        "the unreceived value counted as pending"
    );
    let got = t.c().recv_timeout(PATIENCE).expect("the reset timer fires");
    assert!(
        got >= reset_at + Duration::from_millis(20),
        "received the stale value from before reset"
    );
    assert!(!ready(t.c()), "a second value");
}

#[goscope::test]
fn ticker_stop_and_reset() {
    // Go's TestTicker: half the ticks at `delta`, then reset to 2 * `delta`
    // for the other half: at least 3 * delta * count/2 in all; then stop,
    // and no tick comes.
    let count = 10u32;
    let delta = Duration::from_millis(20);
    // (Go takes t0 just after NewTicker; before it, the bound below holds
    // exactly.)
    let t0 = Instant::now();
    let ticker = Ticker::new(delta);
    for _ in 0..count / 2 {
        ticker.c().recv_timeout(PATIENCE).expect("a tick");
    }
    ticker.reset(delta * 2);
    for _ in 0..count - count / 2 {
        ticker.c().recv_timeout(PATIENCE).expect("a tick");
    }
    ticker.stop();
    let dt = t0.elapsed();
    let target = 3 * delta * (count / 2);
    assert!(
        dt >= target,
        "{count} ticks took {dt:?}, less than {target:?}"
    );
    // Now test that the ticker stopped.
    sleep(2 * delta);
    assert!(!ready(ticker.c()), "Ticker did not shut down");
    // And that reset starts a stopped ticker again.
    ticker.reset(delta);
    ticker
        .c()
        .recv_timeout(PATIENCE)
        .expect("a tick after reset");
}

#[goscope::test]
fn ticker_reset_leaves_no_stale_tick() {
    let ticker = Ticker::new(Duration::from_millis(1));
    sleep(Duration::from_millis(50)); // a tick waits, unreceived
    let reset_at = Instant::now();
    ticker.reset(Duration::from_millis(30));
    let got = ticker.c().recv_timeout(PATIENCE).expect("a tick");
    assert!(
        got >= reset_at + Duration::from_millis(30),
        "a stale tick after reset"
    );
}
