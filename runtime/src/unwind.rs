//! Code that runs while its thread is already unwinding: a deferred call,
//! a value goscope drops for the program.
//!
//! Rust aborts the process when a panic escapes a destructor that runs
//! during unwinding: one thread cannot unwind two payloads at once. Go
//! instead prints a panic raised during a panic after the first one
//! (`panic: first [recovered]` / `panic: second` in its traceback) and goes
//! on. goscope does what Rust allows of that: the second panic is caught
//! where it happens and printed, and the first payload (a panic, or a
//! scope's cancellation) goes on unwinding, so it still reaches whoever
//! waits for it. Nothing here costs anything while the thread is not
//! unwinding: the check is [`thread::panicking`], one relaxed load of a
//! global counter.

use std::any::Any;
use std::fmt;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::thread;

/// Drops `value`. If the thread is already unwinding, the drop runs under
/// [`catch_unwind`](panic::catch_unwind) and a panic from it is printed
/// (see [`report`]) instead of aborting the process; the thread goes on
/// unwinding with its own payload.
///
/// For the values goscope drops on the program's behalf: the unsent value
/// of a cancelled send, a value a `select!` pattern refused.
// Called by the channel code (issue 17, item 7).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn drop_or_report<T>(value: T) {
    if thread::panicking() {
        run_or_report(&Dropping(std::any::type_name::<T>()), move || drop(value));
    } else {
        drop(value);
    }
}

/// Runs `f`, which the caller runs while the thread is unwinding (check
/// [`thread::panicking`] first: off that path, call `f` directly, where a
/// panic is an ordinary one). A panic from `f` is caught and printed as
/// `what`'s; it never escapes, so the unwinding in progress goes on.
pub(crate) fn run_or_report(what: &dyn fmt::Display, f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        report(what, payload);
    }
}

/// Prints a panic caught in `what` while its thread was unwinding, then
/// disposes of its payload. Two lines on stderr, after the panic hook's own
/// (which has printed the message and its location):
///
/// ```text
/// panic: second [recovered]
///     raised in the deferred call at src/main.rs:7:5 while the thread was already unwinding (a panic or a cancellation); that unwinding goes on
/// ```
fn report(what: &dyn fmt::Display, payload: Box<dyn Any + Send>) {
    let message = message(&*payload);
    // Not `eprintln!`: it panics when stderr is gone, and a panic here would
    // be the abort this module exists to prevent.
    let _ = writeln!(
        std::io::stderr(),
        "panic: {message} [recovered]\n\traised in {what} while the thread was already \
         unwinding (a panic or a cancellation); that unwinding goes on"
    );
    // A payload may itself panic when dropped: that one is dropped again
    // under `catch_unwind`, and a payload that panics even so is leaked.
    if let Err(worse) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(worse);
    }
}

/// A panic payload's message, as the panic hook prints it.
fn message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

/// "the drop of a `T`", for [`drop_or_report`]'s reports.
#[cfg_attr(not(test), allow(dead_code))]
struct Dropping(&'static str);

impl fmt::Display for Dropping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the drop of a `{}`", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Panics with "second" when dropped, counting its drops.
    struct PanicsOnDrop<'a>(&'a AtomicUsize);

    impl Drop for PanicsOnDrop<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            panic!("second");
        }
    }

    /// Calls `drop_or_report` on a value that panics when dropped, from the
    /// destructor of a guard that runs while "first" unwinds.
    struct DropsWhileUnwinding<'a>(Option<PanicsOnDrop<'a>>);

    impl Drop for DropsWhileUnwinding<'_> {
        fn drop(&mut self) {
            assert!(thread::panicking());
            drop_or_report(self.0.take());
        }
    }

    #[test]
    fn a_panicking_drop_during_unwinding_is_caught_and_the_first_panic_goes_on() {
        let drops = AtomicUsize::new(0);
        // Without `drop_or_report` this aborts the test binary ("panic in a
        // destructor during cleanup").
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            let _guard = DropsWhileUnwinding(Some(PanicsOnDrop(&drops)));
            panic!("first");
        }));
        let payload = result.expect_err("the first panic must reach catch_unwind");
        assert_eq!(message(&*payload), "first");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn outside_unwinding_a_panicking_drop_is_an_ordinary_panic() {
        let drops = AtomicUsize::new(0);
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            drop_or_report(PanicsOnDrop(&drops));
        }));
        let payload = result.expect_err("the drop's panic must propagate");
        assert_eq!(message(&*payload), "second");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_quiet_drop_is_just_a_drop() {
        let value = std::rc::Rc::new(1);
        let kept = std::rc::Rc::clone(&value);
        drop_or_report(value);
        assert_eq!(std::rc::Rc::strong_count(&kept), 1);
    }

    #[test]
    fn messages_are_read_from_str_and_string_payloads() {
        assert_eq!(message(&"static"), "static");
        assert_eq!(message(&String::from("owned")), "owned");
        assert_eq!(message(&42_u8), "Box<dyn Any>");
        assert_eq!(
            Dropping("alloc::string::String").to_string(),
            "the drop of a `alloc::string::String`"
        );
    }
}
