//! Channels: Go's `chan T`, on crossbeam-channel.

use std::error::Error;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

use crossbeam_channel as cb;

use crate::detect::{self, Wait};

/// Creates a channel of `T` values with room for `cap` of them: Go's
/// `make(chan T, cap)`.
///
/// `cap == 0` gives Go's unbuffered channel: a send completes only when a
/// receiver takes the value (a rendezvous). `cap > 0` gives a buffered
/// channel: a send blocks only while `cap` values are waiting.
///
/// There is no `close`: the channel closes when its last [`Sender`] is
/// dropped, so a send on a closed channel, or closing twice, cannot compile.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// let (tx, rx) = chan(2);
/// tx.send("ping").unwrap();
/// tx.send("pong").unwrap();
/// drop(tx); // Go's close(ch)
/// assert_eq!(rx.recv(), Some("ping"));
/// assert_eq!(rx.recv(), Some("pong"));
/// assert_eq!(rx.recv(), None); // closed and drained
/// ```
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = cb::bounded(cap);
    (
        Sender { inner: tx },
        Receiver {
            inner: rx,
            flavor: Flavor::Chan,
        },
    )
}

/// The sending half of a channel: Go's `chan<- T`.
///
/// Clone it to share it between goroutines; the channel closes when the last
/// clone is dropped.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::main]
/// fn main() {
///     let (tx, rx) = chan(0);
///     for id in 0..3 {
///         go!(produce(id, tx.clone())); // each producer owns a clone
///     }
///     drop(tx); // the channel closes once every producer is done
///     let mut ids: Vec<i32> = rx.iter().collect();
///     ids.sort();
///     assert_eq!(ids, [0, 1, 2]);
/// }
///
/// fn produce(id: i32, tx: Sender<i32>) {
///     tx.send(id).unwrap();
/// }
/// ```
///
/// A `Sender` cannot receive, so Go's "receive from send-only channel" cannot
/// compile:
///
/// ```compile_fail
/// let (tx, _rx) = goscope::chan::<i32>(1);
/// tx.recv();
/// ```
///
/// and once dropped it cannot send again, so Go's "send on closed channel"
/// cannot compile either:
///
/// ```compile_fail
/// let (tx, _rx) = goscope::chan::<i32>(1);
/// drop(tx);
/// tx.send(1);
/// ```
pub struct Sender<T> {
    pub(crate) inner: cb::Sender<T>,
}

/// The receiving half of a channel: Go's `<-chan T`.
///
/// Clone it, or share it by reference, to let several goroutines receive:
/// each value goes to exactly one of them.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use std::sync::atomic::{AtomicI32, Ordering};
///
/// #[goscope::main]
/// fn main() {
///     let (jobs_tx, jobs) = chan(10);
///     let total = AtomicI32::new(0);
///     for _ in 0..2 {
///         go!(consume(&jobs, &total)); // two consumers share the receiver
///     }
///     for j in 1..=4 {
///         jobs_tx.send(j).unwrap();
///     }
///     drop(jobs_tx);
/// #   // (main's scope joins the consumers before returning)
/// }
///
/// fn consume(jobs: &Receiver<i32>, total: &AtomicI32) {
///     for j in jobs {
///         total.fetch_add(j, Ordering::Relaxed);
///     }
/// }
/// ```
///
/// A `Receiver` cannot send, so Go's "send to receive-only channel" cannot
/// compile:
///
/// ```compile_fail
/// let (_tx, rx) = goscope::chan::<i32>(1);
/// rx.send(1);
/// ```
pub struct Receiver<T> {
    pub(crate) inner: cb::Receiver<T>,
    pub(crate) flavor: Flavor,
}

/// Rounds of trying before a blocking operation that can be interrupted
/// parks: crossbeam's own backoff (spin 2^k pauses for k ≤ 6, then yield).
const SPIN_STEPS: u32 = 10;

