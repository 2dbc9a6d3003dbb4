//! `select!`: Go's `select`, as SPEC.md's "`select!`" section promises it.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use goscope::RecvTimeoutError;
use goscope::prelude::*;
use tests::{BLOCKED, PATIENCE};

type Log = RefCell<Vec<&'static str>>;

/// Returns `value`, noting that it was evaluated.
fn traced<T>(log: &Log, what: &'static str, value: T) -> T {
    log.borrow_mut().push(what);
    value
}

#[test]
fn operands_and_send_values_are_evaluated_once_in_source_order() {
    let log = Log::default();
    let (tx0, rx0) = chan::<i32>(1);
    let (tx1, rx1) = chan::<i32>(1);
    let (tx2, rx2) = chan::<i32>(1);
    tx1.send(0).unwrap(); // the send arm below cannot proceed
    tx0.send(10).unwrap(); // the first receive arm can
    let got = select! {
        v = <-traced(&log, "recv 0 operand", &rx0) => v,
        traced(&log, "send 1 operand", &tx1) <- traced(&log, "send 1 value", 11) => None,
        <-traced(&log, "recv 2 operand", &rx2) => None,
    };
    assert_eq!(got, Some(10));
    assert_eq!(
        log.into_inner(),
        [
            "recv 0 operand",
            "send 1 operand",
            "send 1 value",
            "recv 2 operand"
        ]
    );
    // The send arm was not chosen: its value was not sent.
    assert_eq!(rx1.try_recv(), Ok(0));
    drop(tx2);
}

