//! Port of `test/chan/fifo.go` from golang/go (BSD-style licence, Copyright
//! The Go Authors): channels deliver in FIFO order. A buffered channel
//! returns its values in the order sent; and a daisy chain of goroutines,
//! each waiting for its predecessor's signal before it receives from a
//! shared unbuffered channel, receives the values in the order sent.

use goscope::prelude::*;

const N: i32 = 10;

#[goscope::test]
fn asynch_fifo() {
    let (tx, rx) = chan(N as usize);
    for i in 0..N {
        tx.send(i).unwrap();
    }
    for i in 0..N {
        assert_eq!(rx.recv(), Some(i), "bad receive");
    }
}

/// Link `val` of the chain: waits for the previous link, takes the next
/// value from `ch`, which must be `val`, then signals the next link.
fn chain(ch: &Receiver<i32>, val: i32, input: Receiver<i32>, out: Sender<i32>) {
    input.recv();
    assert_eq!(ch.recv(), Some(val), "link {val} received out of order");
    out.send(1).unwrap();
}

#[goscope::test]
fn synch_fifo() {
    let (ch_tx, ch) = chan(0);
    let (start, mut input) = chan(0);
    for i in 0..N {
        let (out, next) = chan(0);
        // The links borrow the shared `ch`; each owns its own signals.
        go!(chain(&ch, i, input, out));
        input = next;
    }
    start.send(0).unwrap();
    for i in 0..N {
        ch_tx.send(i).unwrap();
    }
    // The last link's signal: every value went to the right link.
    assert_eq!(input.recv(), Some(1));
}
