//! Rate limiting: a ticker gates each request, and a buffered channel of
//! tokens allows short bursts. The Go idioms of Go by Example's "Rate
//! Limiting" (`time.Tick` as a limiter; a `burstyLimiter` channel refilled
//! by a goroutine from a ticker).
//!
//! Go's example ticks every 200 ms; this one every 20 ms, and prints when
//! each request was served, in milliseconds since its part started.
use std::time::Instant;

use goscope::prelude::*;

/// How often a request may be served once any burst is spent.
const EVERY: Duration = Duration::from_millis(20);

/// Five requests, queued and closed: Go's `requests` channel.
fn requests() -> Receiver<u32> {
    let (tx, rx) = chan(5);
    for i in 1..=5 {
        tx.send(i).unwrap();
    }
    rx // the sender is dropped: Go's close(requests)
}

#[goscope::main]
fn main() {
    println!("steady: one request per {} ms", EVERY.as_millis());
    let start = Instant::now();
    let limiter = tick(EVERY);
    for req in &requests() {
        limiter.recv();
        println!("request {req} at {} ms", start.elapsed().as_millis());
    }

    println!(
        "bursty: up to 3 at once, then one per {} ms",
        EVERY.as_millis()
    );
    let start = Instant::now();
    let (bursty_tx, bursty_limiter) = chan(3);
    for _ in 0..3 {
        bursty_tx.send(Instant::now()).unwrap();
    }
    // Refill one token per tick; stop once the limiter is gone.
    go!(move || {
        for t in &tick(EVERY) {
            if bursty_tx.send(t).is_err() {
                return;
            }
        }
    });
    for req in &requests() {
        bursty_limiter.recv();
        println!("request {req} at {} ms", start.elapsed().as_millis());
    }
    drop(bursty_limiter); // ends the refilling goroutine
}
