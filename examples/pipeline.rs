//! Pipelines: stages connected by channels, fan-out and fan-in, and early
//! cancellation with a done channel. The Go idioms of the Go blog's
//! "Go Concurrency Patterns: Pipelines and cancellation" (`gen`, `sq`,
//! `merge`, `done`).
//!
//! Each stage is a function that reads its input until it is closed,
//! sends on its output, and returns when `done` is closed. The stages run
//! as scoped goroutines, so `squares_until_cancelled` returns only once
//! every stage has stopped: cancellation that provably leaks nothing.
use std::sync::atomic::{AtomicUsize, Ordering};

use goscope::prelude::*;

/// The first stage: sends `nums`, then closes `out` (by dropping it).
/// Stops early when `done` is closed.
fn gen_nums(done: &Receiver<()>, out: Sender<u64>, nums: impl IntoIterator<Item = u64>) {
    for n in nums {
        select! {
            out <- n => {}
            <-done => return,
        }
    }
}

/// A stage: squares what it receives. Several `sq`s reading one channel is
/// the fan-out.
fn sq(done: &Receiver<()>, input: &Receiver<u64>, out: Sender<u64>) {
    for n in input {
        select! {
            out <- n * n => {}
            <-done => return,
        }
    }
}

/// The fan-in: forwards every input onto one output, which closes once
/// all inputs are closed (each forwarding goroutine owns a clone of it).
#[goscope::scoped]
fn merge(done: &Receiver<()>, inputs: Vec<Receiver<u64>>, out: Sender<u64>) {
    for input in inputs {
        let out = out.clone();
        go! {
            for n in &input {
                select! {
                    out <- n => {}
                    <-done => return,
                }
            }
        }
    }
}

/// Without cancellation: 2 and 3 through two `sq` stages in a row.
#[goscope::scoped]
fn squared_twice() -> Vec<u64> {
    // Nobody closes `done` here: every stage runs to the end.
    let (_done_tx, done) = chan::<()>(0);
    let (nums_tx, nums) = chan(0);
    let (sq1_tx, sq1) = chan(0);
    let (sq2_tx, sq2) = chan(0);
    go!(gen_nums(&done, nums_tx, [2, 3]));
    go!(sq(&done, &nums, sq1_tx));
    go!(sq(&done, &sq1, sq2_tx));
    sq2.iter().collect()
}

/// Fan-out to two `sq` workers, fan-in through `merge`; the results come in
/// any order.
#[goscope::scoped]
fn fan_out_fan_in(n: u64) -> Vec<u64> {
    let (_done_tx, done) = chan::<()>(0);
    let (nums_tx, nums) = chan(0);
    let (c1_tx, c1) = chan(0);
    let (c2_tx, c2) = chan(0);
    let (out_tx, out) = chan(0);
    go!(gen_nums(&done, nums_tx, 1..=n));
    go!(sq(&done, &nums, c1_tx));
    go!(sq(&done, &nums, c2_tx));
    go!(merge(&done, vec![c1, c2], out_tx));
    let mut squares: Vec<u64> = out.iter().collect();
    squares.sort_unstable();
    squares
}

/// Takes `wanted` squares from a pipeline over a million numbers, then
/// closes `done`: every stage returns early. Counts the stages that stopped.
#[goscope::scoped]
fn squares_until_cancelled(wanted: usize, stopped: &AtomicUsize) -> Vec<u64> {
    let (done_tx, done) = chan::<()>(0);
    let (nums_tx, nums) = chan(0);
    let (sq1_tx, sq1) = chan(0);
    let (sq2_tx, sq2) = chan(0);
    // Non-`move` closures: each borrows `done` and `stopped` and takes
    // the channel ends it is given.
    go!(|| {
        defer! {
            stopped.fetch_add(1, Ordering::SeqCst);
        }
        gen_nums(&done, nums_tx, 1..=1_000_000);
    });
    go!(|| {
        defer! {
            stopped.fetch_add(1, Ordering::SeqCst);
        }
        sq(&done, &nums, sq1_tx);
    });
    go!(|| {
        defer! {
            stopped.fetch_add(1, Ordering::SeqCst);
        }
        sq(&done, &sq1, sq2_tx);
    });
    let first = sq2.iter().take(wanted).collect();
    drop(done_tx); // Go's close(done): a broadcast to every stage
    first
}

#[goscope::main]
fn main() {
    let twice: Vec<String> = squared_twice().iter().map(u64::to_string).collect();
    println!("2, 3 squared twice: {}", twice.join(" "));

    let squares = fan_out_fan_in(10);
    let sum: u64 = squares.iter().sum();
    let listed: Vec<String> = squares.iter().map(u64::to_string).collect();
    println!("fan-out/fan-in, squares of 1..=10: {}", listed.join(" "));
    println!("sum of squares: {sum}");

    let stopped = AtomicUsize::new(0);
    let first = squares_until_cancelled(3, &stopped);
    let listed: Vec<String> = first.iter().map(u64::to_string).collect();
    println!("cancelled after 3 of 1000000: {}", listed.join(" "));
    println!("stages stopped: {}", stopped.load(Ordering::SeqCst));
}
