//! Go's `sync.RWMutex`, with Rust's guards.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::waiter::{self, Kind, Queue, Waiter, Wake};
use crate::sched::park::{self, Interrupt, Wait};

// The state word: the low 30 bits count the readers holding the lock, or
// are all ones (`WRITE_LOCKED`) while a writer holds it; the two high bits
// say that readers or writers wait in the queue. The waiting bits are set
// and cleared only under the queue mutex, and while one is set no goroutine
// takes the lock by the fast path: the queue's owner hands it over.
const MASK: u32 = (1 << 30) - 1;
const WRITE_LOCKED: u32 = MASK;
const MAX_READERS: u32 = MASK - 1;
const READERS_WAITING: u32 = 1 << 30;
const WRITERS_WAITING: u32 = 1 << 31;
const WAITING: u32 = READERS_WAITING | WRITERS_WAITING;

/// Whether a reader may take the lock by the fast path from `state`: no
/// writer holds it, and nobody waits (Go: a waiting writer keeps new
/// readers out, so a stream of readers cannot starve it).
#[inline]
fn read_lockable(state: u32) -> bool {
    state & MASK < MAX_READERS && state & WAITING == 0
}

/// A reader/writer lock protecting a `T`: Go's `sync.RWMutex`, with the data
/// inside, as Rust's [`std::sync::RwLock`] has it.
///
/// Any number of goroutines may hold it for reading ([`read`](RwLock::read),
/// Go's `RLock`), or one for writing ([`write`](RwLock::write), Go's
/// `Lock`). Each returns a guard that releases the lock when dropped. As in
/// Go, a writer waiting for the lock keeps new readers out, so readers
/// cannot starve it; when a writer releases the lock, the readers waiting
/// at that moment go first, so writers cannot starve readers either. (So,
/// as in Go, a goroutine must not read-lock again while it holds a read
/// lock: a writer that came in between would deadlock both.)
///
/// The lock is never poisoned: `read` and `write` return the guard itself.
/// A goroutine waiting for it counts as blocked for the deadlock detector,
/// reported as `[sync.RWMutex.RLock]` or `[sync.RWMutex.Lock]` with the
/// location of the call.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use goscope::sync::RwLock;
///
/// #[goscope::main]
/// fn main() {
///     let config = &RwLock::new(String::from("v1"));
///     for _ in 0..3 {
///         go! { assert!(config.read().starts_with('v')); }
///     }
///     go! { *config.write() = String::from("v2"); }
/// }
/// ```
///
/// A lock of data that cannot be shared between threads cannot be shared
/// itself:
///
/// ```compile_fail
/// let lock = goscope::sync::RwLock::new(std::cell::Cell::new(1));
/// std::thread::scope(|s| {
///     s.spawn(|| lock.read().get());
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    /// The goroutines waiting for it are in a table shared by all locks
    /// ([`waiter::queue`]), keyed by its address.
    state: AtomicU32,
    data: UnsafeCell<T>,
}

/// The waiting bits that say who is queued.
fn bits(queue: &Queue) -> u32 {
    let mut bits = 0;
    if !queue.is_empty(Kind::Read) {
        bits |= READERS_WAITING;
    }
    if !queue.is_empty(Kind::Write) {
        bits |= WRITERS_WAITING;
    }
    bits
}

// SAFETY: the lock owns its `T`. Read guards give out `&T` to any number of
// threads at once (the reader count is nonzero while they live, so no
// writer can hold it): sharing needs `T: Sync`; a write guard gives `&mut T`
// to one thread while the state is `WRITE_LOCKED` (no reader, no other
// writer): sharing needs `T: Send`. Both as for `std::sync::RwLock`. Tested
// by `tests/tests/sync.rs` and the ports in `tests/golang/rwmutex_test.rs`
// (readers share, writers exclude).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Holds an [`RwLock`] locked for reading; releases it when dropped.
///
/// Not `Send`, like `std`'s:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// let lock = goscope::sync::RwLock::new(1);
/// send(lock.read());
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<std::sync::RwLockReadGuard<'a, T>>,
}

