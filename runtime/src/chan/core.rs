//! The channel itself: Go's `hchan` (`src/runtime/chan.go`).
//!
//! A channel is a lock, a ring buffer of `cap` values, and two queues of
//! waiting goroutines: receivers waiting for a value (`recvq`) and senders
//! waiting to hand one over (`sendq`). Every operation takes the lock, then:
//! - a send first looks for a waiting receiver and hands it the value
//!   directly (the rendezvous of an unbuffered channel); else it puts the
//!   value in the buffer if there is room; else it queues itself and waits;
//! - a receive first looks for a waiting sender (an unbuffered channel takes
//!   its value; a full buffered one takes the oldest buffered value and
//!   moves the sender's into the buffer); else it takes from the buffer;
//!   else, if the channel is closed, it gets `None`; else it queues itself
//!   and waits.
//!
//! A queued operation is an [`Entry`] that points at a [`Sel`]: the record
//! of one wait, shared by every entry of a `select!` (one per arm). The
//! partner that completes a wait first *claims* its `Sel` (a compare and
//! swap, Go's `selectDone`), so a `select!` queued on several channels is
//! completed by exactly one partner; the others find the claim taken and
//! skip the stale entry. The claimer moves the value while holding the
//! channel's lock, then marks the `Sel` done and unparks the waiter after
//! unlocking. A waiter that must stop (cancelled, ended by the detector, or
//! timed out) claims its own `Sel` as cancelled and takes its entries back;
//! if a partner claimed it first, the operation completed and it takes the
//! result.
//!
//! Closing (the last `Sender` dropped) completes every queued receiver with
//! "closed". When the last `Receiver` is dropped, queued plain sends are
//! completed with "abandoned" (their value can never be taken, and the send
//! gives it back); a send that would have to wait fails the same way, but a
//! send into a buffer with room still completes, as in Go.
//!
//! The lock is one `ChanLock` per channel with the state beside it in an
//! `UnsafeCell`, rather than a `Mutex<State<T>>`: a `select!` must hold the
//! locks of all its channels at once, whatever their element types, and
//! take them in address order (Go's `sellock`), which needs a lock it can
//! name without `T`.

use std::collections::VecDeque;
use std::sync::atomic::{self, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

// loom's under `--cfg loom` (model-checked in `prim/models/chan.rs`), std's
// otherwise. The `Arc`s, the timer count and `on_abandon` stay std's: they
// are shared with the parking path, or set before the channel is.
use crate::prim::{self, AtomicUsize, ChanGuard, ChanLock, Thread, UnsafeCell};
use crate::sched::park::{self, Bubble, Slot, Wait};
use crate::trace;

/// What kind of channel this is, for reports and the detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Made by `chan`: only another goroutine can make it ready.
    Chan,
    /// Fed by a timer (`after`, `tick`, `Timer`, `Ticker`, a context
    /// deadline): ready with time alone while its timer is armed.
    Timer,
    /// `never`: Go's nil channel.
    Never,
}

