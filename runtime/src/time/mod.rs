//! Go's `time` package: sleeping, timers, tickers, and channels that time
//! fills.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `time.Sleep(d)` | [`sleep(d)`](sleep) |
//! | `time.After(d)`, `time.Tick(d)` | [`after(d)`](after), [`tick(d)`](tick) |
//! | `t := time.NewTimer(d)` | `let t = Timer::new(d);` ([`Timer`]) |
//! | `<-t.C` | `<-t.c()` in `select!`, `t.c().recv()` |
//! | `t.Stop()`, `t.Reset(d)` | [`t.stop()`](Timer::stop), [`t.reset(d)`](Timer::reset) |
//! | `time.AfterFunc(d, f)` | [`after_func(d, f)`](after_func) |
//! | `tk := time.NewTicker(d)` | `let tk = Ticker::new(d);` ([`Ticker`]) |
//! | `tk.Stop()`, `tk.Reset(d)` | [`tk.stop()`](Ticker::stop), [`tk.reset(d)`](Ticker::reset) |
//!
//! Timers, tickers and context deadlines share one timer thread: 10,000
//! live timers cost one thread, not 10,000. Waiting on a timer's channel is
//! sleeping, not blocking: the deadlock detector never reports it.

use std::panic::Location;
use std::time::{Duration, Instant};

use crate::chan::Receiver;
use crate::sched::park::{self, Wait};

pub(crate) mod driver;
mod timer;

pub use timer::{Ticker, Timer, after_func};

/// The current time: `Instant::now()`, except inside a
/// [synctest](crate::synctest) bubble, where it is the bubble's virtual
/// clock (Go's `time.Now` in a bubble).
///
/// # Examples
///
/// ```
/// use goscope::time;
///
/// let before = time::now();
/// assert!(time::now() >= before);
/// ```
pub fn now() -> Instant {
    park::now()
}

/// Pauses the current goroutine for at least `duration`: Go's `time.Sleep`.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// let start = std::time::Instant::now();
/// sleep(Duration::from_millis(5));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
#[track_caller]
pub fn sleep(duration: Duration) {
    let deadline = now().checked_add(duration);
    let waiting = park::wait(Wait::Sleep, Location::caller(), None, Vec::new(), deadline);
    if !waiting.stoppable() {
        // Nothing can end this goroutine early.
        drop(waiting);
        return match deadline {
            Some(_) => std::thread::sleep(duration),
            // Longer than `Instant` can count: as good as forever.
            None => loop {
                std::thread::park();
            },
        };
    }
    // Parked rather than slept, so a cancellation can wake it.
    let slept = park::park_until(&waiting, || false);
    drop(waiting);
    if !slept && !std::thread::panicking() {
        // Cancelled (or ended by the detector). A deferred `sleep` of a
        // goroutine already unwinding just ends early.
        park::unwind();
    }
}

/// Returns a channel that delivers the current time once, after `duration`:
/// Go's `time.After`.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// let (_tx, rx) = chan::<i32>(0);
/// let timed_out = select! {
///     v = <-rx => v.is_none(),
///     <-after(Duration::from_millis(10)) => true,
/// };
/// assert!(timed_out);
/// ```
pub fn after(duration: Duration) -> Receiver<Instant> {
    timer::timer_receiver(duration, None)
}

/// Returns a channel that delivers the current time every `duration`: Go's
/// `time.Tick`. A tick that nobody receives is skipped, not queued.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// let ticker = tick(Duration::from_millis(1));
/// let first = ticker.recv().unwrap();
/// let second = ticker.recv().unwrap();
/// assert!(second > first);
/// ```
pub fn tick(duration: Duration) -> Receiver<Instant> {
    if duration.is_zero() {
        // Go's `time.Tick` returns a nil channel for a non-positive interval.
        return crate::chan::never();
    }
    timer::timer_receiver(duration, Some(duration))
}
