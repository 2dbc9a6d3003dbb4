//! What `#[goscope::main]` and `#[goscope::test]` expand to call: the
//! program's or the test's root goroutine, inside a scope.

use std::panic::{self, AssertUnwindSafe};
use std::process::Termination;
use std::time::Duration;

use crate::detect;
use crate::sched::scope::{Scope, main_body, scope};

/// What `#[goscope::main(..)]` and `#[goscope::test(..)]` were given.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Whether the deadlock detector watches this program or test.
    pub deadlock: bool,
    /// Whether a test fails when it ends with goroutines still running.
    pub leak_check: bool,
    /// Whether a test's body runs in a synctest bubble.
    pub synctest: bool,
}

/// Runs `main`'s body as goroutine 1 inside a scope; on Unix, `SIGQUIT`
/// prints the goroutine dump and exits with status 2, as in Go.
///
/// When the body returns, the program ends as in Go: the goroutines still
/// waiting in goscope are cancelled, and the process does not wait for
/// those busy in other code (see `sched::scope::main_body`).
#[track_caller]
pub fn main<'env, F, T>(config: Config, f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
    T: Termination,
{
    let root = detect::enter_root(true, config.deadlock);
    #[cfg(unix)]
    detect::dump_on_sigquit();
    let result = panic::catch_unwind(AssertUnwindSafe(|| main_body(f)));
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
    let root = detect::enter_root(false, config.deadlock);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        if config.synctest {
            crate::synctest::run(|| scope(f))
        } else {
            scope(f)
        }
    }));
    crate::trace::finish();
    if let Some(report) = root.take_report() {
        panic!("{report}");
    }
    let value = match result {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
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

/// How long a test waits for its detached goroutines to end by themselves
/// before calling them leaked.
const LEAK_PATIENCE: Duration = Duration::from_millis(500);
