//! Goroutines: identities, the live count, and the pool of OS threads that
//! runs them.
//!
//! Every goroutine has an OS thread of its own while it runs, so blocking
//! is always safe. A thread whose goroutine has finished waits for the next
//! one instead of exiting: `go!` hands a goroutine to an idle thread (a
//! channel send) and creates a thread only when none is idle. Idle threads
//! retire after [`IDLE_TIMEOUT`].

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel as cb;

use crate::detect::{self, GInfo};

/// Live goroutines started by `go!` (roots not included).
static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// Goroutine ids; 1 is main, as in Go's dumps.
static NEXT_ID: AtomicU64 = AtomicU64::new(2);

/// How long a pool thread waits for a new goroutine before it exits.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Returns the number of goroutines that currently exist, main included.
///
/// Go's `runtime.NumGoroutine`. A goroutine counts from the moment `go!`
/// starts it until its function has returned (or unwound); main always
/// counts as one.
///
/// # Examples
///
/// ```
/// use gofer::prelude::*;
///
/// #[gofer::main]
/// fn main() {
///     let (tx, rx) = chan::<()>(0);
///     go!(rx.recv());
///     assert!(gofer::num_goroutine() >= 2); // main and the one above
///     tx.send(()).unwrap();
/// }
/// ```
pub fn num_goroutine() -> usize {
    1 + SPAWNED.load(Ordering::SeqCst)
}

pub(crate) fn spawned() -> usize {
    SPAWNED.load(Ordering::SeqCst)
}

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// What a goroutine's function (or a deferred call) may return.
///
/// Go discards the results of a function started with `go` or `defer`;
/// gofer refuses to lose them silently. A goroutine returns `()`, never
/// returns (`!`), or returns a `Result<(), E>` whose `Err` is turned into a
/// panic carrying the error's `Debug` text, so it reaches the scope owner
/// (or ends the process) like any other goroutine panic.
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

/// A unit of work for a goroutine thread. The job is responsible for calling
/// [`exited`] once the goroutine's function has returned or unwound.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

struct Task {
    job: Job,
    info: GInfo,
    /// The live count of the goroutine's root, for leak checks.
    root_live: Option<detect::LiveToken>,
}

/// The idle threads and the queue that hands them goroutines.
struct Pool {
    /// Threads waiting on `queue` that no `go!` has claimed yet. Invariant:
    /// tasks in the queue + `idle` <= threads waiting on the queue, so every
    /// queued goroutine has a thread of its own coming.
    idle: AtomicUsize,
    tx: cb::Sender<Task>,
    rx: cb::Receiver<Task>,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let (tx, rx) = cb::unbounded();
    Pool {
        idle: AtomicUsize::new(0),
        tx,
        rx,
    }
});

/// Starts a goroutine running `job` on a thread of its own.
pub(crate) fn start(job: Job, go_site: &'static Location<'static>) -> io::Result<()> {
    let mut info = detect::spawner();
    info.id = next_id();
    info.go_site = Some(go_site);
    SPAWNED.fetch_add(1, Ordering::SeqCst);
    let task = Task {
        job,
        info,
        root_live: detect::root_live(),
    };
    let pool = &*POOL;
    // Claim an idle thread, if there is one.
    let mut idle = pool.idle.load(Ordering::Acquire);
    while idle > 0 {
        match pool
            .idle
            .compare_exchange_weak(idle, idle - 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                // The channel is never disconnected: `POOL` owns both ends.
                let _ = pool.tx.send(task);
                return Ok(());
            }
            Err(now) => idle = now,
        }
    }
    let mut builder = thread::Builder::new().name("goroutine".into());
    if let Some(size) = stack_size() {
        builder = builder.stack_size(size);
    }
    match builder.spawn(move || worker(task)) {
        Ok(_) => Ok(()),
        Err(e) => {
            // The task, with the job and the root's count, was dropped.
            SPAWNED.fetch_sub(1, Ordering::SeqCst);
            Err(e)
        }
    }
}

/// `GOFER_STACK_SIZE` (bytes), if set: the stack size of goroutine threads.
/// Rust's default (2 MiB, or `RUST_MIN_STACK`) otherwise; only the pages a
/// goroutine touches count in its memory use.
fn stack_size() -> Option<usize> {
    static SIZE: LazyLock<Option<usize>> = LazyLock::new(|| {
        std::env::var("GOFER_STACK_SIZE")
            .ok()
            .and_then(|s| s.trim().parse().ok())
    });
    *SIZE
}

/// A pool thread: runs its first goroutine, then whatever it is handed,
/// until it has been idle for [`IDLE_TIMEOUT`].
fn worker(first: Task) {
    let slot = detect::register_worker();
    let pool = &*POOL;
    let mut task = first;
    loop {
        detect::begin(&slot, task.info, task.root_live);
        (task.job)();
        if detect::worker_aborted(&slot) {
            // Ended by the deadlock detector: its slot is spent.
            break;
        }
        pool.idle.fetch_add(1, Ordering::AcqRel);
        task = match pool.rx.recv_timeout(IDLE_TIMEOUT) {
            Ok(task) => task,
            Err(_) => {
                // Retire, unless every idle thread has been claimed: then a
                // goroutine is on its way to one of us and we must stay.
                let retired = pool
                    .idle
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok();
                if retired {
                    break;
                }
                match pool.rx.recv() {
                    Ok(task) => task,
                    Err(_) => break,
                }
            }
        };
    }
    detect::unregister_worker(&slot);
}

/// Called by every job once its goroutine's function has finished: from here
/// on the goroutine no longer counts in [`num_goroutine`].
pub(crate) fn exited() {
    detect::end();
    SPAWNED.fetch_sub(1, Ordering::SeqCst);
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
        if let Err(payload) = result {
            if payload.is::<detect::Deadlocked>() {
                // Ended by the deadlock detector in a test, which fails with
                // the report.
                return;
            }
            // The panic hook has already printed the message and location.
            eprintln!("fatal: a detached goroutine panicked; exiting with status 2");
            std::process::exit(2);
        }
    });
    if let Err(e) = start(job, Location::caller()) {
        panic!("go!: failed to start a goroutine: {e}");
    }
}
