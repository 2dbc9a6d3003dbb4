//! Port of `test/chan/doubleselect.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): a sender does a 4-way `select` over four
//! unbuffered channels; four mux goroutines forward each channel into one;
//! the receiver checks that no value is delivered twice (two cases of one
//! `select` both running would send the same value on two channels).
//!
//! Go's sender and muxes end with `defer close(...)`; in goscope each owns
//! its `Sender`, and dropping it when the function returns is the close.
//! The receiver also checks that nothing was lost. Go runs 100,000
//! iterations; the port runs 20,000 (every value crosses two thread
//! hand-offs).

use std::collections::HashSet;

use goscope::prelude::*;

const ITERATIONS: u32 = 20_000;

/// Sends each counter value to one of four channels.
fn sender(n: u32, c1: Sender<u32>, c2: Sender<u32>, c3: Sender<u32>, c4: Sender<u32>) {
    for i in 0..n {
        select! {
            c1 <- i => {}
            c2 <- i => {}
            c3 <- i => {}
            c4 <- i => {}
        }
    }
    // c1 to c4 close here, as with Go's `defer close(c)`.
}

/// Forwards `input` onto `out` until `input` is closed.
fn mux(out: Sender<u32>, input: Receiver<u32>) {
    for v in &input {
        out.send(v).unwrap();
    }
    // `out` closes when the last mux returns.
}

/// Checks the stream for duplicates, and that every value came.
fn recver(input: &Receiver<u32>, n: u32) {
    let mut seen = HashSet::new();
    for v in input {
        assert!(seen.insert(v), "got duplicate value: {v}");
    }
    assert_eq!(seen.len(), n as usize, "values were lost");
}

#[goscope::test]
fn no_value_is_delivered_twice() {
    let (c1, r1) = chan(0);
    let (c2, r2) = chan(0);
    let (c3, r3) = chan(0);
    let (c4, r4) = chan(0);
    let (cmux, rmux) = chan(0);
    go!(sender(ITERATIONS, c1, c2, c3, c4));
    go!(mux(cmux.clone(), r1));
    go!(mux(cmux.clone(), r2));
    go!(mux(cmux.clone(), r3));
    go!(mux(cmux, r4));
    recver(&rmux, ITERATIONS);
}
