//! What `select!` lowers onto: one arm object per case, polled in a random
//! order, then a blocking crossbeam select when none is ready.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::panic::Location;
use std::time::Duration;

use crossbeam_channel as cb;

use crate::chan::{Flavor, Receiver, Sender};
use crate::detect::{self, Wait};

/// One case of a `select!`: a receive or a send on one channel.
pub trait Arm<'a> {
    /// Performs the operation if it can complete without blocking.
    fn try_complete(&mut self) -> bool;
    /// Registers the operation with a blocking select; false if the arm can
    /// never become ready (a send whose receivers are all gone, a receive
    /// whose pattern refused a value).
    fn register<'s>(&self, sel: &mut cb::Select<'s>) -> bool
    where
        'a: 's;
    /// Completes the operation chosen by the blocking select; false if it
    /// turned out not to be possible after all (receivers gone meanwhile)
    /// or its pattern refused the value received (the arm is then off).
    fn complete(&mut self, op: cb::SelectedOperation<'_>) -> bool;
    /// Whether time alone makes the arm ready (`after`, `tick`), while the
    /// arm is still on.
    fn is_timer(&self) -> bool;
    /// Completes the arm as if its channel were closed, if it is a receive
    /// (for a goroutine that is already unwinding and cannot stop by
    /// unwinding again); false for a send.
    fn close(&mut self) -> bool;
}

/// The operand of a receive arm: anything that is, or refers to, a
/// [`Receiver`].
#[diagnostic::on_unimplemented(
    message = "`<-` in `select!` receives from a `Receiver`, but this is a `{Self}`",
    label = "cannot receive from this",
    note = "a `Sender` is Go's send-only `chan<- T`: receive from the `Receiver` returned by the same `chan()` call"
)]
pub trait RecvOperand {
    /// The type of the values received.
    type Item;
    /// The receiver to use.
    fn receiver(&self) -> &Receiver<Self::Item>;
}

impl<T> RecvOperand for Receiver<T> {
    type Item = T;
    fn receiver(&self) -> &Receiver<T> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<R: RecvOperand + ?Sized> RecvOperand for &R {
    type Item = R::Item;
    fn receiver(&self) -> &Receiver<R::Item> {
        (**self).receiver()
    }
}

#[diagnostic::do_not_recommend]
impl<R: RecvOperand + ?Sized> RecvOperand for &mut R {
    type Item = R::Item;
    fn receiver(&self) -> &Receiver<R::Item> {
        (**self).receiver()
    }
}

/// The channel of a send arm: anything that is, or refers to, a [`Sender`].
#[diagnostic::on_unimplemented(
    message = "`ch <- v` in `select!` sends on a `Sender`, but this is a `{Self}`",
    label = "cannot send on this",
    note = "a `Receiver` is Go's receive-only `<-chan T`: send on the `Sender` returned by the same `chan()` call"
)]
pub trait SendOperand {
    /// The type of the values sent.
    type Item;
    /// The sender to use.
    fn sender(&self) -> &Sender<Self::Item>;
}

impl<T> SendOperand for Sender<T> {
    type Item = T;
    fn sender(&self) -> &Sender<T> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<S: SendOperand + ?Sized> SendOperand for &S {
    type Item = S::Item;
    fn sender(&self) -> &Sender<S::Item> {
        (**self).sender()
    }
}

#[diagnostic::do_not_recommend]
impl<S: SendOperand + ?Sized> SendOperand for &mut S {
    type Item = S::Item;
    fn sender(&self) -> &Sender<S::Item> {
        (**self).sender()
    }
}

/// Checks a send arm's value against its channel's element type, so a
/// mismatch is reported on the value the user wrote.
pub fn send_value<T>(_: &Sender<T>, value: T) -> T {
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
    rx: &'a Receiver<T>,
    /// `Some(received)` once the arm has completed.
    got: Option<Option<T>>,
    accepts: A,
    /// Set once a value was refused: the arm is never ready again.
    disabled: bool,
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
    /// A receive on `rx` that takes every value.
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvArm {
            rx,
            got: None,
            accepts: Always,
            disabled: false,
        }
    }
}

impl<'a, T, F: Fn(&Option<T>) -> bool> RecvArm<'a, T, Matching<F>> {
    /// A receive on `rx` that takes only the values `pattern` accepts.
    pub fn matching(rx: &'a Receiver<T>, pattern: F) -> Self {
        RecvArm {
            rx,
            got: None,
            accepts: Matching(pattern),
            disabled: false,
        }
    }
}

