//! Every goroutine's record, and the one way a goroutine waits.
//!
//! Each thread that runs goroutines has a [`Slot`]: pool workers from the
//! moment they start, and the thread running a `#[goscope::main]` or
//! `#[goscope::test]` body (a *root*) while the body runs. A slot holds the
//! goroutine running on it ([`GInfo`]), the cancellation token of the scope
//! it is in, and, while it waits in a goscope operation, what it waits on
//! ([`Wait`] and the source location).
//!
//! Every wait goes through [`block`] (or [`Waiting`], its guard form), which
//! marks the record, and every wake-up that must end a wait early goes
//! through the slot: a cancelled scope ([`wake_cancelled`]) or the deadlock
//! detector ending a test's goroutines ([`end`]) set the reason and unpark
//! the thread (and poke its [`Interrupt`], for condition-variable waits). So
//! the detector, cancellation and the spin policy read or drive one record,
//! and no operation needs a hook of its own for each.
//!
//! The fast path of every operation (a buffered send or receive that
//! completes at once, a spawn) touches none of this; an operation that is
//! about to park marks only its own slot (a state word and its record), so
//! goroutines blocking and waking on different threads never contend here.
//!
//! # Spinning
//!
//! A goroutine about to park for a channel hand-off first spins (then
//! yields) for a few microseconds, as Go's scheduler does with an idle P:
//! a partner running on another core completes the hand-off in the time of
//! a cache-line transfer, where a park costs a futex wake (20–30 µs on a
//! VM). It spins only while fewer goroutines are running than there are
//! CPUs ([`may_spin`]), so a program with more runnable goroutines than cores
//! never burns the time its partners need.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::lock;
use crate::sched::cancel::{Cancellable, Cancelled, Token};

/// What a waiting goroutine waits for, in Go's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    ChanSend,
    ChanReceive,
    ChanReceiveNil,
    Select,
    SelectNoCases,
    Group,
    Scope,
    /// `sleep`: ends by time alone, so never counted as blocked.
    Sleep,
    MutexLock,
    RwLockRLock,
    RwLockLock,
}

impl Wait {
    /// Whether only another goroutine can end this wait (time cannot).
    fn is_blocking(self) -> bool {
        !matches!(self, Wait::Sleep)
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wait::ChanSend => "chan send",
            Wait::ChanReceive => "chan receive",
            Wait::ChanReceiveNil => "chan receive (nil chan)",
            Wait::Select => "select",
            Wait::SelectNoCases => "select (no cases)",
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
    /// program exits instead).
    pub(crate) endable: bool,
}

/// The timers that would make a waiting goroutine ready by time alone: the
/// armed-timer counts of the timer channels it waits on. While any is
/// non-zero the goroutine is sleeping, not blocked; once all are zero (a
/// stopped or fired `Timer`, a spent `after`) only another goroutine could
/// end the wait.
pub(crate) type Timers = Vec<Arc<AtomicUsize>>;

/// What a waiting goroutine waits on, for the detector and reports.
pub(crate) struct Blocked {
    pub(crate) what: Wait,
    pub(crate) site: &'static Location<'static>,
    /// Wakes the goroutine so it can see that it must stop waiting.
    interrupt: Option<Arc<dyn Interrupt>>,
    /// See [`Timers`].
    pub(crate) timers: Timers,
}

impl Blocked {
    /// Whether only another goroutine can end this wait now.
    pub(crate) fn is_blocking(&self) -> bool {
        self.what.is_blocking() && self.timers.iter().all(|t| t.load(Ordering::SeqCst) == 0)
    }
}

/// Something a waiting goroutine sleeps on besides its thread's park token
/// (a condition variable), which a wake-up must poke.
pub(crate) trait Interrupt: Send + Sync {
    fn interrupt(&self);
}

/// The goroutine running on a slot.
pub(crate) struct Current {
    pub(crate) info: GInfo,
    pub(crate) blocked: Option<Blocked>,
    /// The cancellation token of the innermost scope this goroutine is in:
    /// the one it was started into, or the innermost one it owns.
    token: Option<Arc<dyn Cancellable>>,
}

/// A thread that runs goroutines: the record every wait goes through.
pub(crate) struct Slot {
    pub(crate) tid: Option<u32>,
    thread: Thread,
    current: Mutex<Option<Current>>,
    /// Set when the detector ends this thread's goroutine (test deadlocks).
    ended: AtomicBool,
    /// Bit 0: the goroutine here waits in a blocking goscope operation.
    /// Bit 1: it waits on timers (blocked once they are all disarmed; see
    /// [`Timers`]). The rest: how many times it was marked or unmarked, so
    /// the monitor can tell a stable state from a busy one that looks the
    /// same at each look. Written only by the slot's own thread.
    state: AtomicU64,
    /// For roots: the report to fail with, set by the detector.
    pub(crate) report: Mutex<Option<String>>,
    pub(crate) is_root: bool,
    pub(crate) is_main: bool,
    /// A thread goscope did not start, given a slot only while it owns a
    /// scope (so cancellation can reach it): still foreign to the detector.
    pub(crate) is_guest: bool,
}

/// `Slot::state` bits.
pub(crate) const BLOCKED_BIT: u64 = 1;
pub(crate) const TIMED_BIT: u64 = 2;
const MARK: u64 = 4;

impl Slot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Option<Current>> {
        lock(&self.current)
    }

