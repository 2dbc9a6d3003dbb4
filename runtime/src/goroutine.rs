//! Goroutines: identities, the live count, and starting them on OS threads.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;

/// Live goroutines, main included: Go always has its main goroutine.
static LIVE: AtomicUsize = AtomicUsize::new(1);

/// Goroutine ids; 1 is main, as in Go's dumps.
static NEXT_ID: AtomicU64 = AtomicU64::new(2);

thread_local! {
    /// The id of the goroutine running on this thread, 0 on threads gofer did not start.
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// Returns the number of goroutines that currently exist, main included.
///
/// Go's `runtime.NumGoroutine`. A goroutine counts from the moment `go!`
/// starts it until its function has returned (or unwound).
///
/// # Examples
///
/// ```
/// use gofer::prelude::*;
///
/// let before = gofer::num_goroutine();
/// let (tx, rx) = chan::<()>(0);
/// go!(move || { rx.recv(); });
/// assert!(gofer::num_goroutine() > before - 1);
/// tx.send(()).unwrap();
/// ```
pub fn num_goroutine() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// What a goroutine's function (or a deferred call) may return.
///
/// Go discards the results of a function started with `go` or `defer`;
/// gofer refuses to lose them silently. A goroutine returns `()`, or a
/// `Result<(), E>` whose `Err` is turned into a panic carrying the error's
/// `Debug` text, so it reaches the scope owner (or ends the process) like any
/// other goroutine panic.
///
/// # Examples
///
/// ```
/// use gofer::prelude::*;
///
/// fn work(tx: Sender<i32>) -> Result<(), gofer::SendError<i32>> {
///     tx.send(1)
/// }
///
/// #[gofer::main]
/// fn main() {
///     let (tx, rx) = chan(1);
///     go!(work(tx));
///     assert_eq!(rx.recv(), Some(1));
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "a goroutine or deferred call must return `()` or `Result<(), E>`, not `{Self}`",
    label = "this value would be silently dropped",
    note = "Go discards these results; gofer does not lose values silently: send the value on a channel, or end the call with `;` inside `go! {{ ... }}`"
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

/// Runs a goroutine's function, turning an `Err` outcome into a panic.
pub(crate) fn run<R: Outcome>(f: impl FnOnce() -> R) {
    if let Some(err) = f().failure() {
        panic!("goroutine returned Err({err})");
    }
}

/// The id of the goroutine running on this thread, if gofer started it.
pub(crate) fn current_id() -> Option<u64> {
    match CURRENT.with(Cell::get) {
        0 => None,
        id => Some(id),
    }
}

/// Marks this thread as Go's main goroutine (goroutine 1) for as long as the
/// guard lives.
pub(crate) fn enter_main() -> MainGuard {
    let previous = CURRENT.with(|c| c.replace(1));
    MainGuard { previous }
}

/// Restores the thread's previous goroutine identity.
pub(crate) struct MainGuard {
    previous: u64,
}

impl Drop for MainGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// A unit of work for a goroutine thread. The job is responsible for calling
/// [`exited`] once the goroutine's function has returned or unwound.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// Starts a goroutine running `job` on its own OS thread.
pub(crate) fn start(job: Job, _go_site: &'static Location<'static>) -> io::Result<()> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    LIVE.fetch_add(1, Ordering::SeqCst);
    let spawned = thread::Builder::new()
        .name(format!("goroutine {id}"))
        .spawn(move || {
            CURRENT.with(|c| c.set(id));
            job();
        });
    match spawned {
        Ok(_) => Ok(()),
        Err(e) => {
            LIVE.fetch_sub(1, Ordering::SeqCst);
            Err(e)
        }
    }
}

/// Called by every job once its goroutine's function has finished: from here
/// on the goroutine no longer counts in [`num_goroutine`].
pub(crate) fn exited() {
    LIVE.fetch_sub(1, Ordering::SeqCst);
}

/// Starts a detached goroutine: Go's `go` outside any scope.
///
/// It owns everything it uses and ends when the process ends. If it panics,
/// the panic message is printed and the process exits with status 2, as Go's
/// runtime does.
#[track_caller]
pub fn go_detached<F, R>(f: F)
where
    F: FnOnce() -> R + Send + 'static,
    R: Outcome,
{
    let job: Job = Box::new(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(|| run(f)));
        exited();
        if result.is_err() {
            // The panic hook has already printed the message and location.
            let id = current_id().unwrap_or(0);
            eprintln!("fatal: goroutine {id} panicked; exiting with status 2");
            std::process::exit(2);
        }
    });
    if let Err(e) = start(job, Location::caller()) {
        panic!("go!: failed to start a goroutine: {e}");
    }
}