/// A channel of `T`s.
pub(crate) struct Chan<T> {
    lock: ChanLock,
    /// Guarded by `lock`: see [`Chan::state`].
    state: UnsafeCell<State<T>>,
    cap: usize,
    /// The number of buffered values, as of the last change (written under
    /// the lock, read without it): what a goroutine about to wait on a
    /// buffered channel watches for a moment first (see
    /// [`Chan::look`]).
    len_hint: atomic::AtomicUsize,
    senders: AtomicUsize,
    receivers: AtomicUsize,
    pub(crate) flavor: Flavor,
    /// The synctest bubble it was made in (0: none): waiting on it is
    /// durable blocking only there (see [`Chan::home`]).
    bubble: u64,
    /// For a timer channel: how many armed timers will send on it (see
    /// `park::Timers`).
    pub(crate) timers: Option<Arc<atomic::AtomicUsize>>,
    /// Run when the last receiver is gone (a timer channel stops its timer).
    on_abandon: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

// SAFETY: `state` is only reached through `Chan::state`, whose callers hold
// `lock`, so the `State<T>` (and the `T`s in it) is used by one thread at a
// time, moving between threads with the lock: that needs `T: Send`, not
// `T: Sync`. Everything else in `Chan` is `Sync` already.
unsafe impl<T: Send> Sync for Chan<T> {}

// A panic never leaves a channel half-changed: no user code runs while its
// lock is held (values are dropped after it is released), so channel ends
// may cross `catch_unwind` as crossbeam's do.
impl<T> std::panic::RefUnwindSafe for Chan<T> {}
impl<T> std::panic::UnwindSafe for Chan<T> {}

struct State<T> {
    buf: VecDeque<T>,
    /// While the timeline is recorded (`GOSCOPE_TRACE`): the flow ids of
    /// the newest `flows.len()` values in `buf` (those buffered since
    /// recording began), so a receive ends the send's flow arrow. Empty,
    /// and never touched, otherwise.
    flows: VecDeque<u64>,
    /// Every sender is gone (Go's `closed`).
    closed: bool,
    /// Every receiver is gone.
    abandoned: bool,
    recvq: VecDeque<Arc<Entry<T>>>,
    sendq: VecDeque<Arc<Entry<T>>>,
}

/// One operation queued on a channel (Go's `sudog`).
pub(crate) struct Entry<T> {
    /// The record of its wait. A plain operation's is its own, inline: a
    /// hand-off then touches one allocation, not two. A `select!`'s is
    /// shared by its arms.
    sel: SelRef,
    /// Which arm of its `select!` (0 for a plain operation).
    pub(crate) case: usize,
    /// A send's value, until taken; a receive's value, once handed over.
    /// Only the claimer of `sel` (between its claim and its completion) or
    /// the waiter (once its wait has ended) touches it: see the `Sync`
    /// impl below. No lock: a hand-off writes the waiter's entry as few
    /// times as it can, since the waiter is spinning on it.
    value: UnsafeCell<Option<T>>,
    /// Whether this is a receive.
    recv: bool,
    /// The timeline's flow id of the value (see [`State::flows`]): a
    /// send's, set when it queues; a receive's, set with the value handed
    /// over. 0 when not recorded.
    flow: AtomicU64,
}

// SAFETY: `value` is the only field not `Sync` by itself, and its accesses
// never overlap: it is written by the entry's creator before it is queued
// (the queue's lock orders that before any partner's look), then used only
//   - by the partner that won the claim of `sel` (`WAITING -> CLAIMED`, a
//     compare-and-swap, so one partner at most, and never after the waiter
//     cancelled), until it stores `DONE` (Release), and
//   - by the waiter once it has seen its wait end: `DONE` (Acquire, after
//     the claimer's last access) or its own cancel won (no claimer can come
//     after it; if a claimer came first, `cancel` waits for its `DONE`).
// See `Entry::take` and `Entry::put_claimed`; loom checks every access
// (`prim/models/chan.rs`, where this cell is loom's).
unsafe impl<T: Send> Sync for Entry<T> {}

/// Where an [`Entry`]'s wait record is.
enum SelRef {
    /// A plain send or receive: the entry is the whole wait.
    Own(Sel),
    /// An arm of a `select!`: a partner on any arm's channel may complete
    /// the wait, and a send arm is not failed when the receivers go (it is
    /// simply never ready, as a Go send nobody takes).
    Shared(Arc<Sel>),
}

impl<T> Entry<T> {
    /// An entry of `select!` wait `sel`, or (`None`) a plain operation's
    /// that waits on `what` of bubble `home`.
    fn new(
        sel: Option<&Arc<Sel>>,
        (what, home): (Wait, Option<u64>),
        case: usize,
        value: Option<T>,
        recv: bool,
        flow: u64,
    ) -> Self {
        Entry {
            sel: match sel {
                Some(sel) => SelRef::Shared(Arc::clone(sel)),
                None => SelRef::Own(Sel::here(what, home)),
            },
            case,
            value: UnsafeCell::new(value),
            recv,
            flow: AtomicU64::new(flow),
        }
    }

