//! The deadlock and leak detector.
//!
//! # How it decides
//!
//! Every thread that runs goroutines has a [`Slot`]: pool workers from the
//! moment they start, and the thread running a `#[goscope::main]` or
//! `#[goscope::test]` body (a *root*) while the body runs. A slot holds the
//! goroutine running on it and, while that goroutine waits in a goscope
//! operation that only another goroutine can complete, what it waits on.
//!
//! The fast path of every operation (a buffered send or receive that
//! completes at once, a spawn) touches none of this; an operation that is
//! about to park (and every unbuffered one) marks only its own slot (a
//! blocked bit and a counter of marks), so goroutines blocking and waking on
//! different threads never contend on detector state.
//!
//! A monitor thread looks every [`POLL`]. It reports a deadlock only when,
//! at every one of several looks spread over [`GRACE`]:
//! - every tracked goroutine is blocked (the blocked slots number the active
//!   roots plus the live goroutines), with no mark, unmark, spawn or exit
//!   since the first look;
//! - every thread of the process is one goscope knows (a pool worker, a root,
//!   the monitor, and under the test harness its main thread): a thread
//!   goscope did not start might hold a channel end and complete an operation
//!   at any time, so its mere existence keeps the detector silent;
//!
//! and, at the last look, no goscope thread is runnable (`R` in
//! `/proc/self/task/TID/stat`): a goroutine whose operation another one has
//! just completed is runnable until it has run and unmarked itself, however
//! long the scheduler keeps it waiting.
//!
//! What is never counted as blocked: sleeping, computing, I/O, waiting on a
//! `std::sync::Mutex` or anything else outside goscope, and goscope operations
//! that end by themselves (`recv_timeout`, `send_timeout`, a `select!` with
//! an `after`/`tick` arm, receiving from `after`/`tick`).
//!
//! Conservative by design, it stays silent: without
//! `#[goscope::main]`/`#[goscope::test]` (the main thread is then foreign); off
//! Linux (no `/proc`); while any foreign thread is alive (a test's helper
//! thread, a library's thread pool); and while any goroutine is untracked
//! (started under `deadlock = "off"`) or running (a leaked busy goroutine of
//! another test delays reports in the same process until it ends).

use std::collections::HashSet;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel as cb;

use crate::lock;
use crate::sched::cancel::{Cancellable, Cancelled, Token};

pub(crate) use report::describe;

mod report;
#[cfg(unix)]
mod signal;

#[cfg(unix)]
pub(crate) use signal::dump_on_sigquit;

/// How long every goroutine must stay blocked before a deadlock is reported.
pub(crate) const GRACE: Duration = Duration::from_millis(200);

/// How often the monitor looks for a deadlock.
const POLL: Duration = Duration::from_millis(50);

/// Roots whose body is running.
static ROOTS: AtomicUsize = AtomicUsize::new(0);
/// Set when any root runs under the test harness: its main thread is then
/// libtest's, which waits for test results and touches no channel.
static UNDER_TEST_HARNESS: AtomicBool = AtomicBool::new(false);

/// What a blocked goroutine waits for, in Go's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    ChanSend,
    ChanReceive,
    ChanReceiveNil,
    Select,
    Group,
    Scope,
    /// `sleep`: ends by time alone, so never counted as blocked.
    Sleep,
    /// A receive from a timer channel (`after`, `tick`): ends by time alone.
    ChanReceiveTimer,
    /// A `select!` with a timer arm: ends by time alone.
    SelectTimer,
    MutexLock,
    RwLockRLock,
    RwLockLock,
}

