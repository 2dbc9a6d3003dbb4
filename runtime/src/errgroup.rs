//! Go's `golang.org/x/sync/errgroup`: goroutines working on parts of one
//! task, with the first error reported and, optionally, cancelling the
//! rest.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `var g errgroup.Group` | `let g = Group::new();` ([`Group`]) |
//! | `g, ctx := errgroup.WithContext(ctx)` | `let (g, ctx) = Group::with_context(&ctx);` |
//! | `g.Go(func() error { ... })` | `g.go(move \|\| { ...; Ok(()) })` |
//! | `g.TryGo(f)` | [`g.try_go(f)`](Group::try_go) |
//! | `g.SetLimit(n)` | [`g.set_limit(n)`](Group::set_limit) |
//! | `err := g.Wait()` | `let result = g.wait();` (`Result<(), E>`) |
//!
//! A [`Group`]'s goroutines own what they use (`'static`), like Go's
//! goroutines outside a scope. For goroutines that borrow the caller's
//! locals, [`scope`] and [`scope_with_context`] give a [`ScopedGroup`] and
//! wait for all its goroutines before returning, as `#[goscope::scoped]`
//! functions do.
//!
//! # Examples
//!
//! ```
//! use goscope::errgroup::Group;
//!
//! let g = Group::new();
//! for n in [1, 2, 3, -4, 5] {
//!     g.go(move || if n < 0 { Err(format!("bad input {n}")) } else { Ok(()) });
//! }
//! assert_eq!(g.wait(), Err("bad input -4".to_string()));
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::chan::{Receiver, Sender, TrySendError, chan};
use crate::context::{CancelFunc, Context};
use crate::lock;
use crate::sched::goroutine;
use crate::sched::scope::Scope;
use crate::sync::WaitGroup;

/// A group of goroutines working on subtasks of one task: Go's
/// `errgroup.Group`.
///
/// [`go`](Group::go) starts a goroutine running a function that returns
/// `Result<(), E>`; [`wait`](Group::wait) waits for all of them and returns
/// the first error. A group made by [`with_context`](Group::with_context)
/// also cancels a derived [`Context`] at the first error (and when `wait`
/// returns), so the other goroutines can stop early.
/// [`set_limit`](Group::set_limit) bounds how many run at once.
///
/// The goroutines are detached (they own what they use, like
/// `WaitGroup::go`'s). A panic in one ends the process with status 2, as a
/// panicking goroutine does in Go. Clones of a `Group` are the same group,
/// so a goroutine of the group can start more goroutines in it.
///
/// # Examples
///
/// The first error cancels the others:
///
/// ```
/// use goscope::context::Context;
/// use goscope::errgroup::Group;
/// use goscope::prelude::*;
///
/// let (g, ctx) = Group::with_context(&Context::background());
/// for id in 0..3 {
///     let ctx = ctx.clone();
///     g.go(move || {
///         if id == 0 {
///             return Err(format!("worker {id} failed"));
///         }
///         // The others work until the group gives up on them.
///         select! {
///             <-ctx.done() => Ok(()),
///             <-after(Duration::from_secs(60)) => Err("not cancelled".to_string()),
///         }
///     });
/// }
/// assert_eq!(g.wait(), Err("worker 0 failed".to_string()));
/// ```
pub struct Group<E> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    wg: WaitGroup,
    /// The first error, until [`Group::wait`] takes it.
    err: Mutex<FirstError<E>>,
    /// Cancels the context of [`Group::with_context`].
    cancel: Option<CancelFunc>,
    /// Go's `sem`: one token per active goroutine, when there is a limit.
    sem: Mutex<Option<Semaphore>>,
}

struct FirstError<E> {
    /// Set by the first error, for good: later errors are dropped (Go's
    /// `errOnce`).
    seen: bool,
    err: Option<E>,
}

/// A channel of capacity `limit`; a goroutine holds a token (a value in the
/// channel) while it runs. Sending on it is how [`Group::go`] waits for a
/// slot, so the deadlock detector sees that wait as Go's `chan send`.
#[derive(Clone)]
struct Semaphore {
    acquire: Sender<()>,
    release: Receiver<()>,
}

