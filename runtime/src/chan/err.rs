//! What channel operations return when they cannot complete: each error
//! that holds an unsent value gives it back with `into_inner`, and every
//! error has the same `is_*` predicates.

use std::error::Error;
use std::fmt;

#[cfg(doc)]
use super::{Receiver, Sender};

/// A send failed because every [`Receiver`] is gone and the value would
/// have had to wait (an unbuffered channel, or a full buffer); the value is
/// inside.
///
/// # Examples
///
/// ```
/// let (tx, rx) = goscope::chan(0);
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
    /// let (tx, rx) = goscope::chan(0);
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
    /// Whether the send would have had to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = goscope::chan(0);
    /// assert!(tx.try_send(1).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether every receiver is gone (and the value would have had to
    /// wait).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goscope::chan(0);
    /// drop(rx);
    /// assert!(tx.try_send(1).unwrap_err().is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        matches!(self, TrySendError::Disconnected(_))
    }

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

    /// Whether every receiver is gone (and the value would have had to
    /// wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, rx) = chan(0);
    /// drop(rx);
    /// assert!(tx.send_timeout(1, Duration::ZERO).unwrap_err().is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        matches!(self, SendTimeoutError::Disconnected(_))
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

impl TryRecvError {
    /// Whether no value was waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = goscope::chan::<u8>(1);
    /// assert!(rx.try_recv().unwrap_err().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// Whether the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goscope::chan::<u8>(1);
    /// drop(tx);
    /// assert!(rx.try_recv().unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryRecvError::Closed)
    }
}

impl RecvTimeoutError {
    /// Whether no value arrived in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (_tx, rx) = chan::<u8>(1);
    /// assert!(rx.recv_timeout(Duration::ZERO).unwrap_err().is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }

    /// Whether the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let (tx, rx) = chan::<u8>(1);
    /// drop(tx);
    /// assert!(rx.recv_timeout(Duration::ZERO).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, RecvTimeoutError::Closed)
    }
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
