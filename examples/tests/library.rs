//! Runs the examples of Go's library packages (`context_timeout`,
//! `errgroup_fetch`, `du`) and checks their output.

mod runner;

use runner::run;

#[test]
fn context_timeout() {
    let out = run("context_timeout", &[]).success("context_timeout");
    assert_eq!(
        out.lines(),
        [
            "sum of 1..=5: 15",
            "gave up: context deadline exceeded",
            "the computation stopped too, after part of its 1000000 steps",
        ]
    );
}

#[test]
fn errgroup_fetch() {
    let out = run("errgroup_fetch", &[]).success("errgroup_fetch");
    assert_eq!(
        out.lines(),
        [
            "https://go.dev/: ok",
            "https://go.dev/missing: fetch https://go.dev/missing: status 404",
            "https://slow.example/1: canceled",
            "https://slow.example/2: canceled",
            "https://slow.example/3: canceled",
            "https://slow.example/4: canceled",
            "error: fetch https://go.dev/missing: status 404",
        ]
    );
}

#[test]
fn du() {
    let out = run("du", &[]).success("du");
    assert_eq!(
        out.lines(),
        [
            "created: 120 files  31740 bytes",
            "walk: 120 files  31740 bytes  cancelled: false",
            "walk cancelled after 10 files: counted fewer than 120, cancelled: true",
        ]
    );
    // It removed the tree it made.
    assert!(out.stderr.is_empty(), "stderr: {}", out.stderr);
}
