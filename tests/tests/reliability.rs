//! Issue 17's broken promises, each as a child process of
//! `src/bin/reliability.rs`: user `Drop` code run while goscope waits (1),
//! timer channels that can no longer fire (2), deferred channel operations
//! of a cancelled goroutine (5), timeouts under cancellation (6), and
//! values whose `Drop` panics while goscope drops them during unwinding (7).
use std::process::Output;

use tests::{DEADLOCK as HEADER, Program, RELIABILITY as SOURCE, entries, scenario_line};

/// Runs scenarios side by side (several take seconds), each bounded by
/// [`tests::TIMEOUT`] so a hang fails the test instead of stalling it.
fn run_all(names: &[&str]) -> Vec<Output> {
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            Program::new(env!("CARGO_BIN_EXE_reliability"))
                .arg(n)
                .spawn()
        })
        .collect();
    children.into_iter().map(|child| child.wait()).collect()
}

fn run(name: &str) -> Output {
    run_all(&[name]).pop().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that `out` is a deadlock report whose only goroutine is main,
/// blocked in `state` at the line of the source containing `needle`.
fn assert_main_reported(name: &str, out: &Output, state: &str, needle: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    assert!(
        stderr.contains(&format!("{HEADER}\n\n")),
        "{name}: {stderr}"
    );
    let entries = entries(&stderr);
    assert_eq!(entries.len(), 1, "{name}: {stderr}");
    let (head, body) = &entries[0];
    assert!(
        head.starts_with("goroutine 1 ") && head.ends_with(&format!("{state}:")),
        "{name}: {head}"
    );
    let site = format!("\t{SOURCE}:{}:", scenario_line(SOURCE, needle));
    assert!(
        body[0].starts_with(&site),
        "{name}: {body:?}, want {site:?}"
    );
    assert_eq!(body[1], "main goroutine", "{name}");
}

/// Asserts that a `#[goscope::main]` ended with main's panic: status 2, the
/// panic's message, and neither a deadlock report nor an abort.
fn assert_main_panicked(name: &str, out: &Output, message: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    assert!(stderr.contains(message), "{name}: {stderr}");
    assert!(
        stderr.contains("fatal: main panicked; exiting with status 2"),
        "{name}: {stderr}"
    );
    assert!(!stderr.contains(HEADER), "{name}: not a deadlock: {stderr}");
    assert!(!stderr.contains("fatal runtime error"), "{name}: {stderr}");
}

/// Asserts that the scope's owner got `message` (the first panic) and the
/// program went on to exit normally: no report, no abort.
fn assert_owner_got(name: &str, out: &Output, message: &str) {
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{name}: {:?}: {stderr}", out.status);
    assert!(
        text(&out.stdout).contains(&format!("owner got: {message}\n")),
        "{name}: stdout {:?}, stderr {stderr}",
        text(&out.stdout)
    );
    assert!(!stderr.contains(HEADER), "{name}: not a deadlock: {stderr}");
}

// ---- item 1: no user code runs while its goroutine is marked blocked ----

#[test]
fn a_select_that_refuses_a_value_with_a_slow_drop_is_no_deadlock() {
    let name = "ok_select_refuses_a_slow_drop";
    let out = run(name);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{name}: {:?}: {stderr}", out.status);
    assert!(!stderr.contains(HEADER), "false report: {stderr}");
    assert_eq!(text(&out.stdout).trim(), "select took the second value");
}

#[test]
fn a_cancelled_send_whose_value_drops_slowly_lets_the_first_panic_reach_the_owner() {
    let name = "owner_slow_drop_of_an_unsent_value";
    assert_owner_got(name, &run(name), "the owner failed");
}

#[test]
fn a_drop_that_blocks_for_good_after_a_select_is_reported_not_a_hang() {
    let name = "deadlock_in_a_refused_values_drop";
    let out = run(name);
    assert_main_reported(name, &out, "[chan receive]", "// the Drop's receive");
    assert!(!text(&out.stdout).contains("unreachable"));
}

// ---- item 2: timer channels that can no longer fire ----

#[test]
fn receives_on_timer_channels_that_cannot_fire_are_reported() {
    let cases = [
        ("deadlock_stopped_timer", "// the stopped timer's receive"),
        (
            "deadlock_fired_timer",
            "// the fired timer's second receive",
        ),
        (
            "deadlock_spent_after",
            "// the spent after's second receive",
        ),
        ("deadlock_stopped_ticker", "// the stopped ticker's receive"),
    ];
    let names: Vec<_> = cases.iter().map(|c| c.0).collect();
    for (out, (name, needle)) in run_all(&names).iter().zip(cases) {
        assert_main_reported(name, out, "[chan receive]", needle);
    }
}

#[test]
fn a_select_on_a_stopped_timer_is_reported() {
    let name = "deadlock_stopped_timer_in_select";
    let out = run(name);
    assert_main_reported(name, &out, "[select]", "// the select with a stopped timer");
}

#[test]
fn a_reset_timer_is_armed_again_and_never_reported() {
    let name = "ok_reset_timer";
    let out = run(name);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{name}: {:?}: {stderr}", out.status);
    assert!(!stderr.contains(HEADER), "false report: {stderr}");
    assert_eq!(text(&out.stdout).trim(), "the reset timer fired");
}

#[test]
fn receives_on_armed_timers_are_never_reported() {
    let name = "ok_armed_timers";
    let out = run(name);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{name}: {:?}: {stderr}", out.status);
    assert!(!stderr.contains(HEADER), "false report: {stderr}");
    assert_eq!(text(&out.stdout).trim(), "the timers fired");
}

// ---- item 5: deferred channel operations of a cancelled goroutine ----

#[test]
fn deferred_channel_operations_of_a_cancelled_goroutine_return_at_once() {
    let names = [
        "main_deferred_ops_when_main_panics",
        "owner_deferred_ops_when_a_goroutine_panics",
    ];
    let outs = run_all(&names);
    assert_main_panicked(names[0], &outs[0], "the owner failed");
    assert_owner_got(names[1], &outs[1], "a goroutine failed");
    for (name, out) in names.iter().zip(&outs) {
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("deferred recv gave None\n"),
            "{name}: {stdout}"
        );
        assert!(
            stdout.contains("deferred send gave Err(5)\n"),
            "{name}: {stdout}"
        );
    }
}

