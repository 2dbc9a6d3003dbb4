//! Parallel "fetches" with `errgroup`: at most two at a time
//! (`SetLimit`), the first error cancels the rest (`WithContext`), and
//! `Wait` returns it. The Go program it ports:
//!
//! ```go
//! g, ctx := errgroup.WithContext(context.Background())
//! g.SetLimit(2)
//! for _, url := range urls {
//!     g.Go(func() error { return fetch(ctx, url) })
//! }
//! if err := g.Wait(); err != nil {
//!     fmt.Println("error:", err)
//! }
//! ```
//!
//! The "network" is simulated: a URL's fetch takes the time its table
//! entry says, unless the context is cancelled first.
use std::fmt;
use std::sync::{Arc, Mutex};

use goscope::context::Context;
use goscope::errgroup::Group;
use goscope::prelude::*;

/// A failed fetch (`Clone`: every `wait` returns the first one).
#[derive(Clone, Debug)]
enum FetchError {
    /// The server answered with an error status.
    Status(&'static str, u16),
    /// The group gave up on the fetch.
    Canceled(&'static str, goscope::context::Error),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Status(url, status) => write!(f, "fetch {url}: status {status}"),
            FetchError::Canceled(url, err) => write!(f, "fetch {url}: {err}"),
        }
    }
}

impl std::error::Error for FetchError {}

/// The simulated web: each URL, how long it takes, and its status.
const URLS: [(&str, u64, u16); 6] = [
    ("https://go.dev/", 10, 200),
    ("https://go.dev/missing", 200, 404),
    ("https://slow.example/1", 30_000, 200),
    ("https://slow.example/2", 30_000, 200),
    ("https://slow.example/3", 30_000, 200),
    ("https://slow.example/4", 30_000, 200),
];

/// Fetches `url`: waits `ms`, or less if `ctx` is cancelled.
fn fetch(ctx: &Context, url: &'static str, ms: u64, status: u16) -> Result<(), FetchError> {
    select! {
        <-ctx.done() => Err(FetchError::Canceled(url, ctx.err().expect("done"))),
        <-after(Duration::from_millis(ms)) => match status {
            200 => Ok(()),
            _ => Err(FetchError::Status(url, status)),
        },
    }
}

#[goscope::main]
fn main() {
    let (g, ctx) = Group::with_context(&Context::background());
    g.set_limit(2);
    let log = Arc::new(Mutex::new(Vec::new()));
    for (url, ms, status) in URLS {
        let (ctx, log) = (ctx.clone(), Arc::clone(&log));
        // Blocks while two fetches are running.
        g.go(move || {
            let result = fetch(&ctx, url, ms, status);
            let line = match &result {
                Ok(()) => format!("{url}: ok"),
                Err(FetchError::Canceled(..)) => format!("{url}: canceled"),
                Err(err) => format!("{url}: {err}"),
            };
            log.lock().unwrap().push(line);
            result
        });
    }
    let result = g.wait();
    let mut log = log.lock().unwrap();
    log.sort();
    for line in log.iter() {
        println!("{line}");
    }
    match result {
        Ok(()) => println!("all fetched"),
        Err(err) => println!("error: {err}"),
    }
}
