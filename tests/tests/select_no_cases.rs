//! `select! {}`, Go's `select {}`: it blocks forever, counts as blocked for
//! deadlock reports, and unwinds when its goroutine's scope is cancelled.

use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use goscope::prelude::*;
use tests::{DEADLOCK as HEADER, PATIENCE, Program, SCENARIOS, panic_message, scenario_line};

/// Runs the scenario `name` of `src/bin/scenarios.rs` and returns its
/// deadlock report. Bounded: a child that hangs is killed after
/// [`tests::TIMEOUT`] and fails the test.
fn report_of(name: &str) -> String {
    let out = Program::new(env!("CARGO_BIN_EXE_scenarios"))
        .arg(name)
        .run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    let at = stderr
        .find(HEADER)
        .unwrap_or_else(|| panic!("{name}: no report: {stderr}"));
    stderr[at..].to_owned()
}

#[test]
fn a_goroutine_in_select_no_cases_is_reported_in_a_deadlock() {
    let report = report_of("deadlock_select_no_cases");
    let entries: Vec<&str> = report.split("\n\n").skip(1).collect();
    assert!(
        entries[0].starts_with("goroutine 1 [sync.WaitGroup.Wait]:"),
        "{report}"
    );
    // Go's words for it.
    let mut entry = entries[1].lines();
    let head = entry.next().unwrap_or_default();
    assert_eq!(head, "goroutine 2 [select (no cases)]:", "{report}");
    let at = format!(
        "\t{SCENARIOS}:{}:",
        scenario_line(SCENARIOS, "select! {} // the goroutine's wait")
    );
    assert!(
        entry.next().unwrap_or_default().starts_with(&at),
        "{report}"
    );
}

#[test]
fn main_in_select_no_cases_alone_is_a_deadlock() {
    let report = report_of("deadlock_main_select_no_cases");
    let at = format!(
        "\t{SCENARIOS}:{}:",
        scenario_line(SCENARIOS, "select! {} // main's wait")
    );
    assert!(
        report.starts_with(&format!("{HEADER}\n\ngoroutine 1 [select (no cases)]:")),
        "{report}"
    );
    assert!(report.contains(&at), "{report}");
}

#[goscope::scoped]
fn owner_panics_while_a_goroutine_selects_forever(unwound: &AtomicBool, started: &WaitGroup) {
    go!(|| {
        defer!(unwound.store(true, Ordering::SeqCst));
        started.done();
        select! {}
    });
    started.wait();
    panic!("the owner gave up");
}

#[test]
fn select_no_cases_unwinds_when_its_scope_is_cancelled() {
    let unwound = Arc::new(AtomicBool::new(false));
    let (done_tx, done) = chan(1);
    // A detached thread, so that a scope that never joins fails the test
    // below instead of hanging it.
    std::thread::spawn({
        let unwound = Arc::clone(&unwound);
        move || {
            let started = WaitGroup::new();
            started.add(1);
            let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
                owner_panics_while_a_goroutine_selects_forever(&unwound, &started)
            }));
            let payload = result.expect_err("the owner's panic resumed");
            done_tx.send(panic_message(&*payload).to_owned()).unwrap();
        }
    });
    // Bounded: the scope's join hangs if the goroutine does not unwind.
    assert_eq!(
        done.recv_timeout(PATIENCE).as_deref(),
        Ok("the owner gave up"),
        "the scope joined its goroutine"
    );
    assert!(unwound.load(Ordering::SeqCst), "the goroutine's defer ran");
}
