//! Port of `test/chan/sieve1.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): the daisy-chained prime sieve. A generator
//! goroutine and one filter goroutine per prime, connected by unbuffered
//! channels; the first 25 primes must come out in order.
//!
//! Go's program simply returns from `main` and leaves the chain running. A
//! goscope test joins its goroutines, so the chain must end: when the test
//! drops `primes`, the sieve's next send fails and it returns, dropping its
//! input; each filter's next send then fails in turn, down to the
//! generator. Close-by-drop tears the whole chain down.

use goscope::prelude::*;

/// Sends 2, 3, 4, ... on `ch` until nobody receives.
fn generate(ch: Sender<u32>) {
    for i in 2.. {
        if ch.send(i).is_err() {
            return;
        }
    }
}

/// Copies `input` to `out`, removing the multiples of `prime`.
fn filter(input: Receiver<u32>, out: Sender<u32>, prime: u32) {
    for i in &input {
        if i % prime != 0 && out.send(i).is_err() {
            return;
        }
    }
}

/// The sieve: daisy-chains a filter behind each prime it finds.
#[goscope::scoped]
fn sieve(primes: Sender<u32>) {
    let (tx, mut ch) = chan(0);
    go!(generate(tx));
    loop {
        // `ch` is a different channel on each iteration.
        let Some(prime) = ch.recv() else { return };
        if primes.send(prime).is_err() {
            return;
        }
        let (tx1, ch1) = chan(0);
        go!(filter(ch, tx1, prime));
        ch = ch1;
    }
}

#[goscope::test]
fn first_25_primes_in_order() {
    let (primes_tx, primes) = chan(0);
    go!(sieve(primes_tx));
    let want = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97,
    ];
    let got: Vec<u32> = primes.iter().take(want.len()).collect();
    drop(primes); // stops the sieve, then the chain behind it
    assert_eq!(got, want);
}
