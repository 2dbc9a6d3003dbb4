//! Go's `context` package: cancellation, deadlines and timeouts that flow
//! down a tree of contexts.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `context.Background()` | [`Context::background()`](Context::background) |
//! | `ctx, cancel := context.WithCancel(parent)` | `let (ctx, cancel) = parent.with_cancel();` |
//! | `context.WithTimeout(parent, d)` | [`parent.with_timeout(d)`](Context::with_timeout) |
//! | `context.WithDeadline(parent, t)` | [`parent.with_deadline(t)`](Context::with_deadline) |
//! | `cancel()` | [`cancel.cancel()`](CancelFunc::cancel) |
//! | `defer cancel()` | nothing: dropping the [`CancelFunc`] cancels |
//! | `<-ctx.Done()` | `<-ctx.done()` in `select!`, `ctx.done().recv()` |
//! | `ctx.Err()` | [`ctx.err()`](Context::err): `None`, `Some(Error::Canceled)`, `Some(Error::DeadlineExceeded)` |
//! | `ctx.Deadline()` | [`ctx.deadline()`](Context::deadline): `Option<Instant>` |
//!
//! Cancelling a context cancels every context derived from it, never its
//! parent. A deadline costs no thread: the one timer thread of
//! [`goscope::time`](crate::time) cancels the context when it passes.
//!
//! Go's `context.WithValue` is left out: pass values as arguments (or
//! capture them), which Rust checks at compile time.
//!
//! # Examples
//!
//! A slow computation abandoned at its deadline:
//!
//! ```
//! use goscope::context::{Context, Error};
//! use goscope::prelude::*;
//!
//! fn slow(ctx: &Context) -> Result<u64, Error> {
//!     let mut sum = 0;
//!     for i in 0.. {
//!         if let Some(err) = ctx.err() {
//!             return Err(err); // the caller has given up
//!         }
//!         sum += i;
//!         sleep(Duration::from_millis(1));
//!     }
//!     Ok(sum)
//! }
//!
//! let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(20));
//! let err = slow(&ctx).unwrap_err();
//! assert_eq!(err.to_string(), "context deadline exceeded");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::chan::core::{Chan, Flavor};
use crate::chan::{Receiver, Sender, never};
use crate::lock;
use crate::time::driver::{self, Fire, Key};

/// Why a context is done: Go's `context.Canceled` and
/// `context.DeadlineExceeded`, with Go's messages.
///
/// # Examples
///
/// ```
/// use goscope::context::{Context, Error};
///
/// let (ctx, cancel) = Context::background().with_cancel();
/// cancel.cancel();
/// assert_eq!(ctx.err(), Some(Error::Canceled));
/// assert_eq!(Error::Canceled.to_string(), "context canceled");
/// assert_eq!(Error::DeadlineExceeded.to_string(), "context deadline exceeded");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The context was cancelled: its [`CancelFunc`] was called or
    /// dropped, or a parent's was.
    Canceled,
    /// The context's deadline passed.
    DeadlineExceeded,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Canceled => "context canceled",
            Error::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for Error {}

/// A cancellation signal and an optional deadline, handed down through
/// calls and goroutines: Go's `context.Context`.
///
/// Start from [`Context::background`] and derive children with
/// [`with_cancel`](Context::with_cancel),
/// [`with_timeout`](Context::with_timeout) or
/// [`with_deadline`](Context::with_deadline). A context is done when it is
/// cancelled, when its deadline passes, or when its parent is done; then
/// [`done`](Context::done) is closed and [`err`](Context::err) says why.
/// Clones are the same context (cheap: a reference count).
///
/// # Examples
///
/// ```
/// use goscope::context::Context;
/// use goscope::prelude::*;
///
/// fn worker(ctx: Context, results: Sender<u32>) {
///     let mut n = 0;
///     loop {
///         select! {
///             <-ctx.done() => return,
///             results <- n => n += 1,
///         }
///     }
/// }
///
/// #[goscope::main]
/// fn main() {
///     let (ctx, cancel) = Context::background().with_cancel();
///     let (tx, rx) = chan(0);
///     go!(worker(ctx.clone(), tx));
///     assert_eq!(rx.recv(), Some(0));
///     assert_eq!(rx.recv(), Some(1));
///     cancel.cancel(); // the worker returns, dropping its sender
///     while rx.recv().is_some() {}
///     assert!(ctx.err().is_some());
/// }
/// ```
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
}

