//! Channels: Go's `chan T`, on crossbeam-channel.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::core::{Chan, Done, Entry, Flavor, TryRecv, TrySend, Wakes};
use super::{
    Iter, RecvTimeoutError, SendError, SendTimeoutError, TryIter, TryRecvError, TrySendError,
};
use crate::sched::park::{self, Wait};

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
    let chan = Arc::new(Chan::new(cap, Flavor::Chan));
    (
        Sender::from_chan(Arc::clone(&chan)),
        Receiver::from_chan(chan),
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
    chan: Arc<Chan<T>>,
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
    chan: Arc<Chan<T>>,
}

/// How a queued operation ended when it did not complete.
enum Failed<T> {
    /// Closed (a receive) or abandoned by every receiver (a send, whose
    /// value is given back).
    Closed(Option<T>),
    /// The deadline passed; a send gives its value back.
    Timeout(Option<T>),
}

/// Waits for a queued operation, and takes it back if it must stop or its
/// deadline passes. A goroutine that must stop unwinds here, unless it is
/// already unwinding (a deferred operation): that one ends as if the
/// channel were closed. A value given back is dropped by the caller, after
/// the wait has ended, so no user code runs while the goroutine is marked
/// waiting.
fn finish_wait<T>(
    chan: &Chan<T>,
    entry: &Arc<Entry<T>>,
    what: Wait,
    site: &'static Location<'static>,
    deadline: Option<Instant>,
) -> Result<Option<T>, Failed<T>> {
    let timers = chan.timers.iter().cloned().collect();
    let over = || entry.sel().done().is_some();
    let waiting = park::wait_unless(what, site, timers, deadline, chan.home(), over);
    park::park_until(&waiting, || entry.sel().done().is_some());
    let (done, stop) = match entry.sel().done() {
        Some(done) => (Some(done), false),
        // Stopped or timed out: take the entry back, unless a partner has
        // just claimed it (then the operation completed after all).
        None => match entry.sel().cancel() {
            Some(done) => (Some(done), false),
            None => (None, waiting.must_stop()),
        },
    };
    if done.is_some() {
        waiting.handed_over();
    }
    drop(waiting);
    // SAFETY: this goroutine queued `entry`, and its wait has ended: a
    // partner completed it (`done`), or its own cancel won.
    let value = unsafe { entry.take() };
    match done {
        Some(Done { closed: false, .. }) => Ok(value),
        Some(Done { closed: true, .. }) => Err(Failed::Closed(value)),
        None => {
            chan.dequeue(entry);
            if !stop {
                return Err(Failed::Timeout(value));
            }
            if std::thread::panicking() {
                // A deferred operation of a goroutine that is unwinding: it
                // cannot unwind again, and ends as on a closed channel.
                return Err(Failed::Closed(value));
            }
            drop(value);
            park::unwind()
        }
    }
}

/// The instant `timeout` from now; `None` if that is beyond what `Instant`
/// can count (as good as forever).
fn deadline_in(timeout: Duration) -> Option<Instant> {
    park::now().checked_add(timeout)
}

impl<T> Sender<T> {
    pub(crate) fn from_chan(chan: Arc<Chan<T>>) -> Sender<T> {
        Sender { chan }
    }

    pub(crate) fn chan(&self) -> &Arc<Chan<T>> {
        &self.chan
    }

    /// Sends, waiting until `deadline` at most (`None`: for as long as it
    /// takes).
    fn send_until(
        &self,
        value: T,
        deadline: Option<Instant>,
        site: &'static Location<'static>,
    ) -> Result<(), Failed<T>> {
        let chan = &*self.chan;
        let mut value = value;
        let mut looked = false;
        let entry = loop {
            let mut wakes = Wakes::default();
            let lock = chan.locked();
            // SAFETY: we hold the channel's lock, and no state reference.
            value = match unsafe { chan.try_send_locked(value, &mut wakes) } {
                TrySend::Sent => return Ok(()),
                TrySend::Abandoned(v) => return Err(Failed::Closed(Some(v))),
                TrySend::Full(v) => v,
            };
            if deadline.is_some_and(|d| d <= park::now()) {
                return Err(Failed::Timeout(Some(value)));
            }
            if !looked && chan.worth_a_look() {
                // Full: room may come in a moment (see `Chan::look`).
                looked = true;
                drop(lock);
                drop(wakes);
                chan.look(false);
                continue;
            }
            // SAFETY: as above.
            break unsafe { chan.enqueue_send_locked(None, value) };
        };
        finish_wait(chan, &entry, Wait::ChanSend, site, deadline).map(drop)
    }
}

