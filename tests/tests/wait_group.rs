//! `WaitGroup`: Go's `sync.WaitGroup`, as SPEC.md's "Runtime" section
//! promises it.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use goscope::RecvTimeoutError;
use goscope::prelude::*;
use tests::{BLOCKED, PATIENCE, panic_message};

fn worker(id: usize, wg: &WaitGroup, seen: &Mutex<Vec<usize>>) {
    defer!(wg.done());
    seen.lock().unwrap().push(id);
}

#[goscope::test]
fn wait_returns_once_every_worker_is_done() {
    // SPEC's example: goroutines borrow the WaitGroup (a local of the
    // top-level block) and `wait` returns once all of them are done.
    let seen = Mutex::new(Vec::new());
    let wg = WaitGroup::new();
    for i in 1..=3 {
        wg.add(1);
        go!(worker(i, &wg, &seen));
    }
    wg.wait();
    // Checked before the scope joins: `wait` itself waited for all three.
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    assert_eq!(seen, [1, 2, 3]);
}

#[goscope::test]
fn wait_blocks_while_the_count_is_positive() {
    let wg = WaitGroup::new();
    wg.add(2);
    let (returned_tx, returned) = chan(1);
    let wg = &wg; // `go! { .. }` moves what it names: give it a reference
    go! {
        wg.wait();
        returned_tx.send(()).unwrap();
    }
    // Bounded wait: the count is 2, so `wait` must not have returned.
    assert_eq!(
        returned.recv_timeout(BLOCKED),
        Err(RecvTimeoutError::Timeout)
    );
    wg.done();
    // Still 1.
    assert_eq!(
        returned.recv_timeout(BLOCKED),
        Err(RecvTimeoutError::Timeout)
    );
    wg.done();
    assert_eq!(returned.recv_timeout(PATIENCE), Ok(()));
}

#[goscope::test]
fn every_waiter_is_released() {
    let wg = WaitGroup::new();
    wg.add(1);
    let released = AtomicUsize::new(0);
    let done = WaitGroup::new();
    for _ in 0..4 {
        done.add(1);
        go!(|| {
            defer!(done.done());
            wg.wait();
            released.fetch_add(1, Ordering::SeqCst);
        });
    }
    wg.done();
    done.wait();
    assert_eq!(released.load(Ordering::SeqCst), 4);
}

#[test]
fn wait_with_a_zero_count_returns_at_once() {
    let (returned_tx, returned) = chan(1);
    // Run it on a detached goroutine so that a hang fails the test (bounded
    // wait) instead of hanging it.
    go!(move || {
        WaitGroup::new().wait();
        let wg = WaitGroup::default();
        wg.add(3);
        wg.add(-3);
        wg.wait();
        returned_tx.send(())
    });
    assert_eq!(returned.recv_timeout(PATIENCE), Ok(()));
}

fn negative_counter_panic(f: impl FnOnce()) -> String {
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("the counter went negative");
    panic_message(&*payload).to_owned()
}

#[test]
fn done_below_zero_panics_with_gos_message() {
    let wg = WaitGroup::new();
    let msg = negative_counter_panic(|| wg.done());
    assert_eq!(msg, "sync: negative WaitGroup counter");
}

#[test]
fn add_below_zero_panics_with_gos_message() {
    let wg = WaitGroup::new();
    wg.add(1);
    let msg = negative_counter_panic(|| wg.add(-2));
    assert_eq!(msg, "sync: negative WaitGroup counter");
}

#[goscope::test]
fn reusable_once_wait_has_returned() {
    let wg = WaitGroup::new();
    let rounds = AtomicUsize::new(0);
    for round in 1..=3 {
        for _ in 0..round {
            wg.add(1);
            go!(|| {
                defer!(wg.done());
                rounds.fetch_add(1, Ordering::SeqCst);
            });
        }
        wg.wait();
        assert_eq!(rounds.load(Ordering::SeqCst), round * (round + 1) / 2);
    }
}

