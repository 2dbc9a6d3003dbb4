//! 10,000 live timers cost one thread: every `Timer`, `Ticker`,
//! `after_func` and context deadline shares the timer thread.
//!
//! Alone in its test binary, so that no other test starts threads while
//! this one counts them.

use std::collections::HashSet;

use goscope::context::{Context, Error};
use goscope::prelude::*;
use goscope::time::Timer;

/// The threads of this process, from `/proc/self/task`.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("Linux's /proc")
        .count()
}

#[test]
fn ten_thousand_live_timers_cost_one_thread() {
    let before = threads();
    let timers: Vec<Timer> = (0..10_000)
        .map(|_| Timer::new(Duration::from_secs(3600)))
        .collect();
    let contexts: Vec<_> = (0..10_000)
        .map(|_| Context::background().with_timeout(Duration::from_secs(3600)))
        .collect();
    let during = threads();
    assert!(
        during <= before + 1,
        "{before} threads before, {during} with 20,000 timers and deadlines"
    );
    // They all work: reset the timers to fire soon, in no particular order,
    // and each delivers exactly one value.
    for (i, t) in timers.iter().enumerate() {
        assert!(t.reset(Duration::from_millis((i % 50) as u64)));
    }
    let mut fired = HashSet::new();
    for (i, t) in timers.iter().enumerate() {
        t.c().recv_timeout(Duration::from_secs(30)).expect("fires");
        fired.insert(i);
    }
    assert_eq!(fired.len(), 10_000);
    for (ctx, cancel) in &contexts {
        cancel.cancel();
        assert_eq!(ctx.err(), Some(Error::Canceled));
    }
    assert!(threads() <= before + 1);
}
