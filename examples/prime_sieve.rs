//! The concurrent prime sieve: a daisy chain of filter goroutines, one per
//! prime found, each passing on the numbers its prime does not divide. The
//! Go idiom of the concurrent prime sieve in Go's playground examples
//! (`doc/play/sieve.go`) and of Go's `test/chan/sieve1.go`.
//!
//! Usage: `cargo run --example prime_sieve [N]` prints the first N primes
//! (default 20).
//!
//! In Go, `main` returns and the chain is simply abandoned. Here `main`
//! waits for its goroutines, so the chain must stop: dropping the last
//! channel makes the last filter's next send fail, it returns and drops its
//! input, and so on back to the generator.
use goscope::prelude::*;

/// Sends 2, 3, 4, ... until nobody receives.
fn generate(ch: Sender<u64>) {
    for i in 2.. {
        if ch.send(i).is_err() {
            return;
        }
    }
}

/// Copies `input` to `out`, dropping the multiples of `prime`.
fn filter(input: Receiver<u64>, out: Sender<u64>, prime: u64) {
    for i in &input {
        if i % prime != 0 && out.send(i).is_err() {
            return;
        }
    }
}

#[goscope::main]
fn main() {
    let n: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("N must be a number"),
        None => 20,
    };
    let (tx, mut ch) = chan(0);
    go!(generate(tx));
    let mut primes = Vec::with_capacity(n);
    for _ in 0..n {
        let prime = ch.recv().expect("the chain never closes");
        primes.push(prime.to_string());
        let (tx1, ch1) = chan(0);
        go!(filter(ch, tx1, prime));
        ch = ch1;
    }
    drop(ch); // tears the chain down, filter by filter
    println!("{}", primes.join(" "));
}
