//! Generators: a function that returns a channel, fed by a goroutine it
//! starts. The Go idiom of "Go Concurrency Patterns" (Rob Pike, Google I/O
//! 2012): `func fib() <-chan int { c := make(chan int); go func() { ... }();
//! return c }`.
//!
//! `go!` outside a scoped function starts a detached goroutine, as Go's
//! `go` does, so the generator must own what it uses. Unlike Go, it does not
//! leak once its reader stops: when the last `Receiver` is dropped, its
//! next send fails and it returns.
use goscope::prelude::*;

/// The Fibonacci numbers, forever (until nobody listens).
fn fibonacci() -> Receiver<u64> {
    let (tx, rx) = chan(0);
    go! {
        let (mut a, mut b) = (0u64, 1u64);
        while tx.send(a).is_ok() {
            (a, b) = (b, a + b);
        }
    }
    rx
}

/// Counts from `from` up to `to` and closes the channel: a finite generator.
fn count(from: u32, to: u32) -> Receiver<u32> {
    let (tx, rx) = chan(0);
    go! {
        for i in from..=to {
            if tx.send(i).is_err() {
                return;
            }
        }
        // `tx` is dropped here: Go's `close(c)`, which ends the reader's loop.
    }
    rx
}

#[goscope::main]
fn main() {
    let fib = fibonacci();
    let first: Vec<String> = fib.iter().take(10).map(|n| n.to_string()).collect();
    println!("fibonacci: {}", first.join(" "));
    drop(fib); // the generator's next send fails: it returns

    let mut total = 0;
    for n in &count(1, 5) {
        total += n;
    }
    println!("count 1..=5 sums to {total}");
}
