//! Stress and fairness tests after the ideas of `src/runtime/chan_test.go`
//! in golang/go (BSD-style licence, Copyright The Go Authors), written anew
//! for goscope: a select stress test, a multi-consumer test, pseudo-random
//! sends, self-selects, exactly-once evaluation of `select!` operands,
//! `select`'s one-moment view of its channels, and one channel in two cases
//! of a `select`.
//!
//! Go's `runtime.Gosched()` is `std::thread::yield_now()`; Go's nil channel
//! is [`never`] for receiving and [`nil_sender`] for sending.

use std::cell::Cell;
use std::collections::HashMap;
use std::thread;

use goscope::prelude::*;

use crate::{always_blocks, nil_sender};

/// Marks which goroutine sent a value: a plain sender or the select sender.
const PLAIN: u64 = 1;
const SELECTED: u64 = 2;

/// A value that names its sender, its channel and its round, so every
/// value of the stress test is distinct.
fn tag(source: u64, k: usize, i: u64) -> u64 {
    (source << 48) | ((k as u64) << 40) | i
}

/// Rounds per channel and sender kind in the select stress test (Go: 1e5).
const STRESS_N: u64 = 5_000;

/// Sends `n` tagged values on `c` with plain sends.
fn plain_sender(c: &Sender<u64>, k: usize, n: u64) {
    for i in 0..n {
        c.send(tag(PLAIN, k, i)).unwrap();
    }
}

/// Receives `n` values from `c` with plain receives; hands them to `got`.
fn plain_receiver(c: &Receiver<u64>, n: u64, got: Sender<Vec<u64>>) {
    let values = (0..n).map(|_| c.recv().unwrap()).collect();
    got.send(values).unwrap();
}

/// Sends `n` tagged values on each channel, all through one 4-case
/// `select!`; a channel that has had its `n` is disabled (Go: `c1[k] = nil`).
fn select_sender(cs: &[Sender<u64>; 4], n: u64) {
    let nil = nil_sender();
    let mut c: [&Sender<u64>; 4] = [&cs[0], &cs[1], &cs[2], &cs[3]];
    let mut sent = [0u64; 4];
    for _ in 0..4 * n {
        // The arms are listed out of order on purpose, as in Go's test.
        select! {
            c[3] <- tag(SELECTED, 3, sent[3]) => {
                sent[3] += 1;
                if sent[3] == n {
                    c[3] = &nil;
                }
            }
            c[2] <- tag(SELECTED, 2, sent[2]) => {
                sent[2] += 1;
                if sent[2] == n {
                    c[2] = &nil;
                }
            }
            c[0] <- tag(SELECTED, 0, sent[0]) => {
                sent[0] += 1;
                if sent[0] == n {
                    c[0] = &nil;
                }
            }
            c[1] <- tag(SELECTED, 1, sent[1]) => {
                sent[1] += 1;
                if sent[1] == n {
                    c[1] = &nil;
                }
            }
        }
    }
    assert_eq!(sent, [n; 4]);
}

/// Receives `n` values from each channel through one 4-case `select!`,
/// disabling a channel once it has given `n`; hands them to `got`.
fn select_receiver(cs: &[Receiver<u64>; 4], n: u64, got: Sender<Vec<u64>>) {
    let nil = never();
    let mut c: [&Receiver<u64>; 4] = [&cs[0], &cs[1], &cs[2], &cs[3]];
    let mut received = [0u64; 4];
    let mut values = Vec::with_capacity(4 * n as usize);
    for _ in 0..4 * n {
        let k = select! {
            v = <-c[0] => { values.push(v.unwrap()); 0 }
            v = <-c[1] => { values.push(v.unwrap()); 1 }
            v = <-c[2] => { values.push(v.unwrap()); 2 }
            v = <-c[3] => { values.push(v.unwrap()); 3 }
        };
        received[k] += 1;
        if received[k] == n {
            c[k] = &nil;
        }
    }
    got.send(values).unwrap();
}