/// Waits a little before the next try: round `step` of [`SPIN_STEPS`].
fn backoff(step: u32) {
    if step <= 6 {
        for _ in 0..1u32 << step {
            std::hint::spin_loop();
        }
    } else {
        std::thread::yield_now();
    }
}

/// What kind of channel a [`Receiver`] receives from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Made by [`chan`]: only another goroutine can make it ready.
    Chan,
    /// [`after`] or [`tick`]: ready with time alone, so waiting on it is
    /// sleeping, not blocking.
    Timer,
    /// [`never`]: Go's nil channel.
    Never,
}

impl<T> Sender<T> {
    /// Sends `value`, blocking until the channel has room (buffered) or a
    /// receiver takes it (unbuffered): Go's `ch <- value`.
    ///
    /// # Errors
    ///
    /// Only when every [`Receiver`] is gone, so nobody could ever take the
    /// value: it is handed back in the error rather than lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, rx) = chan(1);
    /// tx.send(7).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(8).unwrap_err().into_inner(), 8);
    /// ```
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.inner.capacity() == Some(0) {
            // Unbuffered: a send is a rendezvous and nearly always waits, so
            // go straight to the blocking send (which completes at once if a
            // receiver is already waiting) instead of trying twice.
            return self.send_blocking(value, Location::caller());
        }
        // Fast path: nothing here touches the deadlock detector.
        match self.inner.try_send(value) {
            Ok(()) => Ok(()),
            Err(cb::TrySendError::Disconnected(v)) => Err(SendError(v)),
            Err(cb::TrySendError::Full(v)) => self.send_blocking(v, Location::caller()),
        }
    }

    /// The send must wait: tell the deadlock detector, and let the wait be
    /// ended if this goroutine's scope is cancelled or it is part of a
    /// deadlock in a test.
    #[cold]
    fn send_blocking(
        &self,
        value: T,
        site: &'static Location<'static>,
    ) -> Result<(), SendError<T>> {
        detect::block(Wait::ChanSend, site, None, |interrupt| {
            let Some(interrupt) = interrupt else {
                return self
                    .inner
                    .send(value)
                    .map_err(|cb::SendError(v)| SendError(v));
            };
            // Crossbeam's own blocking send spins a little before it parks;
            // a select over the send and the interrupt would park at once.
            // Keep the spin: a cap-1 ping-pong costs a park per message
            // without it (10x slower).
            let mut value = value;
            for step in 0..SPIN_STEPS {
                match self.inner.try_send(value) {
                    Ok(()) => return Ok(()),
                    Err(cb::TrySendError::Disconnected(v)) => return Err(SendError(v)),
                    Err(cb::TrySendError::Full(v)) => value = v,
                }
                backoff(step);
            }
            loop {
                let mut sel = cb::Select::new();
                let send = sel.send(&self.inner);
                sel.recv(interrupt);
                let op = sel.select();
                if op.index() == send {
                    return op
                        .send(&self.inner, value)
                        .map_err(|cb::SendError(v)| SendError(v));
                }
                let _ = op.recv(interrupt);
                if detect::aborted() {
                    // (While unwinding, only a deadlock ends the wait, and a
                    // send has no honest value to return: `abort` reports
                    // and exits.)
                    detect::abort()
                }
            }
        })
    }

    /// Sends `value` only if that needs no waiting: Go's `select` with a
    /// send case and a `default`.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the send would block,
    /// [`TrySendError::Disconnected`] when every receiver is gone; both give
    /// the value back.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, _rx) = chan(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert!(matches!(tx.try_send(2), Err(goscope::TrySendError::Full(2))));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(value).map_err(|e| match e {
            cb::TrySendError::Full(v) => TrySendError::Full(v),
            cb::TrySendError::Disconnected(v) => TrySendError::Disconnected(v),
        })
    }

    /// Sends `value`, waiting at most `timeout`: Go's `select` with a send
    /// case and `<-time.After(timeout)`.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] when the time ran out,
    /// [`SendTimeoutError::Disconnected`] when every receiver is gone; both
    /// give the value back.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, _rx) = chan(0); // nobody receives
    /// let err = tx.send_timeout(5, Duration::from_millis(10)).unwrap_err();
    /// assert!(err.is_timeout());
    /// ```
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.inner
            .send_timeout(value, timeout)
            .map_err(|e| match e {
                cb::SendTimeoutError::Timeout(v) => SendTimeoutError::Timeout(v),
                cb::SendTimeoutError::Disconnected(v) => SendTimeoutError::Disconnected(v),
            })
    }

    /// The number of values waiting in the channel: Go's `len(ch)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = goscope::chan(10);
    /// tx.send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// The channel's buffer size: Go's `cap(ch)`, 0 when unbuffered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = goscope::chan::<u8>(10);
    /// assert_eq!(tx.capacity(), 10);
    /// ```
    pub fn capacity(&self) -> usize {
        capacity(self.inner.capacity())
    }

    /// Whether no value is waiting in the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = goscope::chan::<u8>(1);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether a send would block now. An unbuffered channel is always full.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = goscope::chan(1);
    /// tx.send(()).unwrap();
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }
}

