//! What the goroutine timeline (`GOSCOPE_TRACE`) costs: ping-pong and the
//! worker pool of `channels.rs`, run under `#[goscope::main]` (tracing
//! starts at a root), once without the variable and once with it:
//!
//! ```sh
//! cargo bench -p goscope --bench trace                        # trace/*/off
//! GOSCOPE_TRACE=/tmp/t.json cargo bench -p goscope --bench trace  # trace/*/on
//! ```
//!
//! | group | one iteration |
//! | --- | --- |
//! | `trace_pingpong_unbuffered` | a round trip over two `chan(0)` channels |
//! | `trace_pingpong_cap1` | a round trip over two capacity-1 channels |
//! | `trace_worker_pool_10k_5w` | 10,000 jobs through 5 workers and back |
//! | `trace_send_recv_cap1` | a send and a receive on a capacity-1 channel, one goroutine (no waits: the recording alone) |
//!
//! With the variable set, every send and receive records an event (and a
//! wait two), which the run keeps up to the file's size bound; the trace is
//! written when `main` returns, after the measurements.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use goscope::prelude::*;

#[path = "common/workloads.rs"]
mod workloads;

/// Jobs per iteration of the worker pool.
const JOBS: u64 = 10_000;

#[goscope::main]
fn main() {
    let mode = match std::env::var_os("GOSCOPE_TRACE") {
        Some(path) if !path.is_empty() => "on",
        _ => "off",
    };
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for (name, cap) in [("trace_pingpong_unbuffered", 0), ("trace_pingpong_cap1", 1)] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        group.bench_function(mode, |b| workloads::pingpong(b, cap));
        group.finish();
    }
    let mut group = c.benchmark_group("trace_send_recv_cap1");
    group.throughput(Throughput::Elements(1));
    group.bench_function(mode, |b| {
        let (tx, rx) = chan(1);
        b.iter(|| {
            tx.send(black_box(1u64)).unwrap();
            rx.recv().unwrap()
        });
    });
    group.finish();
    let mut group = c.benchmark_group("trace_worker_pool_10k_5w");
    group.throughput(Throughput::Elements(JOBS));
    group.bench_function(mode, |b| workloads::worker_pool(b, JOBS));
    group.finish();
    c.final_summary();
}
