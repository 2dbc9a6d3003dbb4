//! The scheduler: goroutines, the thread pool that runs them, scopes that
//! join them (`join`: the count-and-join core, model-checked with loom), and
//! the cancellation of scopes (`cancel`), and the OS threads the pool starts
//! (`thread`).
//!
//! `park` is every goroutine's record and its one way to wait: channels,
//! `select!`, `sync`, timers and scopes wait through it, the deadlock
//! detector (`crate::detect`) reads it, and cancellation wakes through it.
//!
//! Dependencies run one way: `scope` → `goroutine` → `pool` → `park` →
//! `cancel`, and `pool` → `thread`; nothing in `sched` imports the
//! detector.

pub(crate) mod bubble;
pub(crate) mod cancel;
pub(crate) mod dump;
pub(crate) mod goroutine;
pub(crate) mod join;
pub(crate) mod park;
pub(crate) mod pool;
pub(crate) mod scope;
pub(crate) mod slot;
pub(crate) mod thread;
