//! The deadlock and leak detector: programs that must be reported (run as
//! child processes, from `src/bin/scenarios.rs`), programs that must not be,
//! and reports under `#[goscope::test]`.
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use goscope::prelude::*;
use tests::{DEADLOCK as HEADER, Program, SCENARIOS, entries, scenario_line};

/// Runs scenarios side by side (several sleep for seconds), each bounded by
/// [`tests::TIMEOUT`] so a hang fails the test instead of stalling it.
fn run_all(names: &[&str]) -> Vec<(String, Output)> {
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            let program = Program::new(env!("CARGO_BIN_EXE_scenarios")).arg(n);
            (n.to_string(), program.spawn())
        })
        .collect();
    children
        .into_iter()
        .map(|(name, child)| (name, child.wait()))
        .collect()
}

#[test]
fn deadlocks_are_reported_with_go_dump_and_exit_status_2() {
    // (scenario, expected states of the goroutines, in id order)
    let cases: &[(&str, &[&str])] = &[
        ("deadlock_receive", &["[chan receive]"]),
        ("deadlock_send", &["[chan send]"]),
        (
            "deadlock_mutual",
            &["[sync.WaitGroup.Wait]", "[chan receive]", "[chan receive]"],
        ),
        ("deadlock_wait_group", &["[sync.WaitGroup.Wait]"]),
        ("deadlock_select", &["[select]"]),
        ("deadlock_select_all_arms_off", &["[select]"]),
        (
            "deadlock_main_returns",
            &["[scope: waiting for its goroutines]", "[chan receive]"],
        ),
    ];
    let names: Vec<_> = cases.iter().map(|c| c.0).collect();
    for ((name, out), (_, states)) in run_all(&names).into_iter().zip(cases) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{HEADER}\n\n")),
            "{name}: {stderr}"
        );
        let entries = entries(&stderr);
        assert_eq!(entries.len(), states.len(), "{name}: {stderr}");
        for (i, ((head, body), state)) in entries.iter().zip(states.iter()).enumerate() {
            assert!(head.ends_with(&format!("{state}:")), "{name}: {head}");
            // Where it is blocked: a line of the scenario's own file.
            assert!(
                body[0].starts_with(&format!("\t{SCENARIOS}:")),
                "{name}: {body:?}"
            );
            if i == 0 {
                assert!(head.starts_with("goroutine 1 "), "{name}: {head}");
                assert_eq!(body[1], "main goroutine", "{name}");
            } else {
                // And where `go!` started it.
                assert_eq!(body[1], "created by go! in goroutine 1", "{name}");
                assert!(
                    body[2].starts_with(&format!("\t{SCENARIOS}:")),
                    "{name}: {body:?}"
                );
            }
        }
    }
}

#[test]
fn busy_sleeping_and_foreign_threads_are_never_taken_for_blocked() {
    let expected = [
        ("ok_sleeping", "awake"),
        ("ok_foreign_thread", "foreign thread done"),
        ("ok_computing", "computed true"),
        ("ok_std_mutex", "mutex ok"),
        ("ok_soak", "soak passes true"),
        ("ok_sync_mutex_computing", "sync mutex ok true"),
    ];
    let names: Vec<_> = expected.iter().map(|e| e.0).collect();
    for ((name, out), (_, line)) in run_all(&names).into_iter().zip(expected) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        assert!(!stderr.contains(HEADER), "{name}: false report: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), line, "{name}");
    }
}

#[test]
fn the_philosophers_deadlock_on_sync_mutex_is_reported_every_time() {
    // Ten runs of the dining philosophers whose `goscope::sync::Mutex` forks
    // deadlock: every run is reported with the five philosophers waiting in
    // `[sync.Mutex.Lock]` at the right-fork `lock()`, each created by the
    // `go!` in main.
    let right_fork = format!(
        "\t{SCENARIOS}:{}:",
        scenario_line(SCENARIOS, "let _right = forks")
    );
    let go_site = format!(
        "\t{SCENARIOS}:{}:",
        scenario_line(SCENARIOS, "go!(philosopher(")
    );
    let runs = vec!["deadlock_philosophers"; 10];
    for (run, (name, out)) in run_all(&runs).into_iter().enumerate() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "run {run}: {stderr}");
        assert!(
            stderr.contains(&format!("{HEADER}\n\n")),
            "run {run}: {stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("eats"),
            "{name}"
        );
        let entries = entries(&stderr);
        assert_eq!(entries.len(), 6, "run {run}: {stderr}");
        assert!(
            entries[0]
                .0
                .starts_with("goroutine 1 [scope: waiting for its goroutines]"),
            "run {run}: {stderr}"
        );
        for (head, body) in &entries[1..] {
            assert!(head.ends_with(" [sync.Mutex.Lock]:"), "run {run}: {stderr}");
            assert!(body[0].starts_with(&right_fork), "run {run}: {stderr}");
            assert_eq!(body[1], "created by go! in goroutine 1", "run {run}");
            assert!(body[2].starts_with(&go_site), "run {run}: {stderr}");
        }
    }
}

