//! Port of `test/closedchan.go` from golang/go (BSD-style licence,
//! Copyright The Go Authors): receiving from a closed channel, through
//! three implementations of the same operations: direct channel operations,
//! one-case `select`s, and two-case `select`s whose other case is never
//! ready.
//!
//! The facts: a receive from a closed channel gives Go's zero value and
//! `ok == false`, forever (goscope: `None`); a non-blocking receive on a
//! closed channel is *selected* (it does not take the `default`); the last
//! buffered value is delivered before the close is seen.
//!
//! What goscope rules out at compile time, proven by the UI suite rather than
//! here: Go's `test1` checks that `Send` and `Nbsend` on a closed channel
//! panic, and `main` that `close(nil)` and a second `close` panic. In goscope
//! the channel is closed by dropping its last [`Sender`], so all that is
//! left of a closed channel is a [`Receiver`], which has no `send`; a second
//! close is a use of a moved value; and there is no nil `Sender` to close
//! ([`never`] gives a `Receiver`, and dropping a `Receiver` closes nothing).
//! The port's `Chan` trait therefore has only the receiving operations.

use goscope::prelude::*;

/// The receiving half of Go's `Chan` interface. `recv` is Go's `<-c`
/// (zero when closed), `recv2` is `x, ok := <-c`; the `nb` forms are
/// non-blocking and also say whether a case was selected.
trait Chan {
    fn recv(&self) -> i32;
    fn nbrecv(&self) -> (i32, bool);
    fn recv2(&self) -> (i32, bool);
    fn nbrecv2(&self) -> (i32, bool, bool);
    fn imp(&self) -> &'static str;
}

/// Go's `x, ok` from goscope's `Option`.
fn zero_ok(v: Option<i32>) -> (i32, bool) {
    (v.unwrap_or_default(), v.is_some())
}

/// Go's `XChan`: direct channel operations when possible.
struct XChan(Receiver<i32>);

impl Chan for XChan {
    fn recv(&self) -> i32 {
        self.0.recv().unwrap_or_default()
    }
    fn nbrecv(&self) -> (i32, bool) {
        select! {
            x = <-self.0 => (x.unwrap_or_default(), true),
            default => (0, false),
        }
    }
    fn recv2(&self) -> (i32, bool) {
        zero_ok(self.0.recv())
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        select! {
            x = <-self.0 => {
                let (x, ok) = zero_ok(x);
                (x, ok, true)
            }
            default => (0, false, false),
        }
    }
    fn imp(&self) -> &'static str {
        "(<- operator)"
    }
}

/// Go's `SChan`: every operation through a `select`.
struct SChan(Receiver<i32>);

impl Chan for SChan {
    fn recv(&self) -> i32 {
        select! { x = <-self.0 => x.unwrap_or_default() }
    }
    fn nbrecv(&self) -> (i32, bool) {
        select! {
            default => (0, false),
            x = <-self.0 => (x.unwrap_or_default(), true),
        }
    }
    fn recv2(&self) -> (i32, bool) {
        select! { x = <-self.0 => zero_ok(x) }
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        select! {
            default => (0, false, false),
            x = <-self.0 => {
                let (x, ok) = zero_ok(x);
                (x, ok, true)
            }
        }
    }
    fn imp(&self) -> &'static str {
        "(select)"
    }
}

/// Go's `SSChan`: every operation through a larger `select`, whose other
/// case receives from `dummy`, a channel that is never ready (its sender is
/// kept, so it is not closed either).
struct SSChan {
    c: Receiver<i32>,
    dummy: Receiver<bool>,
    _dummy_tx: Sender<bool>,
}

impl SSChan {
    fn new(c: Receiver<i32>) -> Self {
        let (_dummy_tx, dummy) = chan(0);
        SSChan {
            c,
            dummy,
            _dummy_tx,
        }
    }
}

