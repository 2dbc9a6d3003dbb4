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

use std::time::{Duration, Instant};

use crossbeam_channel as cb;

use crate::chan::{Flavor, Receiver};

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
pub fn sleep(duration: Duration) {
    std::thread::sleep(duration);
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