#[goscope::test]
fn select_stress() {
    // Per channel (two unbuffered, two buffered): a plain sender and a
    // plain receiver; over all four, one sender and one receiver that use
    // a single `select!`. Everything interleaves chaotically; every value
    // must arrive exactly once.
    let n = STRESS_N;
    let (tx0, rx0) = chan(0);
    let (tx1, rx1) = chan(0);
    let (tx2, rx2) = chan(2);
    let (tx3, rx3) = chan(3);
    let txs = [tx0, tx1, tx2, tx3];
    let rxs = [rx0, rx1, rx2, rx3];
    let (got_tx, got) = chan(5);
    for k in 0..4 {
        go!(plain_sender(&txs[k], k, n));
        go!(plain_receiver(&rxs[k], n, got_tx.clone()));
    }
    go!(select_sender(&txs, n));
    go!(select_receiver(&rxs, n, got_tx));

    let mut seen: HashMap<u64, u32> = HashMap::new();
    for value in got.iter().flatten() {
        *seen.entry(value).or_default() += 1;
    }
    let mut lost = 0;
    for source in [PLAIN, SELECTED] {
        for k in 0..4 {
            for i in 0..n {
                match seen.remove(&tag(source, k, i)) {
                    Some(1) => {}
                    Some(times) => panic!("value {source}/{k}/{i} received {times} times"),
                    None => lost += 1,
                }
            }
        }
    }
    assert_eq!(lost, 0, "values lost");
    assert!(seen.is_empty(), "values never sent were received: {seen:?}");
}

/// Multi-consumer: workers and results (Go: 271,828 rounds).
const NWORK: usize = 23;
const NITER: usize = 100_000;
const PN: [usize; 10] = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31];

/// A worker: forwards every job to `r`, sometimes yielding first to break
/// the FIFO-ish order of the workers' `range`.
fn worker(w: usize, q: &Receiver<usize>, r: Sender<usize>, wg: &WaitGroup) {
    defer!(wg.done());
    for v in q {
        if PN[w % PN.len()] == v {
            thread::yield_now();
        }
        r.send(v).unwrap();
    }
}

/// Feeds the jobs and closes `q`; once the workers are done, closes `r`.
/// Returns the expected sum.
fn feeder(q: Sender<usize>, r: Sender<usize>, wg: &WaitGroup, expect: Sender<usize>) {
    let mut sum = 0;
    for i in 0..NITER {
        let v = PN[i % PN.len()];
        sum += v;
        q.send(v).unwrap();
    }
    drop(q); // no more work
    wg.wait(); // workers done
    drop(r); // ... so there can be no more results
    expect.send(sum).unwrap();
}

#[goscope::test]
fn multi_consumer() {
    let (q_tx, q) = chan(NWORK * 3);
    let (r_tx, r) = chan(NWORK * 3);
    let wg = WaitGroup::new();
    for w in 0..NWORK {
        wg.add(1);
        go!(worker(w, &q, r_tx.clone(), &wg));
    }
    let (expect_tx, expect) = chan(1);
    go!(feeder(q_tx, r_tx, &wg, expect_tx));

    let (mut n, mut s) = (0, 0);
    for v in &r {
        n += 1;
        s += v;
    }
    let expect = expect.recv().unwrap();
    assert_eq!(
        (n, s),
        (NITER, expect),
        "(results, sum) differ from (jobs, their sum)"
    );
}

/// Pseudo-random send: `select!` rounds, each with two send arms on one
/// channel (Go: 100 rounds).
const RANDOM_N: usize = 1_000;

#[goscope::test]
fn pseudo_random_send() {
    // Both arms are ready whenever either is, so each must win about half
    // of the rounds: Binomial(1000, 1/2) has a standard deviation of 16,
    // and the bound below is 15 of them from the mean. Unbuffered, the
    // choice is mostly made by the blocking path (the receiver yields
    // before each receive); buffered, by the polling path.
    for cap in [0, RANDOM_N] {
        let ones = random_sends(cap);
        let zeros = RANDOM_N - ones;
        assert!(
            ones > RANDOM_N / 4 && zeros > RANDOM_N / 4,
            "want pseudo-random, got {zeros} zeros and {ones} ones (chan cap {cap})"
        );
    }
}

