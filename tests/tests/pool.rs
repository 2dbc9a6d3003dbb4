//! The goroutine thread pool: every goroutine has a thread of its own while
//! it runs, so goroutines blocked outside goscope (here on a `std::sync::Barrier`,
//! which goscope cannot see) never keep others from starting, and threads are
//! reused across waves.
use std::sync::Barrier;

use goscope::prelude::*;

/// Starts `n` goroutines that can only finish together: each waits on a
/// barrier that needs all of them and this function.
#[goscope::scoped]
fn wave(n: usize) {
    let barrier = Barrier::new(n + 1);
    // `go! { .. }` moves what it names: share the barrier by reference.
    let barrier = &barrier;
    for _ in 0..n {
        go! {
            barrier.wait();
        }
    }
    barrier.wait();
}

#[goscope::test]
fn goroutines_blocked_outside_goscope_still_each_get_a_thread() {
    // Waves of different sizes: the later ones reuse the threads of the
    // earlier ones and must still start every goroutine.
    for n in [500, 50, 800, 1, 300] {
        wave(n);
    }
}

#[goscope::test]
fn a_burst_of_short_goroutines_all_run() {
    let wg = WaitGroup::new();
    let (tx, rx) = chan(10_000);
    for i in 0..10_000u32 {
        wg.add(1);
        go!(send_and_done(i, tx.clone(), &wg));
    }
    wg.wait();
    drop(tx);
    let mut got: Vec<u32> = rx.iter().collect();
    got.sort_unstable();
    assert_eq!(got, (0..10_000).collect::<Vec<_>>());
}

fn send_and_done(i: u32, tx: Sender<u32>, wg: &WaitGroup) {
    defer!(wg.done());
    tx.send(i).unwrap();
}