impl Wait {
    /// Whether a goroutine waiting so counts as blocked for deadlock
    /// reports: false for waits that time alone will end.
    fn is_blocking(self) -> bool {
        !matches!(
            self,
            Wait::Sleep | Wait::ChanReceiveTimer | Wait::SelectTimer
        )
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wait::ChanSend => "chan send",
            Wait::ChanReceive | Wait::ChanReceiveTimer => "chan receive",
            Wait::ChanReceiveNil => "chan receive (nil chan)",
            Wait::Select | Wait::SelectTimer => "select",
            Wait::Group => "sync.WaitGroup.Wait",
            Wait::Scope => "scope: waiting for its goroutines",
            Wait::Sleep => "sleep",
            Wait::MutexLock => "sync.Mutex.Lock",
            Wait::RwLockRLock => "sync.RWMutex.RLock",
            Wait::RwLockLock => "sync.RWMutex.Lock",
        })
    }
}

/// Who a goroutine is, for reports.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GInfo {
    pub(crate) id: u64,
    /// The goroutine whose `go!` started this one; 0 for a thread goscope did
    /// not start.
    pub(crate) parent: u64,
    /// The root (program or test) this goroutine belongs to; 0 if none.
    pub(crate) root: u64,
    /// Where `go!` was written; `None` for a root.
    pub(crate) go_site: Option<&'static Location<'static>>,
    /// Whether the detector watches it.
    pub(crate) tracked: bool,
    /// Whether the detector may end it (only under `#[goscope::test]`: a
    /// program exits instead). Blocking operations of an abortable goroutine
    /// also select on its abort channel.
    pub(crate) abortable: bool,
}

struct Blocked {
    what: Wait,
    site: &'static Location<'static>,
    /// Wakes the goroutine so it can see that it was aborted.
    interrupt: Option<Arc<dyn Interrupt>>,
}

/// Something a blocked goroutine sleeps on, which the detector can poke.
pub(crate) trait Interrupt: Send + Sync {
    fn interrupt(&self);
}

struct Current {
    info: GInfo,
    blocked: Option<Blocked>,
    /// The cancellation token of the innermost scope this goroutine is in:
    /// the one it was started into, or the innermost one it owns.
    token: Option<Arc<dyn Cancellable>>,
}

/// A thread that runs goroutines.
pub(crate) struct Slot {
    tid: Option<u32>,
    thread: Thread,
    current: Mutex<Option<Current>>,
    /// Set when the detector ends this thread's goroutine (test deadlocks).
    aborted: AtomicBool,
    /// Wakes a goroutine blocked in a channel operation to look at why:
    /// the detector ended it, or its scope was cancelled. Its receiver is
    /// added to every interruptible blocking channel operation. A message
    /// may be stale (the goroutine it was meant for has moved on), so every
    /// operation checks [`aborted`] when woken and otherwise waits again.
    interrupt_tx: cb::Sender<()>,
    interrupt_rx: cb::Receiver<()>,
    /// Bit 0: the goroutine here is blocked in a goscope operation. The rest:
    /// how many times it was marked or unmarked, so the monitor can tell a
    /// stable state from a busy one that looks the same at each look.
    state: AtomicU64,
    /// For roots: the report to fail with, set by the detector.
    report: Mutex<Option<String>>,
    is_root: bool,
    is_main: bool,
    /// A thread goscope did not start, given a slot only while it owns a
    /// scope (so cancellation can reach it): still foreign to the detector.
    is_guest: bool,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Option<Current>> {
        lock(&self.current)
    }

    /// Wakes this thread's goroutine wherever it waits in goscope: a channel
    /// operation (the interrupt channel), a condition variable (its
    /// [`Interrupt`]), a park (sleep, a scope's join).
    fn wake(&self, interrupt: Option<Arc<dyn Interrupt>>) {
        let _ = self.interrupt_tx.try_send(());
        if let Some(interrupt) = interrupt {
            interrupt.interrupt();
        }
        self.thread.unpark();
    }
}

/// Every slot, for the monitor.
static SLOTS: Mutex<Vec<Arc<Slot>>> = Mutex::new(Vec::new());

thread_local! {
    static SLOT: std::cell::RefCell<Option<Arc<Slot>>> = const { std::cell::RefCell::new(None) };
    /// A copy of the running goroutine's info, so a spawn reads it without
    /// touching the slot's lock.
    static INFO: std::cell::Cell<Option<GInfo>> = const { std::cell::Cell::new(None) };
    /// The live-goroutine count of the running goroutine's root, if any.
    static ROOT_LIVE: std::cell::RefCell<Option<LiveToken>> =
        const { std::cell::RefCell::new(None) };
}

