//! Every goroutine's record: the [`Slot`] of each thread that runs
//! goroutines, what the goroutine on it is ([`GInfo`]), what it waits on
//! ([`Wait`], [`Blocked`]), and the ids and counts of goroutines.
//!
//! A slot belongs to each pool worker from the moment it starts, and to
//! the thread running a `#[goscope::main]` or `#[goscope::test]` body (a
//! *root*) while the body runs; a thread goscope did not start gets a
//! *guest* slot while it owns a scope. Waiting goes through
//! [`park`](super::park), which marks the record; the deadlock detector
//! (`crate::detect`), the dump and synctest bubbles read it.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::{self, Thread};

use crate::lock;
use crate::sched::bubble::Bubble;
use crate::sched::bubble::{current_bubble, firing_bubble};
use crate::sched::cancel::{Cancellable, Token};
use crate::sched::park::with_current;

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
    pub(super) fn is_blocking(self) -> bool {
        !matches!(self, Wait::Sleep)
    }

    /// Whether the wait is durable in a synctest bubble: only another
    /// member, or the bubble's clock, can end it (not a lock, as in Go).
    pub(super) fn is_durable(self) -> bool {
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
    pub(super) interrupt: Option<Arc<dyn Interrupt>>,
    /// See [`Timers`].
    pub(crate) timers: Timers,
    /// What the wait is on (a `WaitGroup`, a scope), for releasing its
    /// waiters in a synctest bubble; 0 if nothing to name.
    pub(super) key: usize,
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
    pub(super) token: Option<Arc<dyn Cancellable>>,
    /// The synctest bubble the goroutine belongs to.
    pub(super) bubble: Option<Arc<Bubble>>,
}

/// A thread that runs goroutines: the record every wait goes through.
pub(crate) struct Slot {
    pub(crate) tid: Option<u32>,
    pub(super) thread: Thread,
    pub(super) current: Mutex<Option<Current>>,
    /// Set when the detector ends this thread's goroutine (test deadlocks).
    pub(super) ended: AtomicBool,
    /// Bit 0: the goroutine here waits in a blocking goscope operation.
    /// Bit 1: it waits on timers (blocked once they are all disarmed; see
    /// [`Timers`]). The rest: how many times it was marked or unmarked, so
    /// the monitor can tell a stable state from a busy one that looks the
    /// same at each look. Written only by the slot's own thread.
    pub(super) state: AtomicU64,
    /// For roots: the report to fail with, set by the detector.
    pub(crate) report: Mutex<Option<String>>,
    /// Whether the goroutine's current wait counts as durably blocked in
    /// its bubble (cleared by whoever ends the wait first).
    pub(super) durable: AtomicU64,
    /// Counts the goroutine's waits, so a late timer meant for an earlier
    /// wait is told apart.
    pub(super) generation: AtomicU64,
    pub(crate) is_root: bool,
    pub(crate) is_main: bool,
    /// A thread goscope did not start, given a slot only while it owns a
    /// scope (so cancellation can reach it): still foreign to the detector.
    pub(crate) is_guest: bool,
}

/// `Slot::state` bits.
pub(crate) const BLOCKED_BIT: u64 = 1;
pub(crate) const TIMED_BIT: u64 = 2;
pub(super) const MARK: u64 = 4;

