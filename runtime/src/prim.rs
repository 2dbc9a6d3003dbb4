//! The synchronisation primitives of the two cores that loom model-checks:
//! `WaitGroup` (`sync/wait_group.rs`) and a scope's count-and-join
//! (`sched/join.rs`). They are std's, or loom's when built with
//! `RUSTFLAGS="--cfg loom"` (see `.ci/loom`). Nothing else in the crate uses
//! this module, so nothing else changes under loom.

#[cfg(not(loom))]
pub(crate) use std::sync::{
    Arc, Condvar, Mutex, MutexGuard,
    atomic::{AtomicIsize, AtomicUsize},
};
#[cfg(not(loom))]
pub(crate) use std::thread::{Thread, current, park};

#[cfg(loom)]
pub(crate) use ::loom::sync::{
    Arc, Condvar, Mutex, MutexGuard,
    atomic::{AtomicIsize, AtomicUsize},
};
#[cfg(loom)]
pub(crate) use ::loom::thread::{Thread, current, park};

#[cfg(not(loom))]
pub(crate) use crate::lock::lock;

/// Locks loom's `mutex`, ignoring poison (as [`crate::lock`] does for std's).
#[cfg(loom)]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits on `cond`, ignoring poison.
pub(crate) fn wait<'a, T>(cond: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cond.wait(guard)
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
