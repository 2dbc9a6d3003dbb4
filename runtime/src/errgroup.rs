//! Go's `golang.org/x/sync/errgroup`: goroutines working on parts of one
//! task, with the first error reported and, optionally, cancelling the
//! rest.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `var g errgroup.Group` whose goroutines use the function's locals | `errgroup::scope(\|g\| { ... })` ([`scope`]) |
//! | `g, ctx := errgroup.WithContext(ctx)`, the same | `errgroup::scope_with_context(&ctx, \|g, ctx\| { ... })` ([`scope_with_context`]) |
//! | `var g errgroup.Group` passed around, or waited for twice | `let g = Group::new();` ([`Group`]) |
//! | `g, ctx := errgroup.WithContext(ctx)`, the same | `let (g, ctx) = Group::with_context(&ctx);` |
//! | `g.Go(func() error { ... })` | `g.go(move \|\| { ...; Ok(()) })` |
//! | `g.TryGo(f)` | [`g.try_go(f)`](Group::try_go) |
//! | `g.SetLimit(n)` | [`g.set_limit(n)`](Group::set_limit) |
//! | `err := g.Wait()` | `let result = g.wait();` (`Result<(), E>`) |
//! | `error` | `E`: any type; [`Error`] is Go's `error` |
//!
//! # Borrowing or owning
//!
//! Go's goroutines use the function's locals freely (x/sync's
//! `ExampleGroup_parallel` writes `results[i]` from each goroutine). The
//! goroutines of [`scope`] and [`scope_with_context`] may borrow anything
//! that outlives the call, because the call joins them all before it
//! returns, as [`std::thread::scope`] does; it then returns the first
//! error. A [`Group`]'s goroutines own what they use (`'static`), like Go's
//! goroutines outside a scope; a `Group` can be cloned into other
//! goroutines and waited for from several of them, as x/sync's Pipeline
//! example does (a closer goroutine's `g.Wait()` and the caller's).
//!
//! x/sync's `ExampleGroup_parallel`, whose goroutines each fill one slot
//! of a local slice:
//!
//! ```
//! use goscope::context::Context;
//! use goscope::errgroup::{self, Error};
//!
//! fn google(ctx: &Context, query: &str) -> Result<Vec<String>, Error> {
//!     let searches = ["web", "image", "video"];
//!     let mut results = vec![String::new(); searches.len()];
//!     errgroup::scope_with_context(ctx, |g, _ctx| {
//!         for (kind, result) in searches.iter().zip(&mut results) {
//!             // Borrows `query` and one slot of `results`.
//!             g.go(move || {
//!                 *result = format!("{kind} result for {query:?}");
//!                 Ok(())
//!             });
//!         }
//!     })
//!     .map(|()| results) // Go's `if err := g.Wait(); err != nil { return nil, err }`
//! }
//!
//! let results = google(&Context::background(), "golang").unwrap();
//! assert_eq!(results[1], r#"image result for "golang""#);
//! ```
//!
//! # Every `wait` sees the first error
//!
//! As in Go, [`Group::wait`] returns the first error on every call, not
//! only the first one: in x/sync's Pipeline example a closer goroutine
//! calls `g.Wait()` before closing the results channel, and the caller
//! calls it again to learn whether the results are complete. The group
//! keeps the error and `wait` returns a clone, so `wait` needs
//! `E: Clone`. A Go `error` is a shared reference, and a clone is what Go
//! hands each caller: [`Error`] is exactly that (an [`Arc`]), as is
//! `Arc<E>` for any error type (`?` converts an `E` into an `Arc<E>`).
//! Plain `String`s and `Clone` enums work as they are. ([`scope`] returns
//! once and needs no `Clone`.)
//!
//! # The error type
//!
//! Go has one `error` type; Rust has many, and `E` is inferred from what
//! the goroutines return (`Err(format!(...))` makes it `String`) or from
//! where the result goes (`return g.wait()`, `g.wait().map(|()| m)`, or
//! Go's `if let Err(err) = g.wait() { return Err(err) }` in a function
//! that returns `Result<_, Error>`). A `?` alone does not fix it: with
//! only `g.go(|| { f()?; Ok(()) })` and `g.wait()?` to go by, rustc
//! answers "type annotations needed" (E0283, listing the `From` impls it
//! could use). Then name the type once, at the group:
//!
//! - `Group::<Error>::new()`, `Group::<Error>::with_context(&ctx)`, or
//!   `let g: Group = Group::new();` (`E` defaults to [`Error`], Go's
//!   `error`, into which every `?` converts);
//! - `errgroup::scope::<Error, _, _>(|g| ...)` for the borrowing form;
//! - or your own error type in place of [`Error`].
//!
//! ```
//! use goscope::errgroup::{Error, Group};
//!
//! let g = Group::<Error>::new(); // Go's `var g errgroup.Group`
//! for input in ["1", "2", "three"] {
//!     g.go(move || {
//!         let n: i32 = input.parse()?; // a ParseIntError
//!         if n > 1 {
//!             Err(format!("{n} is too big"))?; // a String
//!         }
//!         Ok(())
//!     });
//! }
//! let err = g.wait().unwrap_err();
//! assert!(["2 is too big", "invalid digit found in string"].contains(&&*err.to_string()));
//! ```
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
//! assert_eq!(g.wait(), Err("bad input -4".to_string())); // again, as in Go
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use crate::chan::{Receiver, Sender, TrySendError, chan};
use crate::context::{CancelFunc, Context};
use crate::lock;
use crate::sched::goroutine;
use crate::sched::scope::Scope;
use crate::sync::WaitGroup;