    /// The record of the entry's wait.
    #[inline]
    pub(crate) fn sel(&self) -> &Sel {
        match &self.sel {
            SelRef::Own(sel) => sel,
            SelRef::Shared(sel) => sel,
        }
    }

    /// Whether a `select!` queued it.
    fn select(&self) -> bool {
        matches!(self.sel, SelRef::Shared(_))
    }

    /// Takes the value out, as the waiter: a completed receive's, or a
    /// send's that nobody took.
    ///
    /// # Safety
    ///
    /// The caller is the goroutine that queued the entry, and its wait has
    /// ended: `sel().done()` returned `Some`, or its own `sel().cancel()`
    /// returned (see the `Sync` impl of `Entry`).
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: the wait has ended (the caller's contract), so no partner
        // touches the value any more, and the end was seen with Acquire.
        let value = self.value.with_mut(|value| unsafe { (*value).take() });
        if self.recv && trace::on() && value.is_some() {
            // The receiving goroutine has the value.
            trace::receive(self.flow.load(Ordering::Relaxed));
        }
        value
    }
}

impl<T> Entry<T> {
    /// Takes a queued send's value, as the partner that claimed it.
    ///
    /// # Safety
    ///
    /// The caller won `sel().claim()` and has not completed the wait yet.
    unsafe fn take_claimed(&self) -> Option<T> {
        // SAFETY: the claim makes the caller the only one that touches the
        // value until it completes the wait (see the `Sync` impl).
        self.value.with_mut(|value| unsafe { (*value).take() })
    }

    /// Hands `value` to a queued receive, as the partner that claimed it.
    ///
    /// # Safety
    ///
    /// As for [`Entry::take_claimed`].
    unsafe fn put_claimed(&self, value: T) {
        // SAFETY: as in `take_claimed`.
        self.value.with_mut(|slot| unsafe { *slot = Some(value) });
    }
}

impl<T> State<T> {
    /// Takes the oldest buffered value, and its flow id (0 if none).
    #[inline]
    fn pop(&mut self) -> Option<(T, u64)> {
        let value = self.buf.pop_front()?;
        let flow = if self.flows.len() > self.buf.len() {
            self.flows.pop_front().unwrap_or(0)
        } else {
            0
        };
        Some((value, flow))
    }

    /// Buffers `value`, which left with flow `flow`.
    #[inline]
    fn push(&mut self, value: T, flow: u64) {
        self.buf.push_back(value);
        if trace::on() {
            self.flows.push_back(flow);
        }
    }
}

/// The record of one wait, shared by the entries of one operation or
/// `select!`.
pub(crate) struct Sel {
    /// `WAITING`, `CLAIMED`, `CANCELLED`, or `DONE + 2 * case + closed`.
    state: AtomicUsize,
    thread: Thread,
    /// The waiter's record, if it is in a synctest bubble, and the number
    /// its wait will have: whoever completes the wait ends that wait's
    /// durable count at once.
    member: Option<Member>,
    /// Whether the waiter counts in the running goroutines: whoever
    /// completes the wait counts it running again as it unparks it (the
    /// spin policy's count).
    counted: bool,
}

/// A waiter in a synctest bubble, for the partner that completes its wait.
struct Member {
    slot: Arc<Slot>,
    /// The number its wait will have.
    generation: u64,
    /// The bubble that wait counts in.
    bubble: Arc<Bubble>,
}

const WAITING: usize = 0;
const CLAIMED: usize = 1;
const CANCELLED: usize = 2;
const DONE: usize = 3;

/// How a wait ended: the arm that completed, and whether it completed as
/// closed (a receive on a closed channel; a send whose receivers are gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) case: usize,
    pub(crate) closed: bool,
}

