//! Go's `sync.WaitGroup`.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering;

use crate::prim::{self, Arc, AtomicIsize, Condvar, Mutex};
use crate::sched::goroutine::{self, Outcome};
#[cfg(not(loom))]
use crate::sched::park::{self, Interrupt, Wait};

/// Waits for a collection of goroutines to finish: Go's `sync.WaitGroup`.
///
/// [`add`](WaitGroup::add) the number of goroutines to wait for, have each
/// call [`done`](WaitGroup::done) when it finishes (usually with
/// `defer!(wg.done())`), and [`wait`](WaitGroup::wait) until the count is
/// back to zero. Scoped goroutines share it by reference. A `WaitGroup` can
/// be reused once `wait` has returned.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// fn worker(id: i32, wg: &WaitGroup) {
///     defer!(wg.done());
///     println!("worker {id} done");
/// }
///
/// #[goscope::main]
/// fn main() {
///     let wg = WaitGroup::new();
///     for i in 1..=3 {
///         wg.add(1);
///         go!(worker(i, &wg));
///     }
///     wg.wait();
/// }
/// ```
pub struct WaitGroup {
    inner: Arc<Inner>,
}

/// The count lives in an atomic so that `add`s that do not reach zero and a
/// `wait` on zero touch nothing else. Every change that *reaches* zero is
/// made under `state`'s lock and ends the current generation there, so a
/// waiter, which reads the count and snapshots the generation under the same
/// lock, is released by exactly the zero it waited for, even if the count
/// goes up again before it wakes.
struct Inner {
    count: AtomicIsize,
    state: Mutex<State>,
    /// Waiters sleep here until their generation ends.
    wake: Condvar,
}

struct State {
    /// How many times the count has reached zero.
    generation: u64,
    /// Goroutines blocked in `wait` (for `Debug`).
    waiters: usize,
}

/// What a blocked `wait` found when its generation ended.
enum Woken {
    /// The count was still zero: the normal case.
    Released,
    /// The count had gone up again: `add` was called before this `wait`
    /// returned (Go panics here too).
    Reused,
}

impl WaitGroup {
    /// Creates a `WaitGroup` with a count of zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goscope::WaitGroup::new();
    /// wg.wait(); // nothing to wait for
    /// ```
    pub fn new() -> Self {
        WaitGroup {
            inner: Arc::new(Inner {
                count: AtomicIsize::new(0),
                state: Mutex::new(State {
                    generation: 0,
                    waiters: 0,
                }),
                wake: Condvar::new(),
            }),
        }
    }

