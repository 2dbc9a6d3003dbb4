//! Synctest bubbles: goroutines that share a virtual clock (Go 1.25's
//! `testing/synctest`).
//!
//! A bubble counts its *members* (every goroutine started inside it, and
//! the thread running `synctest::run`) and how many of them are *durably
//! blocked*: waiting in a goscope operation that only another member can
//! end (a channel operation, `select!`, `WaitGroup::wait`, a scope's join,
//! `sleep` and timer waits on the bubble's clock, `synctest::wait`). Locks
//! are not durable (as in Go): a member waiting for one keeps the clock
//! still.
//!
//! Each wait is counted when it starts ([`park::wait`] calls
//! [`Bubble::count_blocked_unless`]) and uncounted by whoever ends it, at
//! the moment it does: the partner that completes a channel operation, the
//! `WaitGroup` or scope that releases its waiters, the clock that fires a
//! timer, or the goroutine itself. A wait's mark and its count change
//! together, under the bubble's lock. So "every member durably blocked" is
//! exact, never a goroutine that has just been handed a value but has not
//! run yet.
//!
//! When every member is durably blocked, the goroutine whose wait made it
//! so (or whose exit did) advances the bubble, in this order: it releases
//! `synctest::wait` callers; else it moves the clock to the earliest
//! pending timer and fires every timer due then; else the bubble is
//! deadlocked, and its members are ended with the report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use std::cell::RefCell;
use std::sync::atomic::AtomicUsize;

use crate::lock;
use crate::sched::cancel::{Cancellable, Token};
use crate::sched::park::end;
use crate::sched::park::{self, Slot};
use crate::sched::slot::{
    GInfo, INFO, LiveToken, ROOT_LIVE, SLOT, TokenGuard, Wait, enter_token, next_id, slots,
};

/// A timer's target: what happens when its deadline comes.
pub(crate) trait Fire: Send + Sync {
    fn fire(self: Arc<Self>, key: Key);
}

/// A scheduled timer: its deadline, a unique id (two timers may share a
/// deadline), and the bubble whose clock it is on (0: real time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    when: Instant,
    id: u64,
    bubble: u64,
}

impl Key {
    /// A fresh key for a timer at `when` on `bubble`'s clock.
    pub(crate) fn new(when: Instant, bubble: u64) -> Key {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Key {
            when,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            bubble,
        }
    }

    /// When the timer fires.
    pub(crate) fn when(self) -> Instant {
        self.when
    }

    /// The bubble whose clock the timer is on; 0 for real time.
    pub(crate) fn bubble(self) -> u64 {
        self.bubble
    }
}

/// A synctest bubble.
pub(crate) struct Bubble {
    pub(crate) id: u64,
    state: Mutex<State>,
}

struct State {
    /// The virtual clock.
    now: Instant,
    timers: BTreeMap<Key, Arc<dyn Fire>>,
    /// Goroutines of the bubble alive, the `run` thread included.
    members: usize,
    /// Members durably blocked.
    blocked: usize,
    /// `synctest::wait` callers, released when every other member blocks.
    waiters: Vec<(Arc<Slot>, Arc<AtomicBool>)>,
    /// Set while `run` waits for the members to end; released at one.
    root: Option<(Arc<Slot>, Arc<AtomicBool>)>,
    /// Set while a member fires timers (outside the lock): one at a time.
    advancing: bool,
    /// Set by the first member that finds the bubble deadlocked (two can
    /// find it at once: each counts its wait, then settles), which reports
    /// it; the others do not.
    deadlocked: bool,
    /// The deadlock report, once the bubble has deadlocked.
    deadlock: Option<String>,
}

/// Every live bubble, by id.
static BUBBLES: Mutex<Vec<(u64, Weak<Bubble>)>> = Mutex::new(Vec::new());