#[test]
fn goscope_deadlock_off_disables_the_detector() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenarios"))
        .arg("deadlock_receive")
        .env("GOSCOPE_DEADLOCK", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the scenarios binary");
    // Bounded wait: the detector reports within ~0.3 s when on; with it off
    // the program must still be blocked well after that.
    std::thread::sleep(Duration::from_millis(1500));
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(still_running, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(HEADER));
}

#[goscope::test]
#[should_panic(expected = "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine")]
fn a_deadlocked_test_fails_with_the_report() {
    let (_tx, rx) = chan::<i32>(0);
    rx.recv();
}

#[goscope::test]
#[should_panic(expected = "[chan receive]")]
fn goroutines_of_a_deadlocked_test_are_ended_and_listed() {
    let (a_tx, a) = chan::<i32>(0);
    let (b_tx, b) = chan::<i32>(0);
    let wg = WaitGroup::new();
    wg.add(2);
    let wg = &wg;
    go! {
        defer!(wg.done());
        a.recv();
        b_tx.send(1).unwrap();
    }
    go! {
        defer!(wg.done());
        b.recv();
        a_tx.send(1).unwrap();
    }
    wg.wait();
}

#[goscope::test]
#[should_panic(expected = "[select]")]
fn a_select_whose_arms_are_all_off_is_a_deadlock() {
    let (tx, rx) = chan::<i32>(0);
    drop(tx);
    select! {
        Some(v) = <-rx => println!("{v}"),
    }
}

#[goscope::test]
#[should_panic(expected = "[select]")]
fn a_select_whose_timer_arm_turned_off_is_a_deadlock() {
    // The timer's value does not match `None`: once it fires, nothing but
    // another goroutine could end this select, and there is none.
    let (_tx, rx) = chan::<i32>(0);
    select! {
        None = <-after(Duration::from_millis(1)) => {}
        Some(v) = <-rx => println!("{v}"),
    }
}

/// Outside any scope attribute, `go!` starts a detached goroutine.
fn start_detached(rx: Receiver<i32>) {
    go!(move || {
        rx.recv();
    });
}

#[goscope::test]
#[should_panic(expected = "the test returned while goroutines it started are still running")]
fn a_test_that_leaks_a_goroutine_fails() {
    let (tx, rx) = chan::<i32>(0);
    start_detached(rx);
    // Keep the channel open forever: the goroutine can never finish.
    std::mem::forget(tx);
}

#[goscope::test(leak_check = "off")]
fn leak_check_can_be_turned_off() {
    let (tx, rx) = chan::<i32>(0);
    start_detached(rx);
    std::mem::forget(tx);
}

#[goscope::test]
fn a_goroutine_that_ends_after_the_test_body_is_not_a_leak() {
    let (tx, rx) = chan::<i32>(0);
    start_detached(rx);
    // The detached goroutine ends when the channel closes, just after the
    // body: the leak check waits for it.
    drop(tx);
}

/// The help of a report in which the test waits for its scope points at
/// where it waits and names the remedies: here the goroutine waits to
/// receive on a channel whose sender the function still holds.
#[goscope::test]
#[should_panic(expected = "drop it before the function's end")]
fn the_help_names_the_sender_the_function_still_holds() {
    let (tx, rx) = chan::<i32>(0);
    go! {
        rx.recv();
    }
    let _ = &tx; // held until the test's scope has joined: never closed
}

#[goscope::test]
#[should_panic(expected = "scope! { ... }")]
fn the_help_names_scope_blocks_for_phases() {
    let (tx, rx) = chan::<i32>(0);
    go! {
        rx.recv();
    }
    let _ = &tx;
}