impl<T> Receiver<T> {
    /// Receives a value, blocking until one is sent: Go's `v, ok := <-ch`.
    ///
    /// Returns `None` once the channel is closed (every [`Sender`] dropped)
    /// and every value sent before has been received.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, rx) = chan(1);
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv(), Some(1));
    /// assert_eq!(rx.recv(), None);
    /// ```
    #[track_caller]
    pub fn recv(&self) -> Option<T> {
        self.recv_at(Location::caller())
    }

    fn recv_at(&self, site: &'static Location<'static>) -> Option<T> {
        if self.flavor == Flavor::Chan && self.inner.capacity() == Some(0) {
            // Unbuffered: see `Sender::send`.
            return self.recv_blocking(site);
        }
        // Fast path: nothing here touches the deadlock detector.
        match self.inner.try_recv() {
            Ok(v) => Some(v),
            Err(cb::TryRecvError::Disconnected) => None,
            Err(cb::TryRecvError::Empty) => self.recv_blocking(site),
        }
    }

    /// The receive must wait: tell the deadlock detector (unless time alone
    /// will end the wait), and let the wait be ended if this goroutine's
    /// scope is cancelled or it is part of a deadlock in a test.
    #[cold]
    fn recv_blocking(&self, site: &'static Location<'static>) -> Option<T> {
        let what = match self.flavor {
            Flavor::Timer => Wait::ChanReceiveTimer,
            Flavor::Chan => Wait::ChanReceive,
            Flavor::Never => Wait::ChanReceiveNil,
        };
        detect::block(what, site, None, |interrupt| {
            let Some(interrupt) = interrupt else {
                return self.inner.recv().ok();
            };
            // As in `send_blocking`: spin a little before parking.
            for step in 0..SPIN_STEPS {
                match self.inner.try_recv() {
                    Ok(v) => return Some(v),
                    Err(cb::TryRecvError::Disconnected) => return None,
                    Err(cb::TryRecvError::Empty) => backoff(step),
                }
            }
            loop {
                let mut sel = cb::Select::new();
                let recv = sel.recv(&self.inner);
                sel.recv(interrupt);
                let op = sel.select();
                if op.index() == recv {
                    return op.recv(&self.inner).ok();
                }
                let _ = op.recv(interrupt);
                if detect::aborted() {
                    if std::thread::panicking() {
                        // In a deferred call while unwinding, part of a
                        // deadlock: a second unwind would abort; end as a
                        // closed channel does, and the test fails with the
                        // report.
                        return None;
                    }
                    detect::abort()
                }
            }
        })
    }

    /// Receives a value only if one is ready: Go's `select` with a receive
    /// case and a `default`.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when no value is waiting,
    /// [`TryRecvError::Closed`] when the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goscope::chan::<i32>(1);
    /// assert_eq!(rx.try_recv(), Err(goscope::TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(goscope::TryRecvError::Closed));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.try_recv().map_err(|e| match e {
            cb::TryRecvError::Empty => TryRecvError::Empty,
            cb::TryRecvError::Disconnected => TryRecvError::Closed,
        })
    }

    /// Receives a value, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when the time ran out,
    /// [`RecvTimeoutError::Closed`] when the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (_tx, rx) = chan::<i32>(0);
    /// let got = rx.recv_timeout(Duration::from_millis(10));
    /// assert_eq!(got, Err(goscope::RecvTimeoutError::Timeout));
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inner.recv_timeout(timeout).map_err(|e| match e {
            cb::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
            cb::RecvTimeoutError::Disconnected => RecvTimeoutError::Closed,
        })
    }

    /// Iterates over received values until the channel is closed and
    /// drained: Go's `for v := range ch`. Also written `for v in &rx`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, rx) = chan(3);
    /// for i in 1..=3 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(rx.iter().sum::<i32>(), 6);
    /// ```
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            rx: self,
            site: Location::caller(),
        }
    }

    /// Iterates over the values that are ready now, without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goscope::chan(3);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// The number of values waiting in the channel: Go's `len(ch)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goscope::chan(10);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// The channel's buffer size: Go's `cap(ch)`, 0 when unbuffered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = goscope::chan::<u8>(0);
    /// assert_eq!(rx.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        capacity(self.inner.capacity())
    }

    /// Whether no value is waiting in the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = goscope::chan::<u8>(1);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

