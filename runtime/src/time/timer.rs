//! Go's `time.Timer`, `time.Ticker` and `time.AfterFunc`, with Go 1.23's
//! semantics, served by the one timer thread (see `driver`).

use std::fmt;
use std::panic;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::chan::core::{Chan, Flavor};
use crate::chan::{Receiver, Sender, never};
use crate::detect;
use crate::lock;
use crate::sched::goroutine;
use crate::time::driver::{self, Fire, Key};

/// A timer's state, shared with the timer thread.
struct Shared {
    state: Mutex<State>,
    action: Action,
}

struct State {
    /// The armed deadline, if any. The timer thread fires a key only if it
    /// is still this one.
    key: Option<Key>,
    /// Tickers: the interval.
    period: Option<Duration>,
}

enum Action {
    /// Send the time on its channel of capacity 1 (`Timer::new`,
    /// `Ticker::new`, `after`, `tick`), whose armed count it keeps. A value
    /// that nobody has received is withdrawn by `stop` and `reset` (Go
    /// 1.23: no stale values).
    Send(Sender<Instant>),
    /// Run the function in a goroutine of its own (`after_func`). The lock
    /// lets an `FnMut` be called from the goroutine of each firing: a run
    /// that a `reset` starts while the previous one still runs waits for
    /// it (as a `[sync.Mutex.Lock]`, so a deadlock report can see it).
    Call(Arc<crate::sync::Mutex<dyn FnMut() + Send>>),
}

impl Shared {
    fn new(action: Action, period: Option<Duration>) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State { key: None, period }),
            action,
        })
    }

    /// Arms the timer for `when` (it must be disarmed).
    fn arm(self: &Arc<Self>, state: &mut State, when: Instant) {
        let target: Arc<dyn Fire> = Arc::clone(self) as Arc<dyn Fire>;
        state.key = Some(driver::schedule(when, target));
        if let Action::Send(tx) = &self.action {
            // Waiting on its channel is sleeping from now on.
            tx.chan().set_armed(1);
        }
        if let (Action::Call(_), Some(key)) = (&self.action, state.key) {
            // Its function may own what a goroutine waits for (a channel
            // end, a `CancelFunc`): no deadlock while it is pending. (A
            // synctest bubble's timers are the bubble's business: they fire
            // when it settles.)
            if key.bubble() == 0 {
                detect::pending_call(true);
            }
        }
    }

    /// Disarms the timer and withdraws a value nobody has received; true if
    /// it was armed or such a value was waiting.
    fn disarm(&self, state: &mut State) -> bool {
        let mut pending = false;
        if let Some(key) = state.key.take() {
            driver::unschedule(key);
            pending = true;
            if let Action::Call(_) = self.action {
                if key.bubble() == 0 {
                    detect::pending_call(false);
                }
            }
        }
        if let Action::Send(tx) = &self.action {
            // Nothing will send any more: waiting on the channel is blocked
            // (the detector reports it). No stale value stays behind
            // (Go 1.23).
            tx.chan().set_armed(0);
            if tx.chan().clear() > 0 {
                pending = true;
            }
        }
        pending
    }
}

impl Fire for Shared {
    fn fire(self: Arc<Self>, key: Key) {
        let mut state = lock(&self.state);
        if state.key != Some(key) {
            // Stopped or reset since the timer thread took the key.
            return;
        }
        state.key = None;
        match &self.action {
            Action::Send(tx) => {
                // A tick nobody has received yet is not queued behind: the
                // new one is dropped, as Go drops ticks for slow receivers.
                // The bubble's clock in a synctest bubble.
                let now = crate::time::now();
                let _ = tx.try_send(now);
                match state.period {
                    Some(period) => self.arm(&mut state, next_tick(key.when(), period, now)),
                    // Fired: a second receive would wait forever.
                    None => tx.chan().set_armed(0),
                }
            }
            Action::Call(f) => {
                let f = Arc::clone(f);
                drop(state);
                let started = panic::catch_unwind(panic::AssertUnwindSafe(|| {
                    goroutine::go_detached(move || (*f.lock())());
                }));
                // Counted as a goroutine by now (or never to run): no longer
                // pending.
                if key.bubble() == 0 {
                    detect::pending_call(false);
                }
                if started.is_err() {
                    // The goroutine limit: the panic hook has printed why. As
                    // for any detached goroutine's panic, the process ends.
                    eprintln!(
                        "fatal: after_func could not start its goroutine; exiting with status 2"
                    );
                    std::process::exit(2);
                }
            }
        }
    }
}

