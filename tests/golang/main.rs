//! Go's own channel and lock tests, and the tests of Go's `context`,
//! `errgroup` and `time` packages ([`context_test`], [`errgroup_test`],
//! [`sleep_test`]), ported to goscope.
//!
//! One module per program of Go's test suite (`test/chan/*.go`,
//! `test/closedchan.go`, `test/chancap.go`, `test/fixedbugs/issue4313.go`,
//! `src/sync/mutex_test.go`, `src/sync/rwmutex_test.go`),
//! each crediting its origin, plus [`chan_test`]: stress tests written after
//! the ideas of Go's `src/runtime/chan_test.go`. Every port checks the facts
//! the Go program checks, through goscope's DSL (`go!`, `select!`, `defer!`,
//! `chan`, `#[goscope::test]`), so each one exercises the runtime and the
//! macros together.
//!
//! Go's programs sometimes rely on "this blocks forever". A port cannot wait
//! forever, so it waits [`BLOCKED`] (0.1 s, as Go's `select3.go` does) and
//! then releases or abandons the operation so that nothing leaks or hangs:
//! either the blocking operation carries its own bound (`recv_timeout`, an
//! `<-after(..)` arm) or [`always_blocks`] runs it in a goroutine and
//! unblocks it once the check is made.
//!
//! Where Go's behaviour is a run-time panic that goscope rules out at compile
//! time (a send on a closed channel, closing twice, a send on a
//! receive-only channel), the port says so at the place where Go tests it;
//! the trybuild UI suite (`tests/ui/`) proves those programs do not compile.

use std::panic::{self, AssertUnwindSafe};

use goscope::RecvTimeoutError;
use goscope::prelude::*;

mod chan_test;
mod chancap;
mod closedchan;
mod context_test;
mod doubleselect;
mod errgroup_test;
mod fifo;
mod goroutines;
mod issue4313;
mod mutex_test;
mod rwmutex_test;
mod select;
mod select3;
mod select6;
mod select7;
mod select8;
mod sieve1;
mod sleep_test;
mod synctest_test;

// `BLOCKED`: how long an operation must stay blocked to count as "blocks
// forever" (0.1 s, as Go's `select3.go`). `PATIENCE`: how long an operation
// that must not block may take before it counts as blocked.
use tests::{BLOCKED, PATIENCE};

/// Go's `testBlock(always, f)`: runs `op` in a goroutine and checks that it
/// is still blocked after [`BLOCKED`]; then calls `release`, which must
/// unblock it, and returns what `op` returned once released.
///
/// # Panics
///
/// If `op` finished (or panicked) before the deadline.
#[goscope::scoped]
fn always_blocks<T: Send>(what: &str, op: impl FnOnce() -> T + Send, release: impl FnOnce()) -> T {
    let (done_tx, done) = chan(1);
    go! {
        // If `op` panics, `done_tx` is dropped unsent and `done` closes.
        let _ = done_tx.send(op());
    }
    let early = done.recv_timeout(BLOCKED);
    release();
    match early {
        Err(RecvTimeoutError::Timeout) => {}
        Ok(_) => panic!("{what}: finished within {BLOCKED:?}, but it must block"),
        Err(RecvTimeoutError::Closed) => panic!("{what}: panicked instead of blocking"),
    }
    match done.recv() {
        Some(value) => value,
        None => panic!("{what}: panicked once released"),
    }
}

/// Go's `testBlock(never, f)`: runs `op` in a goroutine and checks that it
/// finishes within [`PATIENCE`], returning its value; a panic in `op`
/// resumes here.
///
/// The goroutine is detached, not scoped: if `op` wrongly blocks on a
/// channel nobody can release (a [`never`] channel), the test fails instead
/// of waiting forever to join it.
///
/// # Panics
///
/// If `op` panics or is still blocked after [`PATIENCE`].
fn never_blocks<T: Send + 'static>(what: &str, op: impl FnOnce() -> T + Send + 'static) -> T {
    let (done_tx, done) = chan(1);
    go! {
        let _ = done_tx.send(panic::catch_unwind(AssertUnwindSafe(op)));
    }
    match done.recv_timeout(PATIENCE) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("{what}: still blocked after {PATIENCE:?}, but it must not block"),
    }
}

/// A stand-in for Go's nil channel on the sending side: a [`Sender`] whose
/// receivers are all gone. goscope has no nil `Sender` ([`never`] gives only
/// a `Receiver`), but a send arm on such a sender is never ready in
/// `select!`, which is what Go's `c = nil` is used for. (A direct `send` on
/// it returns `Err` at once, where a send on Go's nil channel blocks.)
fn nil_sender<T>() -> Sender<T> {
    let (tx, _) = chan(0);
    tx
}

#[goscope::test]
fn helpers_can_fail() {
    // The helpers must be able to fail, or the ports that use them prove
    // nothing.
    let (tx, rx) = chan::<i32>(1);
    tx.send(1).unwrap();
    let ready = panic::catch_unwind(AssertUnwindSafe(|| {
        always_blocks("a ready receive", || rx.recv(), || ())
    }));
    assert!(
        ready.is_err(),
        "always_blocks accepted a receive that did not block"
    );
    let panicked = panic::catch_unwind(|| never_blocks("a panic", || panic!("boom")));
    assert!(panicked.is_err(), "never_blocks lost a panic");
    // And they pass what they should.
    assert_eq!(
        always_blocks(
            "a receive nobody feeds",
            || rx.recv(),
            || tx.send(5).unwrap()
        ),
        Some(5)
    );
    assert_eq!(never_blocks("a plain value", move || 7), 7);
}
