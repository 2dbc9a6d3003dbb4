//! Port of `test/chan/select.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): every send value of a `select` is evaluated
//! exactly once per `select`, also for the cases that are not chosen and
//! for the cases on nil channels; a nil channel disables its case; `default`
//! ends the loop.
//!
//! Go's `a = nil` becomes `a = &nil`, a [`nil_sender`], whose send arm is
//! never ready. Go's `break LOOP` from inside the `select` is a plain
//! `break`: in goscope, `break` in an arm acts on the enclosing loop.

use std::cell::Cell;

use goscope::prelude::*;

use crate::nil_sender;

/// Go's package-level `counter` and `shift`.
#[derive(Default)]
struct State {
    counter: Cell<u32>,
    shift: Cell<u32>,
}

impl State {
    /// Go's `GetValue`: counts its calls, returns `1 << shift`.
    fn get_value(&self) -> u32 {
        self.counter.set(self.counter.get() + 1);
        1 << self.shift.get()
    }
}

/// Go's `Send`: sends on `a` and `b` until neither is ready, disabling each
/// once it has been sent on; returns how many sends happened.
fn send(state: &State, a: &Sender<u32>, b: &Sender<u32>) -> u32 {
    let nil = nil_sender();
    let (mut a, mut b) = (a, b);
    let mut i = 0;
    loop {
        select! {
            a <- state.get_value() => {
                i += 1;
                a = &nil;
            }
            b <- state.get_value() => {
                i += 1;
                b = &nil;
            }
            default => break,
        }
        state.shift.set(state.shift.get() + 1);
    }
    i
}

#[goscope::test]
fn send_values_are_evaluated_once_per_select() {
    let state = State::default();
    let (a, a_rx) = chan(1);
    let (b, b_rx) = chan(1);
    let v = send(&state, &a, &b);
    assert_eq!(v, 2, "Send returned {v} != 2");
    let (av, bv) = (a_rx.recv().unwrap(), b_rx.recv().unwrap());
    assert_eq!(av | bv, 3, "bad values {av} {bv}");
    let v = send(&state, &a, &nil_sender());
    assert_eq!(v, 1, "Send returned {v} != 1");
    // 3 selects of 2 values, then 2 selects of 2 values.
    let counter = state.counter.get();
    assert_eq!(counter, 10, "counter is {counter} != 10");
}