#[goscope::test]
fn operands_are_evaluated_once_even_when_the_select_blocks() {
    let evaluations = [const { AtomicUsize::new(0) }; 3];
    let count = |i: usize| evaluations[i].fetch_add(1, Ordering::SeqCst);
    let (tx, rx) = chan::<i32>(0);
    let (full_tx, full_rx) = chan::<i32>(0);
    let (chosen_tx, chosen) = chan(1);
    go!(|| {
        let got = select! {
            v = <-{ count(0); &rx } => v,
            { count(1); &full_tx } <- { count(2); 5 } => None,
        };
        chosen_tx.send(got).unwrap();
    });
    // Bounded wait: nothing is ready, so the select is blocked...
    assert_eq!(chosen.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    tx.send(1).unwrap(); // ...until this
    assert_eq!(chosen.recv_timeout(PATIENCE), Ok(Some(1)));
    for (i, n) in evaluations.iter().enumerate() {
        assert_eq!(n.load(Ordering::SeqCst), 1, "operand {i}");
    }
    drop(full_rx);
}

/// The imbalance allowed between two arms over `n` fair coin flips: five
/// standard deviations (`sqrt(n) / 2` each), a false alarm once in ~3.5
/// million runs.
fn five_sigma(n: usize) -> usize {
    5 * (n as f64).sqrt() as usize / 2
}

#[test]
fn ready_arms_are_chosen_uniformly_at_random() {
    const TRIALS: usize = 10_000;
    let (tx_a, rx_a) = chan(1);
    let (tx_b, rx_b) = chan(1);
    tx_a.send(()).unwrap();
    tx_b.send(()).unwrap();
    let mut counts = [0usize; 2];
    for _ in 0..TRIALS {
        // Both arms are always ready: each refills its channel.
        select! {
            <-rx_a => {
                counts[0] += 1;
                tx_a.send(()).unwrap();
            }
            <-rx_b => {
                counts[1] += 1;
                tx_b.send(()).unwrap();
            }
        }
    }
    assert_eq!(counts[0] + counts[1], TRIALS);
    assert!(
        counts[0].abs_diff(TRIALS / 2) < five_sigma(TRIALS),
        "not uniform: {counts:?}"
    );
}

#[test]
fn only_ready_arms_are_chosen_and_uniformly() {
    const TRIALS: usize = 10_000;
    let (tx_a, rx_a) = chan(1);
    let (tx_b, rx_b) = chan(1);
    let (_idle_tx, idle) = chan::<()>(0); // open, never ready
    tx_a.send(()).unwrap();
    let mut counts = [0usize; 3];
    for _ in 0..TRIALS {
        // A ready receive and a ready send (rx_b is drained after it).
        select! {
            <-rx_a => {
                counts[0] += 1;
                tx_a.send(()).unwrap();
            }
            tx_b <- () => {
                counts[1] += 1;
                rx_b.recv().unwrap();
            }
            <-idle => counts[2] += 1,
        }
    }
    assert_eq!(counts[2], 0, "the arm that was never ready was chosen");
    assert!(
        counts[0].abs_diff(TRIALS / 2) < five_sigma(TRIALS),
        "not uniform: {counts:?}"
    );
}

#[goscope::test]
fn without_default_it_blocks_until_an_arm_is_ready() {
    let (tx, rx) = chan::<&str>(0);
    let (_idle_tx, idle) = chan::<&str>(0);
    let (chosen_tx, chosen) = chan(1);
    go!(move || {
        let got = select! {
            v = <-rx => v,
            v = <-idle => v,
        };
        chosen_tx.send(got)
    });
    // Bounded wait: no arm is ready, so the select must still be blocked.
    assert_eq!(chosen.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    tx.send("ready").unwrap();
    assert_eq!(chosen.recv_timeout(PATIENCE), Ok(Some("ready")));
}

#[goscope::test]
fn a_blocked_send_arm_completes_when_a_receiver_comes() {
    let (tx, rx) = chan::<i32>(0);
    let (chosen_tx, chosen) = chan(1);
    go!(move || {
        let sent = select! {
            tx <- 3 => true,
        };
        chosen_tx.send(sent)
    });
    // Bounded wait: nobody receives yet, so the send arm must be blocked.
    assert_eq!(chosen.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    assert_eq!(rx.recv(), Some(3));
    assert_eq!(chosen.recv_timeout(PATIENCE), Ok(true));
}

#[test]
fn default_is_chosen_when_no_arm_is_ready_and_never_blocks() {
    let (_tx, rx) = chan::<i32>(0);
    let (full_tx, _full_rx) = chan::<i32>(1);
    full_tx.send(0).unwrap();
    for _ in 0..100 {
        let got = select! {
            v = <-rx => v,
            full_tx <- 1 => Some(-1),
            default => None,
        };
        assert_eq!(got, None);
    }
}

#[test]
fn default_is_not_chosen_when_an_arm_is_ready() {
    let (tx, rx) = chan(1);
    for i in 0..100 {
        tx.send(i).unwrap();
        let got = select! {
            v = <-rx => v,
            default => None,
        };
        assert_eq!(got, Some(i));
    }
}

#[test]
fn receive_yields_none_once_closed_and_drained() {
    let (tx, rx) = chan(1);
    tx.send("last").unwrap();
    drop(tx);
    let recv = || select! { v = <-rx => v };
    assert_eq!(recv(), Some("last"));
    for _ in 0..3 {
        assert_eq!(recv(), None);
    }
    // A closed channel is ready: it wins over `default`.
    let got = select! {
        v = <-rx => v.is_none(),
        default => false,
    };
    assert!(got);
}

#[test]
fn receive_without_binding_discards_the_value() {
    let (tx, rx) = chan(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let arm = select! {
        <-rx => "received",
        default => "default",
    };
    assert_eq!(arm, "received");
    // The first value was consumed.
    assert_eq!(rx.try_recv(), Ok(2));

    // `_ = <-rx` is the same.
    tx.send(3).unwrap();
    select! {
        _ = <-rx => {}
    }
    assert!(rx.is_empty());
}

#[test]
fn send_arm_sends_its_value() {
    let (tx, rx) = chan(1);
    let sent = select! {
        tx <- 42 => true,
        default => false,
    };
    assert!(sent);
    assert_eq!(rx.try_recv(), Ok(42));
}

#[test]
fn after_times_a_select_out() {
    let (_tx, rx) = chan::<i32>(0);
    let start = Instant::now();
    let got = select! {
        v = <-rx => Err(v),
        t = <-after(Duration::from_millis(10)) => Ok(t),
    };
    let fired = got
        .expect("only the timeout can be ready")
        .expect("after sends");
    assert!(fired >= start + Duration::from_millis(10));
}

#[test]
fn never_is_never_chosen() {
    for _ in 0..100 {
        let got = select! {
            <-never::<i32>() => "never",
            default => "default",
        };
        assert_eq!(got, "default");
    }
    let got = select! {
        <-never::<i32>() => "never",
        <-after(Duration::from_millis(1)) => "timeout",
    };
    assert_eq!(got, "timeout");
}

#[test]
fn never_disables_an_arm() {
    // Go's idiom: set a channel to nil to turn its case off.
    let (tx, rx) = chan(1);
    tx.send(1).unwrap();
    let off = never();
    for enabled in [false, true] {
        let input = if enabled { &rx } else { &off };
        let got = select! {
            v = <-input => v,
            default => None,
        };
        assert_eq!(got, enabled.then_some(1));
    }
}

#[test]
fn select_is_an_expression_with_the_chosen_arms_value() {
    let (tx, rx) = chan(1);
    tx.send(21).unwrap();
    let doubled = select! {
        v = <-rx => v.map_or(0, |v| v * 2),
        default => -1,
    };
    assert_eq!(doubled, 42);
    let fallback: i32 = select! {
        v = <-rx => v.unwrap(),
        default => -1,
    };
    assert_eq!(fallback, -1);
}

#[test]
fn break_and_continue_act_on_the_enclosing_loop() {
    let (tx, rx) = chan(10);
    for i in 1..=10 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut odds = Vec::new();
    let last_even = loop {
        select! {
            v = <-rx => match v {
                Some(v) if v % 2 == 1 => {
                    odds.push(v);
                    continue;
                }
                Some(v) if v >= 6 => break v,
                _ => {}
            },
        }
    };
    assert_eq!(last_even, 6);
    assert_eq!(odds, [1, 3, 5]);

    // A labelled `break` leaves the outer loop.
    let mut rounds = 0;
    'outer: loop {
        rounds += 1;
        for _ in 0..3 {
            select! {
                v = <-rx => if v.is_none() { break 'outer; },
            }
        }
    }
    assert_eq!(rounds, 2, "7..=10 then the close");
}

fn first_even(rx: &Receiver<i32>) -> Option<i32> {
    loop {
        select! {
            v = <-rx => {
                let v = v?; // `?` returns from `first_even`
                if v % 2 == 0 {
                    return Some(v);
                }
            }
        }
    }
}

#[test]
fn return_and_question_mark_act_on_the_enclosing_fn() {
    let (tx, rx) = chan(3);
    for v in [1, 3, 4] {
        tx.send(v).unwrap();
    }
    assert_eq!(first_even(&rx), Some(4));
    tx.send(5).unwrap();
    drop(tx);
    assert_eq!(first_even(&rx), None, "`?` on the closed channel's None");
}

fn next_or_err(rx: &Receiver<i32>) -> Result<i32, String> {
    let v = select! {
        v = <-rx => v.ok_or("closed")?,
        <-after(PATIENCE) => return Err("timed out".into()),
    };
    Ok(v * 10)
}

#[test]
fn question_mark_on_a_result_in_an_arm() {
    let (tx, rx) = chan(1);
    tx.send(4).unwrap();
    assert_eq!(next_or_err(&rx), Ok(40));
    drop(tx);
    assert_eq!(next_or_err(&rx), Err("closed".into()));
}

/// A `select!` with one `<-rxs[i] => i` arm per listed index.
macro_rules! select_over {
    ($rxs:ident: $($i:tt)*) => {
        select! { $( <-$rxs[$i] => $i, )* }
    };
}

#[test]
fn forty_arms_work() {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..40).map(|_| chan::<()>(1)).unzip();
    let choose = || {
        select_over!(rxs:
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
            20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39)
    };
    // Only arm k is ready: arm k is chosen, whatever its position.
    for (k, tx) in txs.iter().enumerate() {
        tx.send(()).unwrap();
        assert_eq!(choose(), k);
    }
    // All are ready: every arm, the ones past 32 included, gets chosen.
    for tx in &txs {
        tx.send(()).unwrap();
    }
    let mut chosen = [0usize; 40];
    for _ in 0..4_000 {
        let k = choose();
        chosen[k] += 1;
        txs[k].send(()).unwrap();
    }
    assert!(
        chosen.iter().all(|&n| n > 0),
        "some arm never won: {chosen:?}"
    );
}

#[test]
fn seventy_arms_work() {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..70).map(|_| chan::<()>(1)).unzip();
    let choose = || {
        select_over!(rxs:
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
            20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39
            40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59
            60 61 62 63 64 65 66 67 68 69)
    };
    for (k, tx) in txs.iter().enumerate() {
        tx.send(()).unwrap();
        assert_eq!(choose(), k);
    }
}

#[test]
fn a_send_arm_without_receivers_is_never_chosen() {
    let (dead_tx, dead_rx) = chan::<i32>(0);
    drop(dead_rx);
    for _ in 0..100 {
        let got = select! {
            dead_tx <- 1 => "sent",
            default => "default",
        };
        assert_eq!(got, "default");
    }
    let got = select! {
        dead_tx <- 1 => "sent",
        <-after(Duration::from_millis(1)) => "timeout",
    };
    assert_eq!(got, "timeout");
}

#[goscope::test]
fn a_buffered_send_arm_without_receivers_is_ready_while_there_is_room() {
    // As a plain send: the buffer takes the value, whether or not anybody
    // is left to receive it (Go has no such thing as "no receiver").
    let (tx, rx) = chan::<i32>(1);
    drop(rx);
    let first = select! {
        tx <- 1 => "sent",
        default => "default",
    };
    let second = select! {
        tx <- 2 => "sent",
        default => "default",
    };
    assert_eq!((first, second), ("sent", "default"));
}

#[goscope::test]
fn a_send_arm_whose_receivers_leave_while_blocked_is_not_chosen() {
    let (tx, rx) = chan::<i32>(0);
    let (quit_tx, quit) = chan::<()>(0);
    let (chosen_tx, chosen) = chan(1);
    go!(move || {
        let arm = select! {
            tx <- 1 => "sent",
            <-quit => "quit",
        };
        chosen_tx.send(arm)
    });
    // Bounded wait: nothing is ready yet.
    assert_eq!(chosen.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    drop(rx);
    // Bounded wait: the send arm can never complete now, so it must not
    // be chosen; the select keeps waiting for `quit`.
    assert_eq!(chosen.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    quit_tx.send(()).unwrap();
    assert_eq!(chosen.recv_timeout(PATIENCE), Ok("quit"));
}

#[goscope::test]
fn select_loop_ping_pong() {
    // Go's classic: a producer, a quit channel, a consumer selecting on both.
    let (data_tx, data) = chan(0);
    let (quit_tx, quit) = chan::<()>(0);
    go! {
        for i in 0..5 {
            data_tx.send(i).unwrap();
        }
        quit_tx.send(()).unwrap();
    }
    let mut got = Vec::new();
    loop {
        select! {
            v = <-data => got.push(v.unwrap()),
            <-quit => break,
        }
    }
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

#[test]
fn a_block_body_needs_no_comma_before_the_next_arm() {
    // As in `match`, `=> { .. }` ends an arm, even when the next one starts
    // with Go's `<-` (which must not read as `{ .. } < -rx2`).
    let (tx, rx) = chan(1);
    let (_tx2, rx2) = chan::<i32>(1);
    let (out, _out_rx) = chan::<i32>(0);
    tx.send(1).unwrap();
    let got = select! {
        v = <-rx => {
            v
        }
        <-rx2 => {
            None
        }
        out <- 2 => {
            None
        }
        default => {
            None
        }
    };
    assert_eq!(got, Some(1));
}

/// SPEC's example, verbatim; `past` records whether the select! fell
/// through instead of returning.
fn spec_example(
    messages: &Receiver<i32>,
    done: &Receiver<()>,
    results: &Sender<i32>,
    past: &std::cell::Cell<bool>,
) {
    select! {
        msg = <-messages => println!("received {msg:?}"),   // msg: Option<T>
        <-done => return,                                   // receive, value dropped
        results <- 42 => println!("sent"),                  // send
        <-after(Duration::from_secs(1)) => println!("timeout"),
        default => println!("no activity"),                 // at most one
    }
    past.set(true);
}

#[test]
fn the_spec_example_runs() {
    let (_messages_tx, messages) = chan::<i32>(0);
    let (done_tx, done) = chan::<()>(0);
    let (results, _results_rx) = chan::<i32>(1);
    results.send(0).unwrap(); // full: the send arm is not ready
    let past = std::cell::Cell::new(false);
    // Nothing is ready: `default`, then past the select!.
    spec_example(&messages, &done, &results, &past);
    assert!(past.get());
    // `done` is closed, so ready: its arm returns from the function.
    past.set(false);
    drop(done_tx);
    spec_example(&messages, &done, &results, &past);
    assert!(!past.get());
}

#[test]
fn the_value_of_a_send_arm_that_lost_is_dropped_before_the_body_runs() {
    // Go evaluates a send value and drops it if its case is not chosen; a
    // guard-like value must not outlive the select into the chosen body.
    struct Permit<'a>(&'a AtomicBool);
    impl Drop for Permit<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let released = AtomicBool::new(false);
    let (ready_tx, ready) = chan::<i32>(1);
    let (full_tx, _full_rx) = chan::<Permit<'_>>(0); // nobody receives
    ready_tx.send(1).unwrap();
    let seen_in_body = select! {
        _ = <-ready => released.load(Ordering::SeqCst),
        full_tx <- Permit(&released) => unreachable!("nobody receives"),
    };
    assert!(seen_in_body, "the unsent value was still alive in the body");
}

// Refutable receive patterns: `Some(v) = <-rx`, `None = <-rx`, ...

/// Go by Example's `select` (gobyexample.com/select, CC BY 3.0), ported
/// line by line: each goroutine sends once and returns, which in goscope
/// closes its channel. With `msg1 = <-c1` the second round would take the
/// closed `c1` (`None`); `Some(msg1) = <-c1` turns that arm off instead, and
/// the round waits for `c2`, as Go does.
#[goscope::test]
fn go_by_example_select_receives_each_message_once() {
    let (c1_tx, c1) = chan::<&str>(0);
    let (c2_tx, c2) = chan::<&str>(0);
    go! {
        sleep(Duration::from_millis(100));
        c1_tx.send("one").unwrap();
    }
    go! {
        sleep(Duration::from_millis(200));
        c2_tx.send("two").unwrap();
    }
    let mut printed = Vec::new();
    for _ in 0..2 {
        select! {
            Some(msg1) = <-c1 => printed.push(format!("received {msg1}")),
            Some(msg2) = <-c2 => printed.push(format!("received {msg2}")),
        }
    }
    // Go prints them in this order because of the sleeps; a loaded machine
    // may wake the goroutines in the other order, so the order is not
    // asserted: each message exactly once is.
    printed.sort();
    assert_eq!(printed, ["received one", "received two"]);
}

#[goscope::test]
fn a_closed_channel_turns_its_arm_off_and_the_select_waits_for_the_others() {
    let (c1_tx, c1) = chan::<&str>(0);
    let (c2_tx, c2) = chan::<&str>(0);
    let (chosen_tx, chosen) = chan(1);
    drop(c1_tx); // c1 is closed: always ready, with `None`
    go!(move || {
        let got = select! {
            Some(msg) = <-c1 => msg,
            Some(msg) = <-c2 => msg,
        };
        chosen_tx.send(got)
    });
    // Bounded wait: the closed `c1` does not end the select; it must still
    // be waiting for `c2`.
    assert_eq!(chosen.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    c2_tx.send("two").unwrap();
    assert_eq!(chosen.recv_timeout(PATIENCE), Ok("two"));
}

/// Sends `values` on `tx` and returns, closing the channel.
fn produce(tx: Sender<i32>, values: std::ops::Range<i32>) {
    for v in values {
        tx.send(v).unwrap();
    }
}

#[goscope::test]
fn fan_in_drains_every_producer_then_times_out_without_spinning() {
    let (a_tx, a) = chan(0);
    let (b_tx, b) = chan(0);
    let (c_tx, c) = chan(0);
    // Different counts: the producers finish, and their channels close, at
    // different times while the loop below runs.
    go!(produce(a_tx, 0..3));
    go!(produce(b_tx, 10..20));
    go!(produce(c_tx, 100..101));
    let mut got = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        select! {
            Some(v) = <-a => got.push(v),
            Some(v) = <-b => got.push(v),
            Some(v) = <-c => got.push(v),
            // Only reached once all three are closed (their arms are off):
            // the producers send back to back, far faster than this.
            <-after(Duration::from_secs(2)) => break,
        }
    }
    got.sort_unstable();
    let expected: Vec<i32> = (0..3).chain(10..20).chain(100..101).collect();
    assert_eq!(got, expected);
    // One round per value and one for the timeout: a closed channel never
    // makes a round of its own (with `v = <-a` they would spin for 2 s).
    assert_eq!(rounds, expected.len() + 1);
}

#[goscope::test]
fn fan_in_drains_every_producer_then_takes_default() {
    let (a_tx, a) = chan(3);
    let (b_tx, b) = chan(10);
    let (c_tx, c) = chan(1);
    let wg = WaitGroup::new();
    wg.add(3);
    for (tx, values) in [(a_tx, 0..3), (b_tx, 10..20), (c_tx, 100..101)] {
        let wg = &wg;
        go! {
            defer!(wg.done());
            produce(tx, values);
        }
    }
    wg.wait(); // every channel holds its values and is closed
    let mut got = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        select! {
            Some(v) = <-a => got.push(v),
            Some(v) = <-b => got.push(v),
            Some(v) = <-c => got.push(v),
            default => break,
        }
    }
    got.sort_unstable();
    let expected: Vec<i32> = (0..3).chain(10..20).chain(100..101).collect();
    assert_eq!(got, expected);
    assert_eq!(rounds, expected.len() + 1, "a closed channel made a round");
}

#[test]
fn a_none_arm_fires_only_on_close() {
    let (data_tx, data) = chan::<i32>(10);
    let (done_tx, done) = chan::<()>(10);
    for round in 0..50 {
        // A value on `done` does not match `None`: it turns the arm off
        // (consumed) and the select takes the data.
        done_tx.send(()).unwrap();
        data_tx.send(round).unwrap();
        let got = select! {
            None = <-done => None,
            v = <-data => v,
        };
        assert_eq!(got, Some(round));
        // Whichever arm was polled first, `done` holds nothing for the next
        // round: drain it if the data arm won before `done` was looked at.
        let _ = done.try_recv();
    }
    drop(done_tx);
    let got = select! {
        None = <-done => "closed",
        v = <-data => unreachable!("no data: {v:?}"),
    };
    assert_eq!(got, "closed");
}

#[test]
fn a_value_that_does_not_match_is_consumed() {
    #[derive(Debug, PartialEq)]
    enum Msg {
        Work(i32),
        Quit,
    }
    let (tx, rx) = chan(2);
    tx.send(Msg::Work(1)).unwrap();
    tx.send(Msg::Quit).unwrap();
    // `Work(1)` is received, refused by the pattern and dropped; the arm is
    // off for the rest of this select, which takes `default`.
    let got = select! {
        Some(Msg::Quit) = <-rx => "quit",
        default => "default",
    };
    assert_eq!(got, "default");
    // A new select! starts with every arm on: `Quit` is next.
    let got = select! {
        Some(Msg::Quit) = <-rx => "quit",
        default => "default",
    };
    assert_eq!(got, "quit");
    assert_eq!(rx.try_recv(), Err(goscope::TryRecvError::Empty));
}

#[test]
fn a_refutable_arm_with_default_never_takes_a_closed_channel() {
    let (tx, rx) = chan::<i32>(1);
    tx.send(7).unwrap();
    drop(tx);
    let take = || {
        select! {
            Some(v) = <-rx => Some(v),
            default => None,
        }
    };
    assert_eq!(take(), Some(7));
    for _ in 0..10 {
        assert_eq!(take(), None, "the closed channel's arm was chosen");
    }
}

#[test]
fn refutable_arms_bind_like_let() {
    let (tx, rx) = chan::<(String, i32)>(2);
    let (pair_tx, pairs) = chan::<Option<i32>>(2);
    tx.send(("a".into(), 1)).unwrap();
    pair_tx.send(Some(2)).unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        select! {
            Some((mut s, n)) = <-rx => {
                s.push('!'); // `mut` on a binding works as in `let`
                seen.push(format!("{s}{n}"));
            }
            Some(Some(n @ 1..=5)) | Some(Some(n @ 10..)) = <-pairs => seen.push(n.to_string()),
        }
    }
    seen.sort();
    assert_eq!(seen, ["2", "a!1"]);
}

#[test]
fn control_flow_in_refutable_arms_acts_on_the_enclosing_code() {
    let (tx, rx) = chan(10);
    for i in 1..=6 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut odds = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        select! {
            Some(v) = <-rx => {
                if v % 2 == 1 {
                    odds.push(v);
                    continue;
                }
                if v == 6 {
                    break;
                }
            }
        }
    }
    assert_eq!(odds, [1, 3, 5]);
    assert_eq!(rounds, 6);

    fn first_above(rx: &Receiver<i32>, floor: i32) -> Result<i32, &'static str> {
        loop {
            select! {
                Some(v) = <-rx => if v > floor { return Ok(v) },
                <-after(PATIENCE) => Err("timed out")?,
            }
        }
    }
    let (tx, rx) = chan(3);
    for v in [1, 5, 9] {
        tx.send(v).unwrap();
    }
    assert_eq!(first_above(&rx, 4), Ok(5));
}
