// Refutable receive patterns: every shape of `let` pattern over the
// received `Option<T>`, with no warning (`deny(warnings)`): bindings with
// `mut` and `ref`, constants and variants, or-patterns, ranges, `@`, a
// capitalised binding, and control flow in the bodies.
#![deny(warnings)]
use goscope::prelude::*;

#[derive(Debug, PartialEq)]
enum Msg {
    Work(String),
    Quit,
}

const STOP: Option<i32> = Some(0);

#[allow(non_snake_case)] // `Big` below: a capitalised binding works too
fn drain(rx: &Receiver<Msg>, nums: &Receiver<i32>, done: &Receiver<()>) -> Vec<String> {
    let mut log = Vec::new();
    loop {
        select! {
            Some(Msg::Work(mut job)) = <-rx => {
                job.push('!');
                log.push(job);
            }
            Some(Msg::Quit) = <-rx => return log,
            STOP = <-nums => break,
            Some(1 | 2) | None = <-nums => continue,
            Some(ref n @ 3..=9) = <-nums => log.push(n.to_string()),
            Some(Big) = <-nums => log.push(format!("{Big}")),
            None = <-done => break,
            default => break,
        }
    }
    log
}

fn main() {
    let (tx, rx) = chan(2);
    let (ntx, nums) = chan(2);
    let (_done_tx, done) = chan::<()>(0);
    tx.send(Msg::Work("a".into())).unwrap();
    tx.send(Msg::Quit).unwrap();
    ntx.send(5).unwrap();
    let _ = drain(&rx, &nums, &done);
}
