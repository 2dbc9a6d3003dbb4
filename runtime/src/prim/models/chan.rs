//! The channel core (`chan/core.rs`, Go's `hchan`): its lock, state cell,
//! counts and wait records are loom's here, so every interleaving of the
//! operations below is explored.
//!
//! The models drive the core as `chan/channel.rs` and `chan/select.rs` do
//! (try under the lock, else queue an entry and unlock, wait for a partner
//! to complete the wait record, take the other entries back), with one
//! difference: the wait is loom's park loop rather than the goroutine
//! parking path (`sched/park.rs`), which has nothing to model-check here
//! (its last step is the same loop on std's park). A lost wake-up shows as
//! a loom deadlock; a value handed over twice or lost, as a failed
//! assertion; an unguarded state access, as a loom causality error.
//!
//! A `select!` here polls its arms in a fixed order (the real one shuffles
//! them): the order decides which ready arm wins, not whether one commits
//! atomically.

use std::sync::Arc;

use ::loom::thread;

use super::model;
use crate::chan::core::{Chan, Done, Entry, Flavor, Sel, TryRecv, TrySend, Wakes};
use crate::prim;

/// A new unbuffered channel (`make(chan u32)`), one sender and one receiver.
fn unbuffered() -> Arc<Chan<u32>> {
    Arc::new(Chan::new(0, Flavor::Chan))
}

/// Two unbuffered channels in one allocation, so that their address order
/// (a `select!`'s lock order) is the same in every execution: loom replays
/// interleavings and needs the model to be deterministic.
fn two_unbuffered() -> Arc<[Chan<u32>; 2]> {
    Arc::new([Chan::new(0, Flavor::Chan), Chan::new(0, Flavor::Chan)])
}

/// Waits until a partner completes `sel`: the last loop of
/// `park::park_until`, on loom's park.
fn wait(sel: &Sel) -> Done {
    loop {
        if let Some(done) = sel.done() {
            return done;
        }
        prim::park();
    }
}

/// The waiter takes its entry's value, once its wait has ended (every
/// caller here has seen `done` or its own `cancel`).
fn take(entry: &Entry<u32>) -> Option<u32> {
    // SAFETY: the model's thread that queued `entry` calls this after its
    // wait ended; loom checks that no partner's access overlaps.
    unsafe { entry.take() }
}

/// A send without waiting (a `select!` with `default`).
fn try_send(chan: &Chan<u32>, value: u32) -> TrySend<u32> {
    let mut wakes = Wakes::default();
    let guard = chan.locked();
    // SAFETY: we hold the channel's lock, and no state reference.
    let sent = unsafe { chan.try_send_locked(value, &mut wakes) };
    drop(guard);
    drop(wakes);
    sent
}

/// A receive without waiting (a `select!` with `default`).
fn try_recv(chan: &Chan<u32>) -> TryRecv<u32> {
    let mut wakes = Wakes::default();
    let guard = chan.locked();
    // SAFETY: as in `try_send`.
    let received = unsafe { chan.try_recv_locked(&mut wakes) };
    drop(guard);
    drop(wakes);
    received
}

/// Queues a plain send of `value` (the channel has no waiting receiver):
/// the first half of `Sender::send` when it must wait.
fn queue_send(chan: &Chan<u32>, value: u32) -> Arc<Entry<u32>> {
    let guard = chan.locked();
    // SAFETY: as in `try_send`.
    let entry = unsafe { chan.enqueue_send_locked(None, value) };
    drop(guard);
    entry
}

/// Queues a plain receive (the channel has nothing to take).
fn queue_recv(chan: &Chan<u32>) -> Arc<Entry<u32>> {
    let guard = chan.locked();
    // SAFETY: as in `try_send`.
    let entry = unsafe { chan.enqueue_recv_locked(None) };
    drop(guard);
    entry
}

/// `Sender::send`: hands the value to a waiting receiver, else queues it
/// and waits. `Err` gives the value back: every receiver is gone.
fn send(chan: &Chan<u32>, value: u32) -> Result<(), u32> {
    let mut wakes = Wakes::default();
    let guard = chan.locked();
    // SAFETY: as in `try_send`.
    let value = match unsafe { chan.try_send_locked(value, &mut wakes) } {
        TrySend::Sent => return Ok(()),
        TrySend::Abandoned(value) => return Err(value),
        TrySend::Full(value) => value,
    };
    // SAFETY: as above.
    let entry = unsafe { chan.enqueue_send_locked(None, value) };
    drop(guard);
    drop(wakes);
    match wait(entry.sel()) {
        Done { closed: false, .. } => {
            assert!(take(&entry).is_none(), "a completed send's value is gone");
            Ok(())
        }
        Done { closed: true, .. } => Err(take(&entry).expect("a failed send keeps its value")),
    }
}

