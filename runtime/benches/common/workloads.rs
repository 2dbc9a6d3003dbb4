//! The goscope side of the workloads that more than one bench runs (the
//! ping-pong and the worker pool: `channels.rs` against their raw twins,
//! `trace.rs` with the timeline on and off). A module of each bench that
//! includes it, not a bench of its own (cargo finds benches only at the
//! top of `benches/`).

use std::hint::black_box;

use criterion::Bencher;
use goscope::prelude::*;

/// Workers of the worker pool.
pub(crate) const WORKERS: usize = 5;

/// The goroutine at the far end of a ping-pong: sends back what it gets.
fn echo(ping: &Receiver<u64>, pong: &Sender<u64>) {
    for v in ping {
        pong.send(v).unwrap();
    }
}

/// Ping-pong over goscope channels of capacity `cap`: one round trip per
/// iteration.
#[goscope::scoped]
pub(crate) fn pingpong(b: &mut Bencher<'_>, cap: usize) {
    let (ping_tx, ping_rx) = chan(cap);
    let (pong_tx, pong_rx) = chan(cap);
    go!(echo(&ping_rx, &pong_tx));
    b.iter(|| {
        ping_tx.send(black_box(1)).unwrap();
        pong_rx.recv().unwrap()
    });
    // Close `ping`: the echo goroutine ends and the scope joins it.
    drop(ping_tx);
}

/// A worker of the pool: Go by Example's `worker`, without the sleep.
fn worker(jobs: &Receiver<u64>, results: &Sender<u64>) {
    for j in jobs {
        results.send(j * 2).unwrap();
    }
}

/// `jobs` jobs per iteration through [`WORKERS`] goroutines that live for
/// the whole benchmark; both channels hold all jobs, as in Go by Example.
#[goscope::scoped]
pub(crate) fn worker_pool(b: &mut Bencher<'_>, jobs: u64) {
    let (jobs_tx, jobs_rx) = chan(jobs as usize);
    let (results, results_rx) = chan(jobs as usize);
    for _ in 0..WORKERS {
        go!(worker(&jobs_rx, &results));
    }
    b.iter(|| {
        for j in 0..jobs {
            jobs_tx.send(j).unwrap();
        }
        let mut sum = 0;
        for _ in 0..jobs {
            sum += results_rx.recv().unwrap();
        }
        sum
    });
    // Close `jobs`: the workers' `for` loops end and the scope joins them.
    drop(jobs_tx);
}
