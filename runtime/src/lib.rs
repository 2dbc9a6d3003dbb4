#![doc = include_str!("../README.md")]
#![forbid(unsafe_op_in_unsafe_fn)]
// Under loom (`.ci/loom`) `WaitGroup` waits without the deadlock detector.
#![cfg_attr(loom, allow(dead_code))]

mod chan;
pub mod context;
mod defer;
mod detect;
pub mod errgroup;
pub mod guide;
mod prim;
mod sched;
pub mod sync;
pub mod time;
mod trace;

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
        Accept, Always, Arm, Locked, Matching, Poll, RecvArm, RecvOperand, SendArm, SendOperand,
        select, select_no_cases, send_value,
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
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scope(f)));
        crate::trace::finish();
        match result {
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
        crate::trace::finish();
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