/// `Receiver::recv`: takes from a waiting sender, else queues and waits.
/// `None`: the channel is closed.
fn recv(chan: &Chan<u32>) -> Option<u32> {
    let mut wakes = Wakes::default();
    let guard = chan.locked();
    // SAFETY: as in `try_send`.
    match unsafe { chan.try_recv_locked(&mut wakes) } {
        TryRecv::Value(value) => return Some(value),
        TryRecv::Closed => return None,
        TryRecv::Empty => {}
    }
    // SAFETY: as above.
    let entry = unsafe { chan.enqueue_recv_locked(None) };
    drop(guard);
    drop(wakes);
    match wait(entry.sel()) {
        Done { closed: false, .. } => Some(take(&entry).expect("a completed receive has a value")),
        Done { closed: true, .. } => None,
    }
}

/// A `select!` receiving from either channel, as far as it goes without
/// waiting (`select::select`): both locks in address order, poll each arm,
/// else queue a receive on both with one wait record. `Ok`: an arm was
/// ready (its case and what it received).
#[allow(clippy::type_complexity)]
fn select_queue(
    chans: [&Chan<u32>; 2],
) -> Result<(usize, Option<u32>), (Arc<Sel>, [Arc<Entry<u32>>; 2])> {
    let mut wakes = Wakes::default();
    let mut order = [0, 1];
    order.sort_by_key(|&i| std::ptr::from_ref(chans[i].raw_lock()) as usize);
    let guards: Vec<_> = order.iter().map(|&i| chans[i].raw_lock().lock()).collect();
    for (case, chan) in chans.iter().enumerate() {
        // SAFETY: we hold every arm's lock, and no state reference.
        match unsafe { chan.try_recv_locked(&mut wakes) } {
            TryRecv::Value(value) => return Ok((case, Some(value))),
            TryRecv::Closed => return Ok((case, None)),
            TryRecv::Empty => {}
        }
    }
    let sel = Sel::new(None);
    // SAFETY: as above.
    let entries = [0, 1].map(|case| unsafe { chans[case].enqueue_recv_locked(Some((&sel, case))) });
    drop(guards);
    drop(wakes);
    Err((sel, entries))
}

/// The rest of a queued `select!` (`select::wait_for_arm`): waits for one
/// partner, takes the other entry back, returns the arm and its value.
fn select_wait(
    chans: [&Chan<u32>; 2],
    sel: &Sel,
    entries: &[Arc<Entry<u32>>; 2],
) -> (usize, Option<u32>) {
    let done = wait(sel);
    for (case, chan) in chans.iter().enumerate() {
        if case != done.case {
            chan.dequeue(&entries[case]);
            assert!(take(&entries[case]).is_none(), "a losing arm got a value");
        }
    }
    let value = (!done.closed).then(|| take(&entries[done.case]).expect("the arm's value"));
    (done.case, value)
}

/// A `select!` receiving from either channel, waiting if it must.
fn select(chans: [&Chan<u32>; 2]) -> (usize, Option<u32>) {
    match select_queue(chans) {
        Ok(ready) => ready,
        Err((sel, entries)) => select_wait(chans, &sel, &entries),
    }
}

