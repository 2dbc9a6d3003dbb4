//! What `defer!` lowers onto: a guard that runs a call when dropped.

use std::fmt;
use std::panic::Location;
use std::thread;

use crate::sched::goroutine::Outcome;
use crate::unwind;

/// Runs its call when dropped: at the exit of the block that holds it, on
/// every path, unwinding included.
///
/// A call that panics while the block is already unwinding (a panic, or
/// the cancellation of its goroutine's scope) does not abort the process:
/// its panic is printed, as Go prints a panic raised during a panic, and
/// the first payload goes on unwinding.
#[must_use = "a deferred call runs when this guard is dropped"]
pub struct Defer<F: FnOnce()> {
    call: Option<F>,
    /// Where the `defer!` was written, for the report of a panic while
    /// unwinding.
    site: &'static Location<'static>,
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
        site,
    }
}

impl<F: FnOnce()> Drop for Defer<F> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            if thread::panicking() {
                // A panic escaping a destructor during unwinding aborts the
                // process: catch it (only here, so the common path has no
                // landing pad to set up).
                unwind::run_or_report(&DeferredCall(self.site), call);
            } else {
                call();
            }
        }
    }
}

/// "the deferred call at SITE", for [`unwind::run_or_report`]'s report.
struct DeferredCall(&'static Location<'static>);

impl fmt::Display for DeferredCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the deferred call at {}", self.0)
    }
}

impl<F: FnOnce()> fmt::Debug for Defer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Defer").finish_non_exhaustive()
    }
}