/// The first tick after `now` on the grid `last + k * period`: ticks that a
/// slow timer thread missed are skipped, not sent in a burst.
/// A timer's channel: room for one value, fed by the timer thread.
fn timer_channel() -> (Sender<Instant>, Receiver<Instant>) {
    let chan = Arc::new(Chan::new(1, Flavor::Timer));
    // One sender that no handle holds: the channel never closes (a spent
    // timer's channel blocks a receiver forever, as in Go).
    chan.add_sender();
    (
        Sender::from_chan(Arc::clone(&chan)),
        Receiver::from_chan(chan),
    )
}

/// The channel of `after(d)` (`period: None`) or `tick(d)`: a timer that no
/// handle owns, stopped once the last receiver is gone (so a `select!` loop
/// that makes a new `after` each round leaves nothing behind).
pub(crate) fn timer_receiver(d: Duration, period: Option<Duration>) -> Receiver<Instant> {
    let (tx, rx) = timer_channel();
    let shared = Shared::new(Action::Send(tx), period);
    shared.arm(&mut lock(&shared.state), driver::deadline_after(d));
    let weak = Arc::downgrade(&shared);
    rx.chan().on_abandon(Box::new(move || {
        if let Some(shared) = weak.upgrade() {
            shared.disarm(&mut lock(&shared.state));
        }
    }));
    rx
}

fn next_tick(last: Instant, period: Duration, now: Instant) -> Instant {
    let next = last + period;
    if next > now {
        return next;
    }
    let behind = now.duration_since(last).as_nanos();
    let periods = behind / period.as_nanos() + 1;
    let offset = period.as_nanos() * periods;
    last + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX))
}

/// A single event at a time to come: Go's `time.Timer`.
///
/// [`Timer::new`] sends the current time on [`c`](Timer::c) once the
/// duration has passed; [`after_func`] runs a function instead. A timer can
/// be [stopped](Timer::stop) before it fires and [reset](Timer::reset) to
/// fire again. As in Go 1.23, once `stop` or `reset` has returned, no value
/// from before the call can be received: a timer that fired but was not yet
/// received from is withdrawn.
///
/// Timers cost no thread: one timer thread serves every timer, ticker and
/// context deadline of the process. Dropping a `Timer` made by
/// [`Timer::new`] stops it; dropping one made by [`after_func`] does not
/// (the function still runs, as in Go).
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use goscope::time::Timer;
///
/// let (_tx, rx) = chan::<i32>(0);
/// let timer = Timer::new(Duration::from_millis(10));
/// let timed_out = select! {
///     v = <-rx => v.is_none(),
///     <-timer.c() => true,
/// };
/// assert!(timed_out);
/// ```
pub struct Timer {
    shared: Arc<Shared>,
    c: Receiver<Instant>,
}

impl Timer {
    /// Creates a timer that sends the current time on [`c`](Timer::c) after
    /// at least `d`: Go's `time.NewTimer(d)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::time::Timer;
    ///
    /// let start = std::time::Instant::now();
    /// let timer = Timer::new(Duration::from_millis(5));
    /// let fired = timer.c().recv().unwrap();
    /// assert!(fired >= start + Duration::from_millis(5));
    /// ```
    pub fn new(d: Duration) -> Timer {
        let (tx, c) = timer_channel();
        let shared = Shared::new(Action::Send(tx), None);
        shared.arm(&mut lock(&shared.state), driver::deadline_after(d));
        Timer { shared, c }
    }

