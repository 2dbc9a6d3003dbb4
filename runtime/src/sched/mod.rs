//! The scheduler: goroutines, the thread pool that runs them, scopes that
//! join them (`join`: the count-and-join core, model-checked with loom), and
//! the cancellation of scopes (`cancel`), and the OS threads the pool starts
//! (`thread`).
//!
//! Dependencies run one way: `scope` → `goroutine` → `pool` → the detector
//! → `cancel`, a leaf that imports nothing of goscope's; `pool` → `thread`.

pub(crate) mod cancel;
pub(crate) mod goroutine;
pub(crate) mod join;
pub(crate) mod pool;
pub(crate) mod scope;
pub(crate) mod thread;
