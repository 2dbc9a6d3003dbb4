//! `sync::Mutex` and `sync::RwLock`: Go's locks with Rust's guards, as
//! SPEC.md's "Runtime" section promises them (the `sync` module). Go's own
//! lock tests are ported in `golang/mutex_test.rs` and
//! `golang/rwmutex_test.rs`; the deadlock reports of programs (exit status
//! 2) are checked in `deadlock.rs`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use goscope::RecvTimeoutError;
use goscope::prelude::*;
use goscope::sync::{Mutex, RwLock};
use tests::{BLOCKED, PATIENCE};

#[goscope::test]
fn mutex_excludes_under_contention() {
    // A plain (non-atomic) read-modify-write under the lock, with a yield
    // in the middle: a lost update or two holders at once would show.
    const GOROUTINES: usize = 8;
    const ROUNDS: usize = 2000;
    let counter = Mutex::new(0usize);
    let inside = AtomicBool::new(false);
    let wg = WaitGroup::new();
    // `go! { .. }` moves what it names: share by reference.
    let (counter, inside, wg) = (&counter, &inside, &wg);
    for _ in 0..GOROUTINES {
        wg.add(1);
        go! {
            defer!(wg.done());
            for _ in 0..ROUNDS {
                let mut n = counter.lock();
                assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                let seen = *n;
                std::thread::yield_now();
                *n = seen + 1;
                inside.store(false, Ordering::SeqCst);
            }
        }
    }
    wg.wait();
    assert_eq!(*counter.lock(), GOROUTINES * ROUNDS);
}

#[goscope::test]
fn waiters_of_many_locks_each_get_their_own() {
    // More locks than the wait table has queues (64): locks share queues,
    // and each unlock must wake a waiter of its own lock, never another's.
    const LOCKS: usize = 200;
    let locks: Vec<Mutex<usize>> = (0..LOCKS).map(Mutex::new).collect();
    let (got_tx, got) = chan(LOCKS);
    let mut guards: Vec<_> = locks.iter().map(Mutex::lock).collect();
    let (locks, got_tx) = (&locks, &got_tx);
    for lock in locks {
        go! { got_tx.send(*lock.lock()).unwrap(); }
    }
    // Release them last to first: each release lets exactly its waiter in.
    while let Some(guard) = guards.pop() {
        let i = *guard;
        drop(guard);
        assert_eq!(got.recv_timeout(PATIENCE), Ok(i));
    }
}

#[goscope::test]
fn lock_waits_until_the_guard_is_dropped() {
    let lock = &Mutex::new(Vec::new());
    let (locked_tx, locked) = chan(1);
    let guard = lock.lock();
    go! {
        lock.lock().push("goroutine");
        locked_tx.send(()).unwrap();
    }
    assert_eq!(
        locked.recv_timeout(BLOCKED),
        Err(RecvTimeoutError::Timeout),
        "lock() returned while another guard held the mutex"
    );
    drop(guard);
    assert_eq!(locked.recv_timeout(PATIENCE), Ok(()));
    assert_eq!(*lock.lock(), ["goroutine"]);
}

#[goscope::test]
fn try_lock_fails_only_while_locked() {
    let lock = Mutex::new(1);
    let guard = lock.lock();
    assert!(lock.try_lock().is_none());
    drop(guard);
    let guard = lock.try_lock().expect("an unlocked mutex");
    assert_eq!(*guard, 1);
}

#[goscope::test]
fn a_panic_while_locked_does_not_poison() {
    let lock = Mutex::new(vec![1]);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut v = lock.lock();
        v.push(2);
        panic!("boom");
    }));
    assert!(result.is_err());
    // Unlocked by the unwinding, with what was written, and no `Result`.
    assert_eq!(*lock.lock(), [1, 2]);
    let rw = RwLock::new(0);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        *rw.write() = 7;
        let _r = rw.read();
        panic!("boom");
    }));
    assert!(result.is_err());
    assert_eq!(*rw.write(), 7);
}