    /// The channel the time is sent on: Go's `t.C`. Receive with
    /// `<-timer.c()` in [`select!`](crate::select!) or
    /// `timer.c().recv()`.
    ///
    /// A timer made by [`after_func`] sends nothing: its channel is never
    /// ready, like Go's nil `C`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::time::Timer;
    /// use goscope::Duration;
    ///
    /// let timer = Timer::new(Duration::ZERO);
    /// assert!(timer.c().recv().is_some());
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        &self.c
    }

    /// Stops the timer: Go's `t.Stop()`. Returns whether this call stopped
    /// it, false if it had already fired (and its value been received, or
    /// its function started) or been stopped.
    ///
    /// After `stop` returns, receiving from [`c`](Timer::c) blocks until a
    /// [`reset`](Timer::reset): a value sent before the call and not yet
    /// received is withdrawn (Go 1.23). For an [`after_func`] timer, `stop`
    /// does not wait for a function that has already started.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::time::Timer;
    ///
    /// let timer = Timer::new(Duration::from_secs(60));
    /// assert!(timer.stop());
    /// assert!(!timer.stop()); // already stopped
    ///
    /// let timer = Timer::new(Duration::ZERO);
    /// sleep(Duration::from_millis(20)); // it fires, nobody receives
    /// assert!(timer.stop()); // the unreceived value counts as pending
    /// assert!(timer.c().try_recv().is_err()); // and is gone
    /// ```
    pub fn stop(&self) -> bool {
        self.shared.disarm(&mut lock(&self.shared.state))
    }

    /// Changes the timer to fire after `d`: Go's `t.Reset(d)`. Returns
    /// whether the timer was pending (as [`stop`](Timer::stop) would have
    /// answered).
    ///
    /// As in Go 1.23, a value sent before the call and not yet received is
    /// withdrawn, so the next value received from [`c`](Timer::c) is the
    /// new one. An [`after_func`] timer that has already started its
    /// function runs it again (once the previous call has returned).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::time::Timer;
    ///
    /// let timer = Timer::new(Duration::from_secs(60));
    /// assert!(timer.reset(Duration::from_millis(1))); // it was pending
    /// timer.c().recv().unwrap();
    /// assert!(!timer.reset(Duration::from_millis(1))); // it had fired
    /// timer.c().recv().unwrap();
    /// ```
    pub fn reset(&self, d: Duration) -> bool {
        let mut state = lock(&self.shared.state);
        let pending = self.shared.disarm(&mut state);
        self.shared.arm(&mut state, driver::deadline_after(d));
        pending
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // Nobody can receive any more: free the timer thread's entry. An
        // `after_func` timer still runs its function, as in Go.
        if matches!(self.shared.action, Action::Send(..)) {
            self.stop();
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Timer")
            .field("deadline", &state.key.map(Key::when))
            .finish_non_exhaustive()
    }
}

/// Waits for `d` and then runs `f` in a goroutine of its own: Go's
/// `time.AfterFunc(d, f)`. The returned [`Timer`] can
/// [`stop`](Timer::stop) it before it runs, or [`reset`](Timer::reset) it.
///
/// `f` is an [`FnMut`] because Go's `Reset` may run it again: a `reset`
/// before `f` has started only moves the time it runs (and returns true);
/// a `reset` after it has started runs it once more (and returns false),
/// as in Go. Go may then run the two calls at the same time; here a call
/// waits for the previous one to return first (an `FnMut` is called by
/// one goroutine at a time), so `f` needs `Send` but not `Sync`.
///
/// A Go function that closes a channel, `time.AfterFunc(d, func() {
/// close(done) })`, ports with the sender in an `Option` that the call
/// takes, `move || drop(done.take())`: the first call closes the channel
/// and a later one (after a `reset`) finds nothing to close, where Go's
/// second `close` would panic. No lock is needed.
///
/// The goroutine is detached, like a goroutine started with
/// `go!(static ...)`: if `f` panics, the process exits with status 2, as in
/// Go. Dropping the timer does not cancel `f`. Its [`c`](Timer::c) is never
/// ready. The timer keeps `f`, and what `f` owns, as long as it can run
/// `f` again: until the timer has been dropped and no call is pending or
/// running.
///
/// # Examples
///
/// Go's `time.AfterFunc(10*time.Millisecond, func() { close(done) })`,
/// then `<-done`:
///
/// ```
/// use goscope::prelude::*;
/// use goscope::time::after_func;
///
/// let (done_tx, done) = chan::<()>(0);
/// let mut done_tx = Some(done_tx);
/// let _timer = after_func(Duration::from_millis(10), move || drop(done_tx.take()));
/// assert_eq!(done.recv(), None); // closed by the function
/// ```
///
/// A function that runs again at each `reset`, counting its calls in its
/// own state (`FnMut`), and one that a `stop` keeps from running:
///
/// ```
/// use goscope::prelude::*;
/// use goscope::time::after_func;
///
/// let (tx, rx) = chan(2);
/// let mut calls = 0;
/// let timer = after_func(Duration::ZERO, move || {
///     calls += 1;
///     let _ = tx.send(calls);
/// });
/// assert_eq!(rx.recv(), Some(1));
/// assert!(!timer.reset(Duration::ZERO)); // it had run: it runs again
/// assert_eq!(rx.recv(), Some(2));
///
/// let timer = after_func(Duration::from_secs(60), || unreachable!());
/// assert!(timer.stop()); // it will never run
/// ```
pub fn after_func<F>(d: Duration, f: F) -> Timer
where
    F: FnMut() + Send + 'static, // runs in a goroutine of its own, again after a reset
{
    let f: Arc<crate::sync::Mutex<dyn FnMut() + Send>> = Arc::new(crate::sync::Mutex::new(f));
    let shared = Shared::new(Action::Call(f), None);
    shared.arm(&mut lock(&shared.state), driver::deadline_after(d));
    Timer { shared, c: never() }
}

