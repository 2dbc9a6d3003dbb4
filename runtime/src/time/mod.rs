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

use crossbeam_channel as cb;

use crate::chan::{Flavor, Receiver};
use crate::detect::{self, Wait};

pub(crate) mod driver;
mod timer;

pub use timer::{Ticker, Timer, after_func};

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
    let site = Location::caller();
    let Some(deadline) = Instant::now().checked_add(duration) else {
        // Longer than `Instant` can count: as good as forever.
        return detect::block(Wait::Sleep, site, None, |_| {
            loop {
                std::thread::park();
                stop_if_aborted();
            }
        });
    };
    detect::block(Wait::Sleep, site, None, |interrupt| {
        if interrupt.is_none() {
            // Nothing can end this goroutine early.
            return std::thread::sleep(duration);
        }
        // Parked rather than slept, so a cancellation can wake it.
        loop {
            let now = Instant::now();
            if now >= deadline || stop_if_aborted() {
                return;
            }
            std::thread::park_timeout(deadline - now);
        }
    });
}

/// Unwinds if the current goroutine's scope was cancelled (or the detector
/// ended it); returns true instead if it is already unwinding (a deferred
/// `sleep`), which then just ends early.
fn stop_if_aborted() -> bool {
    if !detect::aborted() {
        return false;
    }
    if std::thread::panicking() {
        return true;
    }
    detect::abort()
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
    Receiver {
        inner: cb::after(duration),
        flavor: Flavor::Timer,
    }
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
    Receiver {
        inner: cb::tick(duration),
        flavor: Flavor::Timer,
    }
}
