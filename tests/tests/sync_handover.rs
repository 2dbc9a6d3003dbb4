//! Go's starvation mode for `goscope::sync::Mutex`, in a test binary of its
//! own: it is about time (a 1 ms threshold, a 200 ms wait), and the busy
//! reader and writer tests of `sync.rs` running beside it on two cores can
//! keep its waiter from queueing in time.

use std::time::{Duration, Instant};

use goscope::prelude::*;
use goscope::sync::Mutex;

/// How long a wait that must end may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

#[goscope::test]
fn a_waiter_past_a_millisecond_is_handed_the_mutex() {
    // Go's starvation mode: a waiter that has waited over 1 ms gets the
    // lock from the unlock itself, so a goroutine that unlocks and relocks
    // at once (here: `try_lock` right after the unlock) cannot win it
    // again. The waits are about time (the 1 ms threshold): the goroutine is
    // given 500 ms to queue up. On a loaded machine it may not have been
    // scheduled by then (the test binary before this one may have just torn
    // down tens of thousands of threads: a load average over 1,000 was
    // seen), so the round is tried up to twenty times, until one hands
    // over; a lock without the hand-over lets the relock win nearly always
    // (the waiter must first wake up), so it fails all twenty.
    let handed_over = (0..20).any(|_| waiter_gets_the_lock_from_the_unlock());
    assert!(
        handed_over,
        "the holder relocked past a waiter that had waited 500 ms, twenty times"
    );
}

#[goscope::scoped]
fn waiter_gets_the_lock_from_the_unlock() -> bool {
    let lock = &Mutex::new(Vec::new());
    let (locking_tx, locking) = chan(1);
    let mut held = lock.lock();
    go! {
        locking_tx.send(()).unwrap();
        lock.lock().push("waiter");
    }
    locking.recv().unwrap();
    sleep(Duration::from_millis(500));
    held.push("holder");
    drop(held);
    let relocked = lock.try_lock().map(|mut again| again.push("relock"));
    let deadline = Instant::now() + PATIENCE;
    while lock.lock().len() < 2 + usize::from(relocked.is_some()) {
        assert!(Instant::now() < deadline, "the waiter never got the lock");
        std::thread::yield_now();
    }
    relocked.is_none() && *lock.lock() == ["holder", "waiter"]
}