/// One goroutine counted in its root's live count, until dropped.
pub(crate) struct LiveToken(Arc<AtomicUsize>);

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a new goroutine in the current root's live count; the token goes
/// with the goroutine to its thread and is dropped when it ends (or never
/// starts).
pub(crate) fn root_live() -> Option<LiveToken> {
    ROOT_LIVE.with(|r| {
        let live = Arc::clone(&r.borrow().as_ref()?.0);
        live.fetch_add(1, Ordering::SeqCst);
        Some(LiveToken(live))
    })
}

fn new_slot(is_root: bool, is_main: bool, is_guest: bool) -> Arc<Slot> {
    let (interrupt_tx, interrupt_rx) = cb::bounded(1);
    let slot = Arc::new(Slot {
        tid: own_tid(),
        thread: thread::current(),
        current: Mutex::new(None),
        aborted: AtomicBool::new(false),
        state: AtomicU64::new(0),
        interrupt_tx,
        interrupt_rx,
        report: Mutex::new(None),
        is_root,
        is_main,
        is_guest,
    });
    lock(&SLOTS).push(Arc::clone(&slot));
    slot
}

fn remove_slot(slot: &Arc<Slot>) {
    let mut slots = lock(&SLOTS);
    slots.retain(|s| !Arc::ptr_eq(s, slot));
    // Keep its marks in the monitor's sum: a thread leaving must not make
    // the sum look unchanged while others marked in between.
    RETIRED_MARKS.fetch_add(slot.state.load(Ordering::SeqCst) >> 1, Ordering::SeqCst);
}

/// The marks of slots that are gone (see `snapshot`).
static RETIRED_MARKS: AtomicU64 = AtomicU64::new(0);

/// The kernel's id of this thread.
fn own_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// Whether deadlock detection is on for the process (`GOSCOPE_DEADLOCK=off`
/// turns it off).
fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        cfg!(target_os = "linux")
            && !matches!(
                std::env::var("GOSCOPE_DEADLOCK").as_deref(),
                Ok("off" | "0" | "false")
            )
    })
}

/// Registers a pool thread; returns its slot, also kept in a thread local.
pub(crate) fn register_worker() -> Arc<Slot> {
    let slot = new_slot(false, false, false);
    SLOT.with(|s| *s.borrow_mut() = Some(Arc::clone(&slot)));
    slot
}

/// Unregisters a pool thread as it exits.
pub(crate) fn unregister_worker(slot: &Arc<Slot>) {
    remove_slot(slot);
}

/// Whether the goroutine that ran on this worker was ended by the detector;
/// such a worker retires instead of taking more work.
pub(crate) fn worker_aborted(slot: &Slot) -> bool {
    slot.aborted.load(Ordering::Relaxed)
}

/// Who would be the parent of a goroutine started on this thread now.
pub(crate) fn spawner() -> GInfo {
    match INFO.with(std::cell::Cell::get) {
        Some(p) => GInfo {
            id: 0,
            parent: p.id,
            root: p.root,
            go_site: None,
            tracked: p.tracked,
            abortable: p.abortable,
        },
        None => GInfo {
            id: 0,
            parent: 0,
            root: 0,
            go_site: None,
            tracked: enabled(),
            abortable: false,
        },
    }
}

/// A goroutine starts running on this worker.
pub(crate) fn begin(
    slot: &Slot,
    info: GInfo,
    live: Option<LiveToken>,
    token: Option<Arc<dyn Cancellable>>,
) {
    INFO.with(|i| i.set(Some(info)));
    ROOT_LIVE.with(|r| *r.borrow_mut() = live);
    *slot.lock() = Some(Current {
        info,
        blocked: None,
        token,
    });
}