impl Bubble {
    /// A new bubble whose clock starts at `now`, with one member (the
    /// thread that will run it).
    pub(crate) fn new(now: Instant) -> Arc<Bubble> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let bubble = Arc::new(Bubble {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State {
                now,
                timers: BTreeMap::new(),
                members: 1,
                blocked: 0,
                waiters: Vec::new(),
                root: None,
                advancing: false,
                deadlocked: false,
                deadlock: None,
            }),
        });
        let mut all = lock(&BUBBLES);
        all.retain(|(_, b)| b.strong_count() > 0);
        all.push((bubble.id, Arc::downgrade(&bubble)));
        bubble
    }

    /// The bubble with id `id`, if it is still alive.
    fn by_id(id: u64) -> Option<Arc<Bubble>> {
        let all = lock(&BUBBLES);
        all.iter().find(|(i, _)| *i == id)?.1.upgrade()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The bubble's clock.
    pub(crate) fn now(&self) -> Instant {
        self.state().now
    }

    /// The deadlock report, if the bubble deadlocked.
    pub(crate) fn deadlock(&self) -> Option<String> {
        self.state().deadlock.clone()
    }

    /// Schedules `target` at `when` on the bubble's clock.
    pub(crate) fn schedule(&self, when: Instant, target: Arc<dyn Fire>) -> Key {
        let key = Key::new(when, self.id);
        self.state().timers.insert(key, target);
        key
    }

    /// Unschedules the timer `key`; false if it had fired or was gone.
    pub(crate) fn unschedule(&self, key: Key) -> bool {
        self.state().timers.remove(&key).is_some()
    }

    /// A goroutine joins the bubble (at `go!`, before it runs).
    pub(crate) fn join(&self) {
        self.state().members += 1;
    }

    /// A member has ended.
    pub(crate) fn leave(self: &Arc<Self>) {
        let state = {
            let mut state = self.state();
            state.members -= 1;
            state
        };
        self.settle(state);
    }

    /// A member starts durable wait number `generation` (the caller then
    /// settles the bubble, see [`Bubble::settle_now`]), unless `over` says
    /// a partner has completed it already. The mark, the look and the
    /// count are one step under the bubble's lock: a settle in between
    /// would see a finished wait counted, with nobody left to uncount it,
    /// and call the bubble deadlocked (a partner that completed the wait
    /// just before it was marked, then left the bubble).
    pub(crate) fn count_blocked_unless(
        &self,
        slot: &Slot,
        generation: u64,
        over: impl FnOnce() -> bool,
    ) {
        let mut state = self.state();
        // A partner (or a release) ends the wait, then uncounts it under
        // this lock ([`unblock_wait`]). If it takes the lock after this, it
        // finds the mark and uncounts the count below; if before, it found
        // no mark, and its completion, made before it took the lock, is
        // seen by `over` here.
        slot.durable.store(generation, Ordering::SeqCst);
        if over() && take_durable(slot) {
            // Completed before it was counted, and nobody uncounts it.
            return;
        }
        state.blocked += 1;
    }

    /// Acts on the bubble's state (see [`Bubble::settle`]).
    pub(crate) fn settle_now(self: &Arc<Self>) {
        let state = self.state();
        self.settle(state);
    }

    /// A member's durable wait has ended, if `unmark` clears its mark (see
    /// [`unblock`]): the mark and the count change in one step under the
    /// lock, as [`Bubble::count_blocked_unless`] sets them, so a settle
    /// never sees a wait counted whose mark is gone (its goroutine already
    /// running on) and calls the bubble deadlocked.
    fn uncount_if(&self, unmark: impl FnOnce() -> bool) {
        let mut state = self.state();
        if unmark() {
            state.blocked -= 1;
        }
    }

    /// `synctest::wait`: `released` is set once every other member is
    /// durably blocked. The caller then waits (durably) until it is.
    pub(crate) fn add_waiter(self: &Arc<Self>, slot: Arc<Slot>, released: Arc<AtomicBool>) {
        let state = {
            let mut state = self.state();
            state.waiters.push((slot, released));
            state
        };
        self.settle(state);
    }

    /// `run`'s thread waits for the other members to end: `released` is set
    /// when it is the only one left. Its wait counts as durable from here
    /// (in one step with the registration, so the count never sees it
    /// waiting unregistered, nor registered but not waiting).
    pub(crate) fn await_members(self: &Arc<Self>, slot: Arc<Slot>, released: Arc<AtomicBool>) {
        let state = {
            let mut state = self.state();
            if state.members == 1 {
                released.store(true, Ordering::SeqCst);
                return;
            }
            park::mark_durable(&slot);
            state.blocked += 1;
            state.root = Some((slot, released));
            state
        };
        self.settle(state);
    }

    /// Releases a member waiting on the bubble itself (`run`, `wait`):
    /// its wait is no longer durable from now on.
    fn release(state: &mut State, slot: &Slot, released: &AtomicBool) {
        released.store(true, Ordering::SeqCst);
        if park::take_durable(slot) {
            state.blocked -= 1;
        }
    }

    /// Acts on the bubble's state after a change: releases `run` once it is
    /// alone; when every member is durably blocked, releases
    /// `synctest::wait` callers, else fires the earliest timers, else calls
    /// the bubble deadlocked.
    fn settle<'a>(self: &'a Arc<Self>, mut state: MutexGuard<'a, State>) {
        loop {
            if state.members == 1 {
                if let Some((slot, released)) = state.root.take() {
                    Self::release(&mut state, &slot, &released);
                    drop(state);
                    slot.unpark();
                    return;
                }
            }
            if state.advancing || state.members == 0 || state.blocked < state.members {
                return;
            }
            // Timers due now fire first: `synctest::wait` promises that all
            // that can happen without time passing has happened.
            let due_now = state
                .timers
                .first_key_value()
                .is_some_and(|(first, _)| first.when <= state.now);
            if !due_now && !state.waiters.is_empty() {
                let waiters = std::mem::take(&mut state.waiters);
                for (slot, released) in &waiters {
                    Self::release(&mut state, slot, released);
                }
                drop(state);
                for (slot, _) in waiters {
                    slot.unpark();
                }
                return;
            }
            let Some((&first, _)) = state.timers.first_key_value() else {
                if !state.deadlocked {
                    state.deadlocked = true;
                    drop(state);
                    self.deadlocked();
                }
                return;
            };
            // Time jumps to the earliest deadline; every timer due then
            // fires, in deadline order, outside the lock (a ticker
            // re-arms, a context cancels its children). They fire as the
            // bubble's: on its clock, re-arming on it, starting goroutines
            // in it, whichever thread settles it (even one whose goroutine
            // is leaving the bubble).
            state.now = state.now.max(first.when);
            let now = state.now;
            let mut due = Vec::new();
            while let Some(entry) = state.timers.first_entry() {
                if entry.key().when > now {
                    break;
                }
                due.push(entry.remove_entry());
            }
            state.advancing = true;
            drop(state);
            park::as_member_of(self, || {
                for (key, target) in due {
                    target.fire(key);
                }
            });
            state = self.state();
            state.advancing = false;
        }
    }

    /// Every member is durably blocked and no timer is pending: builds the
    /// report and ends the members (they unwind; `run` panics with it).
    fn deadlocked(&self) {
        let id = self.id;
        let report = park::describe(|info| info.bubble == id);
        let report = format!("deadlock: all goroutines in bubble are blocked\n\n{report}");
        self.state().deadlock = Some(report);
        park::end_bubble(id);
    }
}

