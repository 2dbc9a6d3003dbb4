//! Programs for the failure-behaviour tests (`tests/failures.rs` runs each as
//! a child process): `failures NAME`. What a panic does under
//! `#[goscope::main]`, what the goroutine limit does, and programs the
//! deadlock detector must not report.
use std::cell::RefCell;

use goscope::prelude::*;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    match name.as_str() {
        "panic_while_sleeping" => panic_while_sleeping(),
        "goroutine_panics_while_main_receives" => goroutine_panics_while_main_receives(),
        "blocked_goroutines" => blocked_goroutines(),
        "ok_sender_in_thread_local" => ok_sender_in_thread_local(),
        "ok_after_func_sends" => ok_after_func_sends(),
        "wait_group_go_at_the_limit" => wait_group_go_at_the_limit(),
        other => tests::unknown_scenario(other),
    }
}

/// Issue 10: a panic in main while a goroutine sleeps in a loop. It used to
/// print the message and hang forever.
#[goscope::main]
fn panic_while_sleeping() {
    go! {
        loop {
            sleep(Duration::from_millis(100));
        }
    }
    sleep(Duration::from_millis(200));
    panic!("boom");
}

/// A scoped goroutine panics while main waits on a channel nobody sends to.
#[goscope::main]
fn goroutine_panics_while_main_receives() {
    let (_tx, rx) = chan::<i32>(0);
    go! {
        panic!("worker failed");
    }
    rx.recv();
    unreachable!("the receive is cancelled");
}

/// Pike's daisy chain: `n` goroutines, each blocked receiving from the next.
/// Past the OS's thread limit `go!` must panic with a clear message (the
/// process used to abort with SIGABRT).
#[goscope::main]
fn blocked_goroutines() {
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect("blocked_goroutines N");
    let (first_tx, mut right) = chan::<u64>(0);
    for _ in 0..n {
        let (tx, rx) = chan::<u64>(0);
        let from = right;
        go! {
            if let Some(v) = from.recv() {
                let _ = tx.send(v + 1);
            }
        }
        right = rx;
    }
    first_tx.send(0).unwrap();
    println!("{}", right.recv().unwrap());
}

thread_local! {
    static KEPT: RefCell<Option<Sender<i32>>> = const { RefCell::new(None) };
}

/// Issue 13 item 1: a goroutine keeps its `Sender` in a thread-local and
/// returns. The sender is dropped only when the pool thread exits, which
/// closes the channel: that is no deadlock. It used to be reported at once.
#[goscope::main]
fn ok_sender_in_thread_local() {
    let (tx, rx) = chan::<i32>(0);
    go!(move || KEPT.with(|k| *k.borrow_mut() = Some(tx)));
    match rx.recv() {
        None => println!("recv returned None"),
        Some(v) => println!("recv returned {v}"),
    }
}

/// A pending `after_func` will send what main waits for: no deadlock (its
/// function may own any channel end), as Go's `checkdead` stays silent while
/// timers are pending.
#[goscope::main]
fn ok_after_func_sends() {
    let (tx, rx) = chan::<&str>(1);
    let _timer = goscope::time::after_func(Duration::from_millis(600), move || {
        let _ = tx.try_send("fired");
    });
    println!("{}", rx.recv().unwrap_or("closed"));
}

/// `WaitGroup::go` at the goroutine limit: the goroutine cannot start, so
/// the count it added must come down again, or `wait` would hang.
#[goscope::main]
fn wait_group_go_at_the_limit() {
    let (release_tx, release) = chan::<()>(0);
    // Fill the process with blocked detached goroutines up to the limit.
    loop {
        let release = release.clone();
        let started = std::panic::catch_unwind(move || {
            go!(static move || {
                release.recv();
            });
        });
        if started.is_err() {
            break;
        }
    }
    let wg = WaitGroup::new();
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wg.go(|| {}))).is_err();
    drop(release_tx);
    wg.wait();
    println!("refused {refused}, wait returned");
}