#[test]
fn go_adds_runs_detached_and_calls_done() {
    let wg = WaitGroup::new();
    let (tx, rx) = chan(10);
    for i in 0..10 {
        let tx = tx.clone();
        // `f` is `Send + 'static`: it owns its sender. Result outcomes work.
        wg.go(move || tx.send(i));
    }
    drop(tx);
    wg.wait();
    // Every `f` has returned: all ten values are in the buffer already.
    assert_eq!(rx.len(), 10);
    let mut got: Vec<i32> = rx.iter().collect();
    got.sort_unstable();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

#[test]
fn go_counts_until_f_returns() {
    let wg = WaitGroup::new();
    let (gate_tx, gate) = chan::<()>(0);
    wg.go(move || {
        gate.recv();
    });
    let (returned_tx, returned) = chan(1);
    std::thread::scope(|s| {
        s.spawn(|| {
            wg.wait();
            returned_tx.send(()).unwrap();
        });
        // Bounded wait: `f` is blocked on the gate, so the group is not done.
        assert_eq!(
            returned.recv_timeout(BLOCKED),
            Err(RecvTimeoutError::Timeout)
        );
        gate_tx.send(()).unwrap();
        assert_eq!(returned.recv_timeout(PATIENCE), Ok(()));
    });
}

/// Blocks until `wg` has a goroutine blocked in `wait` (its `Debug` shows
/// the waiters), so that the next zero is the one that waiter waits for.
fn until_one_waits(wg: &WaitGroup) {
    while !format!("{wg:?}").contains("waiters: 1") {
        std::thread::yield_now();
    }
}

#[test]
fn a_waiter_is_released_by_its_zero_even_if_add_follows_at_once() {
    // The race: `add` again right after the count reached zero,
    // before the blocked waiter woke. Go releases the waiter or panics with
    // its reuse message; it must never miss the zero and keep blocking. A
    // round with the old implementation lost the zero ~9 times in 200.
    const REUSED: &str = "sync: WaitGroup is reused before previous Wait has returned";
    let (mut released, mut reused) = (0, 0);
    for round in 0..300 {
        let wg = WaitGroup::new();
        wg.add(1);
        let (outcome_tx, outcome) = chan(1);
        std::thread::scope(|s| {
            s.spawn(|| {
                let waited = panic::catch_unwind(AssertUnwindSafe(|| wg.wait()));
                let waited = waited.map_err(|p| panic_message(&*p).to_owned());
                outcome_tx.send(waited).unwrap();
            });
            until_one_waits(&wg);
            wg.done();
            wg.add(1); // the next round, before the waiter has returned
            // Bounded: a waiter that missed its zero blocks until the next.
            let waited = outcome.recv_timeout(PATIENCE);
            wg.done(); // frees a stuck waiter, so the thread scope ends
            match waited {
                Ok(Ok(())) => released += 1,
                Ok(Err(msg)) if msg == REUSED => reused += 1,
                Ok(Err(msg)) => panic!("round {round}: wait panicked with {msg:?}"),
                Err(_) => panic!(
                    "round {round}: the waiter missed the zero it was waiting for \
                     and kept blocking"
                ),
            }
        });
    }
    assert_eq!(released + reused, 300);
    println!("{released} waiters released, {reused} told of the reuse");
}

#[test]
fn a_wait_that_starts_after_the_next_add_waits_for_the_next_zero() {
    // The other side of the generations: a waiter of the new round is not
    // released by the old round's zero.
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    wg.add(1);
    let (returned_tx, returned) = chan(1);
    std::thread::scope(|s| {
        s.spawn(|| {
            wg.wait();
            returned_tx.send(()).unwrap();
        });
        until_one_waits(&wg);
        assert_eq!(
            returned.recv_timeout(BLOCKED),
            Err(RecvTimeoutError::Timeout)
        );
        wg.done();
        assert_eq!(returned.recv_timeout(PATIENCE), Ok(()));
    });
}

#[test]
fn a_count_above_isize_max_panics_with_a_clear_message() {
    // Was an arithmetic-overflow panic in debug builds and a wrap into a
    // misleading "negative WaitGroup counter" in release builds: this test
    // asserts the same in both.
    let wg = WaitGroup::new();
    wg.add(isize::MAX);
    let payload = panic::catch_unwind(AssertUnwindSafe(|| wg.add(1))).expect_err("overflow");
    assert_eq!(panic_message(&*payload), "sync: WaitGroup counter overflow");
    // The count was left unchanged: it comes back to zero from isize::MAX.
    wg.add(-isize::MAX);
    wg.wait();
    assert!(format!("{wg:?}").contains("count: 0"), "{wg:?}");
}
