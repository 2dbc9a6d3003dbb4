//! Port of `test/chan/select7.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): `select` arms that discard the received
//! value, in one-case and two-case `select`s, against senders that use a
//! plain send, a one-case and a two-case `select`: all nine pairings must
//! complete.
//!
//! Go's `runtime.Gosched()` is `std::thread::yield_now()`: goscope's
//! goroutines are threads.

use std::thread;

use goscope::prelude::*;

/// A receiver: runs in its own goroutine, takes one value from `c`.
type Recv = fn(Receiver<i32>);

fn recv1(c: Receiver<i32>) {
    c.recv();
}

fn recv2(c: Receiver<i32>) {
    select! {
        <-c => {}
    }
}

fn recv3(c: Receiver<i32>) {
    // A second, never-ready channel: its sender is kept, so it is not closed.
    let (_c2_tx, c2) = chan::<i32>(0);
    select! {
        <-c => {}
        <-c2 => unreachable!("nobody sends on c2"),
    }
}

#[goscope::scoped]
fn send1(recv: Recv) {
    let (c, rx) = chan(0);
    go!(recv(rx));
    thread::yield_now();
    c.send(1).unwrap();
}

#[goscope::scoped]
fn send2(recv: Recv) {
    let (c, rx) = chan(0);
    go!(recv(rx));
    thread::yield_now();
    select! {
        c <- 1 => {}
    }
}

#[goscope::scoped]
fn send3(recv: Recv) {
    let (c, rx) = chan(0);
    go!(recv(rx));
    thread::yield_now();
    // A second channel whose receiver is kept but never receives.
    let (c2, _c2_rx) = chan(0);
    select! {
        c <- 1 => {}
        c2 <- 1 => unreachable!("nobody receives on c2"),
    }
}

#[goscope::test]
fn discarded_receives_in_every_select_form() {
    for recv in [recv1 as Recv, recv2, recv3] {
        send1(recv);
        send2(recv);
        send3(recv);
    }
}
