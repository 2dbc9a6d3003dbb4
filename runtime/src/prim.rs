//! The synchronisation primitives of the small concurrent cores that loom
//! model-checks: `WaitGroup` (`sync/wait_group.rs`), a scope's
//! count-and-join (`sched/join.rs`) and the channel itself (`chan/core.rs`:
//! its lock, state cell, counts and wait records). They are std's, or
//! loom's when built with `RUSTFLAGS="--cfg loom"` (see `.ci/loom`); outside
//! loom every name here is std's own (or, for [`UnsafeCell`], a wrapper that
//! compiles to it), so the normal build is unchanged. Nothing else in the
//! crate uses this module, so nothing else changes under loom.
//!
//! The models themselves, and their one `model()` helper, are in
//! [`models`] (only in a `--cfg loom` test build).

#[cfg(not(loom))]
pub(crate) use std::hint::spin_loop;
#[cfg(not(loom))]
pub(crate) use std::sync::{
    Arc, Condvar, Mutex, MutexGuard,
    atomic::{AtomicIsize, AtomicUsize},
};
#[cfg(not(loom))]
pub(crate) use std::thread::{Thread, current, park};

#[cfg(loom)]
pub(crate) use ::loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use ::loom::hint::spin_loop;
#[cfg(loom)]
pub(crate) use ::loom::sync::{
    Arc, Condvar, Mutex, MutexGuard,
    atomic::{AtomicIsize, AtomicUsize},
};
#[cfg(loom)]
pub(crate) use ::loom::thread::{Thread, current, park};

#[cfg(all(test, loom))]
mod models;

/// A channel's lock (see `chan/core.rs`): a test-and-test-and-set spin lock
/// that yields its CPU while another thread holds it. A channel's critical
/// sections are a few dozen instructions, and goroutines are OS threads,
/// often more of them than CPUs: a thread that sleeps on a futex when the
/// holder was preempted pays two context switches for what is over in
/// nanoseconds, where yielding lets the holder finish. Uncontended, it is
/// one compare-and-swap and one release store (std's `Mutex` unlocks with
/// a swap).
#[cfg(not(loom))]
#[derive(Debug)]
pub struct ChanLock {
    locked: std::sync::atomic::AtomicBool,
}

/// Holds a [`ChanLock`] until dropped.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct ChanGuard<'a>(&'a ChanLock);

#[cfg(not(loom))]
impl ChanLock {
    /// An unlocked lock.
    pub(crate) const fn new() -> ChanLock {
        ChanLock {
            locked: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Takes the lock.
    #[inline]
    pub(crate) fn lock(&self) -> ChanGuard<'_> {
        use std::sync::atomic::Ordering::{Acquire, Relaxed};
        if self
            .locked
            .compare_exchange_weak(false, true, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        ChanGuard(self)
    }

    #[cold]
    fn lock_contended(&self) {
        use std::sync::atomic::Ordering::{Acquire, Relaxed};
        let mut spins = 0u32;
        loop {
            while self.locked.load(Relaxed) {
                if spins < 64 {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Acquire, Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

#[cfg(not(loom))]
impl Drop for ChanGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0
            .locked
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Under loom a channel's lock is loom's `Mutex`, so the models see it.
#[cfg(loom)]
#[derive(Debug)]
pub struct ChanLock(Mutex<()>);

/// Holds a [`ChanLock`] until dropped.
#[cfg(loom)]
pub(crate) type ChanGuard<'a> = MutexGuard<'a, ()>;

#[cfg(loom)]
impl ChanLock {
    pub(crate) fn new() -> ChanLock {
        ChanLock(Mutex::new(()))
    }

    pub(crate) fn lock(&self) -> ChanGuard<'_> {
        lock(&self.0)
    }
}

/// std's `UnsafeCell` with loom's API (`with_mut`), so one spelling serves
/// both builds: under loom each access is checked against the others.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the contents (loom's `with_mut`).
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

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