/// Holds an [`RwLock`] locked for writing; releases it when dropped.
///
/// Not `Send`, like `std`'s:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// let lock = goscope::sync::RwLock::new(1);
/// send(lock.write());
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<std::sync::RwLockWriteGuard<'a, T>>,
}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`. Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::sync::RwLock;
    ///
    /// static NAMES: RwLock<Vec<&str>> = RwLock::new(Vec::new());
    /// NAMES.write().push("gopher");
    /// assert_eq!(NAMES.read().len(), 1);
    /// ```
    pub const fn new(value: T) -> Self {
        RwLock {
            state: AtomicU32::new(0),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns its data.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = goscope::sync::RwLock::new(1);
    /// *lock.write() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, waiting while a writer holds the lock or waits
    /// for it: Go's `rw.RLock()`. Released when the guard is dropped.
    ///
    /// While it waits, the goroutine counts as blocked in
    /// `[sync.RWMutex.RLock]` at the caller's location for deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = goscope::sync::RwLock::new(5);
    /// let a = lock.read();
    /// let b = lock.read(); // readers share
    /// assert_eq!(*a + *b, 10);
    /// ```
    #[inline]
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let state = self.state.load(Ordering::Relaxed);
        if !(read_lockable(state)
            && self
                .state
                .compare_exchange_weak(state, state + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok())
        {
            self.read_contended(Location::caller());
        }
        RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Locks for reading if that needs no wait: Go's `rw.TryRLock()`.
    ///
    /// Returns `None` while a writer holds the lock or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = goscope::sync::RwLock::new(0);
    /// let w = lock.write();
    /// assert!(lock.try_read().is_none());
    /// drop(w);
    /// assert!(lock.try_read().is_some());
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |s| {
                read_lockable(s).then(|| s + 1)
            })
            .ok()
            .map(|_| RwLockReadGuard {
                lock: self,
                _marker: PhantomData,
            })
    }

    /// Locks for writing, waiting until no reader or writer holds it: Go's
    /// `rw.Lock()`. Released when the guard is dropped.
    ///
    /// While it waits, the goroutine counts as blocked in
    /// `[sync.RWMutex.Lock]` at the caller's location for deadlock reports,
    /// and new readers wait behind it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = goscope::sync::RwLock::new(vec![1]);
    /// lock.write().push(2);
    /// assert_eq!(*lock.read(), [1, 2]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        if self
            .state
            .compare_exchange(0, WRITE_LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.write_contended(Location::caller());
        }
        RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Locks for writing if that needs no wait: Go's `rw.TryLock()`.
    ///
    /// Returns `None` while anyone holds the lock or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = goscope::sync::RwLock::new(0);
    /// let r = lock.read();
    /// assert!(lock.try_write().is_none());
    /// drop(r);
    /// assert!(lock.try_write().is_some());
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.state
            .compare_exchange(0, WRITE_LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| RwLockWriteGuard {
                lock: self,
                _marker: PhantomData,
            })
    }

    /// Returns a mutable reference to the data: the `&mut` proves nobody
    /// else holds the lock, so no locking is needed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = goscope::sync::RwLock::new(1);
    /// *lock.get_mut() = 3;
    /// assert_eq!(*lock.read(), 3);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Its queue of waiters, locked.
    fn waiters(&self) -> Queue {
        waiter::queue(std::ptr::from_ref(self).cast::<()>() as usize)
    }

    #[inline]
    fn read_unlock(&self) {
        let state = self.state.fetch_sub(1, Ordering::Release) - 1;
        // The last reader out, with goroutines queued: hand the lock over.
        if state & MASK == 0 && state & WAITING != 0 {
            self.dispatch(false);
        }
    }

    #[inline]
    fn write_unlock(&self) {
        let state = self.state.fetch_sub(WRITE_LOCKED, Ordering::Release) - WRITE_LOCKED;
        if state != 0 {
            self.dispatch(true);
        }
    }

    #[cold]
    #[inline(never)]
    fn read_contended(&self, site: &'static Location<'static>) {
        // Spin briefly while nobody waits: a writer holding the lock for a
        // few instructions lets go sooner than a thread can sleep.
        for _ in 0..100 {
            std::hint::spin_loop();
            if self.try_read_raw() {
                return;
            }
        }
        let waiter = Waiter::new();
        let interrupt: Arc<dyn Interrupt> = waiter.clone();
        park::block(Wait::RwLockRLock, site, Some(interrupt), |abort| {
            {
                let mut queue = self.waiters();
                let mut state = self.state.load(Ordering::Relaxed);
                loop {
                    // Under the queue mutex, queued readers do not matter:
                    // whoever queued them is about to let them in.
                    if state & MASK < MAX_READERS && state & WRITERS_WAITING == 0 {
                        match self.state.compare_exchange_weak(
                            state,
                            state + 1,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => return,
                            Err(now) => state = now,
                        }
                    } else {
                        match self.state.compare_exchange_weak(
                            state,
                            state | READERS_WAITING,
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => break,
                            Err(now) => state = now,
                        }
                    }
                }
                queue.push_back(Kind::Read, &waiter);
            }
            // Readers are never woken to retry: the lock is handed to them.
            match waiter.park(abort) {
                Wake::Granted | Wake::Retry => {}
                Wake::Aborted => {
                    self.leave(&waiter, true);
                    park::unwind();
                }
            }
        });
    }

    /// One attempt at the reader's fast path.
    fn try_read_raw(&self) -> bool {
        let state = self.state.load(Ordering::Relaxed);
        read_lockable(state)
            && self
                .state
                .compare_exchange(state, state + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    #[cold]
    #[inline(never)]
    fn write_contended(&self, site: &'static Location<'static>) {
        for _ in 0..100 {
            std::hint::spin_loop();
            if self.state.load(Ordering::Relaxed) == 0
                && self
                    .state
                    .compare_exchange(0, WRITE_LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
        }
        let waiter = Waiter::new();
        let interrupt: Arc<dyn Interrupt> = waiter.clone();
        park::block(Wait::RwLockLock, site, Some(interrupt), |abort| {
            {
                let mut queue = self.waiters();
                let mut state = self.state.load(Ordering::Relaxed);
                loop {
                    let (new, order) = if state == 0 {
                        (WRITE_LOCKED, Ordering::Acquire)
                    } else {
                        (state | WRITERS_WAITING, Ordering::Relaxed)
                    };
                    match self
                        .state
                        .compare_exchange_weak(state, new, order, Ordering::Relaxed)
                    {
                        Ok(_) if state == 0 => return,
                        Ok(_) => break,
                        Err(now) => state = now,
                    }
                }
                queue.push_back(Kind::Write, &waiter);
            }
            match waiter.park(abort) {
                Wake::Granted | Wake::Retry => {}
                Wake::Aborted => {
                    self.leave(&waiter, false);
                    park::unwind();
                }
            }
        });
    }

    /// Hands the lock to whoever waits and may have it now, and sets the
    /// waiting bits to match the queue. Called when a holder leaves with
    /// waiting bits set, and when a waiter gives up. `writer_left`: a writer
    /// just released the lock, so the readers waiting go first (Go's rule:
    /// readers and writers alternate when both wait).
    #[cold]
    #[inline(never)]
    fn dispatch(&self, writer_left: bool) {
        enum Grant {
            Nobody,
            Writer,
            Readers,
        }
        let mut queue = self.waiters();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let held = state & MASK;
            let (new, grant) = if held == WRITE_LOCKED {
                // A writer holds it: its unlock comes back here.
                (WRITE_LOCKED | bits(&queue), Grant::Nobody)
            } else if held == 0
                && !queue.is_empty(Kind::Write)
                && (!writer_left || queue.is_empty(Kind::Read))
            {
                let more = if queue.len(Kind::Write) > 1 {
                    WRITERS_WAITING
                } else {
                    0
                };
                let readers = if queue.is_empty(Kind::Read) {
                    0
                } else {
                    READERS_WAITING
                };
                (WRITE_LOCKED | more | readers, Grant::Writer)
            } else if !queue.is_empty(Kind::Read) && (held == 0 || queue.is_empty(Kind::Write)) {
                let writers = if queue.is_empty(Kind::Write) {
                    0
                } else {
                    WRITERS_WAITING
                };
                let count = held + queue.len(Kind::Read) as u32;
                (count | writers, Grant::Readers)
            } else {
                // Readers hold it and a writer waits (the last reader out
                // comes back here), or nobody waits.
                (held | bits(&queue), Grant::Nobody)
            };
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    match grant {
                        Grant::Nobody => {}
                        Grant::Writer => {
                            if let Some(w) = queue.pop_front(Kind::Write) {
                                w.grant();
                            }
                        }
                        Grant::Readers => queue.drain(Kind::Read).iter().for_each(|r| r.grant()),
                    }
                    return;
                }
                Err(now) => state = now,
            }
        }
    }

    /// An aborted waiter leaves: out of the queue if it is still there;
    /// otherwise it was handed the lock, and gives it back.
    #[cold]
    fn leave(&self, waiter: &Arc<Waiter>, reader: bool) {
        let queued = self.waiters().remove(waiter);
        match queued {
            // Its leaving may let others in (readers behind a writer that
            // gave up), and its bit may have to go.
            true => self.dispatch(false),
            false if reader => self.read_unlock(),
            false => self.write_unlock(),
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the lock is held for reading while this guard lives: no
        // writer, so no `&mut T`, exists (see `RwLock`'s `Sync`).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.read_unlock();
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the lock is held for writing by this guard alone.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held for writing by this guard alone, and
        // `&mut self` makes this the only reference derived from it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}