impl<T, A> RecvArm<'_, T, A> {
    /// What the completed receive produced: `None` when the channel was
    /// closed.
    pub fn take(self) -> Option<T> {
        self.got.flatten()
    }
}

impl<'a, T, A: Accept<T>> RecvArm<'a, T, A> {
    /// Keeps `received` if the pattern accepts it; otherwise drops it and
    /// disables the arm. Returns whether the arm completed.
    #[inline(always)]
    fn offer(&mut self, received: Option<T>) -> bool {
        if self.accepts.accepts(&received) {
            self.got = Some(received);
            true
        } else {
            self.disabled = true;
            false
        }
    }
}

impl<'a, T, A: Accept<T>> Arm<'a> for RecvArm<'a, T, A> {
    fn try_complete(&mut self) -> bool {
        if self.disabled {
            return false;
        }
        match self.rx.inner.try_recv() {
            Ok(v) => self.offer(Some(v)),
            Err(cb::TryRecvError::Disconnected) => self.offer(None),
            Err(cb::TryRecvError::Empty) => false,
        }
    }

    fn register<'s>(&self, sel: &mut cb::Select<'s>) -> bool
    where
        'a: 's,
    {
        if self.disabled {
            return false;
        }
        sel.recv(&self.rx.inner);
        true
    }

    fn complete(&mut self, op: cb::SelectedOperation<'_>) -> bool {
        let received = op.recv(&self.rx.inner).ok();
        self.offer(received)
    }

    fn is_timer(&self) -> bool {
        !self.disabled && self.rx.flavor == Flavor::Timer
    }

    fn close(&mut self) -> bool {
        // Only if its pattern takes a closed channel's `None`.
        !self.disabled && self.offer(None)
    }
}

/// A send arm: `tx <- v`.
#[allow(missing_debug_implementations)]
pub struct SendArm<'a, T> {
    tx: &'a Sender<T>,
    /// The value, until it is sent.
    value: Option<T>,
    /// Set once every receiver is known to be gone: the send can never
    /// happen, so the arm is never ready (as a Go send nobody receives).
    disconnected: bool,
}

impl<'a, T> SendArm<'a, T> {
    /// A send of `value` on `tx`.
    pub fn new(tx: &'a Sender<T>, value: T) -> Self {
        SendArm {
            tx,
            value: Some(value),
            disconnected: false,
        }
    }
}

impl<'a, T> Arm<'a> for SendArm<'a, T> {
    fn try_complete(&mut self) -> bool {
        let Some(value) = self.value.take() else {
            return false;
        };
        match self.tx.inner.try_send(value) {
            Ok(()) => true,
            Err(cb::TrySendError::Full(v)) => {
                self.value = Some(v);
                false
            }
            Err(cb::TrySendError::Disconnected(v)) => {
                self.value = Some(v);
                self.disconnected = true;
                false
            }
        }
    }

    fn register<'s>(&self, sel: &mut cb::Select<'s>) -> bool
    where
        'a: 's,
    {
        if self.disconnected {
            return false;
        }
        sel.send(&self.tx.inner);
        true
    }

    fn is_timer(&self) -> bool {
        false
    }

    fn close(&mut self) -> bool {
        false
    }

    fn complete(&mut self, op: cb::SelectedOperation<'_>) -> bool {
        let value = self.value.take().expect("a send arm completes once");
        match op.send(&self.tx.inner, value) {
            Ok(()) => true,
            Err(cb::SendError(v)) => {
                self.value = Some(v);
                self.disconnected = true;
                false
            }
        }
    }
}

/// Runs a select over `arms`: Go's `select` statement.
///
/// Returns the index of the arm that completed, or `None` when `default` is
/// set and no arm was ready. Among ready arms one is chosen uniformly at
/// random: the arms are polled in a random permutation (Go's poll order)
/// and the first ready one wins. Only when none is ready does it block, in
/// crossbeam's select, which also picks randomly among arms that become
/// ready together.
#[track_caller]
pub fn select<'a>(arms: &mut [&mut dyn Arm<'a>], default: bool) -> Option<usize> {
    // Fast path: nothing here touches the deadlock detector.
    if let Some(i) = poll(arms) {
        return Some(i);
    }
    if default {
        return settle(arms);
    }
    Some(select_blocking(arms, Location::caller()))
}

