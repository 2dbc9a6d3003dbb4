//! `select! {}`: Go's `select {}`, a select with no cases, which blocks
//! forever.

use std::panic::Location;

use crate::detect::{self, Wait};

/// Blocks the current goroutine forever: what `select! {}` lowers to.
///
/// It counts as blocked for deadlock reports, and it unwinds like any other
/// goscope wait when the goroutine's scope is cancelled (the owner or a
/// goroutine of the scope panicked, or `main` returned), or when the
/// detector ends a deadlocked test.
#[track_caller]
pub fn select_no_cases() -> ! {
    let site = Location::caller();
    detect::block(Wait::Select, site, None, |_| {
        loop {
            // Checked before each park: a cancellation that came before
            // this wait began has nothing to wake, and an `unpark` between
            // the check and the park makes the park return at once.
            if detect::aborted() {
                detect::abort();
            }
            std::thread::park();
        }
    })
}