/// Go's `error` for a group: any error, shared, so that every
/// [`wait`](Group::wait) can return the same one.
///
/// `?` converts into it whatever it converts into a
/// `Box<dyn std::error::Error + Send + Sync>`: a `String`, a `&str`, an
/// [`std::io::Error`], any error type that is `Send + Sync`. Clones share the
/// error (an [`Arc`]), as copies of a Go `error` do. It dereferences to the
/// `dyn std::error::Error`, for [`source`](std::error::Error::source) and
/// `downcast_ref`; `Display` and `Debug` are the error's own. It converts into a
/// `Box<dyn std::error::Error>`, so `fn main() -> Result<(), Box<dyn
/// Error>>` can `?` it.
///
/// Like `anyhow::Error`, it does not implement [`std::error::Error`] itself:
/// that would make the blanket `From` above overlap with `From<T> for T`.
///
/// # Examples
///
/// ```
/// use goscope::errgroup::{Error, Group};
///
/// let g: Group = Group::new(); // `E` defaults to `Error`
/// g.go(|| {
///     std::fs::read("/no/such/file")?; // an io::Error
///     Ok(())
/// });
/// let err: Error = g.wait().unwrap_err();
/// let io = err.downcast_ref::<std::io::Error>().unwrap();
/// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Arc<dyn StdError + Send + Sync + 'static>,
}

impl<E> From<E> for Error
where
    E: Into<Box<dyn StdError + Send + Sync + 'static>>,
{
    fn from(err: E) -> Error {
        Error {
            inner: Arc::from(err.into()),
        }
    }
}

impl From<Error> for Box<dyn StdError + 'static> {
    fn from(err: Error) -> Self {
        // `Arc<T>` is an error when `T` is.
        Box::new(err.inner)
    }
}

impl Deref for Error {
    type Target = dyn StdError + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        &*self.inner
    }
}

impl AsRef<dyn StdError + Send + Sync + 'static> for Error {
    fn as_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