struct Node {
    parent: Option<Arc<Node>>,
    /// Identifies this node among its parent's children.
    id: u64,
    deadline: Option<Instant>,
    /// Closed (its sender dropped) when the context is done.
    done: Receiver<()>,
    state: Mutex<State>,
}

struct State {
    err: Option<Error>,
    /// Dropped to close `done`.
    close: Option<Sender<()>>,
    /// Children to cancel with this context. Each removes itself when it is
    /// cancelled on its own (by its `CancelFunc` or its deadline), so a
    /// long-lived parent does not collect the children of finished work.
    children: HashMap<u64, Weak<Node>>,
    /// This context's own deadline timer.
    timer: Option<Key>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

static BACKGROUND: LazyLock<Context> = LazyLock::new(|| Context {
    node: Arc::new(Node {
        parent: None,
        id: 0,
        deadline: None,
        done: never(),
        state: Mutex::new(State {
            err: None,
            close: None,
            children: HashMap::new(),
            timer: None,
        }),
    }),
});

impl Context {
    /// The root of every context tree: never cancelled, no deadline. Go's
    /// `context.Background()` (and `context.TODO()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::Context;
    ///
    /// let ctx = Context::background();
    /// assert_eq!(ctx.err(), None);
    /// assert_eq!(ctx.deadline(), None);
    /// assert!(ctx.done().try_recv().is_err()); // never ready
    /// ```
    pub fn background() -> Context {
        BACKGROUND.clone()
    }

    /// Derives a context that is cancelled when `cancel` is called or
    /// dropped, or when this context is done: Go's
    /// `context.WithCancel(ctx)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::{Context, Error};
    ///
    /// let parent = Context::background();
    /// let (ctx, cancel) = parent.with_cancel();
    /// assert_eq!(ctx.err(), None);
    /// drop(cancel); // Go's `defer cancel()`, at the end of the scope
    /// assert_eq!(ctx.err(), Some(Error::Canceled));
    /// assert_eq!(ctx.done().recv(), None); // closed
    /// assert_eq!(parent.err(), None); // never the parent
    /// ```
    pub fn with_cancel(&self) -> (Context, CancelFunc) {
        self.child(None)
    }

    /// Derives a context that is also done at `deadline`: Go's
    /// `context.WithDeadline(ctx, d)`. If this context's deadline is
    /// earlier, the child keeps that one.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::{Context, Error};
    /// use goscope::prelude::*;
    /// use std::time::Instant;
    ///
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// let (ctx, _cancel) = Context::background().with_deadline(deadline);
    /// assert_eq!(ctx.deadline(), Some(deadline));
    /// ctx.done().recv(); // closed at the deadline
    /// assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
    /// ```
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelFunc) {
        self.child(Some(deadline))
    }