/// This thread's goroutine has finished its function.
pub(crate) fn end() {
    INFO.with(|i| i.set(None));
    drop(ROOT_LIVE.with(|r| r.borrow_mut().take()));
    SLOT.with(|s| {
        if let Some(slot) = s.borrow().as_ref() {
            *slot.lock() = None;
        }
    });
}

/// A root: the thread running a `#[goscope::main]` or `#[goscope::test]` body.
pub(crate) struct Root {
    slot: Arc<Slot>,
    previous: Option<Arc<Slot>>,
    previous_info: Option<GInfo>,
    previous_live: Option<LiveToken>,
    /// Goroutines started (directly or not) by this root that are alive.
    live: Arc<AtomicUsize>,
    id: u64,
}

/// Makes this thread a root for as long as the returned guard lives.
pub(crate) fn enter_root(main: bool, deadlock: bool) -> Root {
    let id = if main { 1 } else { next_id() };
    if !main {
        UNDER_TEST_HARNESS.store(true, Ordering::Relaxed);
    }
    let info = GInfo {
        id,
        parent: 0,
        root: id,
        go_site: None,
        tracked: deadlock && enabled(),
        abortable: !main,
    };
    let slot = new_slot(true, main, false);
    *slot.lock() = Some(Current {
        info,
        blocked: None,
        token: None,
    });
    let previous_info = INFO.with(|i| i.replace(Some(info)));
    ROOTS.fetch_add(1, Ordering::SeqCst);
    if info.tracked {
        start_monitor();
    }
    let previous = SLOT.with(|s| s.borrow_mut().replace(Arc::clone(&slot)));
    // The root itself holds one count in its thread local: `leaked` waits
    // for the count to fall back to one.
    let live = Arc::new(AtomicUsize::new(1));
    let token = LiveToken(Arc::clone(&live));
    let previous_live = ROOT_LIVE.with(|r| r.borrow_mut().replace(token));
    Root {
        slot,
        previous,
        previous_info,
        previous_live,
        live,
        id,
    }
}

impl Root {
    /// The deadlock report, if the detector ended this root's goroutines.
    pub(crate) fn take_report(&self) -> Option<String> {
        lock(&self.slot.report).take()
    }

