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
use crate::sched::bubble::{Bubble, Key, WakeAt};
use crate::sched::cancel::{Cancellable, Cancelled, Token};

pub(crate) use crate::sched::dump::describe;

/// What a waiting goroutine waits for, in Go's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    ChanSend,
    ChanReceive,
    ChanReceiveNil,
    Select,
    SelectNoCases,
    Synctest,
    BubbleRun,
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

    /// Whether the wait is durable in a synctest bubble: only another
    /// member, or the bubble's clock, can end it (not a lock, as in Go).
    fn is_durable(self) -> bool {
        // `synctest::run`'s own wait is counted by the bubble itself (see
        // `Bubble::await_members`).
        !matches!(
            self,
            Wait::MutexLock | Wait::RwLockRLock | Wait::RwLockLock | Wait::BubbleRun
        )
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
            Wait::Synctest => "synctest.Wait",
            Wait::BubbleRun => "synctest.Run: waiting for the bubble's goroutines",
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
    /// program exits instead), or its synctest bubble when it deadlocks.
    pub(crate) endable: bool,
    /// The synctest bubble it belongs to; 0 if none.
    pub(crate) bubble: u64,
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
    /// What the wait is on (a `WaitGroup`, a scope), for releasing its
    /// waiters in a synctest bubble; 0 if nothing to name.
    key: usize,
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
    /// The synctest bubble the goroutine belongs to.
    bubble: Option<Arc<Bubble>>,
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
    /// Whether the goroutine's current wait counts as durably blocked in
    /// its bubble (cleared by whoever ends the wait first).
    durable: AtomicBool,
    /// Counts the goroutine's waits, so a late timer meant for an earlier
    /// wait is told apart.
    generation: AtomicU64,
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

/// One goroutine counted in its root's live count and as a member of its
/// synctest bubble, until dropped.
pub(crate) struct LiveToken {
    root: Option<Arc<AtomicUsize>>,
    bubble: Option<Arc<Bubble>>,
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        if let Some(root) = &self.root {
            root.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some(bubble) = &self.bubble {
            bubble.leave();
        }
    }
}

/// Counts a new goroutine in the current root's live count and in the
/// current bubble; the token goes with the goroutine to its thread and is
/// dropped when it ends (or never starts).
pub(crate) fn root_live() -> Option<LiveToken> {
    let root = ROOT_LIVE.with(|r| r.borrow().as_ref().and_then(|l| l.root.clone()));
    if let Some(root) = &root {
        root.fetch_add(1, Ordering::SeqCst);
    }
    let bubble = current_bubble();
    if let Some(bubble) = &bubble {
        bubble.join();
    }
    (root.is_some() || bubble.is_some()).then_some(LiveToken { root, bubble })
}

/// The current time: the bubble's clock in a synctest bubble, else
/// `Instant::now()`.
pub(crate) fn now() -> Instant {
    current_bubble().map_or_else(Instant::now, |bubble| bubble.now())
}

/// The synctest bubble of the goroutine running on this thread (or of the
/// timers it is firing, see [`as_member_of`]).
pub(crate) fn current_bubble() -> Option<Arc<Bubble>> {
    if let Some(bubble) = FIRING.try_with(|f| f.borrow().clone()).ok().flatten() {
        return Some(bubble);
    }
    ROOT_LIVE
        .try_with(|r| r.borrow().as_ref()?.bubble.clone())
        .ok()
        .flatten()
}

thread_local! {
    /// The bubble whose timers this thread is firing.
    static FIRING: RefCell<Option<Arc<Bubble>>> = const { RefCell::new(None) };
}

/// The id of the bubble whose timers this thread is firing, if any.
fn firing_bubble() -> Option<u64> {
    FIRING
        .try_with(|f| f.borrow().as_ref().map(|b| b.id))
        .ok()
        .flatten()
}

/// Runs `f` (a bubble's timers firing) as a member of `bubble`, whatever
/// thread settles it: timers read and re-arm on its clock, and goroutines
/// they start (`after_func`) join it.
pub(crate) fn as_member_of<R>(bubble: &Arc<Bubble>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<Bubble>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = FIRING.try_with(|f| *f.borrow_mut() = self.0.take());
        }
    }
    let previous = FIRING.with(|f| f.borrow_mut().replace(Arc::clone(bubble)));
    let _restore = Restore(previous);
    f()
}

