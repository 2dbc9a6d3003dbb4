//! Go's `sync.WaitGroup`.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::detect::{self, Interrupt, Wait};
use crate::sched::goroutine::{self, Outcome};

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

struct Inner {
    count: AtomicIsize,
    /// Waiters sleep on `wake` under `lock`; `done` takes the lock before
    /// notifying so that a waiter cannot miss the wake-up between checking
    /// the count and going to sleep.
    lock: Mutex<()>,
    wake: Condvar,
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
                lock: Mutex::new(()),
                wake: Condvar::new(),
            }),
        }
    }

    /// Adds `delta`, which may be negative, to the count; when it reaches
    /// zero, every goroutine blocked in [`wait`](WaitGroup::wait) is
    /// released.
    ///
    /// # Panics
    ///
    /// With Go's message `sync: negative WaitGroup counter` if the count
    /// would go below zero; the count is left unchanged.
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
        // A negative result is refused before anyone can see it: waiters
        // must not be released by a count that passes through zero.
        let count = match self
            .inner
            .count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n + delta >= 0).then_some(n + delta)
            }) {
            Ok(old) => old + delta,
            Err(_) => panic!("sync: negative WaitGroup counter"),
        };
        if count == 0 && delta != 0 {
            let _lock = crate::lock(&self.inner.lock);
            self.inner.wake.notify_all();
        }
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
        // Fast path: nothing here touches the deadlock detector.
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return;
        }
        self.wait_blocking(Location::caller());
    }

    #[cold]
    fn wait_blocking(&self, site: &'static Location<'static>) {
        let interrupt: Arc<dyn Interrupt> = self.inner.clone();
        detect::block(Wait::Group, site, Some(interrupt), |abort| {
            let mut lock = crate::lock(&self.inner.lock);
            while self.inner.count.load(Ordering::Acquire) != 0 {
                if abort.is_some() && detect::aborted() {
                    drop(lock);
                    if std::thread::panicking() {
                        // In a deferred call while unwinding: a second
                        // unwind would abort; stop waiting instead.
                        return;
                    }
                    detect::abort();
                }
                lock = self
                    .inner
                    .wake
                    .wait(lock)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        });
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
        let group = WaitGroup {
            inner: Arc::clone(&self.inner),
        };
        goroutine::go_detached(move || {
            // Done even if `f` panics (which then ends the process anyway).
            let _done = DoneOnDrop(group);
            f()
        });
    }
}

impl Interrupt for Inner {
    fn interrupt(&self) {
        let _lock = crate::lock(&self.lock);
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
        f.debug_struct("WaitGroup")
            .field("count", &self.inner.count.load(Ordering::Relaxed))
            .finish()
    }
}