impl<E> Group<E> {
    /// Creates a group with no limit that cancels nothing: Go's zero
    /// `errgroup.Group`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup::Group;
    ///
    /// let g = Group::<std::io::Error>::new();
    /// g.go(|| Ok(()));
    /// assert!(g.wait().is_ok());
    /// ```
    pub fn new() -> Group<E> {
        Group::with_cancel(None)
    }

    /// Creates a group and a context derived from `ctx` that is cancelled
    /// the first time a goroutine of the group returns an error, or the
    /// first time [`wait`](Group::wait) returns, whichever comes first: Go's
    /// `errgroup.WithContext(ctx)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::Context;
    /// use goscope::errgroup::Group;
    ///
    /// let (g, ctx) = Group::<String>::with_context(&Context::background());
    /// g.go(|| Ok(()));
    /// assert!(g.wait().is_ok());
    /// assert!(ctx.err().is_some()); // cancelled once `wait` returned
    /// ```
    pub fn with_context(ctx: &Context) -> (Group<E>, Context) {
        let (ctx, cancel) = ctx.with_cancel();
        (Group::with_cancel(Some(cancel)), ctx)
    }

    fn with_cancel(cancel: Option<CancelFunc>) -> Group<E> {
        Group {
            inner: Arc::new(Inner {
                wg: WaitGroup::new(),
                err: Mutex::new(FirstError {
                    seen: false,
                    err: None,
                }),
                cancel,
                sem: Mutex::new(None),
            }),
        }
    }

    /// Limits the number of active goroutines in the group to `n`: Go's
    /// `g.SetLimit(n)`. A negative `n` removes the limit. With a limit,
    /// [`go`](Group::go) waits for a goroutine to finish before starting
    /// one more, and [`try_go`](Group::try_go) refuses. A limit of 0 lets
    /// no goroutine start (`go` blocks for good, `try_go` always refuses).
    ///
    /// # Panics
    ///
    /// With Go's message `errgroup: modify limit while N goroutines in the
    /// group are still active` if goroutines started under a limit are still
    /// running.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup::Group;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let g = Group::<()>::new();
    /// g.set_limit(2);
    /// let active = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..10 {
    ///     let active = Arc::clone(&active);
    ///     g.go(move || {
    ///         assert!(active.fetch_add(1, Ordering::SeqCst) < 2);
    ///         goscope::sleep(goscope::Duration::from_millis(1));
    ///         active.fetch_sub(1, Ordering::SeqCst);
    ///         Ok(())
    ///     });
    /// }
    /// g.wait().unwrap();
    /// ```
    #[track_caller]
    pub fn set_limit(&self, n: isize) {
        let mut sem = lock(&self.inner.sem);
        if let Some(active) = sem.as_ref().map(|s| s.release.len()).filter(|&n| n != 0) {
            drop(sem);
            panic!(
                "errgroup: modify limit while {active} goroutines in the group are still active"
            );
        }
        *sem = usize::try_from(n).ok().map(|n| {
            let (acquire, release) = chan(n);
            Semaphore { acquire, release }
        });
    }

