//! Go 1.25's `testing/synctest`: testing concurrent code with virtual time.
//!
//! [`run`] runs a function in a *bubble*. Every goroutine started inside
//! it, scoped or detached, and every goroutine those start, belongs to the
//! bubble. Inside it time is virtual: it starts at the instant `run` was
//! called and moves only when every goroutine of the bubble is *durably
//! blocked*; it then jumps to the bubble's earliest deadline, which fires.
//! So a test of a one-hour timeout runs in microseconds, and the same way
//! every run.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `synctest.Test(t, func(t *testing.T) { ... })` | `#[goscope::test(synctest)] fn t() { ... }` |
//! | `synctest.Run(func() { ... })` (Go 1.24) | [`synctest::run(\|\| ...)`](run) |
//! | `synctest.Wait()` | [`synctest::wait()`](wait) |
//! | `time.Now()` in a bubble | [`time::now()`](crate::time::now) |
//!
//! # What is virtual
//!
//! Every goscope timer source reads the bubble's clock: [`sleep`](crate::sleep),
//! [`after`](crate::after), [`tick`](crate::tick), [`Timer`](crate::time::Timer),
//! [`Ticker`](crate::time::Ticker), [`after_func`](crate::time::after_func),
//! context deadlines and timeouts, [`recv_timeout`](crate::Receiver::recv_timeout),
//! [`send_timeout`](crate::Sender::send_timeout), and a timer arm of
//! `select!`; the `Instant`s timers deliver are virtual too. Code in a
//! bubble that calls `std::time::Instant::now()` or `std::thread::sleep`
//! sees real time: those are not goscope's.
//!
//! # Durably blocked
//!
//! A goroutine is durably blocked when it waits in a channel send or
//! receive, a `select!` without `default`, `WaitGroup::wait`, a scope's
//! join, `sleep`, a timer, or [`wait`]: only another goroutine of the bubble
//! (or its clock) can end that. Waiting for a [`sync::Mutex`](crate::sync::Mutex)
//! or [`sync::RwLock`](crate::sync::RwLock), I/O, a thread goscope did not
//! start, or computing is not durable: the clock waits for it, as in Go.
//!
//! # Deadlock
//!
//! When every goroutine of the bubble is durably blocked and no deadline is
//! pending, nothing can ever happen: the bubble's goroutines are ended
//! (they unwind), and `run` panics with the report, in Go's words
//! (`deadlock: all goroutines in bubble are blocked`, then one entry per
//! goroutine). The rest of the process goes on, so under
//! `#[goscope::test]` only that test fails.
//!
//! # Examples
//!
//! Go's blog post "Testing concurrent code with testing/synctest": a
//! context's timeout, tested to the nanosecond without waiting for it.
//!
//! ```
//! use goscope::context::{Context, Error};
//! use goscope::prelude::*;
//! use goscope::{synctest, time};
//!
//! synctest::run(|| {
//!     const TIMEOUT: Duration = Duration::from_secs(5);
//!     let (ctx, _cancel) = Context::background().with_timeout(TIMEOUT);
//!
//!     // Just before the deadline the context is not done.
//!     sleep(TIMEOUT - Duration::from_nanos(1));
//!     synctest::wait();
//!     assert_eq!(ctx.err(), None);
//!
//!     // At the deadline it is.
//!     sleep(Duration::from_nanos(1));
//!     synctest::wait();
//!     assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
//! });
//! ```

use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::sched::bubble::Bubble;
use crate::sched::park::{self, Wait};

/// Runs `f` in a new bubble and returns its value, once `f` has returned
/// and every goroutine of the bubble has finished.
///
/// # Panics
///
/// With the deadlock report, when every goroutine of the bubble is durably
/// blocked and no deadline is pending (after the bubble's goroutines have
/// been ended). With `f`'s own panic, after the bubble's goroutines have
/// finished. When called inside a bubble.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use goscope::{synctest, time};
///
/// let elapsed = synctest::run(|| {
///     let start = time::now();
///     sleep(Duration::from_secs(3600)); // an hour, in no time
///     time::now() - start
/// });
/// assert_eq!(elapsed, Duration::from_secs(3600));
/// ```
///
/// A bubble whose goroutines can never move deadlocks, and `run` says so:
///
/// ```should_panic
/// use goscope::prelude::*;
/// use goscope::synctest;
///
/// synctest::run(|| {
///     let (_tx, rx) = chan::<i32>(0);
///     rx.recv(); // nobody will ever send
/// });
/// ```
#[track_caller]
pub fn run<R>(f: impl FnOnce() -> R) -> R {
    assert!(
        park::current_bubble().is_none(),
        "synctest::run: called from within a synctest bubble (a bubble inside a bubble)"
    );
    let site = Location::caller();
    let bubble = Bubble::new(Instant::now());
    let guard = park::enter_bubble(&bubble);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    wait_for_members(&bubble, site);
    let report = bubble.deadlock();
    drop(guard);
    match (result, report) {
        (Err(payload), _) if !park::is_quiet(&*payload) => panic::resume_unwind(payload),
        (_, Some(report)) => panic!("{report}"),
        (Err(payload), None) => panic::resume_unwind(payload),
        (Ok(value), None) => value,
    }
}

/// `run`'s thread waits (durably) until it is the last member of the
/// bubble. If the bubble deadlocks meanwhile, it goes on waiting for the
/// ended goroutines to finish unwinding.
fn wait_for_members(bubble: &Arc<Bubble>, site: &'static Location<'static>) {
    let slot = park::current_slot().expect("a bubble's thread has a record");
    let released = Arc::new(AtomicBool::new(false));
    // Recorded for reports; the bubble counts the wait itself.
    let _waiting = park::wait(Wait::BubbleRun, site, None, Vec::new(), None);
    bubble.await_members(Arc::clone(&slot), Arc::clone(&released));
    while !released.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

/// Blocks until every other goroutine of the current bubble is durably
/// blocked, without moving the clock: Go's `synctest.Wait`.
///
/// Once it returns, everything the other goroutines could do without time
/// passing has happened: a test can look at the results.
///
/// # Panics
///
/// Outside a bubble.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use goscope::synctest;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// synctest::run(|| {
///     static DONE: AtomicBool = AtomicBool::new(false);
///     go!(static {
///         DONE.store(true, Ordering::SeqCst);
///     });
///     synctest::wait(); // the goroutine has run to its end
///     assert!(DONE.load(Ordering::SeqCst));
/// });
/// ```
#[track_caller]
pub fn wait() {
    let Some(bubble) = park::current_bubble() else {
        panic!("synctest::wait: the current goroutine is not in a synctest bubble");
    };
    let slot = park::current_slot().expect("a bubble's goroutine has a record");
    let released = Arc::new(AtomicBool::new(false));
    // Registered before the wait counts: the count may settle the bubble.
    bubble.add_waiter(slot, Arc::clone(&released));
    let waiting = park::wait(Wait::Synctest, Location::caller(), None, Vec::new(), None);
    let woken = park::park_until(&waiting, || released.load(Ordering::SeqCst));
    drop(waiting);
    if !woken && !std::thread::panicking() {
        // The bubble deadlocked (or the scope was cancelled).
        park::unwind();
    }
}
