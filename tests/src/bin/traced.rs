//! Programs for the timeline's tests (`tests/trace.rs` runs each as a child
//! process with `GOSCOPE_TRACE` set): `traced NAME`.
use goscope::prelude::*;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    match name.as_str() {
        "worker_pool" => worker_pool(),
        "deadlock" => deadlock(),
        "panic" => panic(),
        "detached_panic" => detached_panic(),
        "sigquit" => sigquit(),
        "select" => select(),
        other => {
            eprintln!("unknown scenario {other:?}");
            std::process::exit(64);
        }
    }
}

/// The worker pool of `examples/worker_pool.rs`, with 5 ms of work a job
/// and an unbuffered results channel: each result is a rendezvous, so for
/// each one exactly one side (the worker's send or main's receive) waits.
#[goscope::main]
fn worker_pool() {
    const NUM_JOBS: i32 = 5;
    let (jobs_tx, jobs) = chan(NUM_JOBS as usize);
    let (results, results_rx) = chan(0);
    for w in 1..=3 {
        go!(worker(w, &jobs, &results)); // go: worker
    }
    for j in 1..=NUM_JOBS {
        jobs_tx.send(j).unwrap(); // send: job
    }
    drop(jobs_tx);
    let mut sum = 0;
    for _ in 1..=NUM_JOBS {
        sum += results_rx.recv().unwrap(); // receive: result
    }
    assert_eq!(sum, 2 * (1 + 2 + 3 + 4 + 5));
}

fn worker(id: i32, jobs: &Receiver<i32>, results: &Sender<i32>) {
    for j in jobs
    /* receive: job */
    {
        println!("worker {id} started job {j}");
        sleep(Duration::from_millis(5)); // sleep: work
        results.send(j * 2).unwrap(); // send: result
    }
}

/// Main and a goroutine wait on channels nobody will use: the deadlock
/// report ends the program with status 2.
#[goscope::main]
fn deadlock() {
    let (_tx, rx) = chan::<i32>(0);
    let (_tx2, rx2) = chan::<i32>(0);
    go!(stuck(&rx2)); // go: stuck
    rx.recv(); // receive: stuck
}

fn stuck(rx: &Receiver<i32>) {
    rx.recv();
}

/// A goroutine waits while main panics: the goroutine is cancelled, and
/// the panic ends the program with status 2.
#[goscope::main]
fn panic() {
    // The sender stays alive: only the cancellation ends the receive.
    let (_tx, rx) = chan::<i32>(0);
    let (ready_tx, ready) = chan::<()>(0);
    go! {
        drop(ready_tx);
        rx.recv(); // receive: cancelled
    }
    ready.recv();
    panic!("main gives up"); // panic: main
}

/// A detached goroutine panics: the program ends with status 2.
#[goscope::main]
fn detached_panic() {
    go!(static detached_work());
    never::<()>().recv();
}

fn detached_work() {
    panic!("a detached goroutine gives up"); // panic: detached
}

/// Values sent to a `select!` and by one: a goroutine sends on `a`, main's
/// `select!` takes it; then main's `select!` sends on `b`, which the
/// goroutine receives.
#[goscope::main]
fn select() {
    let (a_tx, a) = chan::<i32>(0);
    let (b_tx, b) = chan::<i32>(0);
    let (_never_tx, never_rx) = chan::<i32>(0);
    go! {
        a_tx.send(1).unwrap();
        assert_eq!(b.recv(), Some(2));
    }
    select! {
        v = <-a => assert_eq!(v, Some(1)),
        _ = <-never_rx => unreachable!(),
    }
    select! {
        b_tx <- 2 => {}
        _ = <-never_rx => unreachable!(),
    }
}

/// Main sleeps until `SIGQUIT` ends the program.
#[goscope::main]
fn sigquit() {
    println!("ready");
    sleep(Duration::from_secs(60));
}