/// With `default`, after a poll that found nothing: Go decides with every
/// channel locked at once. Polling arm by arm can miss a value that moves
/// from one channel to another between two polls, so before choosing
/// `default` this registers with every channel, as a blocking select does,
/// and gives up only if none became ready while all were watched: a value
/// that arrives on any of them during registration selects its arm. This
/// costs a registration per channel each time nothing is ready.
fn settle<'a>(arms: &mut [&mut dyn Arm<'a>]) -> Option<usize> {
    loop {
        let (mut sel, registered) = register(arms);
        if registered.is_empty() {
            return None;
        }
        // A zero timeout still registers (crossbeam's `try_select` does not).
        let op = sel.select_timeout(Duration::ZERO).ok()?;
        let i = registered[op.index()];
        if arms[i].complete(op) {
            return Some(i);
        }
        // A send whose receivers vanished meanwhile: its arm is now off.
    }
}

/// No arm is ready: block in crossbeam's select until one is. The deadlock
/// detector is told, unless an arm is a timer (time alone ends the wait).
/// A timer arm whose pattern refuses its value turns the wait into one the
/// detector is told about.
#[cold]
fn select_blocking<'a>(arms: &mut [&mut dyn Arm<'a>], site: &'static Location<'static>) -> usize {
    if arms.iter().any(|arm| arm.is_timer()) {
        // Time alone will end the wait: not blocked, but still ended by a
        // cancellation.
        let chosen = detect::block(Wait::SelectTimer, site, None, |interrupt| {
            wait_for_arm(arms, interrupt, true)
        });
        if let Some(i) = chosen {
            return i;
        }
        // Every timer arm turned itself off: now only another goroutine can
        // end the wait, and the detector must know.
    }
    detect::block(Wait::Select, site, None, |interrupt| {
        loop {
            if let Some(i) = wait_for_arm(arms, interrupt, false) {
                break i;
            }
        }
    })
}

/// Blocks until an arm completes; returns its index. `interrupt` is ready
/// when this goroutine may have to stop: its scope was cancelled, or it is
/// part of a deadlock in a test (see `detect::block`). A `timed` wait gives
/// up (`None`) once no timer arm is left on.
fn wait_for_arm<'a>(
    arms: &mut [&mut dyn Arm<'a>],
    interrupt: Option<&cb::Receiver<()>>,
    timed: bool,
) -> Option<usize> {
    loop {
        if timed && !arms.iter().any(|arm| arm.is_timer()) {
            return None;
        }
        let (mut sel, registered) = register(arms);
        let interrupt_index = interrupt.map(|interrupt| sel.recv(interrupt));
        if registered.is_empty() && interrupt_index.is_none() {
            // Every arm is off (a send whose receivers are all gone, a
            // receive whose pattern refused a value): nothing can ever be
            // ready, as in a Go select over nil channels.
            block_forever();
        }
        let op = sel.select();
        if let (Some(index), Some(interrupt)) = (interrupt_index, interrupt) {
            if op.index() == index {
                let _ = op.recv(interrupt);
                if detect::aborted() {
                    if std::thread::panicking() {
                        // In a deferred call while unwinding: a second unwind
                        // would abort; a receive arm ends as if closed.
                        if let Some(i) = arms.iter_mut().position(|arm| arm.close()) {
                            return Some(i);
                        }
                    }
                    detect::abort();
                }
                // A stale wake-up: wait again.
                continue;
            }
        }
        let i = registered[op.index()];
        if arms[i].complete(op) {
            return Some(i);
        }
    }
}

/// Tries every arm once without blocking, in a uniformly random order (Go's
/// pollorder), and returns the first that completed.
fn poll(arms: &mut [&mut dyn Arm<'_>]) -> Option<usize> {
    let n = arms.len();
    if n <= 64 {
        // The common case allocates nothing.
        let mut order = [0u8; 64];
        let order = &mut order[..n];
        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i as u8;
        }
        shuffle(order);
        order
            .iter()
            .map(|&i| usize::from(i))
            .find(|&i| arms[i].try_complete())
    } else {
        let mut order: Vec<usize> = (0..n).collect();
        shuffle(&mut order);
        order.into_iter().find(|&i| arms[i].try_complete())
    }
}

/// A crossbeam select over the arms that can still become ready, and the
/// arm index of each of its operations.
fn register<'a, 's>(arms: &[&mut dyn Arm<'a>]) -> (cb::Select<'s>, Vec<usize>)
where
    'a: 's,
{
    let mut sel = cb::Select::new();
    let mut registered = Vec::with_capacity(arms.len());
    for (i, arm) in arms.iter().enumerate() {
        if arm.register(&mut sel) {
            registered.push(i);
        }
    }
    (sel, registered)
}

/// Parks this goroutine for good, as Go does for a select with no arm that
/// could ever become ready.
fn block_forever() -> ! {
    loop {
        std::thread::park();
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
