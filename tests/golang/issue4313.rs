//! Port of `test/fixedbugs/issue4313.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): the operands of a `select` are evaluated in
//! source order on entry. The value of a send case is taken before the
//! channel expression of a later receive case runs, even when that
//! expression changes the value.

use std::cell::RefCell;

use goscope::prelude::*;

/// Go's `makec`: changes `*px`, then returns a channel that is never ready
/// (a fresh channel nobody sends on: a receiver of `idle`).
fn makec(px: &mut i32, idle: &Receiver<bool>) -> Receiver<bool> {
    *px = 42;
    idle.clone()
}

#[goscope::test]
fn send_value_is_taken_before_later_operands_run() {
    let (c, c_rx) = chan(1);
    let (_idle_tx, idle) = chan(0);
    let mut x = 0;
    select! {
        c <- x => {}             // must see x = 0, not 42
        <-makec(&mut x, &idle) => unreachable!("nobody sends on makec's channel"),
    }
    assert_eq!(x, 42, "makec was not evaluated");
    let y = c_rx.recv().unwrap();
    assert_eq!(y, 0, "the send case saw x = {y}");
}

#[goscope::test]
fn operands_are_evaluated_in_source_order() {
    // The general rule behind the issue: channel operands and send values,
    // left to right, top to bottom, each once, whichever case is chosen.
    let log = RefCell::new(Vec::new());
    let note = |what: &'static str| log.borrow_mut().push(what);
    let (a, a_rx) = chan::<i32>(1);
    let (b_tx, b) = chan::<i32>(1);
    b_tx.send(1).unwrap();
    select! {
        v = <-{ note("recv b"); &b } => assert_eq!(v, Some(1)),
        { note("send chan a"); &a } <- { note("send value a"); 2 } => {}
        <-{ note("recv never"); never::<i32>() } => unreachable!(),
    }
    assert_eq!(
        log.into_inner(),
        ["recv b", "send chan a", "send value a", "recv never"]
    );
    drop(a_rx);
}