    /// Waits until every goroutine started by [`go`](Group::go) and
    /// [`try_go`](Group::try_go) has returned, then returns the first
    /// error any of them returned: Go's `g.Wait()`. Cancels the context of
    /// [`with_context`](Group::with_context).
    ///
    /// # Errors
    ///
    /// The first `Err` a goroutine of the group returned. It is moved out:
    /// Go's `Wait` returns the same error again on later calls, this one
    /// returns it once (an `E` need not be `Clone`), and later errors are
    /// dropped as in Go.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup::Group;
    ///
    /// let g = Group::new();
    /// g.go(|| Err("first"));
    /// assert_eq!(g.wait(), Err("first"));
    /// ```
    #[track_caller]
    pub fn wait(&self) -> Result<(), E> {
        self.inner.wg.wait();
        if let Some(cancel) = &self.inner.cancel {
            cancel.cancel();
        }
        match lock(&self.inner.err).err.take() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

impl<E: Send + 'static> Group<E> {
    /// Runs `f` in a new goroutine of the group: Go's `g.Go(f)`. With a
    /// [limit](Group::set_limit), first waits until fewer than the limit
    /// are active (a wait the deadlock detector sees, as Go's `chan send`).
    ///
    /// The first `Err` returned by a goroutine of the group is kept for
    /// [`wait`](Group::wait) and cancels the context of
    /// [`with_context`](Group::with_context).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup::Group;
    /// use goscope::prelude::*;
    ///
    /// let g = Group::<String>::new();
    /// let (tx, rx) = chan(3);
    /// for url in ["a", "b", "c"] {
    ///     let tx = tx.clone();
    ///     g.go(move || tx.send(url.len()).map_err(|e| e.to_string()));
    /// }
    /// g.wait().unwrap();
    /// assert_eq!(rx.len(), 3);
    /// ```
    #[track_caller]
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static, // Send: runs on another thread; 'static: detached, owns its data
    {
        let sem = self.inner.acquire();
        self.start(f, sem);
    }

    /// Runs `f` in a new goroutine of the group only if that does not
    /// exceed the [limit](Group::set_limit): Go's `g.TryGo(f)`. Returns
    /// whether it started the goroutine.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup::Group;
    /// use goscope::prelude::*;
    ///
    /// let g = Group::<()>::new();
    /// g.set_limit(1);
    /// let (release, wait) = chan::<()>(0);
    /// assert!(g.try_go(move || {
    ///     wait.recv();
    ///     Ok(())
    /// }));
    /// assert!(!g.try_go(|| Ok(()))); // one is already active
    /// drop(release);
    /// g.wait().unwrap();
    /// ```
    #[track_caller]
    pub fn try_go<F>(&self, f: F) -> bool
    where
        F: FnOnce() -> Result<(), E> + Send + 'static, // as for `go`
    {
        let Ok(sem) = self.inner.try_acquire() else {
            return false;
        };
        self.start(f, sem);
        true
    }

    /// Starts the goroutine; its `go!` site, for reports, is the caller's.
    #[track_caller]
    fn start<F>(&self, f: F, sem: Option<Semaphore>)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let done = Inner::enter(&self.inner, sem);
        goroutine::go_detached(move || done.run(f));
    }
}

impl<E> Inner<E> {
    /// Takes a slot under the limit, if there is one, blocking while the
    /// group is at it (Go's `g.sem <- token`; a `[chan send]` at the
    /// caller's line in a deadlock report).
    #[track_caller]
    fn acquire(&self) -> Option<Semaphore> {
        let sem = lock(&self.sem).clone();
        if let Some(sem) = &sem {
            // The receiver is held by the group, so the send cannot fail.
            let _ = sem.acquire.send(());
        }
        sem
    }

    /// Takes a slot under the limit only if one is free; `Err` at the
    /// limit.
    fn try_acquire(&self) -> Result<Option<Semaphore>, ()> {
        let sem = lock(&self.sem).clone();
        if let Some(sem) = &sem {
            if let Err(TrySendError::Full(())) = sem.acquire.try_send(()) {
                return Err(());
            }
        }
        Ok(sem)
    }

    /// Counts a new goroutine in (holding `sem`, its slot, if any); the
    /// returned guard counts it out.
    fn enter(this: &Arc<Self>, sem: Option<Semaphore>) -> Done<E> {
        this.wg.add(1);
        Done {
            inner: Arc::clone(this),
            sem,
        }
    }

    fn record(&self, err: E) {
        let mut first = lock(&self.err);
        if first.seen {
            return;
        }
        first.seen = true;
        first.err = Some(err);
        drop(first);
        if let Some(cancel) = &self.cancel {
            cancel.cancel();
        }
    }
}

/// Counts a goroutine out of its group: gives back its slot, then `done`.
struct Done<E> {
    inner: Arc<Inner<E>>,
    sem: Option<Semaphore>,
}