impl Sel {
    /// The record of a `select!`'s wait, shared by its arms' entries; its
    /// channels are of bubble `home` (see `park::On`).
    pub(crate) fn new(home: Option<u64>) -> Arc<Sel> {
        Arc::new(Sel::here(Wait::Select, home))
    }

    /// The record of a wait by the current thread, on `what` of bubble
    /// `home`.
    fn here(what: Wait, home: Option<u64>) -> Sel {
        Sel {
            state: AtomicUsize::new(WAITING),
            thread: prim::current(),
            member: park::bubble_member(what, home).map(|(slot, bubble)| Member {
                generation: park::next_wait(&slot),
                slot,
                bubble,
            }),
            counted: park::counts_running(),
        }
    }

    /// How the wait ended, once a partner has completed it.
    pub(crate) fn done(&self) -> Option<Done> {
        let state = self.state.load(Ordering::Acquire);
        (state >= DONE).then(|| Done {
            case: (state - DONE) / 2,
            closed: (state - DONE) % 2 == 1,
        })
    }

    /// Claims the wait for a partner; false if someone else did.
    fn claim(&self) -> bool {
        self.state
            .compare_exchange(WAITING, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Marks a claimed wait done; the waiter must be unparked after.
    fn complete(&self, case: usize, closed: bool) {
        self.state
            .store(DONE + 2 * case + usize::from(closed), Ordering::Release);
        if let Some(member) = &self.member {
            // After the completion: a waiter that is counting its wait just
            // now sees it, or is counted before this uncounts it (see
            // `Bubble::count_blocked_unless`).
            park::unblock_wait(&member.slot, member.generation, &member.bubble);
        }
    }

    /// The waiter gives up (cancelled, ended or timed out). If a partner
    /// claimed the wait first, waits for it to finish and returns how it
    /// ended instead.
    pub(crate) fn cancel(&self) -> Option<Done> {
        match self
            .state
            .compare_exchange(WAITING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => None,
            Err(_) => loop {
                // The claimer finishes under the channel's lock: soon.
                if let Some(done) = self.done() {
                    return Some(done);
                }
                prim::spin_loop();
            },
        }
    }
}

/// The waiters to unpark once the channel locks are released (and the
/// timeline's event of the operation, recorded then too).
///
/// An operation completes at most one partner, so the first wake has a
/// place of its own and the common case, none, costs one check when
/// dropped (a `Vec` and its drain cost a quarter of a buffered send).
#[derive(Default)]
pub(crate) struct Wakes {
    first: Option<Wake>,
    /// Only `close` completes more than one partner.
    more: Vec<Wake>,
    pub(crate) later: trace::Later,
}

/// A waiter to unpark.
struct Wake {
    thread: Thread,
    /// Whether it counts in the running goroutines (see [`Sel::counted`]).
    counted: bool,
}

impl Wakes {
    /// Completes the claimed wait `sel` (arm `case`, `closed` or not); its
    /// waiter is unparked when `self` is dropped.
    fn complete(&mut self, sel: &Sel, case: usize, closed: bool) {
        sel.complete(case, closed);
        let wake = Wake {
            thread: sel.thread.clone(),
            counted: sel.counted,
        };
        if self.first.is_none() {
            self.first = Some(wake);
        } else {
            self.more.push(wake);
        }
    }

    #[inline(never)]
    fn wake_all(&mut self) {
        for wake in self.first.take().into_iter().chain(self.more.drain(..)) {
            wake.thread.unpark();
            if wake.counted {
                // It runs again: others should not spin on its CPU.
                park::runnable();
            }
        }
    }
}

impl Drop for Wakes {
    #[inline]
    fn drop(&mut self) {
        if self.first.is_some() {
            self.wake_all();
        }
    }
}

/// What a receive found without waiting.
pub(crate) enum TryRecv<T> {
    Value(T),
    Closed,
    Empty,
}

/// What a send found without waiting.
pub(crate) enum TrySend<T> {
    Sent,
    /// Every receiver is gone and the value would have to wait.
    Abandoned(T),
    Full(T),
}

impl<T> Chan<T> {
    /// A channel with room for `cap` values, with one sender and one
    /// receiver.
    pub(crate) fn new(cap: usize, flavor: Flavor) -> Chan<T> {
        Chan {
            lock: ChanLock::new(),
            state: UnsafeCell::new(State {
                buf: VecDeque::new(),
                flows: VecDeque::new(),
                closed: false,
                abandoned: false,
                recvq: VecDeque::new(),
                sendq: VecDeque::new(),
            }),
            cap,
            len_hint: atomic::AtomicUsize::new(0),
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            flavor,
            bubble: park::bubble_id(),
            timers: (flavor == Flavor::Timer).then(|| Arc::new(atomic::AtomicUsize::new(0))),
            on_abandon: OnceLock::new(),
        }
    }

    /// The channel, as one of bubble `bubble`'s (0: of none), whatever
    /// bubble it is made in: a context's channel that its parent's timer
    /// closes.
    pub(crate) fn of_bubble(mut self, bubble: u64) -> Chan<T> {
        self.bubble = bubble;
        self
    }

    /// Sets what runs when the last receiver is gone.
    pub(crate) fn on_abandon(&self, f: Box<dyn Fn() + Send + Sync>) {
        let _ = self.on_abandon.set(f);
    }

    /// For a timer channel: records how many timers will send on it.
    pub(crate) fn set_armed(&self, armed: usize) {
        if let Some(timers) = &self.timers {
            timers.store(armed, Ordering::SeqCst);
        }
    }

    /// Takes every buffered value out; returns how many there were. (A
    /// timer's stale value, dropped on `stop` or `reset`.)
    pub(crate) fn clear(&self) -> usize {
        let values = {
            let _lock = self.locked();
            // SAFETY: we hold the lock; this is the only reference.
            let state = unsafe { self.state() };
            state.flows.clear();
            self.len_hint.store(0, Ordering::Relaxed);
            std::mem::take(&mut state.buf)
        };
        values.len()
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// Whether a goroutine that found this channel empty or full, and is
    /// about to queue itself, should first watch it for a moment (see
    /// [`Chan::look`]): a buffered channel, made outside every bubble
    /// (where nothing may run that the bubble's clock has not counted),
    /// while a CPU is idle for the spin.
    pub(crate) fn worth_a_look(&self) -> bool {
        self.cap > 0 && self.bubble == 0 && self.flavor == Flavor::Chan && park::may_look()
    }

    /// Watches the channel, without its lock, for a moment
    /// ([`park::look_briefly`]) until a value is buffered (`recv`) or room
    /// is made (not `recv`), or its other side is gone. A value that
    /// arrives meanwhile is then taken from the buffer (room used) by the
    /// fast path, instead of handed to a queued waiter that must be woken:
    /// a worker pool's idle workers take their jobs as crossbeam's do.
    pub(crate) fn look(&self, recv: bool) {
        park::look_briefly(|| {
            let len = self.len_hint.load(Ordering::Relaxed);
            if recv {
                len > 0 || self.senders.load(Ordering::Relaxed) == 0
            } else {
                len < self.cap || self.receivers.load(Ordering::Relaxed) == 0
            }
        });
    }

    /// The bubble whose members' waits on this channel are durable (see
    /// `park::On`), if only one's: a timer's channel is the bubble's it was
    /// made in (0: none), since a timer made outside runs on real time and
    /// fires without any goroutine of the bubble. Waits on every other
    /// channel are durable wherever it was made (goscope's contract; Go
    /// 1.25 counts a channel made outside the bubble as not durable, which
    /// would stop the clock for a channel a closure merely borrows).
    pub(crate) fn home(&self) -> Option<u64> {
        (self.flavor == Flavor::Timer).then_some(self.bubble)
    }

    /// What a plain receive on this channel waits on, for the record.
    pub(crate) fn recv_wait(&self) -> Wait {
        match self.flavor {
            Flavor::Never => Wait::ChanReceiveNil,
            _ => Wait::ChanReceive,
        }
    }

    /// The channel's lock, for `select!` (which takes several in address
    /// order) and for [`Chan::locked`].
    pub(crate) fn raw_lock(&self) -> &ChanLock {
        &self.lock
    }

    /// Takes the channel's lock.
    pub(crate) fn locked(&self) -> ChanGuard<'_> {
        self.lock.lock()
    }

    /// The state behind the lock.
    ///
    /// # Safety
    ///
    /// The calling thread holds `self.lock` for as long as the reference
    /// lives, and holds no other reference returned by this function.
    #[allow(clippy::mut_from_ref)]
    unsafe fn state(&self) -> &mut State<T> {
        // SAFETY: the caller holds the lock, which gives exclusive access to
        // the state, and keeps one reference at a time (this function's
        // contract). Under loom each call is one checked access.
        self.state.with_mut(|state| unsafe { &mut *state })
    }

    /// The number of buffered values.
    pub(crate) fn len(&self) -> usize {
        let _lock = self.locked();
        // SAFETY: we hold the lock; this is the only reference.
        unsafe { self.state() }.buf.len()
    }

    /// Receives without waiting.
    ///
    /// # Safety
    ///
    /// The calling thread holds this channel's lock and no reference from
    /// [`Chan::state`].
    #[inline]
    pub(crate) unsafe fn try_recv_locked(&self, wakes: &mut Wakes) -> TryRecv<T> {
        // SAFETY: the caller holds the lock and no other state reference.
        let state = unsafe { self.state() };
        while let Some(entry) = state.sendq.pop_front() {
            if !entry.sel().claim() {
                // A select that completed elsewhere, or a cancelled wait.
                continue;
            }
            // SAFETY: we won the claim and complete the wait below.
            let sent = unsafe { entry.take_claimed() }.expect("a queued send holds its value");
            let sent_flow = entry.flow.load(Ordering::Relaxed);
            let (value, flow) = match state.pop() {
                // Full buffer: the oldest value is ours, the sender's joins
                // the back (FIFO is kept; the length stays).
                Some(oldest) => {
                    state.push(sent, sent_flow);
                    oldest
                }
                // Unbuffered: straight from the sender.
                None => (sent, sent_flow),
            };
            wakes.complete(entry.sel(), entry.case, false);
            trace::receive_later(flow, &mut wakes.later);
            return TryRecv::Value(value);
        }
        if let Some((value, flow)) = state.pop() {
            self.len_hint.store(state.buf.len(), Ordering::Relaxed);
            trace::receive_later(flow, &mut wakes.later);
            return TryRecv::Value(value);
        }
        if state.closed {
            return TryRecv::Closed;
        }
        TryRecv::Empty
    }

    /// Sends without waiting.
    ///
    /// # Safety
    ///
    /// As for [`Chan::try_recv_locked`].
    #[inline]
    pub(crate) unsafe fn try_send_locked(&self, value: T, wakes: &mut Wakes) -> TrySend<T> {
        // SAFETY: the caller holds the lock and no other state reference.
        let state = unsafe { self.state() };
        while let Some(entry) = state.recvq.pop_front() {
            if !entry.sel().claim() {
                continue;
            }
            if trace::on() {
                entry
                    .flow
                    .store(trace::send_later(&mut wakes.later), Ordering::Relaxed);
            }
            // SAFETY: we won the claim and complete the wait below.
            unsafe { entry.put_claimed(value) };
            wakes.complete(entry.sel(), entry.case, false);
            return TrySend::Sent;
        }
        if state.buf.len() < self.cap {
            let flow = if trace::on() {
                trace::send_later(&mut wakes.later)
            } else {
                0
            };
            state.push(value, flow);
            self.len_hint.store(state.buf.len(), Ordering::Relaxed);
            return TrySend::Sent;
        }
        if state.abandoned {
            return TrySend::Abandoned(value);
        }
        TrySend::Full(value)
    }

    /// Queues a receive: a plain one (`arm` is `None`), or arm `case` of
    /// the `select!` whose wait is `sel`.
    ///
    /// # Safety
    ///
    /// As for [`Chan::try_recv_locked`].
    pub(crate) unsafe fn enqueue_recv_locked(
        &self,
        arm: Option<(&Arc<Sel>, usize)>,
    ) -> Arc<Entry<T>> {
        let (sel, case) = arm.map_or((None, 0), |(sel, case)| (Some(sel), case));
        let on = (self.recv_wait(), self.home());
        let entry = Arc::new(Entry::new(sel, on, case, None, true, 0));
        // SAFETY: the caller holds the lock and no other state reference.
        unsafe { self.state() }.recvq.push_back(Arc::clone(&entry));
        entry
    }

    /// Queues a send of `value`: a plain one (`arm` is `None`), or arm
    /// `case` of the `select!` whose wait is `sel`.
    ///
    /// # Safety
    ///
    /// As for [`Chan::try_recv_locked`].
    pub(crate) unsafe fn enqueue_send_locked(
        &self,
        arm: Option<(&Arc<Sel>, usize)>,
        value: T,
    ) -> Arc<Entry<T>> {
        let (sel, case) = arm.map_or((None, 0), |(sel, case)| (Some(sel), case));
        // The value leaves now, as far as the timeline shows: the receiver
        // that takes it ends this flow.
        let on = (Wait::ChanSend, self.home());
        let entry = Arc::new(Entry::new(sel, on, case, Some(value), false, trace::send()));
        // SAFETY: the caller holds the lock and no other state reference.
        unsafe { self.state() }.sendq.push_back(Arc::clone(&entry));
        entry
    }

    /// Takes a queued entry back out (its wait ended another way).
    pub(crate) fn dequeue(&self, entry: &Arc<Entry<T>>) {
        let _lock = self.locked();
        // SAFETY: we hold the lock; this is the only reference.
        let state = unsafe { self.state() };
        for queue in [&mut state.recvq, &mut state.sendq] {
            if let Some(i) = queue.iter().position(|e| Arc::ptr_eq(e, entry)) {
                queue.remove(i);
                return;
            }
        }
    }

    /// One more sender.
    pub(crate) fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// One more receiver.
    pub(crate) fn add_receiver(&self) {
        self.receivers.fetch_add(1, Ordering::Relaxed);
    }

    /// A sender is gone; the last one closes the channel, completing every
    /// queued receive with "closed".
    pub(crate) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut wakes = Wakes::default();
        let _lock = self.locked();
        // SAFETY: we hold the lock; this is the only reference.
        let state = unsafe { self.state() };
        state.closed = true;
        for entry in state.recvq.drain(..) {
            if entry.sel().claim() {
                wakes.complete(entry.sel(), entry.case, true);
            }
        }
        drop(_lock);
        drop(wakes);
    }

    /// A receiver is gone; after the last one, queued plain sends fail and
    /// give their values back.
    pub(crate) fn drop_receiver(&self) {
        if self.receivers.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut wakes = Wakes::default();
        let _lock = self.locked();
        // SAFETY: we hold the lock; this is the only reference.
        let state = unsafe { self.state() };
        state.abandoned = true;
        // A select's send arm stays queued: it is never ready, as in Go.
        state.sendq.retain(|entry| {
            if entry.select() {
                return true;
            }
            if entry.sel().claim() {
                wakes.complete(entry.sel(), entry.case, true);
            }
            false
        });
        drop(_lock);
        drop(wakes);
        if let Some(f) = self.on_abandon.get() {
            f();
        }
    }
}
