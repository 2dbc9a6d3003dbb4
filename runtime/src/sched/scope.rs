//! Scopes: goroutines that may borrow, joined before their owner returns.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe, Location};
use std::process::{ExitCode, Termination};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::sched::cancel::{Cancellable, Cancelled, Token};
use crate::sched::goroutine::{self, Outcome};
use crate::sched::join::Join;
use crate::sched::park::{self, Wait};
use crate::sched::pool::Job;

/// The goroutines of a `#[goscope::scoped]` or `#[goscope::test]`
/// function, which it waits for before it returns (or of a `scope!` block,
/// which ends after them). In `#[goscope::main]` the program ends when the
/// body returns, as in Go: its goroutines are cancelled, and those busy in
/// other code are not waited for.
///
/// You never name a `Scope`: the attributes open one for the function's
/// body (and a nested one after each top-level `let` that a later `go!`
/// may borrow), and `go!` inside the function starts its goroutine in the
/// innermost one. It shows up in borrow errors, as
/// `&'1 goscope::Scope<'1, '_>`:
///
/// - `'scope` (the `'1`) is how long the scope's goroutines may run: until
///   the function, or the part of its body after the `let` that opened the
///   scope, has finished and joined them. Whatever a goroutine borrows must
///   live at least that long. A local of a loop body or of an inner block
///   does not (it is dropped at the end of each iteration or block, while
///   the goroutine may still run): give the goroutine its own copy (`go!`
///   moves its arguments; `.clone()` or an `Arc`), or declare the value at
///   the top level of the function.
/// - `'env` (the `'_`) is the lifetime of everything the scope's goroutines
///   may borrow: the function's parameters and its top-level locals
///   declared before the `go!`.
///
/// A goroutine the function must not wait for (first response wins, a
/// timeout that abandons slow work) is started with `go!(static ..)`: it is
/// detached, not part of the scope, and must own what it uses.
///
/// The design follows [`std::thread::scope`], but a goroutine's panic
/// resumes in the function with its own payload.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::scoped]
/// fn total(parts: &[Vec<u32>]) -> u32 {
///     let (tx, rx) = chan(parts.len());
///     for part in parts {
///         // Borrows `part` (from the parameter) and `tx`: both outlive
///         // the scope, which `total` joins before it returns.
///         go!(sum_into(part, &tx));
///     }
///     rx.iter().take(parts.len()).sum()
/// }
///
/// fn sum_into(part: &[u32], out: &Sender<u32>) {
///     out.send(part.iter().sum()).unwrap();
/// }
///
/// # fn main() {
/// assert_eq!(total(&[vec![1, 2], vec![3]]), 6);
/// # }
/// ```
///
/// A goroutine may not borrow a local of a loop body: the loop drops it
/// while the goroutine may still run.
///
/// ```compile_fail,E0597
/// use goscope::prelude::*;
///
/// #[goscope::scoped]
/// fn show_all(lines: &[&str]) {
///     for (i, line) in lines.iter().enumerate() {
///         let numbered = format!("{i}: {line}");
///         go!(println_ref(&numbered)); // error: `numbered` does not live long enough
///     }
/// }
///
/// fn println_ref(s: &str) {
///     println!("{s}");
/// }
/// # fn main() {}
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    state: Arc<ScopeState>,
    /// Invariance over `'scope`, as std's scope: spawned closures may not
    /// shrink it.
    scope: PhantomData<&'scope mut &'scope ()>,
    /// Invariance over `'env`.
    env: PhantomData<&'env mut &'env ()>,
}

struct ScopeState {
    /// The goroutine count, the first panic, and the owner that waits.
    join: Join,
    /// Cancelled when the owner or a goroutine of the scope panics.
    token: Arc<Token>,
    /// For the scopes of `#[goscope::main]`'s body: the end of the program
    /// they share.
    main: Option<Arc<MainEnd>>,
}