fn new_slot(is_root: bool, is_main: bool, is_guest: bool) -> Arc<Slot> {
    let slot = Arc::new(Slot {
        tid: own_tid(),
        thread: thread::current(),
        current: Mutex::new(None),
        ended: AtomicBool::new(false),
        state: AtomicU64::new(0),
        report: Mutex::new(None),
        durable: AtomicBool::new(false),
        generation: AtomicU64::new(0),
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
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `gettid` has no preconditions and cannot fail.
        u32::try_from(unsafe { libc::gettid() }).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let link = std::fs::read_link("/proc/thread-self").ok()?;
        link.file_name()?.to_str()?.parse().ok()
    }
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
            endable: p.endable || firing_bubble().is_some(),
            bubble: firing_bubble().unwrap_or(p.bubble),
        },
        None => GInfo {
            id: 0,
            parent: 0,
            root: 0,
            go_site: None,
            tracked: detection_enabled(),
            endable: firing_bubble().is_some(),
            bubble: firing_bubble().unwrap_or(0),
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
    // A previous job that did not end through its worker's loop.
    left();
    INFO.with(|i| i.set(Some(info)));
    let bubble = live.as_ref().and_then(|l| l.bubble.clone());
    ROOT_LIVE.with(|r| *r.borrow_mut() = live);
    *slot.lock() = Some(Current {
        info,
        blocked: None,
        token,
        bubble,
    });
    RUNNING.fetch_add(1, Ordering::Relaxed);
    crate::trace::goroutine_begin(info.id, info.parent, info.go_site);
}

/// This thread's goroutine has finished its function.
pub(crate) fn end_goroutine() {
    crate::trace::goroutine_end();
    INFO.with(|i| i.set(None));
    // Counted out of its root and bubble only once the job is over (see
    // [`left`]): a scoped goroutine still releases its scope's join after
    // this, and a bubble must not see its members all blocked meanwhile.
    let token = ROOT_LIVE.with(|r| r.borrow_mut().take());
    LEAVING.with(|l| *l.borrow_mut() = token);
    SLOT.with(|s| {
        if let Some(slot) = s.borrow().as_ref() {
            *slot.lock() = None;
            RUNNING.fetch_sub(1, Ordering::Relaxed);
        }
    });
}

thread_local! {
    /// The finished goroutine's counts, until its job is over.
    static LEAVING: RefCell<Option<LiveToken>> = const { RefCell::new(None) };
}

/// The job of the goroutine that ran on this worker is over, its scope
/// released: it leaves its root's live count and its bubble.
pub(crate) fn left() {
    drop(LEAVING.with(|l| l.borrow_mut().take()));
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
        bubble: 0,
    };
    let slot = new_slot(true, main, false);
    *slot.lock() = Some(Current {
        info,
        blocked: None,
        token: None,
        bubble: None,
    });
    let previous_info = INFO.with(|i| i.replace(Some(info)));
    ROOTS.fetch_add(1, Ordering::SeqCst);
    RUNNING.fetch_add(1, Ordering::Relaxed);
    let previous = SLOT.with(|s| s.borrow_mut().replace(Arc::clone(&slot)));
    // The root itself holds one count in its thread local: a leak check
    // waits for the count to fall back to one.
    let live = Arc::new(AtomicUsize::new(1));
    let token = LiveToken {
        root: Some(Arc::clone(&live)),
        bubble: None,
    };
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

/// A partner has completed a goroutine's wait: it counts as running from
/// now on, before it has even woken up, so that others do not spin on a
/// CPU it is about to need (the goroutine's [`Waiting::handed_over`] then
/// does not count it again).
pub(crate) fn runnable() {
    RUNNING.fetch_add(1, Ordering::Relaxed);
}

/// Whether the current thread counts in the running goroutines (a
/// goroutine or a root, not a guest or a foreign thread).
pub(crate) fn counts_running() -> bool {
    SLOT.try_with(|s| s.borrow().as_ref().is_some_and(|slot| !slot.is_guest))
        .unwrap_or(false)
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
/// thread; in a synctest bubble it counts as durably blocked.
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
    /// (under `#[goscope::test]`), by the cancellation of its scope, or by
    /// its synctest bubble's deadlock.
    stoppable: bool,
    /// When the wait ends by time: on the bubble's clock in a bubble.
    deadline: Option<Instant>,
    /// The bubble, and the timer of `deadline` on its clock.
    bubble: Option<(Arc<Bubble>, Option<Key>)>,
    /// Set when a partner completed the wait: the partner counted this
    /// goroutine running again when it did (see [`runnable`]).
    handed_over: Cell<bool>,
}

/// Marks the current goroutine waiting on `what` at `site` until the
/// returned guard is dropped. `interrupt` is poked, besides an unpark, when
/// the wait must end early; `timers` are the timer channels that may end it
/// by time alone; `deadline` ends it by time (see [`park_until`]; in a
/// synctest bubble it is on the bubble's clock).
pub(crate) fn wait(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    timers: Timers,
    deadline: Option<Instant>,
) -> Waiting {
    wait_unless(what, site, interrupt, timers, deadline, || false)
}

/// [`wait`] for an operation that a partner may complete before the wait
/// is counted (a queued channel operation): `over` is looked at once more
/// after the count, so that in a bubble such a wait never counts as
/// blocked (a partner that completed it first could not uncount it).
pub(crate) fn wait_unless(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    timers: Timers,
    deadline: Option<Instant>,
    over: impl FnOnce() -> bool,
) -> Waiting {
    let waiting = wait_on(what, site, interrupt, timers, deadline, 0);
    if waiting.bubble.is_some() && over() {
        if let Some(slot) = &waiting.slot {
            unblock(slot);
        }
    }
    waiting.settle();
    waiting
}

/// [`wait`], naming what the wait is on (`key`) so that whoever releases
/// it can end its durable count in a bubble at once ([`release`]). The
/// bubble is not settled yet: the caller first looks again whether its wait
/// is over (a release that came before the count could not see it), then
/// calls [`Waiting::settle`].
fn wait_on(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    timers: Timers,
    deadline: Option<Instant>,
    key: usize,
) -> Waiting {
    let unwatched = Waiting {
        slot: None,
        outer: None,
        stoppable: false,
        deadline,
        bubble: None,
        handed_over: Cell::new(false),
    };
    // `try_with`: during thread-local destruction the slot is gone; wait
    // unwatched rather than panic (a scope's join must never unwind).
    let slot = SLOT.try_with(|s| s.borrow().clone()).ok().flatten();
    let Some(slot) = slot else {
        return unwatched;
    };
    let (bits, stoppable, outer, bubble) = {
        let mut current = slot.lock();
        let Some(c) = current.as_mut() else {
            drop(current);
            return unwatched;
        };
        let blocked = Blocked {
            what,
            site,
            interrupt,
            timers,
            key,
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
        let bubble = c.bubble.clone().filter(|_| what.is_durable());
        (bits, stoppable, outer, bubble)
    };
    let outer = outer.map(|b| (b, slot.state() & (BLOCKED_BIT | TIMED_BIT)));
    slot.set_bits(bits);
    if !slot.is_guest {
        // A guest (a foreign thread owning a scope) never counted as
        // running.
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
    let bubble = bubble.map(|bubble| {
        // Durably blocked from now on. A timed wait's deadline is a timer
        // on the bubble's clock, set before the count (the count may move
        // the clock at once).
        let generation = slot.generation.fetch_add(1, Ordering::SeqCst) + 1;
        slot.durable.store(true, Ordering::SeqCst);
        let timer = deadline.map(|when| {
            let wake = WakeAt {
                slot: Arc::clone(&slot),
                generation,
            };
            bubble.schedule(when, Arc::new(wake))
        });
        bubble.count_blocked();
        (bubble, timer)
    });
    crate::trace::wait_begin(what, site);
    Waiting {
        slot: Some(slot),
        outer,
        stoppable,
        deadline,
        bubble,
        handed_over: Cell::new(false),
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

    /// A partner completed the wait (and counted this goroutine runnable
    /// then: see [`runnable`]).
    pub(crate) fn handed_over(&self) {
        self.handed_over.set(true);
    }

    /// Lets the bubble act on this wait's count (see [`wait_on`]).
    fn settle(&self) {
        if let Some((bubble, _)) = &self.bubble {
            bubble.settle_now();
        }
    }

    /// Whether the wait's deadline has passed (on the bubble's clock in a
    /// bubble).
    fn expired(&self) -> bool {
        self.deadline.is_some_and(|deadline| match &self.bubble {
            Some((bubble, _)) => bubble.now() >= deadline,
            None => Instant::now() >= deadline,
        })
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let Some(slot) = &self.slot else { return };
        if let Some((bubble, timer)) = self.bubble.take() {
            if let Some(timer) = timer {
                bubble.unschedule(timer);
            }
            unblock(slot);
        }
        crate::trace::wait_end();
        let restored = self.outer.take();
        let bits = restored.as_ref().map_or(0, |(_, bits)| *bits);
        if let Some(c) = slot.lock().as_mut() {
            c.blocked = restored.map(|(b, _)| b);
        }
        slot.set_bits(bits);
        if !slot.is_guest && !self.handed_over.get() {
            RUNNING.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Ends the durable count of `slot`'s wait in its bubble, if it still
/// counts: called by whoever ends the wait first (a partner handing over a
/// value, a release, the clock, the goroutine itself).
pub(crate) fn unblock(slot: &Slot) {
    if take_durable(slot) {
        let bubble = slot.lock().as_ref().and_then(|c| c.bubble.clone());
        if let Some(bubble) = bubble {
            bubble.unblock();
        }
    }
}

/// Marks `slot`'s wait durable (the caller counts it in its bubble).
pub(crate) fn mark_durable(slot: &Slot) {
    slot.durable.store(true, Ordering::SeqCst);
}

/// Clears `slot`'s durable mark; true if it was set (the caller then takes
/// it off its bubble's count).
pub(crate) fn take_durable(slot: &Slot) -> bool {
    slot.durable.swap(false, Ordering::SeqCst)
}

/// The bubble's clock reached the deadline of `slot`'s timed wait number
/// `generation`: ends its durable count and wakes it (unless that wait is
/// over already).
pub(crate) fn wake_timed(slot: &Slot, generation: u64) {
    if slot.generation.load(Ordering::SeqCst) == generation {
        unblock(slot);
        slot.unpark();
    }
}

/// The slot of the current goroutine if it is in a synctest bubble, for a
/// partner to end its durable count when it completes the wait.
pub(crate) fn bubble_slot() -> Option<Arc<Slot>> {
    current_bubble()?;
    SLOT.try_with(|s| s.borrow().clone()).ok().flatten()
}

/// Live bubbles (so a release looks for bubble waiters only if any).
static BUBBLES: AtomicUsize = AtomicUsize::new(0);

/// The waits on `key` (a `WaitGroup`, a scope) have been released: in a
/// synctest bubble, they stop counting as durably blocked now, before
/// their goroutines run.
pub(crate) fn release(key: usize) {
    if BUBBLES.load(Ordering::SeqCst) == 0 {
        return;
    }
    for slot in slots() {
        let waits_here = slot.lock().as_ref().is_some_and(|c| {
            c.bubble.is_some() && c.blocked.as_ref().is_some_and(|b| b.key == key)
        });
        if waits_here {
            unblock(&slot);
        }
    }
}

/// Ends every goroutine of bubble `id` (it deadlocked): they unwind out of
/// their waits.
pub(crate) fn end_bubble(id: u64) {
    for slot in slots() {
        let member = slot
            .lock()
            .as_ref()
            .is_some_and(|c| c.info.bubble == id && c.blocked.is_some());
        if member {
            end(&slot);
        }
    }
}

/// Makes the current thread a member of `bubble` until the guard is
/// dropped: goroutines it starts join the bubble, its waits count in it. A
/// thread goscope did not start gets a guest slot for that time.
pub(crate) fn enter_bubble(bubble: &Arc<Bubble>) -> BubbleGuard {
    let token = enter_token_slot();
    let slot = SLOT
        .with(|s| s.borrow().clone())
        .expect("enter_token_slot gives a slot");
    let info = {
        let mut current = slot.lock();
        let c = current.as_mut().expect("a slot with a goroutine");
        c.info.bubble = bubble.id;
        c.info.endable = true;
        c.bubble = Some(Arc::clone(bubble));
        c.info
    };
    let previous_info = INFO.with(|i| i.replace(Some(info)));
    // This thread's own membership: `Bubble::new` counted it, and the
    // token's drop counts it out. Its root's count is shared, one more.
    let root = ROOT_LIVE.with(|r| r.borrow().as_ref().and_then(|l| l.root.clone()));
    if let Some(root) = &root {
        root.fetch_add(1, Ordering::SeqCst);
    }
    let mine = LiveToken {
        root,
        bubble: Some(Arc::clone(bubble)),
    };
    let previous_live = ROOT_LIVE.with(|r| r.borrow_mut().replace(mine));
    BUBBLES.fetch_add(1, Ordering::SeqCst);
    BubbleGuard {
        slot,
        previous_info,
        previous_live,
        guest: token,
    }
}

/// Leaves the bubble (see [`enter_bubble`]).
pub(crate) struct BubbleGuard {
    slot: Arc<Slot>,
    previous_info: Option<GInfo>,
    previous_live: Option<LiveToken>,
    guest: Option<TokenGuard>,
}

impl Drop for BubbleGuard {
    fn drop(&mut self) {
        BUBBLES.fetch_sub(1, Ordering::SeqCst);
        if let Some(c) = self.slot.lock().as_mut() {
            c.bubble = None;
            if let Some(info) = self.previous_info {
                c.info = info;
            }
        }
        // Not ended any more: the thread goes on outside the bubble.
        self.slot.ended.store(false, Ordering::SeqCst);
        INFO.with(|i| i.set(self.previous_info));
        // Counts this thread out of the bubble (and back to one count in
        // its root's).
        let mine =
            ROOT_LIVE.with(|r| std::mem::replace(&mut *r.borrow_mut(), self.previous_live.take()));
        drop(mine);
        drop(self.guest.take());
    }
}

/// A slot for the current thread, a guest one if it has none (see
/// [`enter_token`]); returns the guard that removes a guest slot.
fn enter_token_slot() -> Option<TokenGuard> {
    if SLOT.with(|s| s.borrow().is_some()) {
        return None;
    }
    let token: Arc<dyn Cancellable> = Arc::new(NoScope(Arc::new(Token::default())));
    Some(enter_token(token))
}

/// The cancellation token of a thread that owns no scope.
struct NoScope(Arc<Token>);

impl Cancellable for NoScope {
    fn token(&self) -> &Arc<Token> {
        &self.0
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
    block_on(what, site, interrupt, 0, || false, op)
}

/// [`block`], naming what the wait is on (see [`wait_on`]); `over` tells
/// whether the wait is over already (looked at once more after the wait is
/// counted, so a release just before it is not missed in a bubble).
pub(crate) fn block_on<R>(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    key: usize,
    over: impl FnOnce() -> bool,
    op: impl FnOnce(bool) -> R,
) -> R {
    let waiting = wait_on(what, site, interrupt, Vec::new(), None, key);
    if waiting.bubble.is_some() && over() {
        // Released before it was counted: it no longer waits on anybody.
        if let Some(slot) = &waiting.slot {
            unblock(slot);
        }
    }
    waiting.settle();
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
        // and the waiter may check `stop_requested` while holding it. In a
        // bubble it no longer counts as durably blocked: it will unwind.
        unblock(slot);
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
    unblock(slot);
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
            bubble: None,
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

/// Parks the current thread until `done()` holds or the wait's deadline
/// passes (true), spinning first while a CPU is idle (see [`may_spin`]),
/// and checking `must_stop` at every wake-up (false if it stopped for that).
///
/// The waker sets what `done` reads, then unparks this thread: an unpark of
/// a thread that is still spinning costs no syscall. In a synctest bubble
/// the deadline is on the bubble's clock, whose timer unparks the thread.
pub(crate) fn park_until(waiting: &Waiting, done: impl Fn() -> bool) -> bool {
    if may_spin() && waiting.bubble.is_none() {
        // Spin for this thread's budget, then yield a few times. The budget
        // adapts: it doubles when spinning got the hand-off, and halves
        // when it did not, so a goroutine whose partner answers at once
        // (ping-pong) spins long enough to beat a futex wake, and one that
        // waits for long (a chain of blocked goroutines) soon stops burning
        // a CPU for nothing.
        let budget = SPIN_BUDGET.with(Cell::get);
        let spun = spin(budget, &done);
        let next = if spun {
            (budget * 2).min(SPIN_MAX)
        } else {
            (budget / 2).max(SPIN_MIN)
        };
        SPIN_BUDGET.with(|b| b.set(next));
        if spun {
            return true;
        }
    }
    loop {
        if done() || waiting.expired() {
            return true;
        }
        if waiting.must_stop() {
            return false;
        }
        match (waiting.deadline, &waiting.bubble) {
            (Some(deadline), None) => {
                thread::park_timeout(deadline.saturating_duration_since(Instant::now()));
            }
            _ => thread::park(),
        }
    }
}

/// Spins, then yields, for about `budget`; true if `done` held meanwhile.
fn spin(budget: Duration, done: &impl Fn() -> bool) -> bool {
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
        } else if step.is_multiple_of(8) && start.elapsed() > budget {
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
    false
}

thread_local! {
    /// How long this thread spins before it parks (see [`park_until`]).
    static SPIN_BUDGET: Cell<Duration> = const { Cell::new(SPIN_MIN) };
}

/// The shortest and longest spin before a park: a futex wake of an idle
/// vCPU costs 20-30 µs on a VM, which the longest spin must outlast.
const SPIN_MIN: Duration = Duration::from_micros(2);
const SPIN_MAX: Duration = Duration::from_micros(64);

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

/// The current thread's record, if it has one.
pub(crate) fn current_slot() -> Option<Arc<Slot>> {
    SLOT.try_with(|s| s.borrow().clone()).ok().flatten()
}
