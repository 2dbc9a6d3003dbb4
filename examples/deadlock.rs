//! The tutorial's first pitfall, a deadlock, reported the way Go reports it.
//!
//! ```go
//! func main() {
//!     jobs := make(chan int)
//!     done := make(chan bool)
//!     go func() {
//!         for j := range jobs {
//!             fmt.Println("job", j)
//!         }
//!         done <- true
//!     }()
//!     jobs <- 1
//!     <-done // forgot close(jobs): the worker waits forever, and so does main
//! }
//! ```
//!
//! Go prints `fatal error: all goroutines are asleep - deadlock!` and a dump
//! of every goroutine; so does goscope, with the Rust source location of each
//! blocked operation and of the `go!` that started each goroutine. The
//! program exits with status 2 instead of hanging.
use goscope::prelude::*;

fn worker(jobs: &Receiver<i32>, done: &Sender<bool>) {
    for j in jobs {
        println!("job {j}");
    }
    done.send(true).unwrap();
}

#[goscope::main]
fn main() {
    let (jobs_tx, jobs) = chan(0);
    let (done, done_rx) = chan(0);
    go!(worker(&jobs, &done));
    jobs_tx.send(1).unwrap();
    // Forgot `drop(jobs_tx)` (Go's `close(jobs)`): the worker's loop never
    // ends, and main waits for it forever.
    done_rx.recv();
}