/// (a) The unbuffered rendezvous: the value arrives exactly once and both
/// sides return, whoever comes first.
#[test]
fn unbuffered_send_meets_receive_once() {
    model(|| {
        let chan = unbuffered();
        let sender = {
            let chan = Arc::clone(&chan);
            thread::spawn(move || send(&chan, 7))
        };
        assert_eq!(recv(&chan), Some(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert!(matches!(try_recv(&chan), TryRecv::Empty));
    });
}

/// (b) A `select!` queued on two channels, and two partners sending
/// without waiting, one on each: exactly one completes it, and the other
/// finds the claim taken (or the entry gone) and keeps its value.
#[test]
fn a_queued_select_is_completed_by_exactly_one_of_two_partners() {
    model(|| {
        let chans = two_unbuffered();
        let (sel, entries) = select_queue([&chans[0], &chans[1]]).expect_err("nothing is ready");
        let partners: Vec<_> = (0..2)
            .map(|i| {
                let chans = Arc::clone(&chans);
                thread::spawn(move || match try_send(&chans[i], 10 + i as u32) {
                    TrySend::Sent => None,
                    TrySend::Full(value) | TrySend::Abandoned(value) => Some(value),
                })
            })
            .collect();
        let (case, value) = select_wait([&chans[0], &chans[1]], &sel, &entries);
        assert_eq!(value, Some(10 + case as u32));
        let kept: Vec<_> = partners.into_iter().map(|p| p.join().unwrap()).collect();
        assert_eq!(kept[case], None, "the winner's value was sent");
        assert_eq!(
            kept[1 - case],
            Some(11 - case as u32),
            "the loser keeps its value"
        );
        for chan in chans.iter() {
            assert!(matches!(try_recv(chan), TryRecv::Empty));
        }
    });
}

/// (b) The whole race: a `select!` over two channels while a partner on
/// each sends and waits. The select takes exactly one value; the other
/// sender stays queued with its value until a plain receive takes it.
#[test]
fn a_select_racing_two_waiting_senders_takes_exactly_one() {
    model(|| {
        let chans = two_unbuffered();
        let senders: Vec<_> = (0..2)
            .map(|i| {
                let chans = Arc::clone(&chans);
                thread::spawn(move || send(&chans[i], 10 + i as u32))
            })
            .collect();
        let (case, value) = select([&chans[0], &chans[1]]);
        assert_eq!(value, Some(10 + case as u32));
        assert_eq!(recv(&chans[1 - case]), Some(11 - case as u32));
        for sender in senders {
            assert_eq!(sender.join().unwrap(), Ok(()));
        }
    });
}

/// (c) A queued send that times out while a receiver arrives: either the
/// receiver took the value or the sender has it back, never both, never
/// neither.
#[test]
fn a_send_timing_out_against_a_receive_hands_over_or_keeps_its_value() {
    model(|| {
        let chan = unbuffered();
        let entry = queue_send(&chan, 5);
        let receiver = {
            let chan = Arc::clone(&chan);
            thread::spawn(move || match try_recv(&chan) {
                TryRecv::Value(value) => Some(value),
                TryRecv::Empty => None,
                TryRecv::Closed => panic!("nobody closed the channel"),
            })
        };
        // The deadline passes: `channel::finish_wait`.
        let back = match entry.sel().done().or_else(|| entry.sel().cancel()) {
            Some(done) => {
                assert!(!done.closed);
                take(&entry)
            }
            None => {
                chan.dequeue(&entry);
                take(&entry)
            }
        };
        let received = receiver.join().unwrap();
        assert!(
            matches!((back, received), (Some(5), None) | (None, Some(5))),
            "back {back:?}, received {received:?}"
        );
        assert!(matches!(try_recv(&chan), TryRecv::Empty));
    });
}

/// (c) A queued receive that times out while a sender arrives: either it
/// received the value or the sender has it back.
#[test]
fn a_receive_timing_out_against_a_send_gets_the_value_or_leaves_it() {
    model(|| {
        let chan = unbuffered();
        let entry = queue_recv(&chan);
        let sender = {
            let chan = Arc::clone(&chan);
            thread::spawn(move || match try_send(&chan, 5) {
                TrySend::Sent => None,
                TrySend::Full(value) => Some(value),
                TrySend::Abandoned(_) => panic!("the receiver is still there"),
            })
        };
        let received = match entry.sel().done().or_else(|| entry.sel().cancel()) {
            Some(done) => {
                assert!(!done.closed);
                Some(take(&entry).expect("a completed receive has a value"))
            }
            None => {
                chan.dequeue(&entry);
                assert!(take(&entry).is_none(), "a cancelled receive got a value");
                None
            }
        };
        let kept = sender.join().unwrap();
        assert!(
            matches!((received, kept), (Some(5), None) | (None, Some(5))),
            "received {received:?}, kept {kept:?}"
        );
    });
}

/// (d) Closing (the last sender dropped) racing a receive: queued or not,
/// the receive ends with "closed"; it never waits forever.
#[test]
fn close_racing_a_receive_ends_it_as_closed() {
    model(|| {
        let chan = unbuffered();
        let receiver = {
            let chan = Arc::clone(&chan);
            thread::spawn(move || recv(&chan))
        };
        chan.drop_sender();
        assert_eq!(receiver.join().unwrap(), None);
    });
}

/// (d) A send and then close, racing two receives: the first gets the
/// value, the second "closed".
#[test]
fn a_value_then_close_reach_a_receiver_in_order() {
    model(|| {
        let chan = unbuffered();
        let sender = {
            let chan = Arc::clone(&chan);
            thread::spawn(move || {
                let sent = send(&chan, 1);
                chan.drop_sender();
                sent
            })
        };
        assert_eq!(recv(&chan), Some(1));
        assert_eq!(recv(&chan), None);
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

/// (d) Close racing a `select!` queued on two channels: the closed
/// channel's arm completes as closed, the other arm is taken back.
#[test]
fn close_racing_a_select_completes_the_closed_arm() {
    model(|| {
        let chans = two_unbuffered();
        let closer = {
            let chans = Arc::clone(&chans);
            thread::spawn(move || chans[1].drop_sender())
        };
        assert_eq!(select([&chans[0], &chans[1]]), (1, None));
        closer.join().unwrap();
        assert!(matches!(try_send(&chans[0], 3), TrySend::Full(3)));
    });
}

/// The last receiver dropped while a plain send waits: the send fails and
/// gives its value back, queued or not.
#[test]
fn the_last_receiver_leaving_gives_a_waiting_send_its_value_back() {
    model(|| {
        let chan = unbuffered();
        let sender = {
            let chan = Arc::clone(&chan);
            thread::spawn(move || send(&chan, 3))
        };
        chan.drop_receiver();
        assert_eq!(sender.join().unwrap(), Err(3));
    });
}