fn capacity(cap: Option<usize>) -> usize {
    // goscope only makes bounded channels; crossbeam's `after`, `tick` and
    // `never` report 1, 1 and 0.
    cap.unwrap_or(usize::MAX)
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            inner: self.inner.clone(),
            flavor: self.flavor,
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// A blocking iterator over a [`Receiver`]'s values, from [`Receiver::iter`]
/// or `for v in &rx`: Go's `for v := range ch`.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::main]
/// fn main() {
///     let (tx, rx) = chan(0);
///     go! {
///         for word in ["range", "over", "a channel"] {
///             tx.send(word).unwrap();
///         }
///         // `tx` is dropped here: the channel closes and the loop ends.
///     }
///     let words: Vec<_> = rx.iter().collect();
///     assert_eq!(words, ["range", "over", "a channel"]);
/// }
/// ```
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
    /// Where the loop is, for deadlock reports.
    site: &'static Location<'static>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv_at(self.site)
    }
}

/// A non-blocking iterator over a [`Receiver`]'s ready values, from
/// [`Receiver::try_iter`].
///
/// # Examples
///
/// ```
/// let (tx, rx) = goscope::chan(4);
/// tx.send('a').unwrap();
/// let ready: String = rx.try_iter().collect();
/// assert_eq!(ready, "a"); // stops at the first empty poll, without blocking
/// ```
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// An owning blocking iterator over a [`Receiver`]'s values: `for v in rx`.
///
/// # Examples
///
/// ```
/// let (tx, rx) = goscope::chan(2);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// drop(tx);
/// let mut sum = 0;
/// for v in rx {
///     sum += v;
/// }
/// assert_eq!(sum, 3);
/// ```
pub struct IntoIter<T> {
    rx: Receiver<T>,
    site: &'static Location<'static>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv_at(self.site)
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    #[track_caller]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// `for v in &rx` where `rx` is itself a `&Receiver`, as inside a
/// `go! { .. }` that shares a function's receiver.
impl<'a, T> IntoIterator for &&'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    #[track_caller]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    #[track_caller]
    fn into_iter(self) -> IntoIter<T> {
        IntoIter {
            rx: self,
            site: Location::caller(),
        }
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryIter").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").finish_non_exhaustive()
    }
}