/// The end of the program, shared by the nested scopes of
/// `#[goscope::main]`'s body: when the body returns, main's outermost
/// scope (and so every scope inside it) is cancelled, and each level waits
/// for its goroutines until one common deadline.
struct MainEnd {
    /// The token of main's outermost scope.
    token: Arc<Token>,
    /// Set when the body has returned: until when the levels wait.
    deadline: OnceLock<Instant>,
}

/// How long `main` waits, once its body has returned and its scope is
/// cancelled, for goroutines to finish (those blocked in goscope unwind in
/// microseconds) before the process exits without them. Only a program
/// with goroutines busy in code that never calls goscope waits this long.
const EXIT_PATIENCE: Duration = Duration::from_millis(250);

impl ScopeState {
    fn record_panic(&self, payload: Box<dyn Any + Send + 'static>) {
        // Later payloads are reported on stderr and dropped there, and their
        // drop never unwinds (see `Join::record_panic`).
        self.join.record_panic(payload, goroutine::current_id());
        self.cancel();
    }

    /// Cancels the scope: its goroutines and its owner unwind out of any
    /// goscope operation they wait in or enter from now on.
    fn cancel(&self) {
        if self.token.cancel() {
            park::wake_cancelled();
        }
    }

    /// Called by a goroutine as its very last access to the scope.
    fn finished(&self) {
        // In a synctest bubble the owner's join stops counting as durably
        // blocked now (the key is only compared, never followed).
        let key = self.key();
        if self.join.finished() {
            park::release(key);
        }
    }

    /// What the owner's join waits on, for [`park::release`].
    fn key(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Blocks until every goroutine of the scope has finished. Never
    /// unwinds: the soundness of `Scope::spawn` rests on it.
    fn join(&self, site: &'static Location<'static>) {
        if self.join.running() == 0 {
            return;
        }
        // Not abortable: the detector ends the goroutines instead, and this
        // wait then ends as they unwind.
        let over = || self.join.running() == 0;
        let on = park::On {
            key: self.key(),
            home: None,
        };
        park::block_on(Wait::Scope, site, None, on, over, |_| self.join.wait());
    }

    /// Waits until every goroutine of the scope has finished or `deadline`
    /// has passed; returns whether they all finished. Not a goscope wait:
    /// `main`, ending the program, is never part of a deadlock.
    fn join_until(&self, deadline: Instant) -> bool {
        loop {
            if self.join.running() == 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            // `Join::finished` unparks the owner, this thread, at zero.
            thread::park_timeout(deadline - now);
        }
    }

    /// `#[goscope::main]`'s body has returned `value` (at this level or one
    /// inside it): the program ends as in Go. Main's scope is cancelled, so
    /// every goroutine waiting in goscope unwinds; this level waits for its
    /// goroutines until the common deadline, and if some are still running
    /// (busy in other code), the process exits with main's status. Exiting
    /// is sound: this frame, and every frame they borrow from, is never
    /// popped. Returns `value` when they have all finished.
    fn end_of_main<T: Termination>(&self, main: &MainEnd, value: T) -> T {
        let deadline = *main.deadline.get_or_init(|| Instant::now() + EXIT_PATIENCE);
        if main.token.cancel() {
            park::wake_cancelled();
        }
        if self.join_until(deadline) {
            return value;
        }
        // `report` prints a `main`'s `Err` as Rust's `main` does.
        let code =
            panic::catch_unwind(AssertUnwindSafe(|| value.report())).unwrap_or(ExitCode::FAILURE);
        crate::trace::finish();
        std::process::exit(exit_status(code))
    }
}

/// The status `code` stands for. std cannot read an `ExitCode` back (its
/// `exit_process` is unstable), but can compare it with each `u8` status.
fn exit_status(code: ExitCode) -> i32 {
    (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .map_or(1, i32::from)
}

/// Runs `f` with a fresh scope and returns its value once every goroutine
/// spawned into the scope has finished.
///
/// If `f` or any of the goroutines panicked, the panic resumes here, after the
/// join: `f`'s own panic first, else the first goroutine panic with its
/// original payload.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    open(None, f, |_, _, value| value)
}

/// The outermost scope of `#[goscope::main]`'s body: as [`scope`], except
/// that once the body has returned its goroutines are cancelled, and the
/// process exits with main's status without waiting for goroutines busy in
/// other code (see [`main_scope`]).
#[track_caller]
pub(crate) fn main_body<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
    T: Termination,
{
    let token = Token::child_of(park::current_token().as_ref());
    let main = Arc::new(MainEnd {
        token: Arc::clone(&token),
        deadline: OnceLock::new(),
    });
    open_with(token, Some(main), f, ScopeState::end_of_main)
}

/// A nested scope of `#[goscope::main]`'s body (one per `let` that a later
/// `go!` may borrow), inside `outer`: what the attribute opens where a
/// `#[goscope::scoped]` function opens a plain [`scope`]. When the body
/// returns, here or in a scope inside this one, main's whole scope is
/// cancelled, and this level waits for its goroutines only until a deadline
/// common to all levels; past it the process exits with main's status.
#[doc(hidden)]
#[track_caller]
pub fn main_scope<'env, F, T>(outer: &Scope<'_, '_>, f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
    T: Termination,
{
    let main = outer.state.main.clone();
    open(main, f, ScopeState::end_of_main)
}

/// The scope of a `scope!` block that has a compile error (a `return` that
/// would leave it): the block expands as a plain block whose goroutines
/// name this, so rustc reports nothing else. Never called: a program with
/// the error does not build.
#[doc(hidden)]
pub fn unreachable_scope<'scope, 'env>() -> &'scope Scope<'scope, 'env> {
    unreachable!("scope!: this block was expanded with a compile error")
}