#[test]
fn locks_hand_back_their_data() {
    let mut lock = Mutex::new(String::from("a"));
    lock.get_mut().push('b');
    assert_eq!(lock.into_inner(), "ab");
    let mut rw = RwLock::from(vec![1]);
    rw.get_mut().push(2);
    assert_eq!(rw.into_inner(), [1, 2]);
    assert_eq!(*Mutex::<u8>::default().lock(), 0);
    assert_eq!(*RwLock::<u8>::default().read(), 0);
    assert_eq!(*Mutex::from(3).lock(), 3);
}

#[test]
fn debug_shows_the_data_or_that_it_is_locked() {
    let lock = Mutex::new(1);
    assert_eq!(format!("{lock:?}"), "Mutex { data: 1, .. }");
    let guard = lock.lock();
    assert_eq!(format!("{lock:?}"), "Mutex { data: <locked>, .. }");
    assert_eq!(format!("{guard:?} {guard}"), "1 1");
    let rw = RwLock::new("x");
    let read = rw.read();
    assert_eq!(format!("{rw:?}"), "RwLock { data: \"x\", .. }");
    drop(read);
    let write = rw.write();
    assert_eq!(format!("{rw:?}"), "RwLock { data: <locked>, .. }");
    assert_eq!(format!("{write:?} {write}"), "\"x\" x");
}

#[test]
fn locks_work_in_statics() {
    static COUNT: Mutex<u32> = Mutex::new(0);
    static NAMES: RwLock<Vec<&str>> = RwLock::new(Vec::new());
    *COUNT.lock() += 1;
    NAMES.write().push("gopher");
    assert_eq!(*COUNT.lock(), 1);
    assert_eq!(*NAMES.read(), ["gopher"]);
}

#[goscope::test]
fn readers_hold_the_lock_together() {
    const READERS: usize = 4;
    let lock = &RwLock::new(5);
    let (holding_tx, holding) = chan(READERS);
    let (release_tx, release) = chan::<()>(0);
    let (holding_tx, release) = (&holding_tx, &release);
    for _ in 0..READERS {
        go! {
            let value = lock.read();
            holding_tx.send(*value).unwrap();
            // Each keeps its read lock until main closes `release`.
            release.recv();
        }
    }
    // All of them hold a read lock at once.
    for _ in 0..READERS {
        assert_eq!(holding.recv_timeout(PATIENCE), Ok(5));
    }
    assert!(lock.try_write().is_none(), "a writer got in beside readers");
    drop(release_tx);
}

#[goscope::test]
fn a_writer_excludes_readers_and_writers() {
    let lock = &RwLock::new(0);
    let (got_tx, got) = chan(2);
    let write = lock.write();
    let got_tx = &got_tx;
    go! {
        let r = lock.read();
        got_tx.send(("reader", *r)).unwrap();
    }
    go! {
        let mut w = lock.write();
        *w += 10;
        got_tx.send(("writer", *w)).unwrap();
    }
    assert_eq!(
        got.recv_timeout(BLOCKED),
        Err(RecvTimeoutError::Timeout),
        "someone got in beside a writer"
    );
    assert!(lock.try_read().is_none() && lock.try_write().is_none());
    drop(write);
    let mut seen = [
        got.recv_timeout(PATIENCE).unwrap(),
        got.recv_timeout(PATIENCE).unwrap(),
    ];
    seen.sort_unstable();
    // The reader saw the value before or after the second writer, never
    // while it wrote.
    assert!(
        seen == [("reader", 0), ("writer", 10)] || seen == [("reader", 10), ("writer", 10)],
        "{seen:?}"
    );
}

/// Waits (bounded) until a goroutine's `write()` is queued on `lock`: from
/// then on, `try_read` refuses (Go: a waiting writer keeps new readers out).
fn until_a_writer_waits<T>(lock: &RwLock<T>) {
    let deadline = Instant::now() + PATIENCE;
    while lock.try_read().is_some() {
        assert!(Instant::now() < deadline, "the writer never queued");
        std::thread::yield_now();
    }
}

