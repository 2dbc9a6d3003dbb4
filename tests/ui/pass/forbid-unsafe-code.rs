// Every macro expands to safe code: it compiles under `forbid(unsafe_code)`.
#![deny(warnings)]
#![forbid(unsafe_code)]
use goscope::prelude::*;

fn work(wg: &WaitGroup) {
    defer!(wg.done());
}

#[goscope::scoped]
fn scoped() {
    let wg = WaitGroup::new();
    wg.add(1);
    go!(work(&wg));
    wg.wait();
}

#[goscope::test]
fn a_test() {
    scoped();
}

#[goscope::main]
fn main() {
    let (tx, rx) = chan::<i32>(1);
    go!(tx.send(1));
    go!(move || {});
    go! {
        let _ = 1;
    }
    select! {
        v = <-rx => assert_eq!(v, Some(1)),
        default => {}
    }
    defer!(println!("done"));
    scoped();
}
