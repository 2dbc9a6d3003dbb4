//! Port of `test/chan/select3.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): the semantics table of `select` and of the
//! plain channel operations, for nil, closed, ready and empty channels.
//!
//! Go's `testBlock(always, f)` becomes a bounded wait of [`BLOCKED`]: either
//! inside the operation (`recv_timeout`, an `<-after(BLOCKED)` arm, for the
//! nil-channel cases nothing could ever release) or through
//! [`always_blocks`], which then releases the blocked goroutine.
//! `testBlock(never, f)` is [`never_blocks`]. `testPanic(never, f)` is a
//! plain call: an arm that must not run is `unreachable!()`.
//!
//! Go's nil channel is [`never`] when receiving and [`nil_sender`] when
//! sending. A closed channel is a [`Receiver`] whose senders are all
//! dropped; receiving from it gives `None`, Go's `(0, false)`.
//!
//! Two rows of Go's table are run-time panics goscope rules out at compile
//! time, proven by the UI suite rather than here: "sending to a closed
//! channel panics", directly and inside `select` (the channel is closed by
//! dropping its last `Sender`, so a later send is a use of a moved value).
//! And Go's empty `select {}` is a compile error in goscope (`select!` needs
//! an arm); its "blocks forever" is the nil-only selects below.

use goscope::RecvTimeoutError;
use goscope::prelude::*;

use crate::{always_blocks, never_blocks, nil_sender};
use tests::BLOCKED;

/// Go's `closedch`: made and closed at once.
fn closed() -> Receiver<i32> {
    let (tx, rx) = chan(0);
    drop(tx); // close(closedch)
    rx
}

#[goscope::test]
fn nil_channel_operations_block() {
    // <-nilch
    assert_eq!(
        never::<i32>().recv_timeout(BLOCKED),
        Err(RecvTimeoutError::Timeout),
        "a receive from a nil channel must block"
    );
    // nilch <- 7: goscope has no nil `Sender`. The nearest is an unbuffered
    // channel that nobody receives from, which must block too.
    let (idle, _nobody_receives) = chan::<i32>(0);
    assert!(
        idle.send_timeout(7, BLOCKED).unwrap_err().is_timeout(),
        "a send nobody receives must block"
    );
}

#[goscope::test]
fn nil_cases_are_never_selected() {
    let nil_tx = nil_sender::<i32>();
    select! {
        nil_tx <- 7 => unreachable!("a send on a nil channel was selected"),
        default => {}
    }
    select! {
        <-never::<i32>() => unreachable!("a receive on a nil channel was selected"),
        default => {}
    }
}

#[goscope::test]
fn send_with_free_buffer_space_never_blocks() {
    never_blocks("a send to a buffered channel with room", || {
        let (tx, _rx) = chan(1);
        tx.send(7).unwrap();
    });
}

#[goscope::test]
fn receive_from_closed_channel_never_blocks() {
    let closedch = closed();
    never_blocks("receives from a closed channel", move || {
        for _ in 0..10 {
            // Go's `<-closedch` is 0 and `x, ok := <-closedch` is (0, false):
            // in goscope both are `None`.
            assert_eq!(closedch.recv(), None);
            assert_eq!(closedch.recv().unwrap_or_default(), 0);
        }
    });
    // Sending to a closed channel panics in Go; in goscope it does not
    // compile (UI suite).
}

#[goscope::test]
fn receive_from_non_ready_channel_always_blocks() {
    let (tx, rx) = chan::<i32>(0);
    let got = always_blocks("a receive from an empty channel", || rx.recv(), || drop(tx));
    assert_eq!(got, None, "released by the close, so it must see the close");
}

#[goscope::test]
fn selects_with_only_nil_channels_always_block() {
    // Go's `select {}` does not compile in goscope; these are its runnable
    // forms. Nothing can ever release them, so the bound is an extra arm.
    let blocked = select! {
        <-never::<i32>() => unreachable!(),
        <-after(BLOCKED) => true,
    };
    assert!(blocked);
    let nil_tx = nil_sender::<i32>();
    let blocked = select! {
        nil_tx <- 7 => unreachable!(),
        <-after(BLOCKED) => true,
    };
    assert!(blocked);
    let blocked = select! {
        <-never::<i32>() => unreachable!(),
        nil_tx <- 7 => unreachable!(),
        <-after(BLOCKED) => true,
    };
    assert!(blocked);
}

#[goscope::test]
fn selects_with_non_ready_channels_always_block() {
    let (tx, rx) = chan::<i32>(0);
    let got = always_blocks(
        "a one-case select on an empty channel",
        || select! { v = <-rx => v },
        || drop(tx),
    );
    assert_eq!(got, None, "released by the close, so it must see the close");
}

#[goscope::test]
fn selects_with_default_never_block() {
    never_blocks("a select with only a default", || select! { default => {} });
    never_blocks("a nil receive with a default", || {
        select! {
            <-never::<i32>() => unreachable!(),
            default => {}
        }
    });
    never_blocks("a nil send with a default", || {
        let nil_tx = nil_sender::<i32>();
        select! {
            nil_tx <- 7 => unreachable!(),
            default => {}
        }
    });
}

#[goscope::test]
fn selects_with_ready_channels_never_block() {
    never_blocks("a select sending to a channel with room", || {
        let (tx, rx) = chan(1);
        select! {
            tx <- 7 => {}
            default => unreachable!("the send was ready"),
        }
        assert_eq!(rx.try_recv(), Ok(7));
    });
    never_blocks("a select receiving a buffered value", || {
        let (tx, rx) = chan(1);
        tx.send(7).unwrap();
        select! {
            v = <-rx => assert_eq!(v, Some(7)),
            default => unreachable!("the receive was ready"),
        }
    });
}

#[goscope::test]
fn selects_on_closed_channels_behave_like_plain_receives() {
    // case <-closedch:
    let closedch = closed();
    never_blocks(
        "select { case <-closedch }",
        move || select! { <-closedch => {} },
    );
    // case x := <-closedch:
    let closedch = closed();
    let x = never_blocks("select { case x := <-closedch }", move || {
        select! { x = <-closedch => x.unwrap_or_default() }
    });
    assert_eq!(x, 0);
    // case x, ok := <-closedch:
    let closedch = closed();
    let got = never_blocks("select { case x, ok := <-closedch }", move || {
        select! { got = <-closedch => got }
    });
    assert_eq!(got, None);
    // `case closedch <- 7` panics in Go; in goscope it does not compile (UI
    // suite): the closed channel's last `Sender` is gone.
}

#[goscope::test]
fn select_that_sees_itself_blocks() {
    // One goroutine sends to and receives from the same unbuffered channel:
    // it must not pair with itself.
    let (tx, rx) = chan::<i32>(0);
    let chosen = always_blocks(
        "a self-select on an unbuffered channel",
        || {
            select! {
                tx <- 1 => "sent",
                _ = <-rx => "received",
            }
        },
        // Release it by taking its value from another goroutine.
        || assert_eq!(rx.recv(), Some(1)),
    );
    assert_eq!(chosen, "sent");
}
