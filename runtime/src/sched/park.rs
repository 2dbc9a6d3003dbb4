//! The one way a goroutine waits.
//!
//! Each goroutine thread has a record, its [`Slot`] (see `slot`): the
//! goroutine running on it, the cancellation token of the scope it is in,
//! and, while it waits in a goscope operation, what it waits on.
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

use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::thread::{self};
use std::time::{Duration, Instant};

use crate::lock;
use crate::sched::bubble::{Key, UnparkAt, WakeAt};
use crate::sched::cancel::Cancelled;

use crate::sched::bubble::durable_in;
pub(crate) use crate::sched::bubble::{
    Bubble, as_member_of, bubble_member, current_bubble, end_bubble, enter_bubble, mark_durable,
    next_wait, now, release, take_durable, unblock, unblock_wait,
};
pub(crate) use crate::sched::dump::describe;
pub(crate) use crate::sched::slot::*;
use crate::sched::slot::{INFO, RUNNING, SLOT};

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
    // As `wait_on` decides: a slot with a goroutine on it (not a worker
    // between jobs: `INFO` is set exactly while one runs), and not a
    // guest's. Thread-locals only: this runs on every blocking operation,
    // and the slot's lock is for the record.
    let busy = INFO.try_with(|i| i.get().is_some()).unwrap_or(false);
    busy && SLOT
        .try_with(|s| s.borrow().as_ref().is_some_and(|slot| !slot.is_guest))
        .unwrap_or(false)
}

/// Whether a goroutine about to park may spin first: only while fewer
/// goroutines run than there are CPUs, so that one is idle for it (Go spins
/// only while there is an idle P).
pub(crate) fn may_spin() -> bool {
    *CPUS > 1 && RUNNING.load(Ordering::Relaxed) < *CPUS
}

/// The CPUs this process may run on.
static CPUS: LazyLock<usize> =
    LazyLock::new(|| thread::available_parallelism().map_or(1, std::num::NonZero::get));

/// Whether a goroutine that is about to wait, and still counts as
/// running, may spin for a moment first: every running goroutine, itself
/// included, has a CPU ([`may_spin`] asks the same of a goroutine that no
/// longer counts).
pub(crate) fn may_look() -> bool {
    *CPUS > 1 && RUNNING.load(Ordering::Relaxed) <= *CPUS
}

/// How long [`look_briefly`] spins at most.
const LOOK: Duration = Duration::from_micros(4);

/// Spins for [`LOOK`] at most, until `ready` holds (true): before a wait
/// that may not be needed (a buffered channel about to get a value or
/// room, see `Chan::look`).
pub(crate) fn look_briefly(ready: impl Fn() -> bool) -> bool {
    spin_for(LOOK, &ready)
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
    pub(super) slot: Option<Arc<Slot>>,
    /// The wait this one interrupted (a wait inside a `Drop` inside a wait).
    pub(super) outer: Option<(Blocked, u64)>,
    /// Whether the goroutine can be stopped while it waits: by the detector
    /// (under `#[goscope::test]`), by the cancellation of its scope, or by
    /// its synctest bubble's deadlock.
    pub(super) stoppable: bool,
    /// When the wait ends by time: on the bubble's clock in a bubble.
    pub(super) deadline: Option<Instant>,
    /// The bubble the goroutine is in: the wait is on its clock.
    pub(super) bubble: Option<BubbleWait>,
    /// Set when a partner completed the wait: the partner counted this
    /// goroutine running again when it did (see [`runnable`]).
    pub(super) handed_over: Cell<bool>,
}

/// What a wait is on, for a synctest bubble: the object's key, so that
/// whoever releases it can end its durable count at once ([`release`]),
/// and the bubble it belongs to.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct On {
    /// The object's address (a `WaitGroup`'s, a scope's); 0 for none.
    pub(crate) key: usize,
    /// The bubble the object was made or set up in (0: outside every
    /// bubble), if the wait is durable only there (Go: a channel made
    /// outside the bubble, or a `WaitGroup` added to outside it, can be
    /// ended from outside, so waiting on it is not durable blocking);
    /// `None` when the wait's kind alone decides.
    pub(crate) home: Option<u64>,
}

/// The id of the current goroutine's synctest bubble; 0 outside every
/// bubble (what a channel or `WaitGroup` records as its home, see [`On`]).
pub(crate) fn bubble_id() -> u64 {
    current_bubble().map_or(0, |bubble| bubble.id)
}