impl<T> Receiver<T> {
    pub(crate) fn from_chan(chan: Arc<Chan<T>>) -> Receiver<T> {
        Receiver { chan }
    }

    pub(crate) fn chan(&self) -> &Arc<Chan<T>> {
        &self.chan
    }

    /// Receives, waiting until `deadline` at most (`None`: for as long as
    /// it takes). `Ok(None)`: closed and drained.
    fn recv_until(
        &self,
        deadline: Option<Instant>,
        site: &'static Location<'static>,
    ) -> Result<Option<T>, ()> {
        let chan = &*self.chan;
        let mut looked = false;
        let entry = loop {
            let mut wakes = Wakes::default();
            let lock = chan.locked();
            // SAFETY: we hold the channel's lock, and no state reference.
            match unsafe { chan.try_recv_locked(&mut wakes) } {
                TryRecv::Value(v) => return Ok(Some(v)),
                TryRecv::Closed => return Ok(None),
                TryRecv::Empty => {}
            }
            if deadline.is_some_and(|d| d <= park::now()) {
                return Err(());
            }
            if !looked && chan.worth_a_look() {
                // Empty: a value may come in a moment (see `Chan::look`);
                // if it does, it is taken from the buffer.
                looked = true;
                drop(lock);
                drop(wakes);
                chan.look(true);
                continue;
            }
            // SAFETY: as above.
            break unsafe { chan.enqueue_recv_locked(None) };
        };
        match finish_wait(chan, &entry, chan.recv_wait(), site, deadline) {
            Ok(value) => Ok(value),
            Err(Failed::Closed(_)) => Ok(None),
            Err(Failed::Timeout(_)) => Err(()),
        }
    }
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
        match self.send_until(value, None, Location::caller()) {
            Ok(()) => Ok(()),
            Err(Failed::Closed(v) | Failed::Timeout(v)) => {
                Err(SendError(v.expect("a failed send gives its value back")))
            }
        }
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
        let chan = &*self.chan;
        let mut wakes = Wakes::default();
        let _lock = chan.locked();
        // SAFETY: we hold the channel's lock, and no state reference.
        match unsafe { chan.try_send_locked(value, &mut wakes) } {
            TrySend::Sent => Ok(()),
            TrySend::Abandoned(v) => Err(TrySendError::Disconnected(v)),
            TrySend::Full(v) => Err(TrySendError::Full(v)),
        }
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
    #[track_caller]
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        match self.send_until(value, deadline_in(timeout), Location::caller()) {
            Ok(()) => Ok(()),
            Err(Failed::Closed(v)) => Err(SendTimeoutError::Disconnected(
                v.expect("a failed send gives its value back"),
            )),
            Err(Failed::Timeout(v)) => Err(SendTimeoutError::Timeout(
                v.expect("a failed send gives its value back"),
            )),
        }
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
        self.chan.len()
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
        self.chan.cap()
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
        self.len() == 0
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
        self.len() >= self.chan.cap()
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

    pub(super) fn recv_at(&self, site: &'static Location<'static>) -> Option<T> {
        self.recv_until(None, site).unwrap_or(None)
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
        let chan = &*self.chan;
        let mut wakes = Wakes::default();
        let _lock = chan.locked();
        // SAFETY: we hold the channel's lock, and no state reference.
        match unsafe { chan.try_recv_locked(&mut wakes) } {
            TryRecv::Value(v) => Ok(v),
            TryRecv::Closed => Err(TryRecvError::Closed),
            TryRecv::Empty => Err(TryRecvError::Empty),
        }
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
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match self.recv_until(deadline_in(timeout), Location::caller()) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(RecvTimeoutError::Closed),
            Err(()) => Err(RecvTimeoutError::Timeout),
        }
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
        self.chan.len()
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
        self.chan.cap()
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
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    /// The last sender closes the channel: Go's `close(ch)`.
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

/// Two senders are equal when they send on the same channel (Go's channels
/// are comparable).
impl<T> PartialEq for Sender<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Eq for Sender<T> {}

impl<T> Hash for Sender<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.chan).hash(state);
    }
}

/// Two receivers are equal when they receive from the same channel.
impl<T> PartialEq for Receiver<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Eq for Receiver<T> {}

impl<T> Hash for Receiver<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.chan).hash(state);
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.add_receiver();
        Receiver {
            chan: Arc::clone(&self.chan),
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
    // Its one sender is never handed out, so it never closes.
    Receiver::from_chan(Arc::new(Chan::new(0, Flavor::Never)))
}
