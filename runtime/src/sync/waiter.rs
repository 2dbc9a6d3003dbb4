//! A goroutine waiting in the queue of a [`Mutex`](super::Mutex) or
//! [`RwLock`](super::RwLock).
//!
//! Each lock keeps its waiters in a queue under a small `std` mutex; a
//! waiter sleeps with [`std::thread::park`] until the lock's owner wakes it
//! (and possibly hands it the lock), or until the deadlock detector pokes it
//! through its [`Interrupt`] to end it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::sched::park::{self, Interrupt};

/// How long a waiter may be passed over by goroutines that grab the lock
/// first before the lock is handed to it directly: Go's
/// `starvationThresholdNs` (1 ms).
pub(super) const STARVATION: Duration = Duration::from_millis(1);

/// Still waiting.
const WAITING: u8 = 0;
/// Woken to try again: the lock was released, but not given to it.
const WOKEN: u8 = 1;
/// The lock was handed over: the waiter owns it now.
const GRANTED: u8 = 2;

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wake {
    /// Try to take the lock again.
    Retry,
    /// The lock is ours.
    Granted,
    /// The detector ended this goroutine; the caller leaves the queue (or
    /// gives back what it was handed) and unwinds.
    Aborted,
}

#[derive(Debug)]
pub(super) struct Waiter {
    thread: Thread,
    state: AtomicU8,
    /// When it started to wait, for [`STARVATION`].
    since: Instant,
}

impl Waiter {
    pub(super) fn new() -> Arc<Waiter> {
        Arc::new(Waiter {
            thread: thread::current(),
            state: AtomicU8::new(WAITING),
            since: Instant::now(),
        })
    }

    /// Whether it has waited long enough that the lock must be handed to it.
    pub(super) fn starving(&self) -> bool {
        self.since.elapsed() >= STARVATION
    }

    /// Makes it wait again; called under the lock's queue mutex, before the
    /// waiter is queued again.
    pub(super) fn rearm(&self) {
        self.state.store(WAITING, Ordering::Relaxed);
    }

    /// Wakes it to try again. Called under the queue mutex, once it has been
    /// taken out of the queue.
    pub(super) fn wake(&self) {
        self.state.store(WOKEN, Ordering::Release);
        self.thread.unpark();
    }

    /// Wakes it as the lock's new owner. Called under the queue mutex, once
    /// it has been taken out of the queue.
    pub(super) fn grant(&self) {
        self.state.store(GRANTED, Ordering::Release);
        self.thread.unpark();
    }

    /// Whether it was handed the lock (read under the queue mutex by a
    /// waiter that is leaving).
    pub(super) fn granted(&self) -> bool {
        self.state.load(Ordering::Acquire) == GRANTED
    }

    /// Sleeps until woken. `abortable`: the goroutine may be ended by the
    /// detector (or cancelled); then every wake-up checks for that.
    pub(super) fn park(&self, abortable: bool) -> Wake {
        loop {
            // Aborted first: a goroutine ended by the detector must not go
            // on with a lock that another ended goroutine handed it while
            // unwinding (the caller gives it back).
            if abortable && park::interrupted() {
                return Wake::Aborted;
            }
            match self.state.load(Ordering::Acquire) {
                WOKEN => return Wake::Retry,
                GRANTED => return Wake::Granted,
                _ => {}
            }
            // Wake-ups may be spurious (or meant for a channel operation
            // this thread did earlier): the loop checks the state again.
            thread::park();
        }
    }
}

impl Interrupt for Waiter {
    fn interrupt(&self) {
        self.thread.unpark();
    }
}

/// What a queued goroutine waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A [`Mutex`](super::Mutex).
    Lock,
    /// An [`RwLock`](super::RwLock), for reading.
    Read,
    /// An [`RwLock`](super::RwLock), for writing.
    Write,
}

#[derive(Debug)]
struct Entry {
    key: usize,
    kind: Kind,
    waiter: Arc<Waiter>,
}

/// How many queues the table has: locks hash into them by address.
const BUCKETS: usize = 64;

/// The wait queues of every lock, keyed by the lock's address (as
/// `parking_lot` does), so that a lock holds only its state word and its
/// data, as `std`'s does. A lock's address is stable while anyone waits
/// for it: waiters borrow it.
static TABLE: [std::sync::Mutex<Vec<Entry>>; BUCKETS] =
    [const { std::sync::Mutex::new(Vec::new()) }; BUCKETS];

/// The queue of the lock at `key`, locked: the lock's slow paths run under
/// it, which orders their changes of the lock's waiting bits against
/// queueing.
pub(super) fn queue(key: usize) -> Queue {
    // Fibonacci hashing of the address: locks side by side in a `Vec` land
    // in different buckets.
    let bucket = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
    Queue {
        entries: crate::lock(&TABLE[bucket as usize]),
        key,
    }
}

/// One lock's waiters, in the order they queued (see [`queue`]).
pub(super) struct Queue {
    entries: std::sync::MutexGuard<'static, Vec<Entry>>,
    key: usize,
}

impl Queue {
    fn mine(&self, kind: Kind) -> impl Iterator<Item = (usize, &Entry)> {
        let key = self.key;
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.key == key && e.kind == kind)
    }

    pub(super) fn push_back(&mut self, kind: Kind, waiter: &Arc<Waiter>) {
        self.entries.push(Entry {
            key: self.key,
            kind,
            waiter: Arc::clone(waiter),
        });
    }

    /// Queues `waiter` ahead of the others of its kind.
    pub(super) fn push_front(&mut self, kind: Kind, waiter: &Arc<Waiter>) {
        let at = self
            .mine(kind)
            .next()
            .map_or(self.entries.len(), |(i, _)| i);
        let entry = Entry {
            key: self.key,
            kind,
            waiter: Arc::clone(waiter),
        };
        self.entries.insert(at, entry);
    }

    pub(super) fn front(&self, kind: Kind) -> Option<&Arc<Waiter>> {
        self.mine(kind).next().map(|(_, e)| &e.waiter)
    }

    pub(super) fn pop_front(&mut self, kind: Kind) -> Option<Arc<Waiter>> {
        let i = self.mine(kind).next()?.0;
        Some(self.entries.remove(i).waiter)
    }

    pub(super) fn len(&self, kind: Kind) -> usize {
        self.mine(kind).count()
    }

    pub(super) fn is_empty(&self, kind: Kind) -> bool {
        self.mine(kind).next().is_none()
    }

    /// Takes every waiter of `kind` out, in order.
    pub(super) fn drain(&mut self, kind: Kind) -> Vec<Arc<Waiter>> {
        let key = self.key;
        let mut taken = Vec::new();
        self.entries.retain(|e| {
            let mine = e.key == key && e.kind == kind;
            if mine {
                taken.push(Arc::clone(&e.waiter));
            }
            !mine
        });
        taken
    }

    /// Takes `waiter` out if it is still queued; whether it was.
    pub(super) fn remove(&mut self, waiter: &Arc<Waiter>) -> bool {
        let found = self
            .entries
            .iter()
            .position(|e| Arc::ptr_eq(&e.waiter, waiter));
        found.map(|i| self.entries.remove(i)).is_some()
    }
}
