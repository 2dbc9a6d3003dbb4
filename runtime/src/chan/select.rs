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
    /// never become ready (a send whose receivers are all gone).
    fn register<'s>(&self, sel: &mut cb::Select<'s>) -> bool
    where
        'a: 's;
    /// Completes the operation chosen by the blocking select; false if it
    /// turned out not to be possible after all (receivers gone meanwhile).
    fn complete(&mut self, op: cb::SelectedOperation<'_>) -> bool;
    /// Whether time alone makes the arm ready (`after`, `tick`).
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

/// A receive arm: `v = <-rx` or `<-rx`.
#[allow(missing_debug_implementations)]
pub struct RecvArm<'a, T> {
    rx: &'a Receiver<T>,
    /// `Some(received)` once the arm has completed.
    got: Option<Option<T>>,
}

impl<'a, T> RecvArm<'a, T> {
    /// A receive on `rx`.
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvArm { rx, got: None }
    }

    /// What the completed receive produced: `None` when the channel was
    /// closed.
    pub fn take(self) -> Option<T> {
        self.got.flatten()
    }
}

impl<'a, T> Arm<'a> for RecvArm<'a, T> {
    fn try_complete(&mut self) -> bool {
        match self.rx.inner.try_recv() {
            Ok(v) => self.got = Some(Some(v)),
            Err(cb::TryRecvError::Disconnected) => self.got = Some(None),
            Err(cb::TryRecvError::Empty) => return false,
        }
        true
    }

    fn register<'s>(&self, sel: &mut cb::Select<'s>) -> bool
    where
        'a: 's,
    {
        sel.recv(&self.rx.inner);
        true
    }

    fn complete(&mut self, op: cb::SelectedOperation<'_>) -> bool {
        self.got = Some(op.recv(&self.rx.inner).ok());
        true
    }

    fn is_timer(&self) -> bool {
        self.rx.flavor == Flavor::Timer
    }

    fn close(&mut self) -> bool {
        self.got = Some(None);
        true
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
#[cold]
fn select_blocking<'a>(arms: &mut [&mut dyn Arm<'a>], site: &'static Location<'static>) -> usize {
    // A timer arm means time alone will end the wait: not blocked, but
    // still ended by a cancellation.
    let what = if arms.iter().any(|arm| arm.is_timer()) {
        Wait::SelectTimer
    } else {
        Wait::Select
    };
    detect::block(what, site, None, |interrupt| wait_for_arm(arms, interrupt))
}

/// Blocks until an arm completes; returns its index. `interrupt` is ready
/// when this goroutine may have to stop: its scope was cancelled, or it is
/// part of a deadlock in a test (see `detect::block`).
fn wait_for_arm<'a>(arms: &mut [&mut dyn Arm<'a>], interrupt: Option<&cb::Receiver<()>>) -> usize {
    loop {
        let (mut sel, registered) = register(arms);
        let interrupt_index = interrupt.map(|interrupt| sel.recv(interrupt));
        if registered.is_empty() && interrupt_index.is_none() {
            // Every arm is a send whose receivers are all gone: nothing can
            // ever be ready (as a Go select whose sends nobody receives).
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
                            return i;
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
            return i;
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