/// Returns a channel that is never ready: Go's nil channel, used to disable
/// a `select!` arm.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// let got = select! {
///     v = <-never::<i32>() => v,
///     default => Some(0),
/// };
/// assert_eq!(got, Some(0));
/// ```
pub fn never<T>() -> Receiver<T> {
    Receiver {
        inner: cb::never(),
        flavor: Flavor::Never,
    }
}

/// A send failed because every [`Receiver`] is gone; the value is inside.
///
/// # Examples
///
/// ```
/// let (tx, rx) = goscope::chan(1);
/// drop(rx);
/// let goscope::SendError(value) = tx.send(42).unwrap_err();
/// assert_eq!(value, 42);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// Takes back the value that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goscope::chan(1);
    /// drop(rx);
    /// assert_eq!(tx.send("lost?").unwrap_err().into_inner(), "lost?");
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Why [`Sender::try_send`] could not send; the value is inside.
///
/// # Examples
///
/// ```
/// use goscope::TrySendError;
///
/// let (tx, rx) = goscope::chan(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Disconnected(3)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is full (or unbuffered with no receiver waiting).
    Full(T),
    /// Every receiver is gone.
    Disconnected(T),
}

impl<T> TrySendError<T> {
    /// Takes back the value that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = goscope::chan(0);
    /// assert_eq!(tx.try_send(3).unwrap_err().into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Disconnected(v) => v,
        }
    }
}

/// Why [`Sender::send_timeout`] could not send; the value is inside.
///
/// # Examples
///
/// ```
/// use goscope::{SendTimeoutError, prelude::*};
///
/// let (tx, _rx) = chan(0);
/// let err = tx.send_timeout("late", Duration::from_millis(1)).unwrap_err();
/// assert_eq!(err, SendTimeoutError::Timeout("late"));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// No receiver took the value in time.
    Timeout(T),
    /// Every receiver is gone.
    Disconnected(T),
}

impl<T> SendTimeoutError<T> {
    /// Whether the send timed out (rather than finding no receiver).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, _rx) = chan(0);
    /// assert!(tx.send_timeout(1, Duration::ZERO).unwrap_err().is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendTimeoutError::Timeout(_))
    }

    /// Takes back the value that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, _rx) = chan(0);
    /// let err = tx.send_timeout(1, Duration::ZERO).unwrap_err();
    /// assert_eq!(err.into_inner(), 1);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Disconnected(v) => v,
        }
    }
}

/// Why [`Receiver::try_recv`] returned no value.
///
/// # Examples
///
/// ```
/// use goscope::TryRecvError;
///
/// let (tx, rx) = goscope::chan::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No value is waiting.
    Empty,
    /// The channel is closed and drained.
    Closed,
}

/// Why [`Receiver::recv_timeout`] returned no value.
///
/// # Examples
///
/// ```
/// use goscope::{RecvTimeoutError, prelude::*};
///
/// let (tx, rx) = chan::<u8>(1);
/// assert_eq!(rx.recv_timeout(Duration::ZERO), Err(RecvTimeoutError::Timeout));
/// drop(tx);
/// assert_eq!(rx.recv_timeout(Duration::ZERO), Err(RecvTimeoutError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvTimeoutError {
    /// No value arrived in time.
    Timeout,
    /// The channel is closed and drained.
    Closed,
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a channel whose receivers are all gone")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Disconnected(_) => {
                f.write_str("sending on a channel whose receivers are all gone")
            }
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out sending on a channel"),
            SendTimeoutError::Disconnected(_) => {
                f.write_str("sending on a channel whose receivers are all gone")
            }
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out receiving on a channel"),
            RecvTimeoutError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl<T> Error for SendError<T> {}
impl<T> Error for TrySendError<T> {}
impl<T> Error for SendTimeoutError<T> {}
impl Error for TryRecvError {}
impl Error for RecvTimeoutError {}