impl<E> Done<E> {
    /// A goroutine of the group: runs `f` and records its error. Counted
    /// out when this returns or unwinds (the process then exits anyway,
    /// but a `wait` must never hang on it first), or when it never runs.
    fn run(self, f: impl FnOnce() -> Result<(), E>) {
        if let Err(err) = f() {
            self.inner.record(err);
        }
    }
}

impl<E> Drop for Done<E> {
    fn drop(&mut self) {
        if let Some(sem) = &self.sem {
            let _ = sem.release.try_recv();
        }
        self.inner.wg.done();
    }
}

impl<E> Clone for Group<E> {
    fn clone(&self) -> Self {
        Group {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<E> Default for Group<E> {
    fn default() -> Self {
        Group::new()
    }
}

impl<E> fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = lock(&self.inner.sem).as_ref().map(|s| s.release.capacity());
        f.debug_struct("Group")
            .field("limit", &limit)
            .field("failed", &lock(&self.inner.err).seen)
            .field("with_context", &self.inner.cancel.is_some())
            .finish_non_exhaustive()
    }
}

/// A group whose goroutines may borrow: made by [`scope`] and
/// [`scope_with_context`], which join every goroutine of the group before
/// they return (as [`std::thread::scope`] does), so the borrows cannot
/// outlive what they borrow.
///
/// Its goroutines are scoped goroutines: a panic in one resumes in the
/// function that called [`scope`], with its payload, once all have
/// finished (instead of ending the process).
///
/// A goroutine may not borrow a local of the closure given to [`scope`]:
/// that local dies before the goroutines are joined.
///
/// ```compile_fail
/// goscope::errgroup::scope::<(), _, _>(|g| {
///     let local = vec![1, 2, 3];
///     g.go(|| {
///         assert_eq!(local.len(), 3); // `local` does not live long enough
///         Ok(())
///     });
/// });
/// ```
pub struct ScopedGroup<'scope, 'env, E> {
    group: Group<E>,
    scope: &'scope Scope<'scope, 'env>,
}

/// Runs `f` with a [`ScopedGroup`] whose goroutines may borrow anything
/// that outlives the call, waits for all of them, and returns `f`'s value
/// or the first error a goroutine returned. Go's
/// `var g errgroup.Group; ...; err := g.Wait()`, where the goroutines use
/// the function's locals.
///
/// # Errors
///
/// The first `Err` a goroutine of the group returned.
///
/// # Examples
///
/// ```
/// use goscope::errgroup;
///
/// let inputs = vec!["1", "2", "x", "4"];
/// let mut parsed = vec![0; inputs.len()];
/// let result = errgroup::scope(|g| {
///     for (input, slot) in inputs.iter().zip(parsed.iter_mut()) {
///         // Borrows `inputs` and one slot of `parsed`: no `'static`.
///         g.go(move || {
///             *slot = input.parse::<i32>().map_err(|e| format!("{input:?}: {e}"))?;
///             Ok(())
///         });
///     }
/// });
/// assert_eq!(result, Err("\"x\": invalid digit found in string".to_string()));
/// assert_eq!(parsed[3], 4);
/// ```
#[track_caller]
pub fn scope<'env, E, F, T>(f: F) -> Result<T, E>
where
    E: Send + 'env,
    F: for<'scope> FnOnce(&ScopedGroup<'scope, 'env, E>) -> T,
{
    scoped(Group::new(), f)
}

/// [`scope`] with a context derived from `ctx` that is cancelled at the
/// first error or when the goroutines have all finished: Go's
/// `errgroup.WithContext` where the goroutines use the function's locals.
///
/// The goroutines may borrow what outlives the call, but not the context
/// handed to `f`, which the call itself owns: clone it into each goroutine
/// (a reference count).
///
/// # Errors
///
/// The first `Err` a goroutine of the group returned.
///
/// # Examples
///
/// ```
/// use goscope::context::Context;
/// use goscope::errgroup;
/// use goscope::prelude::*;
///
/// let names = ["fast", "broken", "slow"];
/// let result = errgroup::scope_with_context(&Context::background(), |g, ctx| {
///     for name in &names {
///         let ctx = ctx.clone(); // the context is the call's own: clone it in
///         g.go(move || match *name {
///             "broken" => Err(format!("{name} failed")),
///             _ => select! {
///                 <-ctx.done() => Ok(()), // cancelled by the error
///                 <-after(Duration::from_secs(60)) => Ok(()),
///             },
///         });
///     }
/// });
/// assert_eq!(result, Err("broken failed".to_string()));
/// ```
#[track_caller]
pub fn scope_with_context<'env, E, F, T>(ctx: &Context, f: F) -> Result<T, E>
where
    E: Send + 'env,
    F: for<'scope> FnOnce(&ScopedGroup<'scope, 'env, E>, &Context) -> T,
{
    let (group, ctx) = Group::with_context(ctx);
    scoped(group, |g| f(g, &ctx))
}

#[track_caller]
fn scoped<'env, E, F, T>(group: Group<E>, f: F) -> Result<T, E>
where
    E: Send + 'env,
    F: for<'scope> FnOnce(&ScopedGroup<'scope, 'env, E>) -> T,
{
    let inner = Arc::clone(&group.inner);
    // The scope joins every goroutine of the group before it returns, also
    // when `f` or a goroutine panics: what they borrow outlives them.
    let value = crate::sched::scope::scope(|scope| f(&ScopedGroup { group, scope }));
    if let Some(cancel) = &inner.cancel {
        cancel.cancel();
    }
    match lock(&inner.err).err.take() {
        Some(err) => Err(err),
        None => Ok(value),
    }
}

impl<'scope, 'env, E: Send + 'env> ScopedGroup<'scope, 'env, E> {
    /// Runs `f` in a new goroutine of the group, which may borrow what
    /// outlives the [`scope`] call: [`Group::go`] for borrowing
    /// goroutines. With a [limit](ScopedGroup::set_limit), first waits for
    /// a slot.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup;
    ///
    /// let words = ["a", "bb", "ccc"];
    /// let total = std::sync::atomic::AtomicUsize::new(0);
    /// errgroup::scope::<(), _, _>(|g| {
    ///     for w in &words {
    ///         let total = &total;
    ///         g.go(move || {
    ///             total.fetch_add(w.len(), std::sync::atomic::Ordering::Relaxed);
    ///             Ok(())
    ///         });
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(total.into_inner(), 6);
    /// ```
    #[track_caller]
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'scope, // Send: runs on another thread; 'scope: borrows only what outlives the scope
    {
        let sem = self.group.inner.acquire();
        self.start(f, sem);
    }

