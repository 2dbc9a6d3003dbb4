//! Port of `src/sync/mutex_test.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): the contracts `sync.Mutex` keeps under
//! contention, for goscope's [`goscope::sync::Mutex`].
//!
//! - `TestMutex`: ten goroutines lock and unlock one mutex 1000 times each;
//!   the port also checks that no two hold it at once and that no update
//!   made under it is lost.
//! - `TestMutexFairness`: a goroutine that relocks at once, holding the lock
//!   100 µs at a time, must not keep another from taking it 10 times within
//!   10 s (Go's starvation mode).
//! - `TestMutexMisuse` (unlocking an unlocked mutex is a fatal error in Go)
//!   has no port: the only way to unlock is to drop the guard that `lock`
//!   returned, so the misuse does not compile.
//! - `TestSemaphore` tests the runtime's internal semaphore: goscope has
//!   none to test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use goscope::prelude::*;
use goscope::sync::Mutex;

/// Go's `HammerMutex`: `loops` lock/unlock pairs, then a signal on `done`.
fn hammer_mutex(m: &Mutex<u64>, inside: &AtomicBool, loops: usize, done: &Sender<bool>) {
    for _ in 0..loops {
        let mut n = m.lock();
        assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
        *n += 1;
        inside.store(false, Ordering::SeqCst);
    }
    done.send(true).unwrap();
}

#[goscope::test]
fn test_mutex() {
    let m = Mutex::new(0u64);
    let inside = AtomicBool::new(false);
    let (c_tx, c) = chan(0);
    for _ in 0..10 {
        go!(hammer_mutex(&m, &inside, 1000, &c_tx));
    }
    for _ in 0..10 {
        c.recv();
    }
    assert_eq!(*m.lock(), 10 * 1000);
}

/// Spins for `d` without giving up the thread: Go's `time.Sleep(100 *
/// time.Microsecond)` inside the lock, where a real sleep would hand the
/// waiter the CPU and so test less.
fn busy(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[goscope::test]
fn test_mutex_fairness() {
    let mu = &Mutex::new(());
    let (stop_tx, stop) = chan::<()>(0);
    go! {
        loop {
            let g = mu.lock();
            busy(Duration::from_micros(100));
            drop(g);
            select! {
                <-stop => return,
                default => {}
            }
        }
    }
    let (done_tx, done) = chan(1);
    go! {
        for _ in 0..10 {
            sleep(Duration::from_micros(100));
            drop(mu.lock());
        }
        done_tx.send(true).unwrap();
    }
    select! {
        <-done => {}
        <-after(Duration::from_secs(10)) => panic!("can't acquire Mutex in 10 seconds"),
    }
    drop(stop_tx);
}