/// [`scope`], with `ended` called once `f` has returned its value, before
/// the join.
#[track_caller]
fn open<'env, F, T>(
    main: Option<Arc<MainEnd>>,
    f: F,
    ended: impl FnOnce(&ScopeState, &MainEnd, T) -> T,
) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    // The scope's token hangs below the one of the scope this thread is in,
    // so cancelling an outer scope cancels this one too.
    let token = Token::child_of(park::current_token().as_ref());
    open_with(token, main, f, ended)
}

#[track_caller]
fn open_with<'env, F, T>(
    token: Arc<Token>,
    main: Option<Arc<MainEnd>>,
    f: F,
    ended: impl FnOnce(&ScopeState, &MainEnd, T) -> T,
) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let scope = Scope {
        state: Arc::new(ScopeState {
            join: Join::new(),
            token,
            main,
        }),
        scope: PhantomData,
        env: PhantomData,
    };
    // While the scope is open, the owner's own waits are cancelled with it.
    let owner = park::enter_token(Arc::clone(&scope.state) as Arc<dyn Cancellable>);
    // Run `f`, but catch panics so we can join the goroutines before
    // resuming: they may borrow from `f`'s environment.
    let result = panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
    // From here to the end of the join nothing may unwind: goroutines may
    // still borrow from `f`'s environment. This is the join that makes the
    // lifetime erasure in `spawn` sound.
    let guard = AbortOnUnwind;
    if let Err(payload) = &result {
        if !payload.is::<Cancelled>() {
            // The owner panicked: end the goroutines that wait, so the join
            // below cannot hang on them.
            scope.state.cancel();
        }
    }
    // main's body has returned: the program ends (or exits right here).
    let (result, main_ended) = match (result, &scope.state.main) {
        (Ok(value), Some(main)) => (Ok(ended(&scope.state, main, value)), true),
        (result, _) => (result, false),
    };
    scope.state.join(Location::caller());
    std::mem::forget(guard);
    drop(owner);
    let recorded = scope.state.join.take_panic();
    match (result, recorded) {
        // The owner's own panic comes first; a cancellation is only the echo
        // of a goroutine's panic (resumed here) or of an outer scope's.
        (Err(payload), recorded) => match recorded {
            Some(first) if payload.is::<Cancelled>() => panic::resume_unwind(first),
            _ => panic::resume_unwind(payload),
        },
        (Ok(_), Some(first)) => panic::resume_unwind(first),
        // The owner waited here while an outer scope was cancelled: it
        // unwinds now, as it would have in any other wait. (Not at the end
        // of main, which cancelled the outer scopes itself.)
        (Ok(_), None) if !main_ended && park::cancelled() && !thread::panicking() => {
            panic::resume_unwind(Box::new(Cancelled))
        }
        (Ok(value), None) => value,
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Starts a goroutine that runs `f` and may borrow anything that
    /// outlives the scope: what `go!` does inside a scope.
    #[doc(hidden)]
    #[track_caller]
    pub fn spawn<F, R>(&'scope self, f: F)
    where
        // One bound a line: rustc quotes the line of the one not met.
        F: FnOnce() -> R
            + Send // runs on another thread
            + 'scope, // the function or scope! block waits for it: borrow what outlives it, not a loop body's locals
        R: Outcome,
    {
        self.state.join.spawned();
        // From here on the count comes down exactly once, whatever happens:
        // `Finish` does it when dropped, after `f` (see `Pending`).
        let pending = Pending {
            f,
            finish: Finish(Arc::clone(&self.state)),
        };
        let go_site = Location::caller();
        let job = move || {
            let Pending { f, finish } = pending;
            // Dropped before `finish` (declared later), however the job
            // ends.
            let _exited = goroutine::Exited;
            let result = panic::catch_unwind(AssertUnwindSafe(|| goroutine::run(f, go_site)));
            // `f` and everything it captured are gone by now.
            if let Err(payload) = result {
                if !park::is_quiet(&*payload) {
                    finish.0.record_panic(payload);
                }
            }
        };
        let job: Box<dyn FnOnce() + Send + 'scope> = Box::new(job);
        // SAFETY: the job borrows only from `'scope`, and `scope()` does not
        // return (nor unwind: see `AbortOnUnwind`) before `ScopeState::join`
        // has seen `running` reach zero. `running` was incremented above and
        // comes down once, when `Finish` drops, which is after `f` and its
        // captures have been consumed or dropped: when the job runs, it
        // drops `finish` last; when the job is dropped unrun (a failed
        // start), `Pending`'s field order drops `f` first. So nothing the job
        // borrows can be used after `'scope` ends: extending the trait
        // object's lifetime to `'static` only hides that from the type
        // system.
        let job: Job =
            unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'scope>, Job>(job) };
        // The scope's state, which `finish` already shares: the goroutine's
        // way to its token.
        let token = Some(Arc::clone(&self.state) as Arc<dyn Cancellable>);
        if let Err(e) = goroutine::start(job, Location::caller(), token) {
            // `start` has dropped the job, `f` and then `Finish`.
            panic!("go!: cannot start a goroutine: {e}");
        }
    }
}

/// A goroutine's function and its scope's count, in the order they must be
/// dropped in: the function (with what it borrows) first.
struct Pending<F> {
    f: F,
    finish: Finish,
}

/// Counts a goroutine out of its scope when dropped.
struct Finish(Arc<ScopeState>);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.finished();
    }
}

/// Aborts the process if dropped while unwinding: guards the scope's join,
/// which must never unwind (goroutines may still borrow from the frame).
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("fatal: a goscope scope's join panicked; aborting");
            std::process::abort();
        }
    }
}

impl Cancellable for ScopeState {
    fn token(&self) -> &Arc<Token> {
        &self.token
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("running", &self.state.join.running())
            .finish_non_exhaustive()
    }
}
