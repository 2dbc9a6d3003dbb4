//! Go's goroutine dump on `SIGQUIT` (Ctrl-\) under `#[goscope::main]`.
//!
//! Go's runtime catches `SIGQUIT`, prints `SIGQUIT: quit`, every goroutine
//! (its state, where it waits, who created it) and exits with status 2
//! (`sighandler` in `src/runtime/signal_unix.go`). goscope does the same
//! from a thread of its own that waits for the signal (through
//! `signal-hook`, which keeps the handler itself to the async-signal-safe
//! minimum), so the dump is built outside the handler, with locks and
//! allocation allowed: it is [`describe`](super::describe)'s, as in a
//! deadlock report.

use std::sync::Once;
use std::thread;

use signal_hook::consts::SIGQUIT;
use signal_hook::iterator::Signals;

/// Starts, once per process, the thread that prints the goroutine dump and
/// exits with status 2 when the process receives `SIGQUIT`. If the handler
/// cannot be installed, `SIGQUIT` keeps its default action (the process
/// ends with a core dump), as without goscope.
pub(crate) fn dump_on_sigquit() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        // Registered here, on the calling thread, so the signal is caught
        // from now on; the thread only waits for it.
        let Ok(mut signals) = Signals::new([SIGQUIT]) else {
            return;
        };
        let _ = thread::Builder::new()
            .name("goscope SIGQUIT".into())
            .spawn(move || {
                super::own_thread();
                if signals.forever().next().is_some() {
                    let dump = super::describe(|_| true);
                    eprintln!("SIGQUIT: quit\n\n{dump}");
                    crate::trace::fatal("SIGQUIT", &dump);
                    std::process::exit(2);
                }
            });
    });
}
