//! What `select!` lowers onto: one arm object per case, and Go's `selectgo`
//! (`src/runtime/select.go`) over them.
//!
//! A `select!` takes the locks of all its channels at once, in address
//! order, then polls the arms in a uniformly random order: the first that
//! can complete does, so the choice among ready arms is uniform and one
//! atomic moment decides it (a value cannot slip from one channel to
//! another between two polls). With `default` and nothing ready, it
//! unlocks and takes `default`. Otherwise it queues an entry on every
//! channel, all pointing at one wait record, unlocks, and parks; the first
//! partner to claim the record completes exactly one arm, and the select
//! takes its other entries back.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::core::{Chan, Entry, Sel, TryRecv, TrySend, Wakes};
use crate::chan::{Receiver, Sender};
// The channel lock's type: loom's under `--cfg loom` (see `prim`).
use crate::prim::{ChanGuard, ChanLock};
use crate::sched::park::{self, Wait};

/// Proof that the running `select` holds the locks of every arm's channel,
/// with what the arms need while they are held: the waiters to wake once the
/// locks are released, and the wait record to queue on.
pub struct Locked<'g> {
    wakes: Wakes,
    sel: Option<Arc<Sel>>,
    _locks: PhantomData<&'g ()>,
}

impl std::fmt::Debug for Locked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locked").finish_non_exhaustive()
    }
}

/// How an arm's poll went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// The arm completed.
    Ready,
    /// The arm cannot complete now.
    Pending,
}

/// One case of a `select!`: a receive or a send on one channel.
pub trait Arm<'a> {
    /// The lock of the arm's channel; `None` for a nil channel or an arm
    /// that is off (never ready).
    fn lock(&self) -> Option<&'a ChanLock>;
    /// Completes the operation if it can without waiting.
    fn poll(&mut self, locked: &mut Locked<'_>) -> Poll;
    /// Queues the operation on its channel as case `case` of the select's
    /// wait.
    fn enqueue(&mut self, locked: &Locked<'_>, case: usize);
    /// Takes its queued entry back out, if any (locks its channel). Called
    /// only once the select's wait has ended.
    fn dequeue(&mut self);
    /// A partner completed the queued operation (`closed`: the channel was
    /// closed). False if the arm's pattern refused what it received: the arm
    /// is then off.
    fn finish(&mut self, closed: bool) -> bool;
    /// The armed-timer count of the arm's channel, if it is a timer channel
    /// and the arm is on.
    fn timers(&self) -> Option<Arc<AtomicUsize>>;
    /// The synctest bubble of the arm's channel (0: none; see
    /// `park::On`); `None` for a nil channel or an arm that is off.
    fn home(&self) -> Option<u64>;
    /// Completes the arm as if its channel were closed, if it is a receive
    /// whose pattern takes that (for a goroutine that is already unwinding
    /// and cannot stop by unwinding again); false otherwise.
    fn close(&mut self) -> bool;
    /// Drops what the arm's pattern refused. Called outside every lock and
    /// wait: it runs the value's `Drop`.
    fn release(&mut self);
}

/// The operand of a receive arm: anything that is, or refers to, a
/// [`Receiver`], or an `Option` of one (`None` is Go's nil channel: the arm
/// is never ready).
#[diagnostic::on_unimplemented(
    message = "`<-` in `select!` receives from a `Receiver`, but this is a `{Self}`",
    label = "cannot receive from this",
    note = "a `Sender` is Go's send-only `chan<- T`: receive from the `Receiver` returned by the same `chan()` call"
)]
pub trait RecvOperand {
    /// The type of the values received.
    type Item;
    /// The receiver to use; `None` for a nil channel.
    fn receiver(&self) -> Option<&Receiver<Self::Item>>;
}

#[diagnostic::do_not_recommend]
impl<T> RecvOperand for Receiver<T> {
    type Item = T;
    fn receiver(&self) -> Option<&Receiver<T>> {
        Some(self)
    }
}

#[diagnostic::do_not_recommend]
impl<R: RecvOperand> RecvOperand for Option<R> {
    type Item = R::Item;
    fn receiver(&self) -> Option<&Receiver<R::Item>> {
        self.as_ref()?.receiver()
    }
}

#[diagnostic::do_not_recommend]
impl<R: RecvOperand + ?Sized> RecvOperand for &R {
    type Item = R::Item;
    fn receiver(&self) -> Option<&Receiver<R::Item>> {
        (**self).receiver()
    }
}