#[goscope::test]
fn a_waiting_writer_keeps_new_readers_out() {
    let lock = &RwLock::new(0);
    let (order_tx, order) = chan(3);
    let order_tx = &order_tx;
    let first = lock.read();
    go! {
        let mut write = lock.write();
        *write = 1;
        // Sent while still writing: the late reader cannot send before it.
        order_tx.send("writer").unwrap();
    }
    until_a_writer_waits(lock);
    go! {
        let value = *lock.read();
        order_tx.send(if value == 1 { "late reader, after the writer" } else { "late reader, first" }).unwrap();
    }
    // Neither can go while the first reader holds on.
    assert_eq!(order.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    drop(first);
    assert_eq!(order.recv_timeout(PATIENCE), Ok("writer"));
    assert_eq!(
        order.recv_timeout(PATIENCE),
        Ok("late reader, after the writer")
    );
}

#[goscope::test]
fn a_stream_of_readers_does_not_starve_a_writer() {
    // Readers overlap so that the lock is never free of them for long; a
    // lock that always lets readers in would keep the writer out forever.
    const READERS: usize = 4;
    let lock = &RwLock::new(0u64);
    let stop = &AtomicBool::new(false);
    let reads = &AtomicUsize::new(0);
    for _ in 0..READERS {
        go! {
            while !stop.load(Ordering::Relaxed) {
                let r = lock.read();
                reads.fetch_add(1, Ordering::Relaxed);
                // Hold it a little, overlapping the other readers.
                let until = Instant::now() + Duration::from_micros(200);
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
                drop(r);
            }
        }
    }
    // Let the readers get going.
    let deadline = Instant::now() + PATIENCE;
    while reads.load(Ordering::Relaxed) < 100 {
        assert!(Instant::now() < deadline, "the readers never ran");
        std::thread::yield_now();
    }
    let (wrote_tx, wrote) = chan(1);
    go! {
        for i in 1..=10 {
            *lock.write() = i;
        }
        wrote_tx.send(()).unwrap();
    }
    let result = wrote.recv_timeout(PATIENCE);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(result, Ok(()), "the writer was starved by the readers");
    assert_eq!(*lock.read(), 10);
}

#[goscope::test]
#[should_panic(expected = "[sync.Mutex.Lock]:\n\ttests/tests/sync.rs:")]
fn locking_a_held_mutex_again_is_a_reported_deadlock() {
    let lock = Mutex::new(0);
    let _first = lock.lock();
    let _second = lock.lock();
}

#[goscope::test]
#[should_panic(expected = "[sync.RWMutex.Lock]:\n\ttests/tests/sync.rs:")]
fn writing_under_a_read_lock_is_a_reported_deadlock() {
    let lock = RwLock::new(0);
    let _read = lock.read();
    let _write = lock.write();
}

#[goscope::test]
#[should_panic(expected = "[sync.RWMutex.RLock]:\n\ttests/tests/sync.rs:")]
fn reading_under_a_write_lock_is_a_reported_deadlock() {
    let lock = RwLock::new(0);
    let _write = lock.write();
    let _read = lock.read();
}

#[goscope::test]
#[should_panic(expected = "[sync.Mutex.Lock]")]
fn goroutines_waiting_for_a_lock_are_ended_with_a_deadlocked_test() {
    // Main holds the lock and waits on a channel nobody feeds; the
    // goroutines queued on the lock are ended, each leaving the queue
    // (or passing the lock on) as it unwinds, so the test ends.
    let lock = &Mutex::new(0);
    let rw = &RwLock::new(0);
    let (_tx, rx) = chan::<()>(0);
    let _held = lock.lock();
    let _read = rw.read();
    for _ in 0..3 {
        go! { *lock.lock() += 1; }
    }
    go! { *rw.write() += 1; }
    rx.recv();
}

#[test]
fn locks_are_no_bigger_than_std_locks() {
    // The waiters live in a shared table, not in the lock.
    use std::mem::size_of;
    assert_eq!(size_of::<Mutex<()>>(), 4);
    assert!(size_of::<Mutex<u64>>() <= size_of::<std::sync::Mutex<u64>>());
    assert!(size_of::<RwLock<u64>>() <= size_of::<std::sync::RwLock<u64>>());
}