/// A wait in a synctest bubble (see [`Waiting::bubble`]).
pub(super) struct BubbleWait {
    bubble: Arc<Bubble>,
    /// The timer of the wait's deadline on the bubble's clock.
    timer: Option<Key>,
    /// Whether the wait counts as durably blocked there.
    counted: bool,
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
    let waiting = wait_on(
        what,
        site,
        interrupt,
        timers,
        deadline,
        On::default(),
        || false,
    );
    waiting.settle();
    waiting
}

/// [`wait`] for an operation that a partner may complete before the wait
/// is counted (a queued channel operation, on channels of bubble `home`,
/// see [`On`]): in a bubble, `over` is looked at as the wait is counted,
/// so that such a wait never counts as blocked (a partner that completed
/// it first could not uncount it).
pub(crate) fn wait_unless(
    what: Wait,
    site: &'static Location<'static>,
    timers: Timers,
    deadline: Option<Instant>,
    home: Option<u64>,
    over: impl FnOnce() -> bool,
) -> Waiting {
    let on = On { key: 0, home };
    let waiting = wait_on(what, site, None, timers, deadline, on, over);
    waiting.settle();
    waiting
}

/// [`wait`], naming what the wait is on (see [`On`]). In a bubble, `over`
/// is looked at as the wait is counted: a wait that a
/// partner completed (or a release released) before it was marked, which
/// nobody else would uncount, is not counted. The bubble is not settled
/// yet: the caller calls [`Waiting::settle`].
pub(super) fn wait_on(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    timers: Timers,
    deadline: Option<Instant>,
    on: On,
    over: impl FnOnce() -> bool,
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
            key: on.key,
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
        // Every wait in a bubble is on its clock. It counts as durably
        // blocked unless it is a wait inside a wait (a `Drop` that blocks:
        // the goroutine counts once, as the outer wait) or one on an object
        // of another bubble, or of none. A counted wait gets its number
        // with the record, under the slot's lock: a release that finds this
        // wait's key reads its number (not the one before, which it would
        // take for this wait's).
        let bubble = c.bubble.clone().map(|bubble| {
            let counted = durable_in(&bubble, &slot, what, on.home);
            let generation = counted.then(|| slot.generation.fetch_add(1, Ordering::SeqCst) + 1);
            (bubble, generation)
        });
        (bits, stoppable, outer, bubble)
    };
    let outer = outer.map(|b| (b, slot.state() & (BLOCKED_BIT | TIMED_BIT)));
    slot.set_bits(bits);
    if !slot.is_guest {
        // A guest (a foreign thread owning a scope) never counted as
        // running.
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
    let bubble = bubble.map(|(bubble, generation)| {
        let Some(generation) = generation else {
            // Not counted. Its deadline is on the clock all the same, which
            // moves only if the goroutine counts as blocked by an outer wait
            // (this one is inside it): a timer that only wakes it, then.
            let timer =
                deadline.map(|when| bubble.schedule(when, Arc::new(UnparkAt(Arc::clone(&slot)))));
            return BubbleWait {
                bubble,
                timer,
                counted: false,
            };
        };
        // Durably blocked from now on. A timed wait's deadline is a timer
        // on the bubble's clock, set before the count (the count may move
        // the clock at once).
        let timer = deadline.map(|when| {
            let wake = WakeAt {
                slot: Arc::clone(&slot),
                generation,
            };
            bubble.schedule(when, Arc::new(wake))
        });
        // Marked with this wait's number (a late uncount meant for an
        // earlier wait, by a partner, a release or a timer, cannot clear
        // it) and counted, unless it is over already.
        bubble.count_blocked_unless(&slot, generation, over);
        BubbleWait {
            bubble,
            timer,
            counted: true,
        }
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
        if let Some(wait) = self.bubble.as_ref().filter(|wait| wait.counted) {
            wait.bubble.settle_now();
        }
    }

    /// Whether the wait's deadline has passed (on the bubble's clock in a
    /// bubble).
    fn expired(&self) -> bool {
        self.deadline.is_some_and(|deadline| match &self.bubble {
            Some(wait) => wait.bubble.now() >= deadline,
            None => Instant::now() >= deadline,
        })
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let Some(slot) = &self.slot else { return };
        if let Some(wait) = self.bubble.take() {
            if let Some(timer) = wait.timer {
                wait.bubble.unschedule(timer);
            }
            if wait.counted {
                unblock(slot);
            }
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
    block_on(what, site, interrupt, On::default(), || false, op)
}

/// [`block`], naming what the wait is on (see [`wait_on`]); `over` tells
/// whether the wait is over already (looked at as the wait is counted, so
/// a release just before it is not missed in a bubble).
pub(crate) fn block_on<R>(
    what: Wait,
    site: &'static Location<'static>,
    interrupt: Option<Arc<dyn Interrupt>>,
    on: On,
    over: impl FnOnce() -> bool,
    op: impl FnOnce(bool) -> R,
) -> R {
    let waiting = wait_on(what, site, interrupt, Vec::new(), None, on, over);
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
pub(super) fn with_current<R>(f: impl FnOnce(&Current) -> R) -> Option<R> {
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
pub(super) fn own_report() -> Option<String> {
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

/// Parks the current thread until `done()` holds or the wait's deadline
/// passes (true), spinning first while a CPU is idle (see [`may_spin`]),
/// and checking `must_stop` at every wake-up (false if it stopped for that).
///
/// The waker sets what `done` reads, then unparks this thread: an unpark of
/// a thread that is still spinning costs no syscall. In a synctest bubble
/// the deadline is on the bubble's clock, whose timer unparks the thread.
pub(crate) fn park_until(waiting: &Waiting, done: impl Fn() -> bool) -> bool {
    if waiting.bubble.is_none() {
        if may_spin() {
            // Spin for this thread's budget, then yield once. The
            // budget adapts: it doubles when spinning got the hand-off, and
            // halves when it did not, so a goroutine whose partner answers
            // at once (ping-pong) spins long enough to beat a futex wake,
            // and one that waits for long (a chain of blocked goroutines)
            // soon stops burning a CPU for nothing.
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
        } else if yield_until(&done) {
            // Every CPU is busy: no spinning, but a yield lets a
            // partner that is runnable on this CPU (more goroutines than
            // cores) complete the wait before it costs a park and a futex
            // wake.
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
///
/// `done` is looked at after every pause: it reads a cache line that stays
/// in this core's cache until the partner writes it, so looking costs
/// nothing, while an exponential backoff (right for a contended lock, not
/// for a flag) may notice a hand-off dozens of pauses late (on this
/// machine the two measured the same; this one is never late).
pub(super) fn spin(budget: Duration, done: &impl Fn() -> bool) -> bool {
    spin_for(budget, done) || yield_until(done)
}

/// Spins for about `budget`, until `done` holds (true). The clock is read
/// every 64 pauses (about a microsecond and a half here).
fn spin_for(budget: Duration, done: &impl Fn() -> bool) -> bool {
    let start = Instant::now();
    let mut step = 0u32;
    loop {
        if done() {
            return true;
        }
        std::hint::spin_loop();
        step = step.wrapping_add(1);
        if step.is_multiple_of(64) && start.elapsed() > budget {
            return false;
        }
    }
}

/// Yields [`YIELDS`] times, or until `done` holds (true).
fn yield_until(done: &impl Fn() -> bool) -> bool {
    for _ in 0..YIELDS {
        if done() {
            return true;
        }
        thread::yield_now();
    }
    done()
}

thread_local! {
    /// How long this thread spins before it parks (see [`park_until`]).
    pub(super) static SPIN_BUDGET: Cell<Duration> = const { Cell::new(SPIN_MIN) };
}

/// The shortest and longest spin before a park: a futex wake of an idle
/// vCPU costs 20-30 µs on a VM, which the longest spin must outlast.
pub(super) const SPIN_MIN: Duration = Duration::from_micros(2);
pub(super) const SPIN_MAX: Duration = Duration::from_micros(64);

/// How many times it yields before it parks. Once: on a busy machine a
/// yield is a context switch, and a partner that is runnable on this CPU
/// gets it at the first; more yields only add switches (the 300-goroutine
/// sieve took 1.14x its raw twin with four, 1.0x with one, and none at all
/// made a worker pool pinned to one core 3x slower).
pub(super) const YIELDS: u32 = 1;

/// Whether a wait that has nothing honest to return when stopped (a lock,
/// `WaitGroup::wait`) must stop: the detector ended the goroutine, or its
/// scope was cancelled while it is not already unwinding. An unwinding
/// goroutine (a deferred call) goes on waiting for a lock: what it waits
/// for may well come (a lock released by another unwinding goroutine); if
/// nothing can, the detector reports it.
pub(crate) fn interrupted() -> bool {
    ended_by_detector() || (cancelled() && !thread::panicking())
}
