//! Port of `test/chan/select8.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): `break` inside a `select` case, for 1-, 2- and
//! 3-case `select`s, with and without `default`.
//!
//! In Go, `break` in a case ends the `select` itself. In goscope it acts on
//! the enclosing loop, as in a `match` (a deliberate difference, documented
//! in the crate). The port keeps Go's intent: in each arm form, leaving an
//! arm early reaches the code after the `select!`. Go's plain `break` is
//! written `break 'select` out of a labelled block; and a bare `break` in
//! an arm is checked to end the enclosing loop.
//!
//! Go's goroutine sends 5 forever; here it sends until the channel's
//! receivers are gone, so the test can join it.

use goscope::prelude::*;

#[goscope::test]
fn break_leaves_the_select() {
    let (ch_tx, ch) = chan::<i32>(0);
    let feeder = ch_tx.clone();
    go!(move || while feeder.send(5).is_ok() {});

    let mut reached = 0;

    'select: {
        select! {
            <-ch => {
                break 'select;
                panic!("unreachable")
            }
        }
    }
    reached += 1;

    'select: {
        select! {
            default => {
                break 'select;
                panic!("unreachable")
            }
        }
    }
    reached += 1;

    'select: {
        select! {
            <-ch => break 'select,
            default => break 'select,
        }
    }
    reached += 1;

    'select: {
        select! {
            <-ch => break 'select,
            // Only this goroutine could receive this send.
            ch_tx <- 10 => panic!("unreachable"),
            default => break 'select,
        }
    }
    reached += 1;

    assert_eq!(reached, 4);
    drop(ch); // ends the feeder
}

#[goscope::test]
fn bare_break_in_an_arm_ends_the_enclosing_loop() {
    let (tx, rx) = chan::<i32>(3);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    let mut seen = Vec::new();
    loop {
        select! {
            v = <-rx => {
                let v = v.unwrap();
                if v == 1 {
                    break; // Go would end only the select here
                }
                seen.push(v);
            }
            default => unreachable!("a value is always ready"),
        }
    }
    assert_eq!(seen, [0]);
    assert_eq!(rx.try_recv(), Ok(2), "the loop went on after `break`");
}
