//! The scheduler: goroutines, the thread pool that runs them, and scopes
//! that join them.
//!
//! Dependencies run one way: `scope` → `goroutine` → `pool` → the detector.

pub(crate) mod cancel;
pub(crate) mod goroutine;
pub(crate) mod join;
pub(crate) mod pool;
pub(crate) mod scope;
