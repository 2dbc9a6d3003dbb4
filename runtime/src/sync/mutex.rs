//! Go's `sync.Mutex`, with Rust's guard.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::waiter::{self, Kind, Queue, Waiter, Wake};
use crate::sched::park::{self, Interrupt, Wait};

/// Unlocked.
const UNLOCKED: u32 = 0;
/// Locked, and nobody waits.
const LOCKED: u32 = 1;
/// Locked, and goroutines may be waiting: unlocking must look at the queue.
const CONTENDED: u32 = 2;

/// A mutual exclusion lock protecting a `T`: Go's `sync.Mutex`, with the
/// data inside, as Rust's [`std::sync::Mutex`] has it.
///
/// [`lock`](Mutex::lock) returns a guard; the lock is released when the guard
/// is dropped (Go's `defer mu.Unlock()`). Unlike `std`'s, the lock is never
/// poisoned: a goroutine that panics while holding it just releases it, as in
/// Go, so `lock` returns the guard itself, not a `Result`.
///
/// A goroutine waiting for the lock counts as blocked for the deadlock
/// detector: if every goroutine ends up waiting, the program prints Go's
/// `fatal error: all goroutines are asleep - deadlock!`, each waiter listed
/// as `[sync.Mutex.Lock]` with the source location of its `lock()` call.
/// Waiters are served in order, and one that has waited more than 1 ms is
/// handed the lock directly, so a goroutine that keeps relocking cannot
/// starve the others (Go's starvation mode).
///
/// The uncontended `lock`/unlock is one compare-and-swap and one swap, as
/// `std`'s; only a goroutine that must wait touches the detector.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use goscope::sync::Mutex;
///
/// #[goscope::main]
/// fn main() {
///     let counter = Mutex::new(0);
///     let wg = WaitGroup::new();
///     // `go! { .. }` moves what it names: share by reference.
///     let (counter, wg) = (&counter, &wg);
///     for _ in 0..10 {
///         wg.add(1);
///         go! {
///             defer!(wg.done());
///             *counter.lock() += 1;
///         }
///     }
///     wg.wait();
///     assert_eq!(*counter.lock(), 10);
/// }
/// ```
///
/// The data cannot be reached without the lock, and a `Mutex` of data that
/// cannot move between threads cannot be shared between them:
///
/// ```compile_fail
/// let lock = goscope::sync::Mutex::new(std::rc::Rc::new(1));
/// std::thread::scope(|s| {
///     s.spawn(|| drop(lock.lock()));
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    /// The goroutines waiting for it are in a table shared by all locks
    /// ([`waiter::queue`]), keyed by its address: a `Mutex` is its state
    /// word and its data, as `std`'s.
    state: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex owns its `T` and hands out access to it only through a
