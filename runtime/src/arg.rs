//! Helpers that macro expansions call on the values they evaluate early:
//! a `go!` or `defer!` call's arguments, and a `select!`'s arms.

/// Ends the arms of a `select!` before the chosen body runs (their
/// borrows of the channels, and any unsent value).
#[inline(always)]
pub fn release<T>(_arms: T) {}

/// An argument evaluated where `go!` or `defer!` was written, moved
/// into the call when it runs.
#[derive(Debug)]
pub struct Arg<T>(pub T);

impl<T> Arg<T> {
    /// Moves the value out. Taking `self` makes a non-`move` closure
    /// capture the whole `Arg` by value, even when `T` is `Copy`.
    #[inline(always)]
    pub fn take(self) -> T {
        self.0
    }
}