    /// The state word (see [`Slot::state`]).
    pub(crate) fn state(&self) -> u64 {
        self.state.load(Ordering::SeqCst)
    }

    /// Sets the wait bits, counting one more mark.
    fn set_bits(&self, bits: u64) {
        let marks = self.state.load(Ordering::Relaxed) & !(MARK - 1);
        self.state.store(marks + MARK + bits, Ordering::SeqCst);
    }

    /// Wakes this thread's goroutine wherever it waits in goscope.
    fn wake(&self, interrupt: Option<Arc<dyn Interrupt>>) {
        if let Some(interrupt) = interrupt {
            interrupt.interrupt();
        }
        self.thread.unpark();
    }

    /// Whether a goroutine runs here (an idle pool thread has none).
    pub(crate) fn is_busy(&self) -> bool {
        self.lock().is_some()
    }

    /// Wakes the thread (an idle pool thread, to look at its queue).
    pub(crate) fn unpark(&self) {
        self.thread.unpark();
    }
}

/// Every slot, for the monitor.
static SLOTS: Mutex<Vec<Arc<Slot>>> = Mutex::new(Vec::new());

/// A copy of the list of slots.
pub(crate) fn slots() -> Vec<Arc<Slot>> {
    lock(&SLOTS).clone()
}

/// Calls `f` on the list of slots, under its lock (no slot comes or goes).
pub(crate) fn with_slots<R>(f: impl FnOnce(&[Arc<Slot>]) -> R) -> R {
    f(&lock(&SLOTS))
}