/// Runs [`RANDOM_N`] selects between sending 1 and sending 0 on a channel
/// of capacity `cap`; returns how many 1s arrived.
#[goscope::scoped]
fn random_sends(cap: usize) -> usize {
    let (c, rx) = chan(cap);
    let (l_tx, l) = chan(1);
    go! {
        let mut got = Vec::with_capacity(RANDOM_N);
        for _ in 0..RANDOM_N {
            thread::yield_now();
            got.push(rx.recv().unwrap());
        }
        l_tx.send(got).unwrap();
    }
    for _ in 0..RANDOM_N {
        select! {
            c <- 1 => {}
            c <- 0 => {}
        }
    }
    let got = l.recv().unwrap();
    assert_eq!(got.len(), RANDOM_N);
    got.iter().sum()
}

/// Two goroutines, each selecting to send on and receive from the same
/// channel, 1000 times; returns how often a goroutine received its own
/// value (Go's `TestSelfSelect`).
#[goscope::scoped]
fn self_select_pair(cap: usize) -> usize {
    let (c_tx, c) = chan::<usize>(cap);
    let (self_tx, self_receives) = chan(2);
    let wg = WaitGroup::new();
    wg.add(2);
    for p in 0..2 {
        go!(self_selector(p, &c_tx, &c, &wg, self_tx.clone()));
    }
    wg.wait();
    drop(self_tx);
    self_receives.iter().sum()
}

/// One of [`self_select_pair`]'s goroutines. It counts self-receives
/// rather than panicking, so its partner is never left blocked.
fn self_selector(
    p: usize,
    c_tx: &Sender<usize>,
    c: &Receiver<usize>,
    wg: &WaitGroup,
    self_receives: Sender<usize>,
) {
    defer!(wg.done());
    let mut own = 0;
    for i in 0..1000 {
        let v = if p == 0 || i % 2 == 0 {
            select! {
                c_tx <- p => None,
                v = <-c => v,
            }
        } else {
            select! {
                v = <-c => v,
                c_tx <- p => None,
            }
        };
        if v == Some(p) {
            own += 1;
        }
    }
    self_receives.send(own).unwrap();
}

#[goscope::test]
fn self_select() {
    // Unbuffered, a goroutine must never receive its own send: each select
    // pairs with the other goroutine. Buffered, it may, and nothing may
    // deadlock.
    assert_eq!(
        self_select_pair(0),
        0,
        "self receive on an unbuffered channel"
    );
    let _ = self_select_pair(10);

    // A single goroutine, unbuffered: it cannot pair with itself, so the
    // select blocks until another goroutine takes its value.
    let (tx, rx) = chan::<i32>(0);
    let chosen = always_blocks(
        "a lone self-select on an unbuffered channel",
        || select! { tx <- 1 => "sent", _ = <-rx => "received" },
        || assert_eq!(rx.recv(), Some(1)),
    );
    assert_eq!(chosen, "sent");

    // A single goroutine, capacity 1: exactly one arm is ready each time,
    // so it alternates, receiving its own values.
    let (tx, rx) = chan::<i32>(1);
    for i in 0..100 {
        let sent = select! {
            tx <- i => true,
            v = <-rx => {
                assert_eq!(v, Some(i - 1));
                false
            }
        };
        assert_eq!(sent, i % 2 == 0, "round {i}");
    }
}

/// Counts a call in `n` and passes `x` through: an operand with a visible
/// evaluation.
fn once<T>(n: &Cell<u32>, x: T) -> T {
    n.set(n.get() + 1);
    x
}

#[goscope::scoped]
fn blocking_select_evaluates_once() {
    let evals: [Cell<u32>; 4] = Default::default();
    let (a_tx, a) = chan::<u32>(0);
    let (b, b_rx) = chan::<u32>(0);
    // Nothing is ready when the select starts: it blocks (unless this
    // goroutine is slow), then the send arm's receiver disappears, which
    // makes it re-register its arms, and only then `a` becomes ready.
    go! {
        drop(b_rx);
        a_tx.send(7).unwrap();
    }
    select! {
        v = <-once(&evals[0], &a) => assert_eq!(v, Some(7)),
        once(&evals[1], &b) <- once(&evals[2], 1) => unreachable!("b has no receiver"),
        <-once(&evals[3], never::<u32>()) => unreachable!(),
    }
    assert_eq!(evals.each_ref().map(Cell::get), [1; 4]);
}

