//! Goroutines: identities, the live count, and starting them.

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};

use std::sync::Arc;

use crate::sched::cancel::Cancellable;
use crate::sched::park;
use crate::sched::pool::{self, Job, Task};

/// Returns the number of goroutines that currently exist, main included.
///
/// Go's `runtime.NumGoroutine`. A goroutine counts from the moment `go!`
/// starts it until its function has returned (or unwound); main always
/// counts as one.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::main]
/// fn main() {
///     let (tx, rx) = chan::<()>(0);
///     go! {
///         rx.recv();
///     }
///     assert!(goscope::num_goroutine() >= 2); // main and the one above
///     tx.send(()).unwrap();
/// }
/// ```
pub fn num_goroutine() -> usize {
    1 + park::spawned()
}

/// What a goroutine's function (or a deferred call) may return.
///
/// Go discards the results of a function started with `go` or `defer`;
/// goscope refuses to lose them silently. A goroutine returns `()`, never
/// returns (`!`), or returns a `Result<(), E>` whose `Err` is turned into a
/// panic carrying the error's `Debug` text, so it reaches the scope owner
/// (or ends the process) like any other goroutine panic.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// fn work(tx: Sender<i32>) -> Result<(), goscope::SendError<i32>> {
///     tx.send(1)
/// }
///
/// #[goscope::main]
/// fn main() {
///     let (tx, rx) = chan(1);
///     go!(work(tx));
///     assert_eq!(rx.recv(), Some(1));
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "a goroutine or deferred call must return `()` or `Result<(), E>`, not `{Self}`",
    label = "this value would be silently dropped",
    note = "Go discards these results; goscope does not lose values silently: send the value on a channel, or discard it in a block: `go! {{ let _ = f(); }}`, `defer! {{ let _ = f(); }}`"
)]
pub trait Outcome: sealed::Sealed {
    /// `None` when the call succeeded, else the error's `Debug` text.
    #[doc(hidden)]
    fn failure(self) -> Option<String>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl<E: std::fmt::Debug> Sealed for Result<(), E> {}
    impl Sealed for super::Never {}
}

/// Names the never type `!` on stable Rust, so that a goroutine that never
/// returns (`go!(move || loop { .. })`) is accepted: in edition 2024 its
/// closure's return type is `!`.
pub trait FnOutput {
    /// The function's return type.
    type Output;
}

impl<T> FnOutput for fn() -> T {
    type Output = T;
}

/// The never type, `!`.
type Never = <fn() -> ! as FnOutput>::Output;

#[diagnostic::do_not_recommend]
impl Outcome for Never {
    fn failure(self) -> Option<String> {
        self
    }
}

impl Outcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Debug> Outcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| format!("{e:?}"))
    }
}

/// Runs a goroutine's function, turning an `Err` outcome into a panic whose
/// message names the `go!` that started it (`go_site`): the panic's own
/// location is goscope's.
pub(crate) fn run<R: Outcome>(f: impl FnOnce() -> R, go_site: &'static Location<'static>) {
    if let Some(err) = f().failure() {
        panic!("goroutine returned Err({err}) (started by go! at {go_site})");
    }
}

/// Starts a goroutine running `job` on a thread of its own.
pub(crate) fn start(
    job: Job,
    go_site: &'static Location<'static>,
    token: Option<Arc<dyn Cancellable>>,
) -> io::Result<()> {
    let mut info = park::spawner();
    info.id = park::next_id();
    info.go_site = Some(go_site);
    crate::trace::go(info.id, go_site);
    park::spawning();
    let task = Task {
        job,
        info,
        root_live: park::root_live(),
        token,
    };
    pool::hand_off(task).inspect_err(|_| {
        // The task, with the job and the root's count, was dropped.
        park::exiting();
    })
}

/// Called by every job once its goroutine's function has finished: from here
/// on the goroutine no longer counts in [`num_goroutine`].
pub(crate) fn exited() {
    park::end_goroutine();
    park::exiting();
}

/// Calls [`exited`] when dropped: a job holds one so that its goroutine is
/// counted out however the job ends, even by unwinding.
pub(crate) struct Exited;

impl Drop for Exited {
    fn drop(&mut self) {
        exited();
    }
}

/// The id of the goroutine running on this thread (as in reports); 0 on a
/// thread that is not a goroutine.
pub(crate) fn current_id() -> u64 {
    // The parent a goroutine started here would have is this one.
    park::spawner().parent
}

/// Starts a detached goroutine: Go's `go` outside any scope.
///
/// It owns everything it uses and ends when the process ends. If it panics,
/// the panic message is printed and the process exits with status 2, as Go's
/// runtime does.
#[track_caller]
pub fn go_detached<F, R>(f: F)
where
    // One bound a line: rustc quotes the line of the one not met.
    F: FnOnce() -> R
        + Send // runs on another thread
        + 'static, // detached (fn not #[goscope::scoped], or go!(static)): nothing waits for it: move/clone/Arc its data
    R: Outcome,
{
    let go_site = Location::caller();
    let job: Job = Box::new(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(|| run(f, go_site)));
        exited();
        if let Err(payload) = result {
            if park::is_quiet(&*payload) {
                // Ended by the deadlock detector in a test, which fails with
                // the report, or by the cancellation of a scope it owned,
                // whose panic was printed where it happened.
                return;
            }
            // The panic hook has already printed the message and location.
            eprintln!("fatal: a detached goroutine panicked; exiting with status 2");
            crate::trace::finish();
            std::process::exit(2);
        }
    });
    if let Err(e) = start(job, Location::caller(), None) {
        panic!("go!: cannot start a goroutine: {e}");
    }
}