/// A channel that delivers the time at intervals: Go's `time.Ticker`.
///
/// A tick that nobody has received when the next one is due is kept and
/// the new one dropped, so a slow receiver sees ticks spaced at least
/// `period` apart, never a burst. [`stop`](Ticker::stop) ends the ticks and
/// [`reset`](Ticker::reset) changes the period; after either, no tick from
/// before the call can be received (Go 1.23). Dropping the ticker stops it.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use goscope::time::Ticker;
///
/// let ticker = Ticker::new(Duration::from_millis(2));
/// let first = ticker.c().recv().unwrap();
/// let second = ticker.c().recv().unwrap();
/// assert!(second > first);
/// ticker.stop();
/// ```
pub struct Ticker {
    shared: Arc<Shared>,
    c: Receiver<Instant>,
}

impl Ticker {
    /// Creates a ticker that sends the time on [`c`](Ticker::c) every
    /// `period`: Go's `time.NewTicker(d)`.
    ///
    /// # Panics
    ///
    /// With Go's message `non-positive interval for NewTicker` if `period`
    /// is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::time::Ticker;
    ///
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// for _ in 0..3 {
    ///     ticker.c().recv().unwrap();
    /// }
    /// ```
    #[track_caller]
    pub fn new(period: Duration) -> Ticker {
        assert!(!period.is_zero(), "non-positive interval for NewTicker");
        let (tx, c) = timer_channel();
        let shared = Shared::new(Action::Send(tx), Some(period));
        shared.arm(&mut lock(&shared.state), driver::deadline_after(period));
        Ticker { shared, c }
    }

    /// The channel the ticks are sent on: Go's `ticker.C`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::time::Ticker;
    ///
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// let mut ticks = 0;
    /// while ticks < 2 {
    ///     select! {
    ///         <-ticker.c() => ticks += 1,
    ///         <-after(Duration::from_secs(10)) => panic!("no tick"),
    ///     }
    /// }
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        &self.c
    }

    /// Turns the ticker off: Go's `ticker.Stop()`. No tick is sent after it
    /// returns, and a tick sent before and not yet received is withdrawn.
    /// The channel is not closed, so a receive blocks. Returns whether the
    /// ticker was running (false once stopped, as `Timer::stop` reports a
    /// timer that was no longer pending).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::time::Ticker;
    ///
    /// let ticker = Ticker::new(Duration::from_millis(1));
    /// ticker.c().recv().unwrap();
    /// assert!(ticker.stop());
    /// assert!(!ticker.stop());
    /// let late = ticker.c().recv_timeout(Duration::from_millis(20));
    /// assert!(late.is_err());
    /// ```
    pub fn stop(&self) -> bool {
        let mut state = lock(&self.shared.state);
        // A ticker re-arms as it fires: armed means running.
        let running = state.key.is_some();
        self.shared.disarm(&mut state);
        running
    }

    /// Stops the ticker and restarts it with period `period`: Go's
    /// `ticker.Reset(d)`. The next tick arrives after `period`; a tick sent
    /// before the call and not yet received is withdrawn. Also restarts a
    /// stopped ticker.
    ///
    /// # Panics
    ///
    /// With Go's message `non-positive interval for Ticker.Reset` if
    /// `period` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::time::Ticker;
    ///
    /// let ticker = Ticker::new(Duration::from_secs(60));
    /// ticker.reset(Duration::from_millis(1));
    /// ticker.c().recv().unwrap(); // well before a minute
    /// ```
    #[track_caller]
    pub fn reset(&self, period: Duration) {
        assert!(!period.is_zero(), "non-positive interval for Ticker.Reset");
        let mut state = lock(&self.shared.state);
        self.shared.disarm(&mut state);
        state.period = Some(period);
        self.shared.arm(&mut state, driver::deadline_after(period));
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Ticker")
            .field("period", &state.period)
            .field("next", &state.key.map(Key::when))
            .finish_non_exhaustive()
    }
}
