//! A scope's count and join: the core of `scope.rs` without the lifetime
//! erasure, small enough to be model-checked with loom (`prim/models/join.rs`).
//!
//! Each `go!` into the scope counts one goroutine in ([`Join::spawned`]);
//! each goroutine counts itself out exactly once, as its last access to the
//! scope ([`Join::finished`]); the owner parks until the count is zero
//! ([`Join::wait`]). A goroutine that panicked hands its payload over first
//! ([`Join::record_panic`]): the first is kept for the owner, every later one
//! is reported on stderr and dropped, and its drop can never unwind.

use std::any::Any;
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use crate::prim::{self, AtomicUsize, Mutex, Thread};

/// A panic payload, as `catch_unwind` returns it.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// The goroutine count and first panic of one scope, and the thread that
/// waits for them.
pub(crate) struct Join {
    /// Goroutines spawned into the scope that have not finished yet.
    running: AtomicUsize,
    /// The first panic payload of a goroutine of this scope.
    panic: Mutex<Option<Payload>>,
    /// The thread that waits in [`Join::wait`] for `running` to reach zero.
    owner: Thread,
}

impl Join {
    /// A join owned by the current thread: only it may call [`Join::wait`].
    pub(crate) fn new() -> Self {
        Join {
            running: AtomicUsize::new(0),
            panic: Mutex::new(None),
            owner: prim::current(),
        }
    }

    /// Counts a goroutine in, before it is started.
    pub(crate) fn spawned(&self) {
        self.running.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a goroutine out. Called exactly once per [`Join::spawned`], as
    /// the goroutine's very last access to anything the scope's owner may
    /// free once [`Join::wait`] returns.
    /// Returns whether it was the last one.
    pub(crate) fn finished(&self) -> bool {
        // Release: everything the goroutine did happens before the owner's
        // Acquire load sees the count it leaves.
        let last = self.running.fetch_sub(1, Ordering::Release) == 1;
        if last {
            // `self` is kept alive by the caller's `Arc`, not by the count.
            self.owner.unpark();
        }
        last
    }

    /// The goroutines counted in and not yet out.
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Parks the owner until every goroutine has finished. Never unwinds.
    pub(crate) fn wait(&self) {
        while self.running() != 0 {
            // A stale token or a spurious wake-up only costs one more look.
            prim::park();
        }
    }

    /// Hands over the panic payload of goroutine `goroutine` (its id; 0 if
    /// unknown). The first payload is kept for the owner; a panic that the
    /// runtime itself started to end a goroutine (see [`is_runtime_unwind`])
    /// gives way to a real one. Every other payload is dropped, after a
    /// line on stderr that names the goroutine and the panic's message (or
    /// says that it has none): no panic vanishes silently, even one raised
    /// with `resume_unwind`, which the panic hook never sees. Never unwinds,
    /// not even when the dropped payload's `Drop` panics.
    pub(crate) fn record_panic(&self, payload: Payload, goroutine: u64) {
        let (dropped, report) = {
            let mut slot = prim::lock(&self.panic);
            match slot.as_deref() {
                None => {
                    *slot = Some(payload);
                    return;
                }
                Some(kept) if is_runtime_unwind(kept) && !is_runtime_unwind(&*payload) => {
                    (slot.replace(payload), false)
                }
                Some(_) => {
                    let report = !is_runtime_unwind(&*payload);
                    (Some(payload), report)
                }
            }
        };
        let Some(dropped) = dropped else { return };
        if report {
            report_dropped(&*dropped, goroutine);
        }
        drop_payload(dropped);
    }

    /// Takes the kept payload, if any goroutine panicked.
    pub(crate) fn take_panic(&self) -> Option<Payload> {
        prim::lock(&self.panic).take()
    }
}

/// Whether `payload` is the runtime's own unwinding that ends a goroutine
/// (the deadlock detector's, in tests), not a panic of the user's: those are
/// dropped without a word.
fn is_runtime_unwind(payload: &(dyn Any + Send)) -> bool {
    crate::sched::park::is_quiet(payload)
}

/// The message of a `panic!`-style payload.
pub(crate) fn message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Prints one line about a payload that will not reach the owner. Never
/// panics (a closed stderr is ignored).
fn report_dropped(payload: &(dyn Any + Send), goroutine: u64) {
    let mut line = String::from("goscope: ");
    let _ = match goroutine {
        0 => write!(line, "a goroutine"),
        id => write!(line, "goroutine {id}"),
    };
    let _ = match message(payload) {
        Some(msg) => write!(line, " panicked with {msg:?}"),
        None => write!(line, " panicked with a payload that is not a string"),
    };
    line.push_str(
        " after another goroutine of its scope; only the first panic resumes in the owner, \
         this one is dropped\n",
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Drops a payload that is not resumed anywhere. Its `Drop` may panic: that
/// panic is caught here (the panic hook has printed it), so it can never
/// unwind out of the goroutine's job past the bookkeeping that follows. The
/// drop is run rather than skipped so that the payload's memory and side
/// effects are not lost in the normal case; only the payload of the drop's
/// own panic is leaked, since dropping it could panic again, and so on.
fn drop_payload(payload: Payload) {
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}
