//! Go's concurrency model as a Rust DSL.
//!
//! goscope gives Rust the `go` statement, `select`, `defer`, channels,
//! `sync.WaitGroup`, `context`, `errgroup` and Go's timers, lowered onto
//! scoped OS threads and [crossbeam-channel](https://docs.rs/crossbeam-channel).
//! A Go program ports line by line:
//!
//! ```
//! use goscope::prelude::*;
//!
//! fn worker(id: usize, jobs: Receiver<i32>, results: Sender<i32>) {
//!     for j in &jobs {
//!         results.send(j * 2).unwrap();
//!     }
//!     let _ = id;
//! }
//!
//! #[goscope::main]
//! fn main() {
//!     let (jobs_tx, jobs) = chan(100);
//!     let (results, results_rx) = chan(100);
//!     for w in 1..=3 {
//!         go!(worker(w, jobs.clone(), results.clone()));
//!     }
//!     for j in 1..=5 {
//!         jobs_tx.send(j).unwrap();
//!     }
//!     drop(jobs_tx); // close(jobs)
//!     drop(results);
//!     let sum: i32 = results_rx.iter().sum();
//!     assert_eq!(sum, 30);
//! }
//! ```
//!
//! # From Go to goscope
//!
//! | Go | goscope |
//! | --- | --- |
//! | `go f(x)` | [`go!(f(x))`](go!) |
//! | `go func() { ... }()` | `go! { ... }` |
//! | `go f(x)` in a function that returns without waiting for it | [`go!(static f(x))`](go!) |
//! | `ch := make(chan T, n)` | `let (tx, rx) = chan::<T>(n);` ([`chan`]) |
//! | `ch <- v` | `tx.send(v)` ([`Sender::send`]) |
//! | `v, ok := <-ch` | `let v = rx.recv();` (`Option<T>`, [`Receiver::recv`]) |
//! | `for v := range ch` | `for v in &rx` |
//! | `close(ch)` | `drop(tx)` (the last [`Sender`]) |
//! | `select { case v := <-ch: ... }` | [`select! { v = <-rx => ... }`](select!) |
//! | a `select` case on a channel nobody closes | [`Some(v) = <-rx => ...`](select!) (off once `rx` closes) |
//! | `ch = nil` to turn a `select` case off | a refutable pattern, or [`never()`](fn@never) |
//! | `defer f(x)` | [`defer!(f(x))`](defer!) |
//! | `var wg sync.WaitGroup` | `let wg = WaitGroup::new();` ([`WaitGroup`]) |
//! | `time.After(d)`, `time.Tick(d)` | [`after(d)`](after), [`tick(d)`](tick) |
//! | `time.NewTimer(d)`, `time.NewTicker(d)`, `time.AfterFunc(d, f)` | [`time::Timer::new(d)`](time::Timer::new), [`time::Ticker::new(d)`](time::Ticker::new), [`time::after_func(d, f)`](time::after_func) |
//! | `context.Background()`, `context.WithCancel(ctx)`, `WithTimeout`, `WithDeadline` | [`context::Context::background()`](context::Context::background), [`ctx.with_cancel()`](context::Context::with_cancel), [`with_timeout`](context::Context::with_timeout), [`with_deadline`](context::Context::with_deadline) |
//! | `errgroup.Group`, `errgroup.WithContext(ctx)` | [`errgroup::Group::new()`](errgroup::Group::new), [`errgroup::Group::with_context(&ctx)`](errgroup::Group::with_context) |
//! | `sync.Mutex`, `sync.RWMutex` | [`sync::Mutex`], [`sync::RwLock`] (Rust's guards, no poisoning, seen by deadlock reports) |
//! | `sync.Once`, `sync/atomic`, `sync.Cond` | [`std::sync::OnceLock`], [`std::sync::atomic`], [`std::sync::Condvar`] |
//! | a package-level channel | `static CH: LazyLock<(Sender<T>, Receiver<T>)> = LazyLock::new(\|\| chan(n));` |
//! | a nil channel | [`never()`](fn@never) |
//! | `runtime.NumGoroutine()` | [`num_goroutine()`](num_goroutine) |
//! | `runtime.Gosched()` | [`std::thread::yield_now()`](std::thread::yield_now) |
//! | `func main()` | `#[goscope::main] fn main()` |
//!
//! # Where goscope differs from Go, and why
//!
//! - **Goroutines started inside `#[goscope::main]`, `#[goscope::scoped]` or
//!   `#[goscope::test]` are scoped**: they may borrow the function's locals,
//!   and the function returns only once all of them have finished. Go lets
//!   `main` return under running goroutines and relies on a garbage
//!   collector for everything they touch; Rust's borrow checker needs the
//!   join to prove the borrows sound. Elsewhere `go!` starts a detached
//!   goroutine that owns its data, as in Go.
//! - **A channel closes when its last [`Sender`] is dropped.** There is no
//!   `close`, so a send on a closed channel and a double close, both run-time
//!   panics in Go, do not compile. A goroutine that owned a sender closes
//!   its channel when it returns, even where the Go original never closes
//!   it: in `select!`, `Some(v) = <-rx` turns that arm off instead of taking
//!   the closed channel's `None` again and again.
//! - **`defer!` runs at the end of the enclosing block**, Rust's unit of
//!   cleanup, not at function exit. At the top level of a function the two
//!   are the same.
//! - **`break` and `continue` in a `select!` arm act on the enclosing loop**,
//!   as in a `match`; in Go, `break` ends the `select` itself.
//! - **Data races do not compile**: a goroutine that mutates what another
//!   uses needs a `Mutex` or an atomic, as the borrow checker demands.
//! - **Results are not lost**: a goroutine's function returns `()` or
//!   `Result<(), E>` ([`Outcome`]); an `Err` is raised as a panic, and a
//!   scoped goroutine's panic resumes in the function that owns the scope
//!   with its original payload.
//!
//! # Deadlocks and leaks
//!
//! Under `#[goscope::main]`, when every goroutine is blocked in a goscope
//! operation that only another goroutine could complete, the program prints
//! Go's `fatal error: all goroutines are asleep - deadlock!` with one entry
//! per goroutine (what it waits on, where, and which `go!` started it) and
//! exits with status 2. Under `#[goscope::test]` the test fails with that
//! report, and a test that returns while goroutines it started still run
//! fails with a leak report (`#[goscope::test(leak_check = "off")]` opts out).
//! The detector never mistakes sleeping, computing, I/O or `std::sync`
//! waits for blocking, and stays silent while any thread goscope did not start
//! is alive (it could hold a channel end). It reports about 250 ms after the
//! last goroutine blocks; `GOSCOPE_DEADLOCK=off` or
//! `#[goscope::main(deadlock = "off")]` turns it off.
#![forbid(unsafe_op_in_unsafe_fn)]
// Under loom (`.ci/loom`) `WaitGroup` waits without the deadlock detector.
#![cfg_attr(loom, allow(dead_code))]

