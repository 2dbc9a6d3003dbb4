//! Google Search 3.0 from Rob Pike's "Go Concurrency Patterns": replicated
//! fake searches, the first reply of each kind wins, and the whole search
//! gives up after 80 ms. Slow replicas are abandoned with `go!(static ...)`:
//! `google` returns without waiting for them.
//!
//! `cargo run --example google_search` prints Go's output shape: the results
//! (or `timed out` first), then the elapsed time.
use std::fmt;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use goscope::prelude::*;

/// One search result.
#[derive(Debug, Clone)]
struct SearchResult(String);

impl fmt::Display for SearchResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A search backend: a kind of result and a query.
type Search = fn(&'static str, &'static str) -> SearchResult;

/// A fake backend that takes up to 100 ms, as in the talk.
fn fake_search(kind: &'static str, query: &'static str) -> SearchResult {
    sleep(Duration::from_millis(random_below(100)));
    SearchResult(format!("{kind} result for {query:?}"))
}

/// Go's `First`: asks every replica, returns the first reply. The others
/// are abandoned; their sends fail once `c` is gone, so they end instead of
/// leaking (in Go they block forever).
fn first(query: &'static str, replicas: &[(&'static str, Search)]) -> SearchResult {
    let (c_tx, c) = chan(0);
    for &(kind, search) in replicas {
        let c_tx = c_tx.clone();
        go!(static move || {
            // Err only when `first` has already returned with a faster reply.
            let _ = c_tx.send(search(kind, query));
        });
    }
    c.recv().expect("a replica replies")
}

/// Go's `Google`: web, image and video in parallel, at most 80 ms.
#[goscope::scoped]
fn google(query: &'static str) -> Vec<SearchResult> {
    let (c_tx, c) = chan(0);
    let kinds: [[(&'static str, Search); 2]; 3] = [
        [("web1", fake_search), ("web2", fake_search)],
        [("image1", fake_search), ("image2", fake_search)],
        [("video1", fake_search), ("video2", fake_search)],
    ];
    for replicas in kinds {
        let c_tx = c_tx.clone();
        // Detached: when the timeout fires, `google` returns without them.
        go!(static move || {
            let _ = c_tx.send(first(query, &replicas));
        });
    }
    let mut results = Vec::new();
    let timeout = after(Duration::from_millis(80));
    for _ in 0..3 {
        select! {
            result = <-c => results.extend(result),
            <-timeout => {
                println!("timed out");
                return results;
            }
        }
    }
    results
}

#[goscope::main]
fn main() {
    let start = Instant::now();
    let results = google("golang");
    let elapsed = start.elapsed();
    let shown: Vec<String> = results.iter().map(ToString::to_string).collect();
    println!("[{}]", shown.join(" "));
    println!("{elapsed:?}");
}

/// A number in `0..n`: a xorshift generator seeded from the clock and the
/// thread (the example needs no crate for it).
fn random_below(n: u64) -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            let here = &nanos as *const u64 as u64;
            (nanos ^ here.rotate_left(32)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x % n
    })
}
