//! Iterating over a channel: Go's `for v := range ch`.

use std::fmt;
use std::panic::Location;

use super::Receiver;

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
    pub(super) rx: &'a Receiver<T>,
    /// Where the loop is, for deadlock reports.
    pub(super) site: &'static Location<'static>,
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
    pub(super) rx: &'a Receiver<T>,
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
    pub(super) rx: Receiver<T>,
    pub(super) site: &'static Location<'static>,
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