    /// Goroutines of this root that are still alive (detached ones: scoped
    /// ones have been joined), waiting up to `patience` for them to end.
    pub(crate) fn leaked(&self, patience: Duration) -> Option<String> {
        let deadline = Instant::now() + patience;
        while self.live.load(Ordering::SeqCst) > 1 {
            if Instant::now() >= deadline {
                return Some(describe(|info| info.root == self.id && info.id != self.id));
            }
            thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        SLOT.with(|s| *s.borrow_mut() = self.previous.take());
        INFO.with(|i| i.set(self.previous_info));
        ROOT_LIVE.with(|r| *r.borrow_mut() = self.previous_live.take());
        remove_slot(&self.slot);
        ROOTS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Marks the current goroutine blocked on `what` while `op` runs.
///
/// `op` is given the interrupt receiver to add to its select when the
/// goroutine can be ended while it waits: by the detector (under
/// `#[goscope::test]`) or by the cancellation of its scope. When that
/// receiver fires (or, for a condition-variable wait, when `interrupt` is
/// called), `op` checks [`aborted`]: if true it stops with [`abort`] (or, if
/// the thread is already unwinding, returns what a closed channel would
/// give); if false the wake-up was stale and it waits again. Otherwise `op`
/// blocks as it would without goscope.
pub(crate) fn block<R>(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    op: impl FnOnce(Option<&cb::Receiver<()>>) -> R,
) -> R {
    // `try_with`: during thread-local destruction the slot is gone; block
    // unwatched rather than panic (a scope's join must never unwind).
    let slot = SLOT.try_with(|s| s.borrow().clone()).ok().flatten();
    let Some(slot) = slot else {
        return op(None);
    };
    let (tracked, interruptible, cancelled) = {
        let mut current = slot.lock();
        let Some(c) = current.as_mut() else {
            drop(current);
            return op(None);
        };
        // Recorded even when the detector does not watch this goroutine:
        // cancellation needs the interrupt, and a dump shows the state.
        c.blocked = Some(Blocked {
            what,
            site,
            interrupt,
        });
        (
            c.info.tracked && what.is_blocking(),
            c.info.abortable || c.token.is_some(),
            c.token.as_ref().is_some_and(|t| t.token().is_cancelled()),
        )
    };
    if tracked {
        // Blocked bit on, one more mark: +3 (see `Slot::state`).
        slot.state.fetch_add(3, Ordering::SeqCst);
    }
    let _unmark = Unmark(&slot, tracked);
    let stop_now = slot.aborted.load(Ordering::SeqCst) || (cancelled && !thread::panicking());
    if interruptible && stop_now {
        // Cancelled before it could block (a canceller that came earlier
        // found nothing to wake): make the operation see it at once.
        let _ = slot.interrupt_tx.try_send(());
    }
    op(interruptible.then_some(&slot.interrupt_rx))
}

struct Unmark<'a>(&'a Slot, bool);

impl Drop for Unmark<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.0.lock().as_mut() {
            c.blocked = None;
        }
        if self.1 {
            // Blocked bit off, carrying into one more mark: +1.
            self.0.state.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Whether the current goroutine must stop waiting: the detector ended it
/// (a deadlock in a test), or its scope was cancelled.
///
/// A goroutine that is already unwinding (a deferred call) is not stopped by
/// a cancellation: it could not unwind again, and what it waits for may
/// well come (a lock released by another unwinding goroutine). It goes on
/// waiting; if nothing can ever end the wait, the detector reports it.
pub(crate) fn aborted() -> bool {
    detector_ended() || (cancelled() && !thread::panicking())
}

/// Whether the detector has ended the current goroutine.
fn detector_ended() -> bool {
    SLOT.try_with(|s| {
        s.borrow()
            .as_ref()
            .is_some_and(|slot| slot.aborted.load(Ordering::SeqCst))
    })
    .unwrap_or(false)
}

/// Whether the current goroutine's scope has been cancelled.
pub(crate) fn cancelled() -> bool {
    // Read under the slot's lock (not kept in a thread-local): only waits
    // that have been woken ask, and `go!` then sets the token once, in the
    // slot, instead of twice.
    with_current(|c| c.token.as_ref().is_some_and(|t| t.token().is_cancelled())).unwrap_or(false)
}

/// Runs `f` on the current goroutine's slot state, if this thread has one.
fn with_current<R>(f: impl FnOnce(&Current) -> R) -> Option<R> {
    let slot = SLOT.try_with(|s| s.borrow().clone()).ok().flatten()?;
    let current = slot.lock();
    current.as_ref().map(f)
}

/// The payload of the unwinding that ends a deadlocked goroutine in a test.
#[derive(Debug)]
pub(crate) struct Deadlocked;

/// Whether `payload` is one of goscope's own quiet unwindings (a goroutine
/// ended by the detector or by cancellation), not a panic of the program.
pub(crate) fn is_quiet(payload: &(dyn std::any::Any + Send)) -> bool {
    payload.is::<Deadlocked>() || payload.is::<Cancelled>()
}

/// Ends the current goroutine without a panic message: it is part of a
/// deadlock in a test (which fails with the report), or its scope was
/// cancelled (the panic that cancelled it resumes in the owner).
///
/// A goroutine that is already unwinding (blocked in a deferred call) cannot
/// unwind again: that would abort the process. Channel operations and
/// `WaitGroup::wait` return what a closed channel would give instead of
/// calling this; an operation that has nothing to return (a lock) ends the
/// process with status 2 and says why.
pub(crate) fn abort() -> ! {
    let ended = detector_ended();
    if thread::panicking() {
        // Only the detector stops an unwinding goroutine (see `aborted`), and
        // this operation has nothing to return: a second unwind would abort
        // the process, so it ends with the report instead.
        let report = own_report().unwrap_or_default();
        eprintln!(
            "{report}\nfatal error: a goroutine blocked in a deferred call while unwinding is \
             part of a deadlock, and cannot unwind twice; exiting with status 2"
        );
        std::process::exit(2);
    }
    if ended {
        std::panic::resume_unwind(Box::new(Deadlocked))
    }
    std::panic::resume_unwind(Box::new(Cancelled))
}

/// The deadlock report stored for the current goroutine's root (a test).
fn own_report() -> Option<String> {
    let root = INFO.try_with(std::cell::Cell::get).ok().flatten()?.root;
    let slots: Vec<Arc<Slot>> = lock(&SLOTS).clone();
    slots.iter().filter(|s| s.is_root).find_map(|s| {
        let id = s.lock().as_ref().map(|c| c.info.id)?;
        (id == root).then(|| lock(&s.report).clone()).flatten()
    })
}

/// Wakes every goroutine whose scope is cancelled, wherever it waits in
/// goscope, so it can unwind. Called after [`Token::cancel`].
pub(crate) fn wake_cancelled() {
    let slots: Vec<Arc<Slot>> = lock(&SLOTS).clone();
    for slot in &slots {
        let interrupt = {
            let current = slot.lock();
            match current.as_ref() {
                Some(c) if c.token.as_ref().is_some_and(|t| t.token().is_cancelled()) => {
                    c.blocked.as_ref().and_then(|b| b.interrupt.clone())
                }
                _ => continue,
            }
        };
        // Outside the slot's lock: an `Interrupt` takes the waiter's lock,
        // and the waiter may check `aborted` while holding it.
        slot.wake(interrupt);
    }
}

/// The current goroutine's cancellation token.
pub(crate) fn current_token() -> Option<Arc<Token>> {
    with_current(|c| c.token.as_ref().map(|t| Arc::clone(t.token()))).flatten()
}

/// Makes `token` the current goroutine's cancellation token until the guard
/// is dropped (a scope's owner, while the scope is open). A thread goscope
/// did not start gets a guest slot for that time, so cancellation can reach
/// it; it stays foreign to the detector.
pub(crate) fn enter_token(token: Arc<dyn Cancellable>) -> TokenGuard {
    let mut guest = None;
    let slot = SLOT.with(|s| s.borrow().clone()).unwrap_or_else(|| {
        let slot = new_slot(false, false, true);
        let info = spawner();
        *slot.lock() = Some(Current {
            info: GInfo {
                tracked: false,
                abortable: false,
                ..info
            },
            blocked: None,
            token: None,
        });
        SLOT.with(|s| *s.borrow_mut() = Some(Arc::clone(&slot)));
        guest = Some(Arc::clone(&slot));
        slot
    });
    let previous = slot.lock().as_mut().and_then(|c| c.token.replace(token));
    TokenGuard {
        slot,
        previous,
        guest,
    }
}

/// Restores the previous cancellation token (see [`enter_token`]).
pub(crate) struct TokenGuard {
    slot: Arc<Slot>,
    previous: Option<Arc<dyn Cancellable>>,
    guest: Option<Arc<Slot>>,
}

impl Drop for TokenGuard {
    fn drop(&mut self) {
        if let Some(c) = self.slot.lock().as_mut() {
            c.token = self.previous.take();
        }
        if let Some(guest) = self.guest.take() {
            let _ = SLOT.try_with(|s| s.borrow_mut().take());
            remove_slot(&guest);
        }
    }
}

fn tracked() -> usize {
    ROOTS.load(Ordering::SeqCst) + spawned()
}

/// Live goroutines started by `go!` (roots not included).
static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// Goroutine ids; 1 is main, as in Go's dumps.
static NEXT_ID: AtomicU64 = AtomicU64::new(2);

/// Live goroutines started by `go!`.
pub(crate) fn spawned() -> usize {
    SPAWNED.load(Ordering::SeqCst)
}

/// A fresh goroutine id.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A goroutine is being started: it counts as live from now on.
pub(crate) fn spawning() {
    SPAWNED.fetch_add(1, Ordering::SeqCst);
}

/// A goroutine has ended (or failed to start).
pub(crate) fn exiting() {
    SPAWNED.fetch_sub(1, Ordering::SeqCst);
}

static MONITOR: OnceLock<Thread> = OnceLock::new();

fn start_monitor() {
    MONITOR.get_or_init(|| {
        thread::Builder::new()
            .name("goscope deadlock detector".into())
            .spawn(monitor)
            .expect("goscope: failed to start the deadlock detector thread")
            .thread()
            .clone()
    });
}

/// (marks so far, blocked goroutines, tracked goroutines).
fn snapshot() -> (u64, usize, usize) {
    let tracked = tracked();
    let slots = lock(&SLOTS);
    let (mut marks, mut blocked) = (RETIRED_MARKS.load(Ordering::SeqCst), 0usize);
    for slot in slots.iter() {
        let state = slot.state.load(Ordering::SeqCst);
        marks = marks.wrapping_add(state >> 1);
        blocked += (state & 1) as usize;
    }
    (marks, blocked, tracked)
}

fn all_blocked(s: (u64, usize, usize)) -> bool {
    s.2 > 0 && s.1 == s.2
}

fn monitor() {
    own_thread();
    let me = own_tid();
    loop {
        thread::sleep(POLL);
        if looks_deadlocked(me) {
            deadlock();
            // Give the ended goroutines time to unwind before looking again.
            thread::sleep(GRACE);
        }
    }
}

/// Whether the process looks deadlocked now, and has for [`GRACE`]: every
/// tracked goroutine blocked, no mark, unmark, spawn or exit between the
/// looks, no thread goscope did not start at any look (one could complete an
/// operation and exit in between), and, at the end, no goscope thread
/// runnable (a goroutine whose operation was just completed is runnable
/// until it runs and unmarks itself, however long the scheduler makes it
/// wait).
fn looks_deadlocked(me: Option<u32>) -> bool {
    let first = snapshot();
    if !all_blocked(first) || foreign_threads(me) {
        return false;
    }
    if PENDING_CALLS.load(Ordering::SeqCst) > 0 {
        // An `after_func` will run: it may complete what they wait for.
        return false;
    }
    if flush_idle_threads() {
        // Look again once they are gone.
        return false;
    }
    let steps = 4;
    for _ in 0..steps {
        thread::sleep(GRACE / steps);
        if snapshot() != first || foreign_threads(me) {
            return false;
        }
    }
    !runnable_threads(me) && snapshot() == first && PENDING_CALLS.load(Ordering::SeqCst) == 0
}

/// Whether a thread goscope knows, other than the monitor, is running or
/// runnable (state `R` in `/proc/self/task/TID/stat`); true if that cannot
/// be read.
fn runnable_threads(me: Option<u32>) -> bool {
    let tids: Vec<u32> = lock(&SLOTS).iter().filter_map(|s| s.tid).collect();
    tids.into_iter().filter(|&tid| Some(tid) != me).any(|tid| {
        match std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) {
            // The state follows the command name, which is in parentheses
            // and may contain anything: read it after the last `)`.
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                .is_none_or(|state| state == 'R'),
            // The thread has just exited: something happened.
            Err(_) => true,
        }
    })
}

/// Threads goscope runs for itself (the timer thread, the signal thread):
/// never goroutines, never foreign.
static OWN_THREADS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Marks the current thread as one of goscope's own service threads, so the
/// detector does not take it for a foreign thread that could hold a channel
/// end. Such a thread must never block on a channel that a goroutine waits
/// on for the program to progress (it is not counted as a goroutine).
pub(crate) fn own_thread() {
    if let Some(tid) = own_tid() {
        lock(&OWN_THREADS).push(tid);
    }
}

/// `after_func` timers armed and not yet fired (Go's `checkdead` is silent
/// while any timer is pending; goscope only for those that run code).
static PENDING_CALLS: AtomicUsize = AtomicUsize::new(0);

/// An `after_func` timer was armed (`true`), or fired or stopped (`false`).
pub(crate) fn pending_call(armed: bool) {
    if armed {
        PENDING_CALLS.fetch_add(1, Ordering::SeqCst);
    } else {
        PENDING_CALLS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Bumped to ask idle pool threads to retire now (see [`flush_epoch`]).
static FLUSH: AtomicU64 = AtomicU64::new(0);

/// Idle pool threads retire when this changes. An idle thread may still
/// hold what a goroutine left in its thread-locals (a `Sender` in a
/// `thread_local!`), which it drops only as the thread exits: before the
/// detector calls a deadlock, every idle thread must have exited, so those
/// destructors have run (an exiting thread is foreign to the detector until
/// it is gone).
pub(crate) fn flush_epoch() -> u64 {
    FLUSH.load(Ordering::SeqCst)
}

/// Asks idle pool threads to retire; true if there were any.
fn flush_idle_threads() -> bool {
    let idle: Vec<Arc<Slot>> = lock(&SLOTS)
        .iter()
        .filter(|s| !s.is_root && !s.is_guest && s.lock().is_none())
        .cloned()
        .collect();
    if idle.is_empty() {
        return false;
    }
    FLUSH.fetch_add(1, Ordering::SeqCst);
    for slot in idle {
        slot.thread.unpark();
    }
    true
}

/// Whether the process has a thread goscope did not start.
fn foreign_threads(me: Option<u32>) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return true;
    };
    let mut known: HashSet<u32> = lock(&SLOTS)
        .iter()
        .filter(|s| !s.is_guest)
        .filter_map(|s| s.tid)
        .collect();
    known.extend(me);
    known.extend(lock(&OWN_THREADS).iter().copied());
    if UNDER_TEST_HARNESS.load(Ordering::Relaxed) {
        known.insert(std::process::id());
    }
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .any(|tid| !known.contains(&tid))
}

/// Reports the deadlock: a `#[goscope::main]` program exits with status 2; a
/// test's goroutines are ended, and its root fails with the report.
fn deadlock() {
    let slots: Vec<Arc<Slot>> = lock(&SLOTS).clone();
    let main = slots.iter().find(|s| s.is_main);
    if main.is_some() {
        let report = describe(|_| true);
        let help = scope_help(&slots, |_| true);
        eprintln!("fatal error: all goroutines are asleep - deadlock!\n\n{report}{help}");
        std::process::exit(2);
    }
    for root in slots.iter().filter(|s| s.is_root) {
        let Some(id) = root.lock().as_ref().map(|c| c.info.id) else {
            continue;
        };
        let report = describe(|info| info.root == id);
        let help = scope_help(&slots, |info| info.root == id);
        *lock(&root.report) = Some(format!(
            "fatal error: all goroutines are asleep - deadlock!\n\n{report}{help}"
        ));
    }
    for slot in &slots {
        // Only the goroutines in the report: an idle pool thread must stay
        // usable for the next test.
        let interrupt = match slot.lock().as_ref() {
            Some(Current {
                info,
                blocked: Some(blocked),
                ..
            }) if info.tracked => blocked.interrupt.clone(),
            _ => continue,
        };
        slot.aborted.store(true, Ordering::SeqCst);
        slot.wake(interrupt);
    }
}

/// The hint for a deadlock in which a root waits for its scope: the program
/// may have meant to leave those goroutines behind, as a Go function can.
fn scope_help(slots: &[Arc<Slot>], select: impl Fn(&GInfo) -> bool) -> &'static str {
    let waits_for_scope = slots.iter().filter(|s| s.is_root).any(|s| {
        s.lock().as_ref().is_some_and(|c| {
            select(&c.info) && c.blocked.as_ref().is_some_and(|b| b.what == Wait::Scope)
        })
    });
    if waits_for_scope {
        "\nhelp: a scoped function does not return before its goroutines finish; to let it \
         return without waiting for one (a timeout, the first response wins), start that \
         goroutine with `go!(static ...)`: it must then own its data\n"
    } else {
        ""
    }
}
