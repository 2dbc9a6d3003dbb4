//! Timeouts: `select` on a result and on `time.After`. The Go idioms of
//! Go by Example's "Timeouts" and the Go blog's "Go Concurrency Patterns:
//! Timing out, moving on": a timeout per operation, and one deadline for a
//! whole conversation (an `after` channel made once, outside the loop).
//!
//! `work` starts a detached goroutine (its `go!` is outside any scoped
//! function), as Go's would be, and reports on a channel with room for one
//! value: a worker that finishes after its caller gave up does not block
//! forever, and `main` does not wait for it.
use goscope::prelude::*;

/// Work that takes `took`, then reports `result` on a buffered channel.
fn work(took: Duration, result: &'static str) -> Receiver<&'static str> {
    let (tx, rx) = chan(1);
    go! {
        sleep(took);
        let _ = tx.send(result);
    }
    rx
}

#[goscope::main]
fn main() {
    // The work takes longer than we are willing to wait.
    let c1 = work(Duration::from_secs(2), "result 1");
    select! {
        res = <-c1 => println!("{}", res.unwrap()),
        <-after(Duration::from_millis(50)) => println!("timeout 1"),
    }

    // Here the work is quick enough.
    let c2 = work(Duration::from_millis(10), "result 2");
    select! {
        res = <-c2 => println!("{}", res.unwrap()),
        <-after(Duration::from_secs(2)) => println!("timeout 2"),
    }

    // One deadline for a whole conversation: a talker says three things
    // at once, then falls silent until told to quit.
    let (quit_tx, quit) = chan::<()>(0);
    let (talk_tx, talk) = chan(0);
    go!(move || {
        for word in ["hello", "again", "bye"] {
            talk_tx.send(word).unwrap();
        }
        quit.recv();
    });
    let deadline = after(Duration::from_millis(500));
    let mut heard = Vec::new();
    loop {
        select! {
            word = <-talk => heard.push(word.unwrap()),
            <-deadline => break,
        }
    }
    println!(
        "heard {} before the deadline: {}",
        heard.len(),
        heard.join(" ")
    );
    drop(quit_tx); // lets the talker return
}