// guard, and at most one guard exists at a time (`state` is `LOCKED` or
// `CONTENDED` from the acquiring compare-and-swap, swap or hand-over until
// the guard's drop releases it): so sending the mutex sends the `T`, and
// sharing it lets one thread at a time reach the `T`, which needs only
// `T: Send`, as for `std::sync::Mutex`. Tested by `tests/tests/sync.rs`
// (`mutex_excludes_under_contention`) and the ports in
// `tests/golang/mutex_test.rs`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Holds a [`Mutex`] locked; releases it when dropped. Gives access to the
/// data through [`Deref`] and [`DerefMut`].
///
/// Like `std`'s guard it cannot be sent to another thread (it must be
/// released by the goroutine that locked it):
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// let lock = goscope::sync::Mutex::new(1);
/// send(lock.lock());
/// ```
///
/// nor shared with one when the data cannot be:
///
/// ```compile_fail
/// fn share<T: Sync>(_: &T) {}
/// let lock = goscope::sync::Mutex::new(std::cell::Cell::new(1));
/// share(&lock.lock());
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    /// `std`'s guard's auto traits: never `Send`, `Sync` only for a `T:
    /// Sync`.
    _marker: PhantomData<std::sync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`. Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::sync::Mutex;
    ///
    /// static HITS: Mutex<u64> = Mutex::new(0);
    /// *HITS.lock() += 1;
    /// assert_eq!(*HITS.lock(), 1);
    /// ```
    pub const fn new(value: T) -> Self {
        Mutex {
            state: AtomicU32::new(UNLOCKED),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns its data.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = goscope::sync::Mutex::new(vec![1]);
    /// lock.lock().push(2);
    /// assert_eq!(lock.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting until it is free: Go's `mu.Lock()`. The lock
    /// is held until the returned guard is dropped.
    ///
    /// While it waits, the goroutine counts as blocked in
    /// `[sync.Mutex.Lock]` at the caller's location for deadlock reports.
    /// Locking a mutex the goroutine already holds waits forever, as in Go
    /// (and is reported as a deadlock if nothing else can run).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    /// use goscope::sync::Mutex;
    ///
    /// #[goscope::main]
    /// fn main() {
    ///     let seen = &Mutex::new(Vec::new());
    ///     for i in 0..3 {
    ///         go! { seen.lock().push(i); }
    ///     }
    ///     go! {
    ///         let mut seen = seen.lock(); // held until the end of the block
    ///         seen.push(10);
    ///         seen.push(11); // no other push can come in between
    ///     }
    /// }
    /// ```
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended(Location::caller());
        }
        MutexGuard::new(self)
    }

    /// Locks the mutex if it is free, without waiting: Go's `mu.TryLock()`.
    ///
    /// Returns `None` if another guard holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = goscope::sync::Mutex::new(0);
    /// let guard = lock.lock();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| MutexGuard::new(self))
    }

    /// Returns a mutable reference to the data: the `&mut` proves nobody
    /// else holds the lock, so no locking is needed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = goscope::sync::Mutex::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(*lock.lock(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Its queue of waiters, locked.
    fn waiters(&self) -> Queue {
        waiter::queue(std::ptr::from_ref(self).cast::<()>() as usize)
    }

    /// Releases the lock (the guard's drop).
    #[inline]
    fn unlock(&self) {
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            self.unlock_contended();
        }
    }

    /// The lock is taken: queue up and sleep until it is ours.
    #[cold]
    #[inline(never)]
    fn lock_contended(&self, site: &'static Location<'static>) {
        // Spin briefly first: a lock held for a few instructions is free
        // again sooner than a thread can sleep and wake.
        for _ in 0..100 {
            std::hint::spin_loop();
            if self.state.load(Ordering::Relaxed) == UNLOCKED
                && self
                    .state
                    .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
        }
        let waiter = Waiter::new();
        let interrupt: Arc<dyn Interrupt> = waiter.clone();
        park::block(Wait::MutexLock, site, Some(interrupt), |abort| {
            let mut woken_before = false;
            loop {
                {
                    let mut waiters = self.waiters();
                    // Taking the lock as `CONTENDED` (not knowing whether
                    // others wait) makes its unlock look at the queue.
                    if self.state.swap(CONTENDED, Ordering::Acquire) == UNLOCKED {
                        return;
                    }
                    // Marked `CONTENDED` under the queue mutex: the holder's
                    // unlock will find this waiter in the queue.
                    waiter.rearm();
                    if woken_before {
                        // Go's rule: a waiter that lost the race after being
                        // woken goes back to the front.
                        waiters.push_front(Kind::Lock, &waiter);
                    } else {
                        waiters.push_back(Kind::Lock, &waiter);
                    }
                }
                match waiter.park(abort) {
                    Wake::Granted => return,
                    Wake::Retry => woken_before = true,
                    Wake::Aborted => {
                        self.leave(&waiter);
                        park::unwind();
                    }
                }
            }
        });
    }

    /// The lock was released with goroutines (possibly) waiting: wake the
    /// first, or hand it the lock if it has waited too long.
    #[cold]
    #[inline(never)]
    fn unlock_contended(&self) {
        let mut waiters = self.waiters();
        let Some(first) = waiters.front(Kind::Lock) else {
            return;
        };
        if !first.starving() {
            // Let it race for the lock with goroutines arriving now.
            let first = waiters.pop_front(Kind::Lock);
            first.into_iter().for_each(|w| w.wake());
            return;
        }
        // Hand the lock over. Between this thread's unlock and here a
        // newcomer may have taken it: then mark it contended, so that its
        // unlock comes here and hands it over instead.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let (new, order) = match state {
                UNLOCKED => (CONTENDED, Ordering::Acquire),
                LOCKED => (CONTENDED, Ordering::Relaxed),
                _ => return,
            };
            match self
                .state
                .compare_exchange(state, new, order, Ordering::Relaxed)
            {
                Ok(UNLOCKED) => {
                    if let Some(w) = waiters.pop_front(Kind::Lock) {
                        w.grant();
                    }
                    return;
                }
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
    }

    /// An aborted waiter leaves: out of the queue if it is still there;
    /// otherwise it was woken or handed the lock, which passes to the next.
    #[cold]
    fn leave(&self, waiter: &Arc<Waiter>) {
        let mut waiters = self.waiters();
        if waiters.remove(waiter) {
            // Out of the queue, not woken: nothing else to do.
        } else if waiter.granted() {
            drop(waiters);
            self.unlock();
        } else if let Some(next) = waiters.pop_front(Kind::Lock) {
            // It was woken to retry: pass that wake-up on.
            next.wake();
        }
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    fn new(lock: &'a Mutex<T>) -> Self {
        MutexGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock (see `Mutex`'s `Send`/`Sync`):
        // no `&mut T` exists elsewhere while it lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, and `&mut self` makes this the
        // only reference derived from it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}
