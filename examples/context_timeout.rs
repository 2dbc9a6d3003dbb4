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

/// Sums `1..=n`, one slow step at a time, until done or `ctx` is done;
/// then reports the sum, or how many steps it made before giving up.
fn compute(ctx: Context, n: u64, step: Duration, result: Sender<Result<u64, u64>>) {
    let mut sum = 0;
    for i in 1..=n {
        if ctx.err().is_some() {
            let _ = result.send(Err(i - 1)); // abandoned after i - 1 steps
            return;
        }
        sum += i;
        sleep(step);
    }
    let _ = result.send(Ok(sum));
}

/// Runs `compute` under a `timeout`, as the Go program above does.
#[goscope::scoped]
fn run(n: u64, step: Duration, timeout: Duration) {
    let (ctx, _cancel) = Context::background().with_timeout(timeout);
    let (result_tx, result) = chan(1);
    go!(compute(ctx.clone(), n, step, result_tx));
    // The two arms can be ready at once: the computation may notice the
    // deadline, and report, before this select does.
    let stopped_after = select! {
        v = <-result => match v {
            Some(Ok(sum)) => {
                println!("sum of 1..={n}: {sum}");
                return;
            }
            Some(Err(k)) => k,
            None => unreachable!("compute always reports"),
        },
        <-ctx.done() => match result.recv() {
            Some(Err(k)) => k,
            _ => n, // finished just as the deadline passed
        },
    };
    println!("gave up: {}", ctx.err().expect("done, so an error"));
    let how_far = if stopped_after < n { "part" } else { "all" };
    println!("the computation stopped too, after {how_far} of its {n} steps");
}

#[goscope::main]
fn main() {
    // Quick enough for its deadline.
    run(5, Duration::from_millis(1), Duration::from_secs(30));
    // Far too slow: a million steps of 1 ms against 100 ms.
    run(
        1_000_000,
        Duration::from_millis(1),
        Duration::from_millis(100),
    );
}