#[goscope::test]
fn select_evaluates_each_operand_once() {
    // Non-blocking selects: each round readies a different mix of arms
    // (or none, so `default` runs); every operand and send value is
    // evaluated once per select, chosen or not.
    let evals: [Cell<u32>; 5] = Default::default();
    let (a_tx, a) = chan::<u32>(1);
    let (b, b_rx) = chan::<u32>(1);
    let nil = nil_sender::<u32>();
    let mut chosen = [0u32; 3];
    const ROUNDS: u32 = 1_000;
    for round in 0..ROUNDS {
        if round % 3 == 0 {
            let _ = a_tx.try_send(round);
        }
        if round % 2 == 0 {
            let _ = b_rx.try_recv();
        }
        let arm = select! {
            _ = <-once(&evals[0], &a) => 0,
            once(&evals[1], &b) <- once(&evals[2], round) => 1,
            <-once(&evals[3], never::<u32>()) => unreachable!(),
            once(&evals[4], &nil) <- round => unreachable!(),
            default => 2,
        };
        chosen[arm] += 1;
    }
    assert_eq!(evals.each_ref().map(Cell::get), [ROUNDS; 5]);
    assert!(
        chosen.iter().all(|&n| n > 0),
        "every path taken: {chosen:?}"
    );

    // Blocking selects, through the re-registering path.
    for _ in 0..100 {
        blocking_select_evaluates_once();
    }
}

/// How long [`nonblock_select_sees_one_moment`] looks for a wrong
/// `default` before it passes.
const RACE_FOR: Duration = Duration::from_secs(2);

#[goscope::test]
fn nonblock_select_sees_one_moment() {
    // After Go's `TestNonblockSelectRace`: at every moment at least one of
    // c1 and c2 holds a value, so a non-blocking select over both must
    // receive and never take `default`. Go's select locks all its channels
    // and looks at them at one moment.
    //
    // Two tokens circulate. This goroutine moves its token back and forth
    // (into one channel, then takes one out of the other); the selecting
    // goroutine puts whatever it receives straight back. Neither holds a
    // token while the select runs, so the channels hold at least one.
    let (c1_tx, c1) = chan::<u8>(2);
    let (c2_tx, c2) = chan::<u8>(2);
    c1_tx.send(1).unwrap();
    let (stop_tx, stop) = chan::<()>(0);
    let (misses_tx, misses) = chan(1);
    go!(|| {
        let start = std::time::Instant::now();
        let (mut rounds, mut missed) = (0u64, 0u64);
        // Go's test runs n = 100,000 selects.
        while missed == 0 && rounds < 100_000 && start.elapsed() < RACE_FOR {
            rounds += 1;
            select! {
                v = <-c1 => c1_tx.send(v.unwrap()).unwrap(),
                v = <-c2 => c2_tx.send(v.unwrap()).unwrap(),
                default => missed += 1,
            }
        }
        drop(stop_tx);
        misses_tx.send((missed, rounds)).unwrap();
    });
    let ends = [(&c1_tx, &c1), (&c2_tx, &c2)];
    let (mut hand, mut k) = (Some(1), 0);
    while stop.try_recv() != Err(goscope::TryRecvError::Closed) {
        if let Some(token) = hand.take() {
            ends[1 - k].0.send(token).unwrap();
        }
        // The selecting goroutine may hold this channel's token for a
        // moment: then try again.
        if let Ok(token) = ends[k].1.try_recv() {
            hand = Some(token);
            k = 1 - k;
        }
    }
    let (missed, rounds) = misses.recv().unwrap();
    assert_eq!(
        missed, 0,
        "default taken with a channel ready, after {rounds} selects"
    );
}

#[goscope::test]
fn one_channel_in_two_cases() {
    // Go's `TestSelectDuplicateChannel`: a goroutine waits on `c` twice
    // (and on `d`) in one select while another waits on `c`; waking the
    // first through `d` must leave `c`'s queue intact for the second.
    let (c_tx, c) = chan::<i32>(0);
    let (d_tx, d) = chan::<i32>(0);
    let (e_tx, e) = chan::<i32>(0);
    go!(|| {
        select! {
            <-c => {}
            <-c => {}
            <-d => {}
        }
        e_tx.send(9).unwrap();
    });
    go!(|| assert_eq!(c.recv(), Some(8)));
    d_tx.send(7).unwrap(); // wakes the select through `d`
    assert_eq!(e.recv(), Some(9));
    c_tx.send(8).unwrap(); // must reach the plain receive
}