    /// Derives a context that is also done `timeout` from now: Go's
    /// `context.WithTimeout(ctx, d)`, that is
    /// `with_deadline(Instant::now() + timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::Context;
    /// use goscope::prelude::*;
    ///
    /// let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(10));
    /// let finished = select! {
    ///     <-ctx.done() => false,
    ///     <-after(Duration::from_secs(60)) => true,
    /// };
    /// assert!(!finished);
    /// assert_eq!(ctx.err().unwrap().to_string(), "context deadline exceeded");
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelFunc) {
        self.child(Some(driver::deadline_after(timeout)))
    }

    /// A channel that is closed when the context is done: Go's
    /// `ctx.Done()`. Use it as `<-ctx.done()` in
    /// [`select!`](crate::select!), or block with `ctx.done().recv()`
    /// (which returns `None` once done). The background context's channel
    /// is never ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::Context;
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// assert!(ctx.done().try_recv().is_err()); // not done yet
    /// cancel.cancel();
    /// assert_eq!(ctx.done().recv(), None);
    /// ```
    pub fn done(&self) -> &Receiver<()> {
        &self.node.done
    }

    /// Why the context is done: `None` while it is not, then
    /// [`Error::Canceled`] or [`Error::DeadlineExceeded`] for good. Go's
    /// `ctx.Err()`. A context done because its parent is done has its
    /// parent's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::{Context, Error};
    ///
    /// let (parent, cancel) = Context::background().with_cancel();
    /// let (child, _cancel_child) = parent.with_cancel();
    /// assert_eq!(child.err(), None);
    /// cancel.cancel();
    /// assert_eq!(child.err(), Some(Error::Canceled));
    /// ```
    pub fn err(&self) -> Option<Error> {
        lock(&self.node.state).err
    }

    /// When the context will be done by itself, if ever: Go's
    /// `ctx.Deadline()`. A context derived from one with a deadline has
    /// that deadline or an earlier one.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::Context;
    /// use goscope::prelude::*;
    ///
    /// let (parent, _c1) = Context::background().with_timeout(Duration::from_secs(1));
    /// let (child, _c2) = parent.with_timeout(Duration::from_secs(60));
    /// assert_eq!(child.deadline(), parent.deadline()); // the earlier one
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.node.deadline
    }

    /// A child of this context, with its own `deadline` if it has one.
    fn child(&self, deadline: Option<Instant>) -> (Context, CancelFunc) {
        let parent = &self.node;
        let own_timer = deadline.filter(|d| parent.deadline.is_none_or(|p| *d < p));
        let deadline = own_timer.or(parent.deadline);
        // With a deadline, time alone will close it: waiting on it is
        // sleeping, not blocking.
        let flavor = if deadline.is_some() {
            Flavor::Timer
        } else {
            Flavor::Chan
        };
        let mut chan = Chan::new(0, flavor);
        if own_timer.is_none() {
            // Closed by the parent's timer, if any: of the parent's bubble
            // (a parent made outside one runs on real time).
            if let Some(home) = parent.done.chan().home() {
                chan = chan.of_bubble(home);
            }
        }
        let chan = Arc::new(chan);
        chan.set_armed(usize::from(deadline.is_some()));
        let close = Sender::from_chan(Arc::clone(&chan));
        let node = Arc::new(Node {
            parent: Some(Arc::clone(parent)),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            deadline,
            done: Receiver::from_chan(chan),
            state: Mutex::new(State {
                err: None,
                close: Some(close),
                children: HashMap::new(),
                timer: None,
            }),
        });
        // Go's propagateCancel: a parent that can be cancelled learns of the
        // child; a parent already done makes the child done at birth.
        if parent.done.chan().flavor != Flavor::Never {
            let mut state = lock(&parent.state);
            match state.err {
                Some(err) => {
                    drop(state);
                    node.cancel(err, false);
                }
                None => {
                    state.children.insert(node.id, Arc::downgrade(&node));
                }
            }
        }
        if let Some(when) = own_timer {
            if when <= crate::time::now() {
                node.cancel(Error::DeadlineExceeded, true);
            } else {
                let mut state = lock(&node.state);
                if state.err.is_none() {
                    let target: Arc<dyn Fire> = Arc::clone(&node) as Arc<dyn Fire>;
                    state.timer = Some(driver::schedule(when, target));
                }
            }
        }
        let cancel = CancelFunc {
            node: Arc::clone(&node),
        };
        (Context { node }, cancel)
    }
}