    /// Adds `delta`, which may be negative, to the count; when it reaches
    /// zero, every goroutine blocked in [`wait`](WaitGroup::wait) is
    /// released.
    ///
    /// A `WaitGroup` may be reused for a new set of goroutines, but only
    /// once every `wait` of the previous set has returned: see
    /// [`wait`](WaitGroup::wait)'s `# Panics`.
    ///
    /// # Panics
    ///
    /// With Go's message `sync: negative WaitGroup counter` if the count
    /// would go below zero, and with `sync: WaitGroup counter overflow` if
    /// it would go above `isize::MAX`; the count is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goscope::WaitGroup::new();
    /// wg.add(2);
    /// wg.add(-2);
    /// wg.wait();
    /// ```
    #[track_caller]
    pub fn add(&self, delta: isize) {
        let count = &self.inner.count;
        let mut old = count.load(Ordering::Relaxed);
        loop {
            let new = next_count(old, delta);
            if new == 0 {
                if delta != 0 {
                    self.reach_zero(delta);
                }
                return;
            }
            // Fast path: the count stays above zero, no waiter to release.
            match count.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => old = now,
            }
        }
    }

    /// Applies `delta` under the lock; if the count reaches zero (it may
    /// have changed since the caller looked), ends the generation and wakes
    /// the waiters.
    #[cold]
    #[track_caller]
    fn reach_zero(&self, delta: isize) {
        let count = &self.inner.count;
        let mut state = prim::lock(&self.inner.state);
        let mut old = count.load(Ordering::Relaxed);
        loop {
            let new = next_count(old, delta);
            match count.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) if new == 0 => break,
                Ok(_) => return,
                Err(now) => old = now,
            }
        }
        state.generation = state.generation.wrapping_add(1);
        // In a synctest bubble the waiters stop counting as durably blocked
        // now, before they run (also one that is counted but not yet
        // registered below).
        #[cfg(not(loom))]
        park::release(self.key());
        if state.waiters > 0 {
            self.inner.wake.notify_all();
        }
    }

    /// What the group's waiters wait on, for [`park::release`].
    #[cfg(not(loom))]
    fn key(&self) -> usize {
        std::sync::Arc::as_ptr(&self.inner) as usize
    }

    /// Decrements the count by one: `add(-1)`.
    ///
    /// # Panics
    ///
    /// `sync: negative WaitGroup counter` if the count is already zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let wg = goscope::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// wg.wait();
    /// ```
    #[track_caller]
    pub fn done(&self) {
        self.add(-1);
    }

    /// Blocks until the count is zero.
    ///
    /// A `wait` that has started blocking is released by the next time the
    /// count reaches zero, whatever happens to it afterwards.
    ///
    /// # Panics
    ///
    /// With Go's message `sync: WaitGroup is reused before previous Wait has
    /// returned` if, when the count reached zero, another `add` raised it
    /// again before this `wait` could return: the group was reused for a new
    /// set of goroutines too early (Go detects the same misuse at the same
    /// point). Add for the next set only after every `wait` has returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// #[goscope::main]
    /// fn main() {
    ///     let wg = WaitGroup::new();
    ///     // `go! { .. }` moves what it names: share the group by reference.
    ///     let wg = &wg;
    ///     for i in 0..3 {
    ///         wg.add(1);
    ///         go! {
    ///             defer!(wg.done());
    ///             println!("goroutine {i}");
    ///         }
    ///     }
    ///     wg.wait();
    /// }
    /// ```
    #[track_caller]
    pub fn wait(&self) {
        // Fast path: nothing here touches the lock or the deadlock detector.
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return;
        }
        if let Woken::Reused = self.wait_blocking(Location::caller()) {
            panic!("sync: WaitGroup is reused before previous Wait has returned");
        }
    }

    #[cold]
    #[cfg(not(loom))]
    fn wait_blocking(&self, site: &'static Location<'static>) -> Woken {
        let interrupt: std::sync::Arc<dyn Interrupt> = self.inner.clone();
        let over = || self.inner.count.load(Ordering::Acquire) == 0;
        let on = park::On {
            key: self.key(),
            home: None,
        };
        park::block_on(Wait::Group, site, Some(interrupt), on, over, |abort| {
            self.inner.wait_for_zero(abort)
        })
    }

    /// Under loom: the same wait, without the deadlock detector (which is
    /// not modelled).
    #[cold]
    #[cfg(loom)]
    fn wait_blocking(&self, _site: &'static Location<'static>) -> Woken {
        self.inner.wait_for_zero(false)
    }

    /// Starts `f` in a new detached goroutine and waits for it in this group:
    /// Go 1.25's `wg.Go(f)`.
    ///
    /// Adds one to the count now; the goroutine calls [`done`](WaitGroup::done)
    /// when `f` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::prelude::*;
    ///
    /// let wg = WaitGroup::new();
    /// let (tx, rx) = chan(3);
    /// for i in 0..3 {
    ///     let tx = tx.clone();
    ///     wg.go(move || tx.send(i));
    /// }
    /// wg.wait();
    /// assert_eq!(rx.len(), 3);
    /// ```
    #[track_caller]
    pub fn go<F, R>(&self, f: F)
    where
        F: FnOnce() -> R + Send + 'static,
        R: Outcome,
    {
        self.add(1);
        // Done however the goroutine ends: when `f` returns or panics (which
        // then ends the process anyway), or when it never starts (the
        // goroutine limit: the job, and this with it, is dropped unrun).
        let done = DoneOnDrop(WaitGroup {
            inner: Arc::clone(&self.inner),
        });
        goroutine::go_detached(move || {
            let _done = done;
            f()
        });
    }
}

impl Inner {
    /// Blocks until the count is zero, or until the generation current when
    /// it looked has ended. With `abortable`, ends the goroutine when the
    /// detector has aborted it (it is woken through [`Interrupt`]).
    fn wait_for_zero(&self, abortable: bool) -> Woken {
        #[cfg(loom)]
        let _ = abortable;
        let mut state = prim::lock(&self.state);
        // Under the lock, no change can reach zero between this look and
        // the snapshot: either the count is zero now, or the zero to come
        // ends `mine`.
        if self.count.load(Ordering::Acquire) == 0 {
            return Woken::Released;
        }
        let mine = state.generation;
        state.waiters += 1;
        while state.generation == mine {
            #[cfg(not(loom))]
            if abortable && park::interrupted() {
                state.waiters -= 1;
                drop(state);
                if std::thread::panicking() {
                    // In a deferred call while unwinding: a second unwind
                    // would abort; stop waiting instead.
                    return Woken::Released;
                }
                park::unwind();
            }
            state = prim::wait(&self.wake, state);
        }
        state.waiters -= 1;
        // Acquire: pairs with the `done`s that led to the zero.
        if self.count.load(Ordering::Acquire) == 0 {
            Woken::Released
        } else {
            Woken::Reused
        }
    }
}

/// The count after adding `delta` to `old`.
///
/// # Panics
///
/// If it would be negative or overflow, with Go's message for the first.
#[track_caller]
fn next_count(old: isize, delta: isize) -> isize {
    match old.checked_add(delta) {
        Some(new) if new >= 0 => new,
        Some(_) => panic!("sync: negative WaitGroup counter"),
        // `old` is never negative, so only a positive `delta` overflows.
        None => panic!("sync: WaitGroup counter overflow"),
    }
}

#[cfg(not(loom))]
impl Interrupt for Inner {
    fn interrupt(&self) {
        let _lock = prim::lock(&self.state);
        self.wake.notify_all();
    }
}

struct DoneOnDrop(WaitGroup);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        self.0.done();
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waiters = prim::lock(&self.inner.state).waiters;
        f.debug_struct("WaitGroup")
            .field("count", &self.inner.count.load(Ordering::Relaxed))
            .field("waiters", &waiters)
            .finish()
    }
}