#[diagnostic::do_not_recommend]
impl<R: RecvOperand + ?Sized> RecvOperand for &mut R {
    type Item = R::Item;
    fn receiver(&self) -> Option<&Receiver<R::Item>> {
        (**self).receiver()
    }
}

/// The channel of a send arm: anything that is, or refers to, a [`Sender`],
/// or an `Option` of one (`None` is Go's nil channel: the arm is never
/// ready, though its value is still evaluated).
#[diagnostic::on_unimplemented(
    message = "`ch <- v` in `select!` sends on a `Sender`, but this is a `{Self}`",
    label = "cannot send on this",
    note = "a `Receiver` is Go's receive-only `<-chan T`: send on the `Sender` returned by the same `chan()` call"
)]
pub trait SendOperand {
    /// The type of the values sent.
    type Item;
    /// The sender to use; `None` for a nil channel.
    fn sender(&self) -> Option<&Sender<Self::Item>>;
}

#[diagnostic::do_not_recommend]
impl<T> SendOperand for Sender<T> {
    type Item = T;
    fn sender(&self) -> Option<&Sender<T>> {
        Some(self)
    }
}

#[diagnostic::do_not_recommend]
impl<S: SendOperand> SendOperand for Option<S> {
    type Item = S::Item;
    fn sender(&self) -> Option<&Sender<S::Item>> {
        self.as_ref()?.sender()
    }
}

#[diagnostic::do_not_recommend]
impl<S: SendOperand + ?Sized> SendOperand for &S {
    type Item = S::Item;
    fn sender(&self) -> Option<&Sender<S::Item>> {
        (**self).sender()
    }
}

#[diagnostic::do_not_recommend]
impl<S: SendOperand + ?Sized> SendOperand for &mut S {
    type Item = S::Item;
    fn sender(&self) -> Option<&Sender<S::Item>> {
        (**self).sender()
    }
}

/// Checks a send arm's value against its channel's element type, so a
/// mismatch is reported on the value the user wrote.
pub fn send_value<T>(_: Option<&Sender<T>>, value: T) -> T {
    value
}

/// A receive arm: `v = <-rx`, `<-rx`, or one with a refutable pattern,
/// `Some(v) = <-rx`.
///
/// `A` decides whether a received value is taken: [`Always`] for a binding
/// that accepts anything (the check compiles away), [`Matching`] for a
/// refutable pattern. A value that is not taken is consumed all the same
/// and disables the arm for the rest of its `select!` (Go's idiom of setting
/// a finished channel to nil).
#[allow(missing_debug_implementations)]
pub struct RecvArm<'a, T, A = Always> {
    rx: Option<&'a Receiver<T>>,
    /// `Some(received)` once the arm has completed.
    got: Option<Option<T>>,
    accepts: A,
    /// Set once a value was refused: the arm is never ready again.
    disabled: bool,
    /// A refused value, dropped by [`Arm::release`].
    refused: Option<T>,
    /// Its entry while queued.
    entry: Option<Arc<Entry<T>>>,
}

/// What a receive arm's pattern accepts.
pub trait Accept<T> {
    /// Whether the arm takes `received` (`None`: the channel is closed).
    fn accepts(&self, received: &Option<T>) -> bool;
}

/// The pattern of a receive arm that accepts every value (`v`, `_`, none).
#[derive(Debug, Clone, Copy)]
pub struct Always;

impl<T> Accept<T> for Always {
    #[inline(always)]
    fn accepts(&self, _: &Option<T>) -> bool {
        true
    }
}

/// The refutable pattern of a receive arm, as a test on the received value.
#[derive(Debug, Clone, Copy)]
pub struct Matching<F>(F);

impl<T, F: Fn(&Option<T>) -> bool> Accept<T> for Matching<F> {
    #[inline(always)]
    fn accepts(&self, received: &Option<T>) -> bool {
        (self.0)(received)
    }
}

impl<'a, T> RecvArm<'a, T, Always> {
    /// A receive on `rx` that takes every value (`None`: a nil channel).
    pub fn new(rx: Option<&'a Receiver<T>>) -> Self {
        RecvArm::with(rx, Always)
    }
}

impl<'a, T, F: Fn(&Option<T>) -> bool> RecvArm<'a, T, Matching<F>> {
    /// A receive on `rx` that takes only the values `pattern` accepts.
    pub fn matching(rx: Option<&'a Receiver<T>>, pattern: F) -> Self {
        RecvArm::with(rx, Matching(pattern))
    }
}

