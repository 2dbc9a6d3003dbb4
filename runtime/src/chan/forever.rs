//! `select! {}`: Go's `select {}`, a select with no cases, which blocks
//! forever.

use std::panic::Location;

use crate::sched::park::{self, Wait};

/// Blocks the current goroutine forever: what `select! {}` lowers to.
///
/// It counts as blocked for deadlock reports (`[select (no cases)]`), and it
/// unwinds like any other goscope wait when the goroutine's scope is
/// cancelled (the owner or a goroutine of the scope panicked, or `main`
/// returned), or when the detector ends a deadlocked test.
#[track_caller]
pub fn select_no_cases() -> ! {
    let waiting = park::wait(
        Wait::SelectNoCases,
        Location::caller(),
        None,
        Vec::new(),
        None,
    );
    park::park_until(&waiting, || false);
    while std::thread::panicking() {
        // A deferred `select! {}` while unwinding has nothing to return and
        // cannot unwind again: it waits for good (the detector reports it).
        std::thread::park();
    }
    drop(waiting);
    park::unwind()
}
