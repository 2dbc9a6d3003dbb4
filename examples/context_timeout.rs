//! A slow computation abandoned at its deadline: Go's
//! `context.WithTimeout`.
//!
//! ```go
//! ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
//! defer cancel()
//! result := make(chan uint64, 1)
//! go compute(ctx, n, result)
//! select {
//! case sum := <-result:
//!     fmt.Println("sum:", sum)
//! case <-ctx.Done():
//!     fmt.Println("gave up:", ctx.Err())
//! }
//! ```
//!
//! The computation checks the context between steps, so once the caller
//! has given up it stops too instead of burning a thread: `main`, whose
//! goroutines are scoped, waits for it before returning.
use goscope::context::Context;
use goscope::prelude::*;

/// Sums `1..=n`, one slow step at a time, until done or `ctx` is done.
fn compute(ctx: Context, n: u64, step: Duration, result: Sender<u64>, steps: Sender<u64>) {
    let mut sum = 0;
    for i in 1..=n {
        if ctx.err().is_some() {
            // Abandoned: report how far it got, not a result.
            let _ = steps.send(i - 1);
            return;
        }
        sum += i;
        sleep(step);
    }
    let _ = result.send(sum);
}

/// Runs `compute` under a `timeout`, as the Go program above does.
#[goscope::scoped]
fn run(n: u64, step: Duration, timeout: Duration) {
    let (ctx, _cancel) = Context::background().with_timeout(timeout);
    let (result_tx, result) = chan(1);
    let (steps_tx, steps) = chan(1);
    go!(compute(ctx.clone(), n, step, result_tx, steps_tx));
    select! {
        Some(sum) = <-result => println!("sum of 1..={n}: {sum}"),
        <-ctx.done() => {
            println!("gave up: {}", ctx.err().expect("done, so an error"));
            if let Some(k) = steps.recv() {
                println!("the computation stopped too, after {} of {n} steps", if k < n { "some" } else { "all" });
            }
        }
    }
}

#[goscope::main]
fn main() {
    // Quick enough for its deadline.
    run(5, Duration::from_millis(1), Duration::from_secs(30));
    // Far too slow: a million steps of 1 ms against 100 ms.
    run(1_000_000, Duration::from_millis(1), Duration::from_millis(100));
}