impl<'a, T, A> RecvArm<'a, T, A> {
    fn with(rx: Option<&'a Receiver<T>>, accepts: A) -> Self {
        RecvArm {
            rx,
            got: None,
            accepts,
            disabled: false,
            refused: None,
            entry: None,
        }
    }

    /// What the completed receive produced: `None` when the channel was
    /// closed.
    pub fn take(self) -> Option<T> {
        self.got.flatten()
    }

    fn chan(&self) -> Option<&'a Chan<T>> {
        match (self.disabled, self.rx) {
            (false, Some(rx)) => Some(rx.chan()),
            _ => None,
        }
    }
}

impl<'a, T, A: Accept<T>> RecvArm<'a, T, A> {
    /// Keeps `received` if the pattern accepts it; otherwise keeps it aside
    /// to drop later, and disables the arm. Returns whether the arm
    /// completed.
    #[inline(always)]
    fn offer(&mut self, received: Option<T>) -> bool {
        if self.accepts.accepts(&received) {
            self.got = Some(received);
            true
        } else {
            self.refused = received;
            self.disabled = true;
            false
        }
    }
}

impl<'a, T, A: Accept<T>> Arm<'a> for RecvArm<'a, T, A> {
    fn lock(&self) -> Option<&'a ChanLock> {
        self.chan().map(Chan::raw_lock)
    }

    fn poll(&mut self, locked: &mut Locked<'_>) -> Poll {
        let Some(chan) = self.chan() else {
            return Poll::Pending;
        };
        // SAFETY: `Locked` proves the select holds this channel's lock, and
        // no state reference outlives a call.
        let done = match unsafe { chan.try_recv_locked(&mut locked.wakes) } {
            TryRecv::Value(v) => self.offer(Some(v)),
            TryRecv::Closed => self.offer(None),
            TryRecv::Empty => false,
        };
        if done { Poll::Ready } else { Poll::Pending }
    }

    fn enqueue(&mut self, locked: &Locked<'_>, case: usize) {
        if let (Some(chan), Some(sel)) = (self.chan(), &locked.sel) {
            // SAFETY: as in `poll`.
            self.entry = Some(unsafe { chan.enqueue_recv_locked(Some((sel, case))) });
        }
    }

    fn dequeue(&mut self) {
        if let (Some(entry), Some(rx)) = (self.entry.take(), self.rx) {
            rx.chan().dequeue(&entry);
        }
    }

    fn finish(&mut self, closed: bool) -> bool {
        let entry = self.entry.take().expect("a completed arm was queued");
        let received = if closed {
            None
        } else {
            // SAFETY: this select queued `entry`, and its wait has ended (a
            // partner completed this arm: `finish` is called after that).
            unsafe { entry.take() }
        };
        self.offer(received)
    }

    fn timers(&self) -> Option<Arc<AtomicUsize>> {
        self.chan()?.timers.clone()
    }

    fn home(&self) -> Option<u64> {
        self.chan()?.home()
    }

    fn close(&mut self) -> bool {
        // Only if its pattern takes a closed channel's `None`.
        self.rx.is_some() && !self.disabled && self.offer(None)
    }

    fn release(&mut self) {
        if let Some(value) = self.refused.take() {
            crate::unwind::drop_or_report(value);
        }
    }
}

/// A send arm: `tx <- v`.
#[allow(missing_debug_implementations)]
pub struct SendArm<'a, T> {
    tx: Option<&'a Sender<T>>,
    /// The value, until it is sent.
    value: Option<T>,
    /// Its entry while queued (holding the value).
    entry: Option<Arc<Entry<T>>>,
}

impl<'a, T> SendArm<'a, T> {
    /// A send of `value` on `tx` (`None`: a nil channel).
    pub fn new(tx: Option<&'a Sender<T>>, value: T) -> Self {
        SendArm {
            tx,
            value: Some(value),
            entry: None,
        }
    }

    fn chan(&self) -> Option<&'a Chan<T>> {
        self.tx.map(|tx| &**tx.chan())
    }
}

impl<T> Drop for SendArm<'_, T> {
    /// An unsent value is dropped with the arm; while the goroutine is
    /// unwinding, a panic in its `Drop` is printed instead of aborting.
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            crate::unwind::drop_or_report(value);
        }
    }
}