impl Node {
    /// Makes this context done with `err` (unless it already is), then its
    /// children; `detach` removes it from its parent's children (not needed
    /// when the parent is the one cancelling: it has emptied its list).
    fn cancel(self: &Arc<Self>, err: Error, detach: bool) {
        // Children, grandchildren, ...: a worklist, not recursion, so a deep
        // chain of contexts is cancelled on any stack.
        let mut pending = self.cancel_one(err, detach);
        while let Some(node) = pending.pop() {
            pending.extend(node.cancel_one(err, false));
        }
    }

    /// Makes this context done with `err` (unless it already is); returns
    /// the children that are still alive, for the caller to cancel.
    fn cancel_one(&self, err: Error, detach: bool) -> Vec<Arc<Node>> {
        let (close, children, timer) = {
            let mut state = lock(&self.state);
            if state.err.is_some() {
                return Vec::new();
            }
            state.err = Some(err);
            (
                state.close.take(),
                std::mem::take(&mut state.children),
                state.timer.take(),
            )
        };
        // Leave the parent's children first, so whoever sees `done` closed
        // also sees the parent released (a parent cancelling us at the same
        // moment finds `err` set and does nothing).
        if detach {
            if let Some(parent) = &self.parent {
                lock(&parent.state).children.remove(&self.id);
            }
        }
        // `err` is set before `done` closes: whoever sees the channel
        // closed finds the error (Go's order).
        drop(close);
        if let Some(key) = timer {
            driver::unschedule(key);
        }
        children.values().filter_map(Weak::upgrade).collect()
    }
}

impl Drop for Node {
    /// Drops the ancestors this node was the last owner of one by one: left
    /// to the compiler, dropping `parent` would drop its parent in turn, a
    /// stack frame per level, and a chain of a few tens of thousands of
    /// contexts would overflow a goroutine's stack.
    fn drop(&mut self) {
        let mut parent = self.parent.take();
        while let Some(node) = parent {
            // The last owner takes the node, and its parent from it; the
            // node itself then drops here with no parent left to recurse
            // into. Otherwise someone else still owns it: stop.
            parent = Arc::into_inner(node).and_then(|mut node| node.parent.take());
        }
    }
}

impl Fire for Node {
    fn fire(self: Arc<Self>, _key: Key) {
        self.cancel(Error::DeadlineExceeded, true);
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.node.state);
        f.debug_struct("Context")
            .field("deadline", &self.node.deadline)
            .field("err", &state.err)
            .field("children", &state.children.len())
            .finish()
    }
}

/// Cancels the context it came with: Go's `context.CancelFunc`.
///
/// Calling [`cancel`](CancelFunc::cancel) more than once does nothing more.
/// Dropping it cancels too, so the Go idiom `defer cancel()` needs no line
/// of its own: the context is cancelled when the function that made it
/// returns, which releases its resources (its place among its parent's
/// children, its timer).
///
/// So keep it in a named binding while the context is in use: the pattern
/// `_` drops it at once, and `let (ctx, _) = parent.with_cancel();` gives a
/// context that is already cancelled (Go's `vet` rejects the same
/// `ctx, _ := context.WithCancel(parent)`). Write `_cancel` to keep it
/// until the end of the scope without using it.
///
/// # Examples
///
/// ```
/// use goscope::context::{Context, Error};
///
/// let (ctx, cancel) = Context::background().with_cancel();
/// cancel.cancel();
/// cancel.cancel(); // idempotent
/// assert_eq!(ctx.err(), Some(Error::Canceled));
/// ```
pub struct CancelFunc {
    node: Arc<Node>,
}

impl CancelFunc {
    /// Cancels the context and every context derived from it, unless it is
    /// already done: Go's `cancel()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use goscope::context::Context;
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// let (child, _child_cancel) = ctx.with_cancel();
    /// cancel.cancel();
    /// assert!(child.err().is_some());
    /// ```
    pub fn cancel(&self) {
        self.node.cancel(Error::Canceled, true);
    }
}

impl Drop for CancelFunc {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for CancelFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelFunc")
            .field("done", &lock(&self.node.state).err.is_some())
            .finish()
    }
}