mod chan;
pub mod context;
mod defer;
mod detect;
pub mod errgroup;
mod prim;
mod sched;
pub mod sync;
pub mod time;
mod unwind;

pub use crate::chan::{
    IntoIter, Iter, Receiver, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryIter,
    TryRecvError, TrySendError, chan, never,
};
pub use crate::sched::goroutine::{Outcome, num_goroutine};
pub use crate::sched::scope::Scope;
pub use crate::sync::WaitGroup;
pub use crate::time::{after, sleep, tick};

#[doc(inline)]
pub use goscope_macros::{defer, go, main, scoped, select, test};

pub use std::time::Duration;

/// Locks `mutex`, ignoring poison: goscope's own locks guard plain data that
/// a panic cannot leave half-written.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Everything a goscope program uses: `use goscope::prelude::*;`.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::main]
/// fn main() {
///     let (tx, rx) = chan(1);
///     go!(tx.send("hello"));
///     select! {
///         v = <-rx => assert_eq!(v, Some("hello")),
///         <-after(Duration::from_secs(5)) => panic!("timed out"),
///     }
/// }
/// ```
pub mod prelude {
    pub use crate::{
        Duration, Receiver, Sender, WaitGroup, after, chan, defer, go, never, select, sleep, tick,
    };
}

/// What macro expansions name. Not public API: it changes with
/// `goscope-macros`, which is pinned to this crate's exact version.
#[doc(hidden)]
pub mod __private {
    pub use crate::chan::select::{
        Accept, Always, Arm, Matching, RecvArm, RecvOperand, SendArm, SendOperand, select,
        send_value,
    };
    pub use crate::defer::{Defer, defer};
    pub use crate::sched::goroutine::go_detached;
    pub use crate::sched::scope::{Scope, scope};

    /// What `#[goscope::main(..)]` and `#[goscope::test(..)]` were given.
    #[derive(Debug, Clone, Copy)]
    pub struct Config {
        /// Whether the deadlock detector watches this program or test.
        pub deadlock: bool,
        /// Whether a test fails when it ends with goroutines still running.
        pub leak_check: bool,
    }

    /// Runs `main`'s body as goroutine 1 inside a scope; on Unix, `SIGQUIT`
    /// prints the goroutine dump and exits with status 2, as in Go.
    #[track_caller]
    pub fn main<'env, F, T>(config: Config, f: F) -> T
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
    {
        let root = crate::detect::enter_root(true, config.deadlock);
        #[cfg(unix)]
        crate::detect::dump_on_sigquit();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scope(f))) {
            Ok(value) => value,
            Err(_) => {
                // The panic hook has printed the message and location. As in
                // Go, a panic that reaches main ends the program with status
                // 2, whatever detached goroutines are still doing.
                drop(root);
                eprintln!("fatal: main panicked; exiting with status 2");
                std::process::exit(2)
            }
        }
    }

    /// Runs a test's body as a root goroutine inside a scope; fails the test
    /// with the deadlock report if the detector ended it, or with a leak
    /// report if goroutines it started are still running at its end.
    #[track_caller]
    pub fn test<'env, F, T>(config: Config, f: F) -> T
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
    {
        let root = crate::detect::enter_root(false, config.deadlock);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scope(f)));
        if let Some(report) = root.take_report() {
            panic!("{report}");
        }
        let value = match result {
            Ok(value) => value,
            Err(payload) => std::panic::resume_unwind(payload),
        };
        if config.leak_check {
            if let Some(leaked) = root.leaked(LEAK_PATIENCE) {
                panic!(
                    "the test returned while goroutines it started are still running (leaked):\n\n{leaked}\n\
                     help: end them before the test returns (close the channels they wait on, \
                     or cancel them with a done channel), or opt out with \
                     #[goscope::test(leak_check = \"off\")]"
                );
            }
        }
        value
    }

    /// How long a test waits for its detached goroutines to end by
    /// themselves before calling them leaked.
    const LEAK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

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
}
