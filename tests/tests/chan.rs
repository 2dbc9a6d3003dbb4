//! Channels: `chan`, `Sender`, `Receiver`, `after`, `tick` and `never`, as
//! SPEC.md's "Runtime" section promises them.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::time::Instant;

use goscope::prelude::*;
use goscope::{RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};
use tests::{BLOCKED, PATIENCE};

#[goscope::test]
fn unbuffered_send_completes_only_when_received() {
    let (tx, rx) = chan::<i32>(0);
    let (sent_tx, sent) = chan::<()>(1);
    go! {
        tx.send(7).unwrap();
        sent_tx.send(()).unwrap();
    }
    // Bounded wait: nobody has received, so the send must still be blocked.
    assert_eq!(sent.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    assert_eq!(rx.recv(), Some(7));
    assert_eq!(sent.recv_timeout(PATIENCE), Ok(()));
}

#[test]
fn unbuffered_channel_has_no_room_without_a_receiver() {
    let (tx, rx) = chan::<i32>(0);
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.capacity(), 0);
    assert!(tx.is_full(), "an unbuffered channel is always full");
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[goscope::test]
fn buffered_send_blocks_only_when_full() {
    let (tx, rx) = chan::<i32>(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let (sent_tx, sent) = chan::<()>(1);
    go! {
        tx.send(3).unwrap();
        sent_tx.send(()).unwrap();
    }
    // Bounded wait: the buffer is full, so the third send must be blocked.
    assert_eq!(sent.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    assert_eq!(rx.recv(), Some(1));
    assert_eq!(sent.recv_timeout(PATIENCE), Ok(()));
    assert_eq!(rx.recv(), Some(2));
    assert_eq!(rx.recv(), Some(3));
}

#[test]
fn buffered_channel_is_fifo() {
    let (tx, rx) = chan(10);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    drop(tx);
    assert_eq!(rx.iter().collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
}

#[test]
fn len_capacity_is_empty_is_full() {
    let (tx, rx) = chan::<&str>(2);
    assert_eq!((tx.len(), rx.len()), (0, 0));
    assert_eq!((tx.capacity(), rx.capacity()), (2, 2));
    assert!(tx.is_empty() && rx.is_empty());
    assert!(!tx.is_full());

    tx.send("a").unwrap();
    assert_eq!((tx.len(), rx.len()), (1, 1));
    assert!(!tx.is_empty() && !rx.is_empty());
    assert!(!tx.is_full());

    tx.send("b").unwrap();
    assert_eq!((tx.len(), rx.len()), (2, 2));
    assert!(tx.is_full());
    assert_eq!((tx.capacity(), rx.capacity()), (2, 2));

    rx.recv();
    assert_eq!(rx.len(), 1);
    assert!(!tx.is_full());
}

#[test]
fn closed_and_drained_gives_none_forever() {
    let (tx, rx) = chan(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    drop(tx); // Go's close(ch): values sent before are still received
    assert_eq!(rx.recv(), Some(1));
    assert_eq!(rx.recv(), Some(2));
    for _ in 0..3 {
        assert_eq!(rx.recv(), None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(rx.recv_timeout(PATIENCE), Err(RecvTimeoutError::Closed));
    }
}

#[test]
fn dropping_the_last_sender_wakes_a_blocked_receiver() {
    let (tx, rx) = chan::<i32>(0);
    let (got_tx, got) = chan(1);
    go!(move || got_tx.send(rx.recv()));
    drop(tx);
    assert_eq!(got.recv_timeout(PATIENCE), Ok(None));
}

#[goscope::test]
fn for_over_a_receiver_reference_ends_at_close() {
    let (tx, rx) = chan(0);
    go! {
        for i in 1..=3 {
            tx.send(i).unwrap();
        }
        // `tx` is dropped here: the range below ends.
    }
    let mut got = Vec::new();
    for x in &rx {
        got.push(x);
    }
    assert_eq!(got, [1, 2, 3]);
    // The loop borrowed `rx`: it is still usable, and closed.
    assert_eq!(rx.recv(), None);
}

#[goscope::test]
fn iter_ends_at_close() {
    let (tx, rx) = chan(1);
    go! {
        for i in 1..=4 {
            tx.send(i).unwrap();
        }
    }
    assert_eq!(rx.iter().sum::<i32>(), 10);
}

#[goscope::test]
fn into_iter_consumes_the_receiver_and_ends_at_close() {
    let (tx, rx) = chan(1);
    go! {
        for s in ["a", "b"] {
            tx.send(s.to_string()).unwrap();
        }
    }
    let mut got = Vec::new();
    for s in rx {
        got.push(s);
    }
    assert_eq!(got, ["a", "b"]);
}

#[test]
fn try_iter_takes_only_what_is_ready() {
    let (tx, rx) = chan(3);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    // The channel is still open: a blocking iterator would wait here.
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn try_send_hands_the_value_back() {
    let (tx, rx) = chan(1);
    assert_eq!(tx.try_send(String::from("first")), Ok(()));
    let err = tx.try_send(String::from("full")).unwrap_err();
    assert!(matches!(&err, TrySendError::Full(v) if v == "full"));
    assert_eq!(err.into_inner(), "full");
    drop(rx);
    let err = tx.try_send(String::from("gone")).unwrap_err();
    assert!(matches!(&err, TrySendError::Disconnected(v) if v == "gone"));
    assert_eq!(err.into_inner(), "gone");
}

#[test]
fn try_recv_reports_empty_then_closed() {
    let (tx, rx) = chan::<i32>(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_timeout_hands_the_value_back() {
    let (tx, rx) = chan(1);
    tx.send(vec![1]).unwrap();
    let err = tx.send_timeout(vec![2], BLOCKED).unwrap_err();
    assert!(err.is_timeout());
    assert!(matches!(&err, SendTimeoutError::Timeout(v) if v == &[2]));
    assert_eq!(err.into_inner(), [2]);
    drop(rx);
    let err = tx.send_timeout(vec![3], PATIENCE).unwrap_err();
    assert!(!err.is_timeout());
    assert!(matches!(&err, SendTimeoutError::Disconnected(v) if v == &[3]));
    assert_eq!(err.into_inner(), [3]);
}

#[goscope::test]
fn send_timeout_succeeds_when_received_in_time() {
    let (tx, rx) = chan(0);
    go!(move || assert_eq!(rx.recv(), Some(9)));
    assert_eq!(tx.send_timeout(9, PATIENCE), Ok(()));
}

#[test]
fn recv_timeout_reports_timeout_then_closed() {
    let (tx, rx) = chan::<i32>(1);
    assert_eq!(rx.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    tx.send(1).unwrap();
    assert_eq!(rx.recv_timeout(BLOCKED), Ok(1));
    drop(tx);
    assert_eq!(rx.recv_timeout(PATIENCE), Err(RecvTimeoutError::Closed));
}

#[test]
fn send_errs_with_the_value_only_when_every_receiver_is_gone_and_it_would_wait() {
    let (tx, rx) = chan(2);
    let rx2 = rx.clone();
    drop(rx);
    // One receiver is left: the send succeeds.
    assert_eq!(tx.send(String::from("kept")), Ok(()));
    drop(rx2);
    // Nobody is left to receive, but there is room: as in Go, the send
    // completes (Go's "no select needed, since errc is buffered").
    assert_eq!(tx.send(String::from("buffered")), Ok(()));
    // Full, and nobody could ever receive: the send fails at once, value
    // handed back, instead of blocking forever.
    let err = tx
        .send(String::from("lost?"))
        .map_err(SendError::into_inner);
    assert_eq!(err, Err(String::from("lost?")));
    assert_eq!(
        tx.send(String::from("again")),
        Err(SendError(String::from("again")))
    );
}

#[test]
fn an_unbuffered_send_errs_once_every_receiver_is_gone() {
    let (tx, rx) = chan::<u8>(0);
    drop(rx);
    assert_eq!(tx.send(1), Err(SendError(1)));
}

#[test]
fn a_blocked_send_gets_its_value_back_when_the_last_receiver_goes() {
    let (tx, rx) = chan::<String>(0);
    let (started_tx, started) = chan::<()>(0);
    let sender = std::thread::spawn(move || {
        started_tx.send(()).unwrap();
        tx.send(String::from("orphan"))
    });
    started.recv();
    // The sender is queued (or about to be): dropping the last receiver
    // hands its value back either way.
    drop(rx);
    assert_eq!(
        sender.join().unwrap(),
        Err(SendError(String::from("orphan")))
    );
}

#[test]
// A channel end's hash is its channel's address, which never changes: the
// state behind it (which clippy sees) is not part of the key.
#[allow(clippy::mutable_key_type)]
fn channel_ends_compare_and_hash_by_channel() {
    use std::collections::HashSet;
    let (a_tx, a_rx) = chan::<i32>(1);
    let (b_tx, b_rx) = chan::<i32>(1);
    assert_eq!(a_tx, a_tx.clone());
    assert_ne!(a_tx, b_tx);
    assert_eq!(a_rx, a_rx.clone());
    assert_ne!(a_rx, b_rx);
    let clients: HashSet<Sender<i32>> = [a_tx.clone(), b_tx.clone(), a_tx].into_iter().collect();
    assert_eq!(clients.len(), 2);
    assert!(clients.contains(&b_tx));
}

#[goscope::test]
fn send_on_a_full_channel_fails_when_the_receivers_go() {
    let (tx, rx) = chan(1);
    tx.send(1).unwrap();
    let (result_tx, result) = chan(1);
    go!(move || result_tx.send(tx.send(2)));
    // Bounded wait: the buffer is full, so the send is blocked...
    assert_eq!(result.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    // ...until nobody can receive any more: then it fails with its value.
    drop(rx);
    assert_eq!(result.recv_timeout(PATIENCE), Ok(Err(SendError(2))));
}

#[goscope::test]
fn cloned_senders_keep_the_channel_open() {
    let (tx, rx) = chan(0);
    let tx2 = tx.clone();
    drop(tx);
    go!(move || tx2.send("from the clone"));
    assert_eq!(rx.recv(), Some("from the clone"));
    // The clone was the last sender; the goroutine dropped it.
    assert_eq!(rx.recv(), None);
}

#[goscope::test]
fn cloned_receivers_each_get_distinct_values() {
    let (tx, rx) = chan(0);
    let (out_tx, out) = chan(100);
    let wg = WaitGroup::new();
    for _ in 0..4 {
        // `go! { .. }` is a `move` closure: it gets its own ends and a
        // reference to the WaitGroup.
        let (rx, out_tx, wg) = (rx.clone(), out_tx.clone(), &wg);
        wg.add(1);
        go! {
            defer!(wg.done());
            for v in &rx {
                out_tx.send(v).unwrap();
            }
        }
    }
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    drop(tx);
    wg.wait();
    drop(out_tx);
    let mut got: Vec<i32> = out.iter().collect();
    got.sort_unstable();
    assert_eq!(got, (0..100).collect::<Vec<_>>(), "each value exactly once");
}

#[test]
fn after_delivers_one_instant_no_earlier_than_asked() {
    let start = Instant::now();
    let timer = after(Duration::from_millis(10));
    let fired = timer.recv_timeout(PATIENCE).expect("after fires");
    assert!(fired >= start + Duration::from_millis(10));
    // Go's time.After sends once. Bounded wait: no second value comes.
    assert_eq!(timer.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
}

#[test]
fn tick_delivers_again_and_again() {
    let ticker = tick(Duration::from_millis(1));
    let mut last = ticker.recv_timeout(PATIENCE).expect("first tick");
    for _ in 0..3 {
        let next = ticker.recv_timeout(PATIENCE).expect("next tick");
        assert!(next > last, "ticks come in order");
        last = next;
    }
}

#[test]
fn never_is_never_ready() {
    let rx = never::<i32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // Bounded wait for "never": a nil channel neither delivers nor closes.
    assert_eq!(rx.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
    assert!(rx.is_empty());
}

fn assert_send_sync<T: Send + Sync>() {}
fn assert_clone<T: Clone>() {}

#[test]
fn both_ends_are_clone_send_and_sync_when_t_is_send() {
    assert_send_sync::<Sender<i32>>();
    assert_send_sync::<Receiver<i32>>();
    // `Cell` is `Send` but not `Sync`: the ends are still both.
    assert_send_sync::<Sender<Cell<u8>>>();
    assert_send_sync::<Receiver<Cell<u8>>>();
    assert_send_sync::<WaitGroup>();
    // `Clone` does not need `T: Clone`.
    struct NotClone;
    assert_clone::<Sender<NotClone>>();
    assert_clone::<Receiver<NotClone>>();
}

#[goscope::test]
fn channels_of_channels() {
    // Go's request/response idiom: send a reply channel along.
    let (requests_tx, requests) = chan::<(i32, Sender<i32>)>(0);
    go!(move || {
        for (n, reply) in &requests {
            reply.send(n * n).unwrap();
        }
    });
    let mut squares = BTreeSet::new();
    for n in 1..=3 {
        let (reply_tx, reply) = chan(0);
        requests_tx.send((n, reply_tx)).unwrap();
        squares.insert(reply.recv().unwrap());
    }
    // Close the requests channel, or the server (and so the scope) would
    // wait forever: locals are dropped only after the scope has joined.
    drop(requests_tx);
    assert_eq!(squares, BTreeSet::from([1, 4, 9]));
}

#[test]
fn the_prelude_names_what_programs_use() {
    // Every name here comes from `use goscope::prelude::*;` alone.
    let _: fn(usize) -> (Sender<u8>, Receiver<u8>) = chan::<u8>;
    let _: fn(Duration) -> Receiver<Instant> = after;
    let _: fn(Duration) -> Receiver<Instant> = tick;
    let _: fn() -> Receiver<u8> = never::<u8>;
    let _: fn(Duration) = sleep;
    let _: fn() -> WaitGroup = WaitGroup::new;
}
