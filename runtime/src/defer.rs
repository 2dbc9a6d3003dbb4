//! What `defer!` lowers onto: a guard that runs a call when dropped.

use std::fmt;
use std::panic::Location;
use std::thread;

use crate::sched::goroutine::Outcome;

/// Runs its call when dropped: at the exit of the block that holds it, on
/// every path, unwinding included.
#[must_use = "a deferred call runs when this guard is dropped"]
pub struct Defer<F: FnOnce()> {
    call: Option<F>,
}

/// Defers `f` to the end of the enclosing block.
///
/// An `Err` outcome becomes a panic naming the `defer!` site; if the block is
/// already unwinding, it is printed instead (a second panic would abort).
#[track_caller]
pub fn defer<F, R>(f: F) -> Defer<impl FnOnce()>
where
    F: FnOnce() -> R,
    R: Outcome,
{
    let site = Location::caller();
    Defer {
        call: Some(move || {
            if let Some(err) = f().failure() {
                if thread::panicking() {
                    eprintln!("deferred call at {site} returned Err({err}) while unwinding");
                } else {
                    panic!("deferred call at {site} returned Err({err})");
                }
            }
        }),
    }
}

impl<F: FnOnce()> Drop for Defer<F> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call();
        }
    }
}

impl<F: FnOnce()> fmt::Debug for Defer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Defer").finish_non_exhaustive()
    }
}
