//! Port of `test/chan/select6.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): Go issue 2075. A `select` case that loses
//! must not corrupt the wait queue of the other waiters on its channel:
//! here `c1` has two waiters, a plain receive and a `select` that is won by
//! `c2`; that goroutine then waits on `c1` again, and both sends on `c1`
//! must find a receiver.
//!
//! Go's program hangs (and its test driver times out) if the queue is
//! corrupted. The port bounds the two sends on `c1` instead, and on failure
//! closes every channel before failing, so the goroutines end and the test
//! reports the bug rather than hanging.

use goscope::prelude::*;

use tests::PATIENCE;

#[goscope::test]
fn losing_case_does_not_corrupt_the_wait_queue() {
    let (c1_tx, c1) = chan::<bool>(0);
    let (c2_tx, c2) = chan::<bool>(0);
    let (c3_tx, c3) = chan::<bool>(0);
    go!(|| {
        c1.recv();
    });
    go!(|| {
        select! {
            <-c1 => panic!("dummy"),
            <-c2 => c3_tx.send(true).unwrap(),
        }
        c1.recv();
    });
    go!(move || c2_tx.send(true));
    c3.recv();
    let first = c1_tx.send_timeout(true, PATIENCE);
    let second = c1_tx.send_timeout(true, PATIENCE);
    // Unblocks whoever still waits on `c1` if a send failed.
    drop(c1_tx);
    assert!(first.is_ok(), "the first waiter on c1 never woke");
    assert!(second.is_ok(), "the second waiter on c1 never woke");
}