impl<'a, T> Arm<'a> for SendArm<'a, T> {
    fn lock(&self) -> Option<&'a ChanLock> {
        self.chan().map(Chan::raw_lock)
    }

    fn poll(&mut self, locked: &mut Locked<'_>) -> Poll {
        let (Some(chan), Some(value)) = (self.chan(), self.value.take()) else {
            return Poll::Pending;
        };
        // SAFETY: `Locked` proves the select holds this channel's lock, and
        // no state reference outlives a call.
        match unsafe { chan.try_send_locked(value, &mut locked.wakes) } {
            TrySend::Sent => Poll::Ready,
            // Every receiver gone: never ready, as a Go send nobody takes.
            TrySend::Abandoned(v) | TrySend::Full(v) => {
                self.value = Some(v);
                Poll::Pending
            }
        }
    }

    fn enqueue(&mut self, locked: &Locked<'_>, case: usize) {
        let (Some(chan), Some(sel)) = (self.chan(), &locked.sel) else {
            return;
        };
        let Some(value) = self.value.take() else {
            return;
        };
        // SAFETY: as in `poll`.
        self.entry = Some(unsafe { chan.enqueue_send_locked(Some((sel, case)), value) });
    }

    fn dequeue(&mut self) {
        if let (Some(entry), Some(chan)) = (self.entry.take(), self.chan()) {
            chan.dequeue(&entry);
            // The value was not sent: it is the arm's again (dropped with
            // the arm, outside the wait).
            // SAFETY: this select queued `entry`, and `dequeue` is called
            // once its wait has ended (completed on another arm, or
            // cancelled): no partner can claim it any more.
            self.value = unsafe { entry.take() };
        }
    }

    fn finish(&mut self, _closed: bool) -> bool {
        // Queued send arms complete only by a receiver taking the value.
        self.entry = None;
        true
    }

    fn timers(&self) -> Option<Arc<AtomicUsize>> {
        None
    }

    fn home(&self) -> Option<u64> {
        self.chan()?.home()
    }

    fn close(&mut self) -> bool {
        false
    }

    fn release(&mut self) {}
}

/// Runs a select over `arms`: Go's `select` statement.
///
/// Returns the index of the arm that completed, or `None` when `default` is
/// set and no arm was ready. Among ready arms one is chosen uniformly at
/// random.
#[track_caller]
pub fn select<'a>(arms: &mut [&mut dyn Arm<'a>], default: bool) -> Option<usize> {
    let site = Location::caller();
    loop {
        let (chosen, sel) = {
            let locks = lock_all(arms);
            let mut locked = Locked {
                wakes: Wakes::default(),
                sel: None,
                _locks: PhantomData,
            };
            let ready = poll(arms, &mut locked);
            if ready.is_none() && !default {
                locked.sel = Some(Sel::new(home(arms)));
                // In a random order too (Go enqueues in its lock order,
                // which follows the poll order between arms on one
                // channel): a partner finding two arms of this select on
                // its channel takes either.
                in_random_order(arms.len(), |i| {
                    arms[i].enqueue(&locked, i);
                    false
                });
            }
            let sel = locked.sel.take();
            drop(locks);
            // Wakes the partners it completed, now that the locks are free.
            drop(locked);
            (ready, sel)
        };
        let Some(sel) = sel else {
            release(arms);
            return chosen;
        };
        // What the poll refused is dropped after the wait, not before it:
        // a `Drop` that waits would take the number that the wait record
        // gave this select's wait (see `park::next_wait`).
        let chosen = wait_for_arm(arms, &sel, site);
        release(arms);
        if let Some(i) = chosen {
            return Some(i);
        }
        // The chosen arm's pattern refused its value: that arm is off now;
        // select again over the rest.
    }
}

/// Blocks until a partner completes one of the queued arms; returns its
/// index, or `None` if its pattern refused the value.
fn wait_for_arm<'a>(
    arms: &mut [&mut dyn Arm<'a>],
    sel: &Arc<Sel>,
    site: &'static Location<'static>,
) -> Option<usize> {
    let timers: Vec<_> = arms.iter().filter_map(|arm| arm.timers()).collect();
    // With every arm off (nil channels, refused patterns) nothing is queued
    // and nothing can complete the wait: Go's select over nil channels.
    let over = || sel.done().is_some();
    let home = home(arms);
    let waiting = park::wait_unless(Wait::Select, site, timers, None, home, over);
    park::park_until(&waiting, || sel.done().is_some());
    let done = sel.done().or_else(|| sel.cancel());
    let stop = done.is_none() && waiting.must_stop();
    if done.is_some() {
        waiting.handed_over();
    }
    drop(waiting);
    for (i, arm) in arms.iter_mut().enumerate() {
        if done.is_none_or(|d| d.case != i) {
            arm.dequeue();
        }
    }
    let Some(done) = done else {
        debug_assert!(stop);
        if std::thread::panicking() {
            // In a deferred call while unwinding: a second unwind would
            // abort; a receive arm ends as if closed.
            if let Some(i) = arms.iter_mut().position(|arm| arm.close()) {
                return Some(i);
            }
        }
        // Refused values are dropped here, where a panic in their `Drop`
        // is reported, not while the arms unwind.
        release(arms);
        park::unwind();
    };
    let taken = arms[done.case].finish(done.closed);
    arms[done.case].release();
    taken.then_some(done.case)
}