/// A group of goroutines working on subtasks of one task: Go's
/// `errgroup.Group`.
///
/// [`go`](Group::go) starts a goroutine running a function that returns
/// `Result<(), E>`; [`wait`](Group::wait) waits for all of them and returns
/// the first error, on every call. `E` defaults to [`Error`], Go's `error`
/// (see [the module docs](self#the-error-type) for when to name it). A group made by [`with_context`](Group::with_context)
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
pub struct Group<E = Error> {
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    wg: WaitGroup,
    /// The first error, for good: later errors are dropped (Go's
    /// `errOnce`). Every [`Group::wait`] returns a clone; only the single
    /// return of [`scope`] moves it out.
    err: Mutex<Option<E>>,
    /// Cancels the context of [`Group::with_context`].
    cancel: Option<CancelFunc>,
    /// Go's `sem`: one token per active goroutine, when there is a limit.
    sem: Mutex<Option<Semaphore>>,
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
    /// `E` is inferred from what the goroutines return or from where
    /// `wait`'s result goes; where only `?` says what it is, name it here
    /// (`Group::<Error>::new()`; see [the module docs](self#the-error-type)).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup::{Error, Group};
    ///
    /// let g = Group::<Error>::new();
    /// g.go(|| {
    ///     let n: u8 = "300".parse()?;
    ///     println!("{n}");
    ///     Ok(())
    /// });
    /// assert_eq!(g.wait().unwrap_err().to_string(), "number too large to fit in target type");
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
                err: Mutex::new(None),
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
}

impl<E: Clone> Group<E> {
    /// Waits until every goroutine started by [`go`](Group::go) and
    /// [`try_go`](Group::try_go) has returned, then returns the first
    /// error any of them returned: Go's `g.Wait()`. Cancels the context of
    /// [`with_context`](Group::with_context).
    ///
    /// Every call returns the first error, as in Go: a closer goroutine's
    /// `wait` and the caller's later `wait` both see it. The group keeps
    /// the error and each call returns a clone, hence `E: Clone`; for an
    /// error type that is not `Clone` (`std::io::Error`, a boxed error),
    /// use [`Error`] or an `Arc` of it (see [the module
    /// docs](self#every-wait-sees-the-first-error)). Several goroutines
    /// may wait at once.
    ///
    /// # Errors
    ///
    /// The first `Err` a goroutine of the group returned (later errors are
    /// dropped, as in Go).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::errgroup::Group;
    /// use goscope::prelude::*;
    ///
    /// let g = Group::new();
    /// g.go(|| Err("first"));
    /// let closer = g.clone();
    /// let (tx, rx) = chan::<()>(0);
    /// go!(static move || {
    ///     assert_eq!(closer.wait(), Err("first")); // the closer's wait...
    ///     drop(tx);
    /// });
    /// rx.recv(); // closed by the closer
    /// assert_eq!(g.wait(), Err("first")); // ...and the caller's
    /// ```
    ///
    /// An error type that is not `Clone` is kept in an [`Error`] or an
    /// `Arc`:
    ///
    /// ```compile_fail,E0599
    /// let g = goscope::errgroup::Group::<std::io::Error>::new();
    /// let _ = g.wait(); // `std::io::Error: Clone` is not satisfied
    /// ```
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let g = goscope::errgroup::Group::<Arc<std::io::Error>>::new();
    /// g.go(|| {
    ///     std::fs::read("/no/such/file")?; // `?` wraps the io::Error in an Arc
    ///     Ok(())
    /// });
    /// assert_eq!(g.wait().unwrap_err().kind(), std::io::ErrorKind::NotFound);
    /// ```
    #[track_caller]
    pub fn wait(&self) -> Result<(), E> {
        self.inner.wg.wait();
        if let Some(cancel) = &self.inner.cancel {
            cancel.cancel();
        }
        match &*lock(&self.inner.err) {
            Some(err) => Err(err.clone()),
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
        if first.is_some() {
            return;
        }
        *first = Some(err);
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
            .field("failed", &lock(&self.inner.err).is_some())
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
pub struct ScopedGroup<'scope, 'env, E = Error> {
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
    match lock(&inner.err).take() {
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
