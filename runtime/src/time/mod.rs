//! Go's `time` package: sleeping, and channels that time fills.

use std::time::{Duration, Instant};

use crossbeam_channel as cb;

use crate::chan::{Flavor, Receiver};

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
