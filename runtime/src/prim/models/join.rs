//! A scope's count and join (`sched/join.rs`): the owner's wait returns
//! only after every goroutine finished, and keeps exactly one panic.

use std::sync::atomic::Ordering;

use ::loom::sync::Arc;
use ::loom::thread;

use super::model;
use crate::prim::AtomicUsize;
use crate::sched::join::{Join, message};

/// Spawn two goroutines, each finishing once (one after a panic); the
/// owner's wait returns only after both have finished, and sees the
/// panic.
#[test]
fn join_waits_for_every_goroutine_and_keeps_the_panic() {
    model(|| {
        let join = Arc::new(Join::new());
        let done = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for i in 0..2 {
            join.spawned();
            let join = Arc::clone(&join);
            let done = Arc::clone(&done);
            handles.push(thread::spawn(move || {
                if i == 0 {
                    join.record_panic(Box::new("boom"), 2);
                }
                done.fetch_add(1, Ordering::Relaxed);
                join.finished();
            }));
        }
        join.wait();
        // Everything the goroutines did is visible.
        assert_eq!(done.load(Ordering::Relaxed), 2);
        let payload = join.take_panic().expect("the panic was kept");
        assert_eq!(message(&*payload), Some("boom"));
        for h in handles {
            h.join().unwrap();
        }
    });
}

/// Two goroutines panic at once: exactly one payload is kept, whichever
/// came first, and the owner gets it after the join.
#[test]
fn two_panics_keep_exactly_one() {
    model(|| {
        let join = Arc::new(Join::new());
        let mut handles = Vec::new();
        for name in ["first", "second"] {
            join.spawned();
            let join = Arc::clone(&join);
            handles.push(thread::spawn(move || {
                join.record_panic(Box::new(name), 2);
                join.finished();
            }));
        }
        join.wait();
        let payload = join.take_panic().expect("a panic was kept");
        assert!(matches!(message(&*payload), Some("first" | "second")));
        assert!(join.take_panic().is_none());
        for h in handles {
            h.join().unwrap();
        }
    });
}

/// A real panic is kept over the runtime's own unwinding, in either
/// order.
#[test]
fn a_real_panic_wins_over_a_runtime_unwind() {
    model(|| {
        let join = Arc::new(Join::new());
        join.spawned();
        join.spawned();
        let j = Arc::clone(&join);
        let h = thread::spawn(move || {
            j.record_panic(Box::new(crate::sched::park::Deadlocked), 3);
            j.finished();
        });
        join.record_panic(Box::new("real"), 2);
        join.finished();
        join.wait();
        let payload = join.take_panic().expect("a panic was kept");
        assert_eq!(message(&*payload), Some("real"));
        h.join().unwrap();
    });
}
