//! Port of `test/chan/goroutines.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): 10,000 goroutines chained by unbuffered
//! channels, each doing `left <- <-right`; a 1 sent into the rightmost must
//! arrive at the leftmost, and everything tears down cleanly.
//!
//! goscope's goroutines are OS threads, so this is 10,000 live threads. The
//! test's scope joins all of them before it returns: the clean teardown.

use goscope::prelude::*;

const N: usize = 10_000;

/// One link: passes one value from `right` to `left`.
fn f(left: Sender<i32>, right: Receiver<i32>) {
    left.send(right.recv().unwrap()).unwrap();
}

#[goscope::test]
fn ten_thousand_chained_goroutines() {
    let (mut left, leftmost) = chan(0);
    for _ in 0..N {
        let (right_tx, right) = chan(0);
        go!(f(left, right));
        left = right_tx;
    }
    // All N links are alive, each blocked on its `right`. Other tests of
    // this binary may run goroutines too, so the count is a lower bound.
    let live = goscope::num_goroutine();
    assert!(live > N, "{live} goroutines live, want more than {N}");
    go!(move || left.send(1));
    assert_eq!(leftmost.recv(), Some(1));
}