thread_local! {
    static SLOT: RefCell<Option<Arc<Slot>>> = const { RefCell::new(None) };
    /// A copy of the running goroutine's info, so a spawn reads it without
    /// touching the slot's lock.
    static INFO: Cell<Option<GInfo>> = const { Cell::new(None) };
    /// The live-goroutine count of the running goroutine's root, if any.
    static ROOT_LIVE: RefCell<Option<LiveToken>> = const { RefCell::new(None) };
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
    let slot = Arc::new(Slot {
        tid: own_tid(),
        thread: thread::current(),
        current: Mutex::new(None),
        ended: AtomicBool::new(false),
        state: AtomicU64::new(0),
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
    RETIRED_MARKS.fetch_add(slot.state() / MARK, Ordering::SeqCst);
}

/// The marks of slots that are gone.
static RETIRED_MARKS: AtomicU64 = AtomicU64::new(0);

/// The marks of slots that are gone (the monitor adds them to its sum).
pub(crate) fn retired_marks() -> u64 {
    RETIRED_MARKS.load(Ordering::SeqCst)
}

/// The kernel's id of this thread.
pub(crate) fn own_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// Whether deadlock detection is on for the process (`GOSCOPE_DEADLOCK=off`
/// turns it off).
pub(crate) fn detection_enabled() -> bool {
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
pub(crate) fn worker_ended(slot: &Slot) -> bool {
    slot.ended.load(Ordering::Relaxed)
}

/// Who would be the parent of a goroutine started on this thread now.
pub(crate) fn spawner() -> GInfo {
    match INFO.with(Cell::get) {
        Some(p) => GInfo {
            id: 0,
            parent: p.id,
            root: p.root,
            go_site: None,
            tracked: p.tracked,
            endable: p.endable,
        },
        None => GInfo {
            id: 0,
            parent: 0,
            root: 0,
            go_site: None,
            tracked: detection_enabled(),
            endable: false,
        },
    }
}

/// The root of the goroutine running on this thread; 0 if none.
pub(crate) fn current_root() -> u64 {
    INFO.try_with(Cell::get)
        .ok()
        .flatten()
        .map_or(0, |i| i.root)
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
    RUNNING.fetch_add(1, Ordering::Relaxed);
    crate::trace::goroutine_begin(info.id, info.parent, info.go_site);
}

/// This thread's goroutine has finished its function.
pub(crate) fn end_goroutine() {
    crate::trace::goroutine_end();
    INFO.with(|i| i.set(None));
    drop(ROOT_LIVE.with(|r| r.borrow_mut().take()));
    SLOT.with(|s| {
        if let Some(slot) = s.borrow().as_ref() {
            *slot.lock() = None;
            RUNNING.fetch_sub(1, Ordering::Relaxed);
        }
    });
}

/// This thread as a root's record: see [`enter_root`].
pub(crate) struct RootSlot {
    pub(crate) slot: Arc<Slot>,
    previous: Option<Arc<Slot>>,
    previous_info: Option<GInfo>,
    previous_live: Option<LiveToken>,
    /// Goroutines started (directly or not) by this root that are alive,
    /// plus one for the root itself.
    pub(crate) live: Arc<AtomicUsize>,
    pub(crate) id: u64,
}

/// Makes this thread the record of a root (a `#[goscope::main]` or
/// `#[goscope::test]` body) for as long as the returned value lives.
pub(crate) fn enter_root(main: bool, tracked: bool) -> RootSlot {
    let id = if main { 1 } else { next_id() };
    let info = GInfo {
        id,
        parent: 0,
        root: id,
        go_site: None,
        tracked,
        endable: !main,
    };
    let slot = new_slot(true, main, false);
    *slot.lock() = Some(Current {
        info,
        blocked: None,
        token: None,
    });
    let previous_info = INFO.with(|i| i.replace(Some(info)));
    ROOTS.fetch_add(1, Ordering::SeqCst);
    RUNNING.fetch_add(1, Ordering::Relaxed);
    let previous = SLOT.with(|s| s.borrow_mut().replace(Arc::clone(&slot)));
    // The root itself holds one count in its thread local: a leak check
    // waits for the count to fall back to one.
    let live = Arc::new(AtomicUsize::new(1));
    let token = LiveToken(Arc::clone(&live));
    let previous_live = ROOT_LIVE.with(|r| r.borrow_mut().replace(token));
    crate::trace::root_begin(id, main);
    RootSlot {
        slot,
        previous,
        previous_info,
        previous_live,
        live,
        id,
    }
}

impl Drop for RootSlot {
    fn drop(&mut self) {
        SLOT.with(|s| *s.borrow_mut() = self.previous.take());
        INFO.with(|i| i.set(self.previous_info));
        ROOT_LIVE.with(|r| *r.borrow_mut() = self.previous_live.take());
        remove_slot(&self.slot);
        ROOTS.fetch_sub(1, Ordering::SeqCst);
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Roots whose body is running.
static ROOTS: AtomicUsize = AtomicUsize::new(0);

/// Live goroutines started by `go!` (roots not included).
static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// Goroutines (roots included) that run: not parked in a goscope wait.
/// Kept loosely (relaxed), for the spin policy only.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Goroutine ids; 1 is main, as in Go's dumps.
static NEXT_ID: AtomicU64 = AtomicU64::new(2);

/// Roots whose body is running.
pub(crate) fn roots() -> usize {
    ROOTS.load(Ordering::SeqCst)
}

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

/// Whether a goroutine about to park may spin first: only while fewer
/// goroutines run than there are CPUs, so that one is idle for it (Go spins
/// only while there is an idle P).
pub(crate) fn may_spin() -> bool {
    static CPUS: LazyLock<usize> =
        LazyLock::new(|| thread::available_parallelism().map_or(1, std::num::NonZero::get));
    *CPUS > 1 && RUNNING.load(Ordering::Relaxed) < *CPUS
}

/// The current goroutine waiting in a goscope operation, from [`wait`] to
/// its drop (which ends the wait). While it lives the goroutine's record
/// says what it waits on and where; the detector counts it blocked (unless
/// time alone can end the wait); a cancellation or the detector wakes its
/// thread.
///
/// Nothing of the user's may run while a `Waiting` lives (a value dropped,
/// a pattern tested): the record would call a running goroutine blocked.
/// Should user code wait all the same (a `Drop` that blocks), the record
/// nests: the inner wait is recorded, and the outer one restored after it.
pub(crate) struct Waiting {
    slot: Option<Arc<Slot>>,
    /// The wait this one interrupted (a wait inside a `Drop` inside a wait).
    outer: Option<(Blocked, u64)>,
    /// Whether the goroutine can be stopped while it waits: by the detector
    /// (under `#[goscope::test]`) or by the cancellation of its scope.
    stoppable: bool,
}

/// Marks the current goroutine waiting on `what` at `site` until the
/// returned guard is dropped. `interrupt` is poked, besides an unpark, when
/// the wait must end early; `timers` are the timer channels that may end it
/// by time alone.
pub(crate) fn wait(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    timers: Timers,
) -> Waiting {
    // `try_with`: during thread-local destruction the slot is gone; wait
    // unwatched rather than panic (a scope's join must never unwind).
    let slot = SLOT.try_with(|s| s.borrow().clone()).ok().flatten();
    let Some(slot) = slot else {
        return Waiting {
            slot: None,
            outer: None,
            stoppable: false,
        };
    };
    let (bits, stoppable, outer) = {
        let mut current = slot.lock();
        let Some(c) = current.as_mut() else {
            drop(current);
            return Waiting {
                slot: None,
                outer: None,
                stoppable: false,
            };
        };
        let blocked = Blocked {
            what,
            site,
            interrupt,
            timers,
        };
        // Recorded even when the detector does not watch this goroutine:
        // cancellation needs the interrupt, and a dump shows the state.
        let bits = match (
            c.info.tracked,
            what.is_blocking(),
            blocked.timers.is_empty(),
        ) {
            (false, ..) | (_, false, _) => 0,
            (true, true, true) => BLOCKED_BIT,
            (true, true, false) => TIMED_BIT,
        };
        let stoppable = c.info.endable || c.token.is_some();
        let outer = c.blocked.replace(blocked);
        (bits, stoppable, outer)
    };
    let outer = outer.map(|b| (b, slot.state() & (BLOCKED_BIT | TIMED_BIT)));
    slot.set_bits(bits);
    if !slot.is_guest {
        // A guest (a foreign thread owning a scope) never counted as
        // running.
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
    crate::trace::wait_begin(what, site);
    Waiting {
        slot: Some(slot),
        outer,
        stoppable,
    }
}

impl Waiting {
    /// Whether the wait must end early: the detector ended this goroutine
    /// (a deadlock in a test), or its scope was cancelled. Also true while
    /// the goroutine is already unwinding: the caller then returns what a
    /// closed channel gives (a channel operation) or goes on waiting (a
    /// lock, which has nothing honest to return), and never unwinds again.
    pub(crate) fn must_stop(&self) -> bool {
        self.stoppable && stop_requested()
    }

    /// Whether the goroutine can be stopped while it waits at all.
    pub(crate) fn stoppable(&self) -> bool {
        self.stoppable
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let Some(slot) = &self.slot else { return };
        crate::trace::wait_end();
        let restored = self.outer.take();
        let bits = restored.as_ref().map_or(0, |(_, bits)| *bits);
        if let Some(c) = slot.lock().as_mut() {
            c.blocked = restored.map(|(b, _)| b);
        }
        slot.set_bits(bits);
        if !slot.is_guest {
            RUNNING.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs `op` with the current goroutine marked waiting on `what` (see
/// [`wait`]). `op` is told whether the goroutine can be stopped while it
/// waits; if so, every wake-up it sees must check [`stop_requested`] and
/// end with [`unwind`] (or, while already unwinding, return what a closed
/// channel gives).
pub(crate) fn block<R>(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    op: impl FnOnce(bool) -> R,
) -> R {
    let waiting = wait(what, site, interrupt, Vec::new());
    op(waiting.stoppable)
}

/// Whether the current goroutine must stop waiting: the detector ended it
/// (a deadlock in a test), or its scope was cancelled.
pub(crate) fn stop_requested() -> bool {
    ended_by_detector() || cancelled()
}

/// Whether the detector has ended the current goroutine.
pub(crate) fn ended_by_detector() -> bool {
    SLOT.try_with(|s| {
        s.borrow()
            .as_ref()
            .is_some_and(|slot| slot.ended.load(Ordering::SeqCst))
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

/// Runs `f` on the current goroutine's record, if this thread has one.
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

/// Ends the current goroutine's wait by unwinding, without a panic message:
/// it is part of a deadlock in a test (which fails with the report), or its
/// scope was cancelled (the panic that cancelled it resumes in the owner).
///
/// A goroutine that is already unwinding cannot unwind again (that would
/// abort the process): channel operations return what a closed channel
/// gives instead of calling this, and locks keep waiting. Should one call
/// it all the same, the process ends with status 2 and says why.
pub(crate) fn unwind() -> ! {
    if thread::panicking() {
        let report = own_report().unwrap_or_default();
        eprintln!(
            "{report}\nfatal error: a goroutine blocked in a deferred call while unwinding is \
             part of a deadlock, and cannot unwind twice; exiting with status 2"
        );
        crate::trace::finish();
        std::process::exit(2);
    }
    crate::trace::unwinding(ended_by_detector);
    if ended_by_detector() {
        std::panic::resume_unwind(Box::new(Deadlocked))
    }
    std::panic::resume_unwind(Box::new(Cancelled))
}

/// The deadlock report stored for the current goroutine's root (a test).
fn own_report() -> Option<String> {
    let root = current_root();
    slots().iter().filter(|s| s.is_root).find_map(|s| {
        let id = s.lock().as_ref().map(|c| c.info.id)?;
        (id == root).then(|| lock(&s.report).clone()).flatten()
    })
}

/// Wakes every goroutine whose scope is cancelled, wherever it waits in
/// goscope, so it can unwind. Called after [`Token::cancel`].
pub(crate) fn wake_cancelled() {
    for slot in &slots() {
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
        // and the waiter may check `stop_requested` while holding it.
        slot.wake(interrupt);
    }
}

/// Ends the goroutine of `slot` because the detector found it deadlocked
/// (in a test): it unwinds out of its wait.
pub(crate) fn end(slot: &Slot) {
    let interrupt = slot
        .lock()
        .as_ref()
        .and_then(|c| c.blocked.as_ref().and_then(|b| b.interrupt.clone()));
    slot.ended.store(true, Ordering::SeqCst);
    slot.wake(interrupt);
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
                endable: false,
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
pub(crate) fn flush_idle_threads() -> bool {
    let idle: Vec<Arc<Slot>> = slots()
        .into_iter()
        .filter(|s| !s.is_root && !s.is_guest && !s.is_busy())
        .collect();
    if idle.is_empty() {
        return false;
    }
    FLUSH.fetch_add(1, Ordering::SeqCst);
    for slot in idle {
        slot.unpark();
    }
    true
}

/// Parks the current thread until `done()` holds, spinning first while a
/// CPU is idle (see [`may_spin`]), and checking `must_stop` at every
/// wake-up; returns false if it stopped because of that. `deadline` ends the
/// wait (returning true) when it passes.
///
/// The waker sets what `done` reads, then unparks this thread: an unpark of
/// a thread that is still spinning costs no syscall.
pub(crate) fn park_until(
    waiting: &Waiting,
    deadline: Option<Instant>,
    done: impl Fn() -> bool,
) -> bool {
    if may_spin() {
        // About 10 µs of spinning, then a few yields.
        let start = Instant::now();
        let mut step = 0u32;
        loop {
            if done() {
                return true;
            }
            if step < 6 {
                for _ in 0..1u32 << step {
                    std::hint::spin_loop();
                }
            } else if step.is_multiple_of(8) && start.elapsed() > SPIN_FOR {
                break;
            } else {
                std::hint::spin_loop();
            }
            step += 1;
        }
        for _ in 0..YIELDS {
            if done() {
                return true;
            }
            thread::yield_now();
        }
    }
    loop {
        if done() {
            return true;
        }
        if waiting.must_stop() {
            return false;
        }
        match deadline {
            None => thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return true;
                }
                thread::park_timeout(deadline - now);
            }
        }
    }
}

/// How long a goroutine spins before it yields and parks.
const SPIN_FOR: Duration = Duration::from_micros(50);

/// How many times it yields before it parks.
const YIELDS: u32 = 4;

/// Whether a wait that has nothing honest to return when stopped (a lock,
/// `WaitGroup::wait`) must stop: the detector ended the goroutine, or its
/// scope was cancelled while it is not already unwinding. An unwinding
/// goroutine (a deferred call) goes on waiting for a lock: what it waits
/// for may well come (a lock released by another unwinding goroutine); if
/// nothing can, the detector reports it.
pub(crate) fn interrupted() -> bool {
    ended_by_detector() || (cancelled() && !thread::panicking())
}