    /// Runs `f` in a new goroutine of the group only if that does not
    /// exceed the [limit](ScopedGroup::set_limit): [`Group::try_go`] for
    /// borrowing goroutines.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup;
    ///
    /// errgroup::scope::<(), _, _>(|g| {
    ///     g.set_limit(0);
    ///     assert!(!g.try_go(|| Ok(())));
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn try_go<F>(&self, f: F) -> bool
    where
        F: FnOnce() -> Result<(), E> + Send + 'scope, // as for `go`
    {
        let Ok(sem) = self.group.inner.try_acquire() else {
            return false;
        };
        self.start(f, sem);
        true
    }

    /// Limits the number of active goroutines: [`Group::set_limit`].
    ///
    /// # Panics
    ///
    /// As [`Group::set_limit`], if goroutines started under a limit are
    /// still running.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup;
    ///
    /// errgroup::scope::<(), _, _>(|g| g.set_limit(4)).unwrap();
    /// ```
    #[track_caller]
    pub fn set_limit(&self, n: isize) {
        self.group.set_limit(n);
    }

    #[track_caller]
    fn start<F>(&self, f: F, sem: Option<Semaphore>)
    where
        F: FnOnce() -> Result<(), E> + Send + 'scope,
    {
        let done = Inner::enter(&self.group.inner, sem);
        self.scope.spawn(move || done.run(f));
    }
}

impl<E> fmt::Debug for ScopedGroup<'_, '_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScopedGroup").field(&self.group).finish()
    }
}