/// The bubble of a `select!`'s channels (see `park::On`): of the arms
/// whose channel belongs to one bubble only (a timer's), the common one; 0,
/// no bubble's, when they differ (a timer made outside, on real time, makes
/// the select not durable); `None` when no arm's channel is tied to a
/// bubble (the kind of wait decides: durable).
fn home(arms: &[&mut dyn Arm<'_>]) -> Option<u64> {
    arms.iter()
        .filter_map(|arm| arm.home())
        .reduce(|a, b| if a == b { a } else { 0 })
}

/// Takes the locks of every arm's channel, once each, in address order
/// (Go's `sellock`): two selects over the same channels cannot deadlock.
fn lock_all<'a>(arms: &[&mut dyn Arm<'a>]) -> Guards<'a> {
    let address = |m: &&ChanLock| std::ptr::from_ref(*m) as usize;
    if arms.len() <= INLINE {
        // The common case allocates nothing.
        let mut locks: [Option<&'a ChanLock>; INLINE] = [None; INLINE];
        let mut n = 0;
        for lock in arms.iter().filter_map(|arm| arm.lock()) {
            locks[n] = Some(lock);
            n += 1;
        }
        let locks = &mut locks[..n];
        locks.sort_unstable_by_key(|m| m.map_or(0, |m| address(&m)));
        let mut guards: [Option<ChanGuard<'a>>; INLINE] = Default::default();
        let mut last = None;
        for (guard, m) in guards.iter_mut().zip(locks.iter().flatten()) {
            // A channel in two arms is locked once.
            if last != Some(address(m)) {
                *guard = Some(m.lock());
                last = Some(address(m));
            }
        }
        return Guards::Inline(guards);
    }
    let mut locks: Vec<&'a ChanLock> = arms.iter().filter_map(|arm| arm.lock()).collect();
    locks.sort_by_key(address);
    locks.dedup_by_key(|m| address(m));
    Guards::Heap(locks.into_iter().map(ChanLock::lock).collect())
}

/// How many arms a `select!` may have before its locks are kept on the
/// heap.
const INLINE: usize = 8;

/// The guards of a select's channel locks; dropping it unlocks them.
#[allow(dead_code)] // held for its drop
enum Guards<'a> {
    Inline([Option<ChanGuard<'a>>; INLINE]),
    Heap(Vec<ChanGuard<'a>>),
}

/// Drops what the arms' patterns refused, outside every lock.
fn release(arms: &mut [&mut dyn Arm<'_>]) {
    for arm in arms.iter_mut() {
        arm.release();
    }
}

/// Polls every arm once, in a uniformly random order (Go's pollorder), and
/// returns the first that completed.
fn poll(arms: &mut [&mut dyn Arm<'_>], locked: &mut Locked<'_>) -> Option<usize> {
    in_random_order(arms.len(), |i| arms[i].poll(locked) == Poll::Ready)
}

/// Calls `f` on `0..n` in a uniformly random order until it returns true;
/// returns where it did.
fn in_random_order(n: usize, mut ready: impl FnMut(usize) -> bool) -> Option<usize> {
    if n <= 64 {
        // The common case allocates nothing.
        let mut order = [0u8; 64];
        let order = &mut order[..n];
        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i as u8;
        }
        shuffle(order);
        order.iter().map(|&i| usize::from(i)).find(|&i| ready(i))
    } else {
        let mut order: Vec<usize> = (0..n).collect();
        shuffle(&mut order);
        order.into_iter().find(|&i| ready(i))
    }
}

/// Fisher-Yates: every permutation equally likely.
fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, random_below(i + 1));
    }
}

/// A uniformly distributed number in `0..n` (`n < 2^32`), from a per-thread
/// xorshift64* generator seeded by std's random hasher keys.
fn random_below(n: usize) -> usize {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(0u8) | 1);
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
        // Lemire's multiply-shift maps 32 random bits onto 0..n.
        ((r * n as u64) >> 32) as usize
    })
}