#[test]
#[ignore = "issue 17 item 5: a deferred select! with only send arms, in a cancelled \
            goroutine, ends the process (park::unwind's exit 2, \"part of a deadlock\"): \
            the first panic never reaches the owner"]
fn a_deferred_select_of_sends_in_a_cancelled_goroutine_lets_the_first_panic_through() {
    let name = "owner_deferred_select_of_sends";
    let out = run(name);
    assert_owner_got(name, &out, "the owner failed");
}

#[test]
#[ignore = "issue 17 item 5: a deferred select! whose arms refuse a closed channel's None, \
            in a cancelled goroutine, ends the process (park::unwind's exit 2, \
            \"part of a deadlock\"): the first panic never reaches the owner"]
fn a_deferred_select_refusing_none_in_a_cancelled_goroutine_lets_the_first_panic_through() {
    let name = "owner_deferred_select_refusing_none";
    let out = run(name);
    assert_owner_got(name, &out, "the owner failed");
}

// ---- item 6: cancellation ends recv_timeout and send_timeout ----

#[test]
fn cancellation_ends_recv_timeout_and_send_timeout_at_once() {
    // The waits are of 30 s; [`tests::TIMEOUT`] kills a run that hangs. The
    // owner prints how long it took to get its panic: well under the waits.
    let names = ["owner_timeouts_in_goroutines", "owner_timeout_in_the_owner"];
    let messages = ["the owner failed", "a goroutine failed"];
    for ((name, message), out) in names.iter().zip(messages).zip(run_all(&names)) {
        assert_owner_got(name, &out, message);
        let stdout = text(&out.stdout);
        assert!(!stdout.contains("unreachable"), "{name}: {stdout}");
        let ms: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("after ")?.strip_suffix(" ms")?.parse().ok())
            .unwrap_or_else(|| panic!("{name}: {stdout}"));
        assert!(ms < 15_000, "{name}: the owner waited {ms} ms");
    }
}

// ---- item 7: a panicking Drop of a value goscope drops ----

#[test]
fn a_panicking_drop_of_a_cancelled_sends_value_never_aborts() {
    let name = "main_unsent_value_drop_panics";
    let out = run(name);
    assert_main_panicked(name, &out, "the owner failed");
    // The second panic is printed too.
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bomb went off"), "{name}: {stderr}");
}

#[test]
fn a_panicking_drop_of_a_value_select_refused_while_unwinding_never_aborts() {
    let name = "owner_refused_value_drop_panics";
    let out = run(name);
    assert_owner_got(name, &out, "the owner failed");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stderr.contains("bomb went off"), "{name}: {stderr}");
    assert!(
        stdout.contains("deferred select gave None\n"),
        "{name}: {stdout}"
    );
}

#[test]
fn a_panicking_drop_of_a_deferred_sends_value_given_back_never_aborts() {
    let name = "owner_deferred_send_value_drop_panics";
    let out = run(name);
    assert_owner_got(name, &out, "the owner failed");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bomb went off"), "{name}: {stderr}");
}

#[test]
fn a_panicking_drop_of_a_select_send_arms_unsent_value_while_unwinding_never_aborts() {
    let name = "owner_select_send_value_drop_panics";
    let out = run(name);
    assert_owner_got(name, &out, "the owner failed");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stderr.contains("bomb went off"), "{name}: {stderr}");
    assert!(
        stdout.contains("deferred select gave None\n"),
        "{name}: {stdout}"
    );
}