impl Chan for SSChan {
    fn recv(&self) -> i32 {
        select! {
            <-self.dummy => unreachable!("recv"),
            x = <-self.c => x.unwrap_or_default(),
        }
    }
    fn nbrecv(&self) -> (i32, bool) {
        select! {
            <-self.dummy => unreachable!("nbrecv"),
            default => (0, false),
            x = <-self.c => (x.unwrap_or_default(), true),
        }
    }
    fn recv2(&self) -> (i32, bool) {
        select! {
            <-self.dummy => unreachable!("recv2"),
            x = <-self.c => zero_ok(x),
        }
    }
    fn nbrecv2(&self) -> (i32, bool, bool) {
        select! {
            <-self.dummy => unreachable!("nbrecv2"),
            default => (0, false, false),
            x = <-self.c => {
                let (x, ok) = zero_ok(x);
                (x, ok, true)
            }
        }
    }
    fn imp(&self) -> &'static str {
        "(select)"
    }
}

/// Go's `test1`: `c` is closed and drained.
fn test1(c: &dyn Chan) {
    let imp = c.imp();
    for _ in 0..3 {
        // Receive a close signal (a zero value).
        assert_eq!(c.recv(), 0, "test1: recv on closed {imp}");
        assert_eq!(c.recv2(), (0, false), "test1: recv2 on closed {imp}");
        // Also through a select: a value was received without blocking, so
        // the case is selected.
        assert_eq!(c.nbrecv(), (0, true), "test1: recv on closed nb {imp}");
        assert_eq!(
            c.nbrecv2(),
            (0, false, true),
            "test1: recv2 on closed nb {imp}"
        );
    }
    // Go goes on with `Nbsend` and `Send` on the closed channel, which must
    // panic. Here they cannot be written: the channel is closed because its
    // last `Sender` is gone (UI suite: send after close).
    assert_eq!(c.recv(), 0, "test1: recv on closed {imp}");
}

/// Go's `testasync1` to `testasync4`: `c` is closed with the value 1 still
/// buffered; each gets it another way, then checks the close.
fn testasync1(c: &dyn Chan) {
    assert_eq!(c.recv(), 1, "testasync1: Recv did not get 1 {}", c.imp());
    test1(c);
}

fn testasync2(c: &dyn Chan) {
    assert_eq!(
        c.recv2(),
        (1, true),
        "testasync2: Recv2 did not get 1 {}",
        c.imp()
    );
    test1(c);
}

fn testasync3(c: &dyn Chan) {
    assert_eq!(
        c.nbrecv(),
        (1, true),
        "testasync3: Nbrecv did not get 1 {}",
        c.imp()
    );
    test1(c);
}

fn testasync4(c: &dyn Chan) {
    assert_eq!(
        c.nbrecv2(),
        (1, true, true),
        "testasync4: Nbrecv2 did not get 1 {}",
        c.imp()
    );
    test1(c);
}

/// An unbuffered channel, closed.
fn closedsync() -> Receiver<i32> {
    let (c, rx) = chan(0);
    drop(c); // close(c)
    rx
}

/// A buffered channel holding 1, closed.
fn closedasync() -> Receiver<i32> {
    let (c, rx) = chan(2);
    c.send(1).unwrap();
    drop(c); // close(c)
    rx
}

/// Wraps a channel in one of the implementations.
type Mk = fn(Receiver<i32>) -> Box<dyn Chan>;

/// Go's `mks`: the three implementations.
fn mks() -> [Mk; 3] {
    [
        |c| Box::new(XChan(c)),
        |c| Box::new(SChan(c)),
        |c| Box::new(SSChan::new(c)),
    ]
}

#[goscope::test]
fn closed_unbuffered_channel() {
    for mk in mks() {
        test1(&*mk(closedsync()));
    }
}

#[goscope::test]
fn closed_buffered_channel_delivers_its_last_value_first() {
    let testcloseds: [fn(&dyn Chan); 4] = [testasync1, testasync2, testasync3, testasync4];
    for testclosed in testcloseds {
        for mk in mks() {
            testclosed(&*mk(closedasync()));
        }
    }
    // Go's `close(nil)` and double `close` panics do not compile in goscope
    // (UI suite).
}
