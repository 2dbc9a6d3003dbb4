//! Soak: millions of ids through a pipeline of buffered and unbuffered
//! channels, `select!` with send and receive arms, and goroutines that come
//! and go, with a checksum: every id arrives exactly once.
//!
//! Producers (one short-lived goroutine per chunk of ids, a few at a time)
//! send each id on a buffered or an unbuffered channel (a plain send or a
//! `select!` over both); relays (goroutines that retire after a while and
//! are replaced) hold a few ids and `select!` over receiving from both
//! first-stage channels and sending to both second-stage ones; consumers
//! `select!` over the second stage and tick each id off in a bitmap.
//!
//! `cargo test`'s run is short (10^5 ids, about a second); `GOSCOPE_SOAK=full` (or
//! `--ignored`, which runs `soak_full`) sends 10^7 ids, each through two
//! channels:
//!
//! ```text
//! GOSCOPE_SOAK=full cargo test --release -p tests --test soak -- --nocapture
//! ```

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use goscope::prelude::*;

/// How big a soak is.
#[derive(Debug)]
struct Plan {
    /// Ids 0..ids, each sent producer → relay → consumer.
    ids: u64,
    /// Ids per producer goroutine.
    chunk: u64,
    /// Producers running at once.
    producers: usize,
    /// Relays running at once.
    relays: usize,
    /// Ids a relay takes before it retires (and another replaces it).
    relay_life: u64,
    consumers: usize,
}

const SHORT: Plan = Plan {
    ids: 100_000,
    chunk: 1_000,
    producers: 4,
    relays: 4,
    relay_life: 5_000,
    consumers: 3,
};

const FULL: Plan = Plan {
    ids: 10_000_000,
    chunk: 10_000,
    producers: 4,
    relays: 4,
    relay_life: 50_000,
    consumers: 3,
};

/// `GOSCOPE_SOAK=full` selects the full soak for the default test.
fn plan() -> &'static Plan {
    match std::env::var("GOSCOPE_SOAK").as_deref() {
        Ok("full") => &FULL,
        _ => &SHORT,
    }
}

// A goscope test: a hang would end as a deadlock report, not a stall.
#[goscope::test]
fn soak_every_message_arrives_exactly_once() {
    run(plan());
}

#[goscope::test]
#[ignore = "the full soak, 10^7 ids: run with `--ignored` (or GOSCOPE_SOAK=full)"]
fn soak_full() {
    run(&FULL);
}

/// What the consumers saw.
#[derive(Default)]
struct Tally {
    count: u64,
    sum: u128,
    /// Xor of `mix(id)`: a duplicate and a loss do not cancel out as they
    /// could in a sum.
    xor: u64,
}

impl Tally {
    fn add(&mut self, id: u64) {
        self.count += 1;
        self.sum += u128::from(id);
        self.xor ^= mix(id);
    }
}