impl Slot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Option<Current>> {
        lock(&self.current)
    }

    /// The state word (see [`Slot::state`]).
    pub(crate) fn state(&self) -> u64 {
        self.state.load(Ordering::SeqCst)
    }

    /// Sets the wait bits, counting one more mark.
    pub(super) fn set_bits(&self, bits: u64) {
        let marks = self.state.load(Ordering::Relaxed) & !(MARK - 1);
        self.state.store(marks + MARK + bits, Ordering::SeqCst);
    }

    /// Wakes this thread's goroutine wherever it waits in goscope.
    pub(super) fn wake(&self, interrupt: Option<Arc<dyn Interrupt>>) {
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
pub(super) static SLOTS: Mutex<Vec<Arc<Slot>>> = Mutex::new(Vec::new());

/// A copy of the list of slots.
pub(crate) fn slots() -> Vec<Arc<Slot>> {
    lock(&SLOTS).clone()
}

/// Calls `f` on the list of slots, under its lock (no slot comes or goes).
pub(crate) fn with_slots<R>(f: impl FnOnce(&[Arc<Slot>]) -> R) -> R {
    f(&lock(&SLOTS))
}

thread_local! {
    pub(super) static SLOT: RefCell<Option<Arc<Slot>>> = const { RefCell::new(None) };
    /// A copy of the running goroutine's info, so a spawn reads it without
    /// touching the slot's lock.
    pub(super) static INFO: Cell<Option<GInfo>> = const { Cell::new(None) };
    /// The live-goroutine count of the running goroutine's root, if any.
    pub(super) static ROOT_LIVE: RefCell<Option<LiveToken>> = const { RefCell::new(None) };
}

/// One goroutine counted in its root's live count and as a member of its
/// synctest bubble, until dropped.
pub(crate) struct LiveToken {
    pub(super) root: Option<Arc<AtomicUsize>>,
    pub(super) bubble: Option<Arc<Bubble>>,
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

pub(super) fn new_slot(is_root: bool, is_main: bool, is_guest: bool) -> Arc<Slot> {
    let slot = Arc::new(Slot {
        tid: own_tid(),
        thread: thread::current(),
        current: Mutex::new(None),
        ended: AtomicBool::new(false),
        state: AtomicU64::new(0),
        report: Mutex::new(None),
        durable: AtomicU64::new(0),
        generation: AtomicU64::new(0),
        is_root,
        is_main,
        is_guest,
    });
    lock(&SLOTS).push(Arc::clone(&slot));
    slot
}

pub(super) fn remove_slot(slot: &Arc<Slot>) {
    let mut slots = lock(&SLOTS);
    slots.retain(|s| !Arc::ptr_eq(s, slot));
    // Keep its marks in the monitor's sum: a thread leaving must not make
    // the sum look unchanged while others marked in between.
    RETIRED_MARKS.fetch_add(slot.state() / MARK, Ordering::SeqCst);
}

/// The marks of slots that are gone.
pub(super) static RETIRED_MARKS: AtomicU64 = AtomicU64::new(0);

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
    pub(super) static ENABLED: OnceLock<bool> = OnceLock::new();
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
    pub(super) static LEAVING: RefCell<Option<LiveToken>> = const { RefCell::new(None) };
}

/// The job of the goroutine that ran on this worker is over, its scope
/// released: it leaves its root's live count and its bubble.
pub(crate) fn left() {
    drop(LEAVING.with(|l| l.borrow_mut().take()));
}

/// This thread as a root's record: see [`enter_root`].
pub(crate) struct RootSlot {
    pub(crate) slot: Arc<Slot>,
    pub(super) previous: Option<Arc<Slot>>,
    pub(super) previous_info: Option<GInfo>,
    pub(super) previous_live: Option<LiveToken>,
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
pub(super) static ROOTS: AtomicUsize = AtomicUsize::new(0);

/// Live goroutines started by `go!` (roots not included).
pub(super) static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// Goroutines (roots included) that run: not parked in a goscope wait.
/// Kept loosely (relaxed), for the spin policy only.
pub(super) static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Goroutine ids; 1 is main, as in Go's dumps.
pub(super) static NEXT_ID: AtomicU64 = AtomicU64::new(2);

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
    pub(super) slot: Arc<Slot>,
    pub(super) previous: Option<Arc<dyn Cancellable>>,
    pub(super) guest: Option<Arc<Slot>>,
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

/// The current thread's record, if it has one.
pub(crate) fn current_slot() -> Option<Arc<Slot>> {
    SLOT.try_with(|s| s.borrow().clone()).ok().flatten()
}
