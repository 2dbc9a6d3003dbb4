//! Port of `src/sync/rwmutex_test.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): the contracts `sync.RWMutex` keeps, for
//! goscope's [`goscope::sync::RwLock`].
//!
//! - `TestParallelReaders`: readers share: `n` goroutines all hold the read
//!   lock at once (each waits, holding it, until every one has it).
//! - `TestRWMutex` (`HammerRWMutex`): writers exclude: two writers and `n`
//!   readers hammer one lock, counting readers in and writers in as 10,000;
//!   a reader must never see a writer inside, a writer never anyone else.
//! - `TestRLocker`: a write lock waits for every read lock, and read locks
//!   wait for the write lock. (Go's `RLocker` adapter has no counterpart:
//!   the read guard is the read lock.)
//! - Go's documented rule that a waiting writer keeps new readers out ("If
//!   any goroutine calls Lock while the lock is already held by one or more
//!   readers, concurrent calls to RLock will block until the writer has
//!   acquired (and released) the lock"), so a stream of readers cannot
//!   starve a writer: `writer_is_not_starved`, goscope's own check.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::Instant;

use goscope::prelude::*;
use goscope::sync::RwLock;

fn parallel_reader(
    m: &RwLock<()>,
    clocked: &Sender<bool>,
    cunlock: &Receiver<bool>,
    cdone: &Sender<bool>,
) {
    let g = m.read();
    clocked.send(true).unwrap();
    cunlock.recv();
    drop(g);
    cdone.send(true).unwrap();
}

#[goscope::scoped]
fn do_test_parallel_readers(num_readers: usize) {
    let m = RwLock::new(());
    let (clocked_tx, clocked) = chan(0);
    let (cunlock_tx, cunlock) = chan(0);
    let (cdone_tx, cdone) = chan(0);
    for _ in 0..num_readers {
        go!(parallel_reader(&m, &clocked_tx, &cunlock, &cdone_tx));
    }
    // Wait for all parallel read locks to succeed.
    for _ in 0..num_readers {
        clocked.recv();
    }
    for _ in 0..num_readers {
        cunlock_tx.send(true).unwrap();
    }
    // Wait for the goroutines to finish.
    for _ in 0..num_readers {
        cdone.recv();
    }
}

#[goscope::test]
fn test_parallel_readers() {
    do_test_parallel_readers(1);
    do_test_parallel_readers(3);
    do_test_parallel_readers(4);
}

fn reader(rwm: &RwLock<()>, iterations: usize, activity: &AtomicI32, cdone: &Sender<bool>) {
    for _ in 0..iterations {
        let g = rwm.read();
        let n = activity.fetch_add(1, Ordering::SeqCst) + 1;
        assert!((1..10000).contains(&n), "wlock({n})");
        for _ in 0..100 {
            std::hint::spin_loop();
        }
        activity.fetch_sub(1, Ordering::SeqCst);
        drop(g);
    }
    cdone.send(true).unwrap();
}

fn writer(rwm: &RwLock<()>, iterations: usize, activity: &AtomicI32, cdone: &Sender<bool>) {
    for _ in 0..iterations {
        let g = rwm.write();
        let n = activity.fetch_add(10000, Ordering::SeqCst) + 10000;
        assert_eq!(n, 10000, "wlock({n})");
        for _ in 0..100 {
            std::hint::spin_loop();
        }
        activity.fetch_sub(10000, Ordering::SeqCst);
        drop(g);
    }
    cdone.send(true).unwrap();
}

/// Go's `HammerRWMutex`: a writer, half the readers, another writer, the
/// other half.
#[goscope::scoped]
fn hammer_rw_mutex(num_readers: usize, iterations: usize) {
    // Number of active readers + 10000 * number of active writers.
    let activity = AtomicI32::new(0);
    let rwm = RwLock::new(());
    let (cdone_tx, cdone) = chan(0);
    go!(writer(&rwm, iterations, &activity, &cdone_tx));
    let mut i = 0;
    while i < num_readers / 2 {
        go!(reader(&rwm, iterations, &activity, &cdone_tx));
        i += 1;
    }
    go!(writer(&rwm, iterations, &activity, &cdone_tx));
    while i < num_readers {
        go!(reader(&rwm, iterations, &activity, &cdone_tx));
        i += 1;
    }
    // Wait for the 2 writers and all readers to finish.
    for _ in 0..2 + num_readers {
        cdone.recv();
    }
}

#[goscope::test]
fn test_rw_mutex() {
    // Go varies GOMAXPROCS too; goroutines here are threads on the
    // machine's cores.
    let n = 1000;
    for readers in [1, 3, 10, 5] {
        hammer_rw_mutex(readers, n);
    }
}

#[goscope::test]
fn test_rlocker() {
    let wl = &RwLock::new(());
    let (wlocked_tx, wlocked) = chan(1);
    let (rlocked_tx, rlocked) = chan(1);
    // Go's test takes the read locks and then the write lock in one
    // goroutine, and unlocks the read locks from the other. A guard is
    // released by the goroutine that holds it, so here one goroutine takes
    // the read locks when told and gives each back when told, and another
    // takes the write lock when told: main keeps Go's order of events.
    let (rstart_tx, rstart) = chan::<()>(1);
    let (runlock_tx, runlock) = chan::<()>(0);
    let (wstart_tx, wstart) = chan::<()>(0);
    let (wunlock_tx, wunlock) = chan::<()>(0);
    let n = 10;
    go! {
        for _ in 0..n {
            rstart.recv();
            let first = wl.read();
            let second = wl.read();
            rlocked_tx.send(true).unwrap();
            runlock.recv();
            drop(first);
            runlock.recv();
            drop(second);
        }
    }
    go! {
        for _ in 0..n {
            wstart.recv();
            let w = wl.write();
            wlocked_tx.send(true).unwrap();
            wunlock.recv();
            drop(w);
        }
    }
    rstart_tx.send(()).unwrap();
    for round in 0..n {
        rlocked.recv();
        wstart_tx.send(()).unwrap();
        runlock_tx.send(()).unwrap();
        select! {
            <-wlocked => panic!("RLocker() didn't read-lock it"),
            default => {}
        }
        runlock_tx.send(()).unwrap();
        wlocked.recv();
        if round + 1 < n {
            // The next round's read locks must wait for the write lock.
            rstart_tx.send(()).unwrap();
            select! {
                <-rlocked => panic!("RLocker() didn't respect the write lock"),
                default => {}
            }
        }
        wunlock_tx.send(()).unwrap();
    }
}

#[goscope::test]
fn writer_is_not_starved() {
    // Four readers overlap, each holding the lock 200 µs, so that it is
    // never free of readers; a lock that always lets readers in would keep
    // the writer out for as long as they run.
    let lock = &RwLock::new(0);
    let stop = &AtomicBool::new(false);
    let reads = &AtomicUsize::new(0);
    for _ in 0..4 {
        go! {
            while !stop.load(Ordering::Relaxed) {
                let g = lock.read();
                reads.fetch_add(1, Ordering::Relaxed);
                let until = Instant::now() + Duration::from_micros(200);
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
                drop(g);
            }
        }
    }
    while reads.load(Ordering::Relaxed) < 100 {
        std::thread::yield_now();
    }
    let (done_tx, done) = chan(1);
    go! {
        for i in 1..=10 {
            *lock.write() = i;
        }
        done_tx.send(()).unwrap();
    }
    let result = select! {
        <-done => Ok(()),
        <-after(Duration::from_secs(10)) => Err("a writer waited 10 s behind a stream of readers"),
    };
    stop.store(true, Ordering::Relaxed);
    result.unwrap();
}