/// SplitMix64's finaliser: a bijection that spreads the ids' bits.
fn mix(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Counters shared by the pipeline's goroutines.
struct Shared {
    /// One bit per id, set when a consumer receives it.
    seen: Vec<AtomicU64>,
    duplicates: AtomicU64,
    totals: Mutex<Tally>,
    /// Goroutines started, for the report.
    goroutines: AtomicUsize,
}

fn run(plan: &Plan) {
    let shared = Shared {
        seen: (0..plan.ids.div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect(),
        duplicates: AtomicU64::new(0),
        totals: Mutex::new(Tally::default()),
        goroutines: AtomicUsize::new(0),
    };
    let start = Instant::now();
    pipeline(plan, &shared);
    let elapsed = start.elapsed();

    let n = plan.ids;
    let totals = shared.totals.lock().unwrap();
    assert_eq!(
        shared.duplicates.load(Ordering::Relaxed),
        0,
        "duplicated ids"
    );
    assert_eq!(totals.count, n, "ids received");
    let missing: Vec<u64> = (0..n)
        .filter(|&id| {
            shared.seen[(id / 64) as usize].load(Ordering::Relaxed) & (1 << (id % 64)) == 0
        })
        .take(10)
        .collect();
    assert!(missing.is_empty(), "lost ids, the first: {missing:?}");
    assert_eq!(
        totals.sum,
        u128::from(n) * u128::from(n - 1) / 2,
        "sum of ids"
    );
    assert_eq!(
        totals.xor,
        (0..n).fold(0, |x, id| x ^ mix(id)),
        "xor of mixed ids"
    );
    println!(
        "soak: {n} ids, {} channel messages, {} goroutines, {:.2} s; count {}, sum {}, xor {:#018x}",
        2 * n,
        shared.goroutines.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        totals.count,
        totals.sum,
        totals.xor,
    );
}

/// Runs the whole pipeline; returns once every goroutine has finished.
#[goscope::scoped]
fn pipeline(plan: &Plan, shared: &Shared) {
    let (first_buffered, first_buffered_rx) = chan::<u64>(64);
    let (first_unbuffered, first_unbuffered_rx) = chan::<u64>(0);
    let (second_buffered, second_buffered_rx) = chan::<u64>(16);
    let (second_unbuffered, second_unbuffered_rx) = chan::<u64>(0);
    shared
        .goroutines
        .fetch_add(2 + plan.consumers, Ordering::Relaxed);
    go!(move || producers(plan, shared, first_buffered, first_unbuffered));
    go!(move || {
        relays(
            plan,
            shared,
            [first_buffered_rx, first_unbuffered_rx],
            [second_buffered, second_unbuffered],
        )
    });
    for _ in 0..plan.consumers {
        let inputs = [second_buffered_rx.clone(), second_unbuffered_rx.clone()];
        go!(move || consume(inputs, shared));
    }
}

/// Starts one producer per chunk of ids, `plan.producers` at a time; the
/// first-stage channels close when the last has finished.
#[goscope::scoped]
fn producers(plan: &Plan, shared: &Shared, buffered: Sender<u64>, unbuffered: Sender<u64>) {
    let (slots, slots_rx) = chan::<()>(plan.producers);
    let slots_rx = &slots_rx;
    let mut first = 0;
    while first < plan.ids {
        let ids = first..(first + plan.chunk).min(plan.ids);
        first = ids.end;
        slots.send(()).unwrap(); // blocks while `plan.producers` run
        shared.goroutines.fetch_add(1, Ordering::Relaxed);
        let (buffered, unbuffered) = (buffered.clone(), unbuffered.clone());
        go!(move || {
            defer! {
                slots_rx.recv();
            }
            produce(ids, &buffered, &unbuffered);
        });
    }
}

/// Sends each id on one of the two channels: a plain send on either, or a
/// `select!` between both.
fn produce(ids: Range<u64>, buffered: &Sender<u64>, unbuffered: &Sender<u64>) {
    for id in ids {
        match id % 4 {
            0 => unbuffered.send(id).unwrap(),
            1 => buffered.send(id).unwrap(),
            _ => select! {
                buffered <- id => {}
                unbuffered <- id => {}
            },
        }
    }
}

/// Keeps `plan.relays` relays running, replacing each one that retires,
/// until the inputs are closed and drained; the second-stage channels close
/// when the last relay has finished.
#[goscope::scoped]
fn relays(plan: &Plan, shared: &Shared, inputs: [Receiver<u64>; 2], outputs: [Sender<u64>; 2]) {
    // Each relay says, as it ends, whether it found the inputs drained.
    let (ended, ended_rx) = chan::<bool>(plan.relays);
    let start = || {
        shared.goroutines.fetch_add(1, Ordering::Relaxed);
        let (inputs, outputs, ended) = (inputs.clone(), outputs.clone(), ended.clone());
        go!(move || {
            let drained = relay(plan.relay_life, inputs, outputs);
            ended.send(drained)
        });
    };
    for _ in 0..plan.relays {
        start();
    }
    let mut running = plan.relays;
    while running > 0 {
        if ended_rx.recv() == Some(true) {
            running -= 1;
        } else {
            start();
        }
    }
}

/// How many ids a relay holds at most.
const HOLD: usize = 4;

/// Forwards ids from `inputs` to `outputs`, holding up to [`HOLD`] of them,
/// in one `select!` over receiving and sending while it holds some. Returns
/// `false` when it retires, after taking `life` ids and passing them all on;
/// `true` when the inputs are closed and it holds nothing.
fn relay(life: u64, inputs: [Receiver<u64>; 2], outputs: [Sender<u64>; 2]) -> bool {
    let off = never::<u64>();
    let [out_a, out_b] = &outputs;
    let mut state = Relay {
        held: VecDeque::with_capacity(HOLD),
        open: [true, true],
        taken: 0,
    };
    loop {
        let taking = state.taken < life && state.held.len() < HOLD;
        let from = |i: usize| {
            if taking && state.open[i] {
                &inputs[i]
            } else {
                &off
            }
        };
        let (a, b) = (from(0), from(1));
        match state.held.front().copied() {
            Some(id) => select! {
                out_a <- id => _ = state.held.pop_front(),
                out_b <- id => _ = state.held.pop_front(),
                got = <-a => state.take(got, 0),
                got = <-b => state.take(got, 1),
            },
            None if state.taken >= life => return false,
            None if !state.open[0] && !state.open[1] => return true,
            None => select! {
                got = <-a => state.take(got, 0),
                got = <-b => state.take(got, 1),
            },
        }
    }
}

/// What a relay holds and has seen.
struct Relay {
    held: VecDeque<u64>,
    /// Which inputs are not closed yet.
    open: [bool; 2],
    /// Ids taken so far.
    taken: u64,
}

impl Relay {
    fn take(&mut self, got: Option<u64>, from: usize) {
        match got {
            Some(id) => {
                self.held.push_back(id);
                self.taken += 1;
            }
            None => self.open[from] = false,
        }
    }
}

/// Receives ids from both inputs until both are closed, ticking each off.
fn consume(inputs: [Receiver<u64>; 2], shared: &Shared) {
    let off = never::<u64>();
    let mut open = [true, true];
    let mut tally = Tally::default();
    while open[0] || open[1] {
        let from = |i: usize| if open[i] { &inputs[i] } else { &off };
        let (a, b) = (from(0), from(1));
        let (got, i) = select! {
            got = <-a => (got, 0),
            got = <-b => (got, 1),
        };
        let Some(id) = got else {
            open[i] = false;
            continue;
        };
        let bit = 1 << (id % 64);
        if shared.seen[(id / 64) as usize].fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            shared.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        tally.add(id);
    }
    let mut totals = shared.totals.lock().unwrap();
    totals.count += tally.count;
    totals.sum += tally.sum;
    totals.xor ^= tally.xor;
}