/// Unschedules a timer of a bubble's clock, by its key (the timer paths
/// keep only the key).
pub(crate) fn unschedule(key: Key) -> bool {
    Bubble::by_id(key.bubble).is_some_and(|b| b.unschedule(key))
}

/// Wakes a member whose timed wait's deadline came (see [`park::wait`]).
pub(crate) struct WakeAt {
    pub(crate) slot: Arc<Slot>,
    pub(crate) generation: u64,
}

impl Fire for WakeAt {
    fn fire(self: Arc<Self>, key: Key) {
        if let Some(bubble) = Bubble::by_id(key.bubble) {
            wake_timed(&self.slot, self.generation, &bubble);
        }
    }
}

/// Wakes a member whose timed wait, not counted itself, came to its
/// deadline: a wait inside a counted one (see `park::BubbleWait`).
pub(crate) struct UnparkAt(pub(crate) Arc<Slot>);

impl Fire for UnparkAt {
    fn fire(self: Arc<Self>, _key: Key) {
        self.0.unpark();
    }
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
    pub(super) static FIRING: RefCell<Option<Arc<Bubble>>> = const { RefCell::new(None) };
}

/// The id of the bubble whose timers this thread is firing, if any.
pub(crate) fn firing_bubble() -> Option<u64> {
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

/// Ends the durable count of `slot`'s wait in its bubble, if it still
/// counts: called by whoever ends the wait first (a partner handing over a
/// value, a release, the clock, the goroutine itself).
pub(crate) fn unblock(slot: &Slot) {
    if slot.durable.load(Ordering::SeqCst) == 0 {
        // Nothing counts (the common case: a partner uncounted it).
        return;
    }
    match slot.lock().as_ref().and_then(|c| c.bubble.clone()) {
        Some(bubble) => bubble.uncount_if(|| take_durable(slot)),
        None => {
            take_durable(slot);
        }
    }
}

/// [`unblock`] for wait number `generation` only, counted in `bubble`: a
/// partner or a timer that ends a wait can come late, after the goroutine
/// has ended that wait itself and started another, which it must not
/// uncount, or even left the bubble (so the bubble is the caller's, not
/// read from the goroutine's record).
pub(crate) fn unblock_wait(slot: &Slot, generation: u64, bubble: &Bubble) {
    // Wait numbers start at 1: 0 is "no durable wait", never a match.
    if generation != 0 {
        bubble.uncount_if(|| {
            slot.durable
                .compare_exchange(generation, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
    }
}

/// The number the current thread's next wait will have (see
/// [`unblock_wait`]).
pub(crate) fn next_wait(slot: &Slot) -> u64 {
    slot.generation.load(Ordering::SeqCst) + 1
}

/// Marks `slot`'s current wait durable (the caller counts it in its
/// bubble).
pub(crate) fn mark_durable(slot: &Slot) {
    let generation = slot.generation.fetch_add(1, Ordering::SeqCst) + 1;
    slot.durable.store(generation, Ordering::SeqCst);
}

/// Clears `slot`'s durable mark, whichever wait set it; true if one was
/// set (the caller then takes it off its bubble's count).
pub(crate) fn take_durable(slot: &Slot) -> bool {
    slot.durable.swap(0, Ordering::SeqCst) != 0
}

/// The bubble's clock reached the deadline of `slot`'s timed wait number
/// `generation`: ends its durable count and wakes it (unless that wait is
/// over already).
fn wake_timed(slot: &Slot, generation: u64, bubble: &Bubble) {
    if slot.generation.load(Ordering::SeqCst) == generation {
        unblock_wait(slot, generation, bubble);
        slot.unpark();
    }
}

/// Whether a wait on `what`, on an object of bubble `home` (see
/// [`park::On`]), by the goroutine of `slot`, counts as durably blocked in
/// `bubble`: its kind is durable, the object is the bubble's (or the kind
/// alone decides), and it is not a wait inside a wait that counts already.
pub(crate) fn durable_in(bubble: &Bubble, slot: &Slot, what: Wait, home: Option<u64>) -> bool {
    what.is_durable()
        && home.is_none_or(|home| home == bubble.id)
        && slot.durable.load(Ordering::SeqCst) == 0
}

/// The slot of the current goroutine and the bubble its next wait, on
/// `what` of bubble `home`, counts in, if it will count: for a partner to
/// end its durable count when it completes the wait. (A wait that will
/// not count has no number of its own, and a partner must not take the
/// next one's for it.)
pub(crate) fn bubble_member(what: Wait, home: Option<u64>) -> Option<(Arc<Slot>, Arc<Bubble>)> {
    current_bubble()?;
    let slot = SLOT.try_with(|s| s.borrow().clone()).ok().flatten()?;
    let bubble = slot.lock().as_ref()?.bubble.clone()?;
    durable_in(&bubble, &slot, what, home).then_some((slot, bubble))
}

/// Live bubbles (so a release looks for bubble waiters only if any).
pub(super) static LIVE_BUBBLES: AtomicUsize = AtomicUsize::new(0);

/// The waits on `key` (a `WaitGroup`, a scope) have been released: in a
/// synctest bubble, they stop counting as durably blocked now, before
/// their goroutines run.
pub(crate) fn release(key: usize) {
    // A waiter that the looks below miss (it had not recorded its key, or
    // had no number yet) sees the release, made before them, as it is
    // counted: the slot's lock and the bubble's order the two.
    if LIVE_BUBBLES.load(Ordering::SeqCst) == 0 {
        return;
    }
    for slot in slots() {
        // The wait's number is read with the key, under the slot's lock:
        // the goroutine may have moved on to another wait since.
        let waiting = slot.lock().as_ref().and_then(|c| {
            let bubble = c.bubble.clone()?;
            let here = c.blocked.as_ref().is_some_and(|b| b.key == key);
            here.then(|| (slot.generation.load(Ordering::SeqCst), bubble))
        });
        if let Some((generation, bubble)) = waiting {
            unblock_wait(&slot, generation, &bubble);
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
    let (info, record) = {
        let mut current = slot.lock();
        let c = current.as_mut().expect("a slot with a goroutine");
        let record = c.info;
        if c.info.id == 0 {
            // A thread goscope did not start (a guest, new or owning a
            // scope): a goroutine of the bubble now, with an id of its own
            // (its report and the goroutines it starts name it).
            c.info.id = next_id();
        }
        c.info.bubble = bubble.id;
        c.info.endable = true;
        c.bubble = Some(Arc::clone(bubble));
        (c.info, record)
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
    LIVE_BUBBLES.fetch_add(1, Ordering::SeqCst);
    BubbleGuard {
        slot,
        record,
        previous_info,
        previous_live,
        guest: token,
    }
}

/// Leaves the bubble (see [`enter_bubble`]).
pub(crate) struct BubbleGuard {
    pub(super) slot: Arc<Slot>,
    /// The slot's record of its goroutine before the bubble.
    pub(super) record: GInfo,
    pub(super) previous_info: Option<GInfo>,
    pub(super) previous_live: Option<LiveToken>,
    pub(super) guest: Option<TokenGuard>,
}

impl Drop for BubbleGuard {
    fn drop(&mut self) {
        LIVE_BUBBLES.fetch_sub(1, Ordering::SeqCst);
        if let Some(c) = self.slot.lock().as_mut() {
            // The record as it was before the bubble (a guest that owns a
            // scope goes back to being no goroutine of any bubble).
            c.bubble = None;
            c.info = self.record;
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
pub(super) fn enter_token_slot() -> Option<TokenGuard> {
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
