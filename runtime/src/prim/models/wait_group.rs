//! `WaitGroup` (`sync/wait_group.rs`): every interleaving of add, done,
//! wait and reuse. Under loom its wait runs without the deadlock detector.

use std::panic::{self, AssertUnwindSafe};

use ::loom::cell::UnsafeCell;
use ::loom::sync::Arc;
use ::loom::thread;

use super::model;
use crate::WaitGroup;

const REUSED: &str = "sync: WaitGroup is reused before previous Wait has returned";

/// The waiters `wg`'s `Debug` shows.
fn waiters(wg: &WaitGroup) -> usize {
    let debug = format!("{wg:?}");
    let rest = &debug[debug.find("waiters: ").expect("Debug shows the waiters") + 9..];
    rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap()]
        .parse()
        .unwrap()
}

/// Whether `wait` returned (`true`) or panicked with Go's reuse message
/// (`false`); any other panic fails the model.
fn wait_or_reused(wg: &WaitGroup) -> bool {
    match panic::catch_unwind(AssertUnwindSafe(|| wg.wait())) {
        Ok(()) => true,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            assert_eq!(msg, Some(REUSED));
            false
        }
    }
}

#[test]
fn wait_returns_after_every_done_and_sees_their_writes() {
    model(|| {
        let wg = Arc::new(WaitGroup::new());
        let slots = Arc::new([UnsafeCell::new(0), UnsafeCell::new(0)]);
        wg.add(2);
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (wg, slots) = (Arc::clone(&wg), Arc::clone(&slots));
                thread::spawn(move || {
                    // SAFETY: each worker writes only its own slot; the
                    // waiters read them after `wait` (loom checks that this
                    // read happens after the write).
                    slots[i].with_mut(|p| unsafe { *p = i + 1 });
                    wg.done();
                })
            })
            .collect();
        let other = {
            let (wg, slots) = (Arc::clone(&wg), Arc::clone(&slots));
            thread::spawn(move || {
                wg.wait();
                // SAFETY: as below.
                slots[1].with(|p| assert_eq!(unsafe { *p }, 2));
            })
        };
        wg.wait();
        for (i, slot) in slots.iter().enumerate() {
            // SAFETY: the workers' writes happen before `wait` returns.
            slot.with(|p| assert_eq!(unsafe { *p }, i + 1));
        }
        other.join().unwrap();
        for w in workers {
            w.join().unwrap();
        }
    });
}

#[test]
fn blocked_waiters_are_released_by_their_zero_despite_an_add_right_after() {
    // The race, with two waiters: both are blocked when the count
    // reaches zero and goes up again at once. Each must return or panic
    // with Go's reuse message; one that kept blocking would deadlock the
    // model (nothing brings the count to zero again).
    model(|| {
        let wg = Arc::new(WaitGroup::new());
        wg.add(1);
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let wg = Arc::clone(&wg);
                thread::spawn(move || wait_or_reused(&wg))
            })
            .collect();
        while waiters(&wg) < 2 {
            thread::yield_now();
        }
        wg.done();
        wg.add(1);
        for w in waiting {
            w.join().unwrap();
        }
        wg.done();
    });
}

#[test]
fn a_wait_racing_with_reuse_never_hangs_and_sees_the_work() {
    // A waiter that may start in either of two rounds: it is released (or
    // told of the reuse) by a zero that came after it started, never hangs,
    // and a `wait` that returns normally sees the work done before the
    // first zero.
    model(|| {
        let wg = Arc::new(WaitGroup::new());
        let slot = Arc::new(UnsafeCell::new(0));
        wg.add(1);
        let waiter = {
            let (wg, slot) = (Arc::clone(&wg), Arc::clone(&slot));
            thread::spawn(move || {
                if wait_or_reused(&wg) {
                    // SAFETY: written before the first `done`, which
                    // happens before any zero this wait can return at.
                    slot.with(|p| assert_eq!(unsafe { *p }, 1));
                }
            })
        };
        // SAFETY: the waiter reads only after a zero, which comes after.
        slot.with_mut(|p| unsafe { *p = 1 });
        wg.done();
        wg.add(1);
        wg.done();
        waiter.join().unwrap();
    });
}

#[test]
fn add_done_from_many_threads_never_releases_early() {
    // Adds and dones interleave with a waiter: it returns only when the
    // count is really zero.
    model(|| {
        let wg = Arc::new(WaitGroup::new());
        let finished = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        wg.add(1);
        let helper = {
            let (wg, finished) = (Arc::clone(&wg), Arc::clone(&finished));
            thread::spawn(move || {
                // Adds one for a sub-task before finishing its own.
                wg.add(1);
                wg.done();
                finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                wg.done();
            })
        };
        wg.wait();
        assert_eq!(finished.load(std::sync::atomic::Ordering::Relaxed), 1);
        helper.join().unwrap();
    });
}
