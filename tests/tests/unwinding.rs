//! A deferred call that panics while its goroutine is already unwinding (a
//! panic, or the cancellation of its scope) never aborts the process: its
//! panic is printed as Go prints a panic raised during a panic, and the
//! first panic goes on. Each program runs as a child process (before the
//! fix, every one of them ended in SIGABRT: "panic in a destructor during
//! cleanup").
use goscope::prelude::*;

/// What the report of a panic caught while unwinding starts with.
const RECOVERED: &str = "panic: deferred panicked [recovered]";

/// Runs `test` in the `scenario` role and checks that the process ended as
/// the first panic makes it end (`code`), printed both panics, and did not
/// abort.
fn assert_first_panic_wins(test: &str, scenario: &str, code: i32, first: &str) -> String {
    let out = tests::run_child(test, scenario);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "status {}:\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains(first),
        "the first panic's message:\n{stderr}"
    );
    assert!(
        stderr.contains(RECOVERED),
        "the second panic's report:\n{stderr}"
    );
    assert!(
        stderr.contains("while the thread was already unwinding"),
        "{stderr}"
    );
    assert!(!stderr.contains("panic in a destructor"), "{stderr}");
    stderr
}

#[test]
fn a_deferred_panic_while_main_panics_exits_as_the_first_panic() {
    if tests::is_child("main") {
        #[goscope::main]
        fn program() {
            defer!(panic!("deferred panicked"));
            panic!("first panic");
        }
        program();
        return;
    }
    let stderr = assert_first_panic_wins(
        "a_deferred_panic_while_main_panics_exits_as_the_first_panic",
        "main",
        2,
        "first panic",
    );
    // The report names the `defer!` that panicked.
    assert!(
        stderr.contains("raised in the deferred call at tests/tests/unwinding.rs:"),
        "{stderr}"
    );
    assert!(stderr.contains("fatal: main panicked"), "{stderr}");
}

#[test]
fn a_deferred_panic_in_a_cancelled_goroutine_lets_the_owners_panic_through() {
    if tests::is_child("cancelled") {
        #[goscope::main]
        fn program() {
            let (started_tx, started) = chan::<()>(0);
            let (_never_tx, never) = chan::<()>(0);
            go! {
                defer!(panic!("deferred panicked"));
                started_tx.send(()).unwrap();
                // Cancelled when main panics: unwinds through the defer.
                never.recv();
            }
            started.recv();
            panic!("owner panic");
        }
        program();
        return;
    }
    assert_first_panic_wins(
        "a_deferred_panic_in_a_cancelled_goroutine_lets_the_owners_panic_through",
        "cancelled",
        2,
        "owner panic",
    );
}

#[test]
fn a_deferred_panic_in_a_panicking_goroutine_keeps_the_goroutines_payload() {
    if tests::is_child("goroutine") {
        // Not under `main`: the scope owner catches the first payload and
        // says what it was.
        #[goscope::scoped]
        fn owner() {
            go! {
                defer!(panic!("deferred panicked"));
                panic!("goroutine panic");
            }
        }
        let payload = std::panic::catch_unwind(owner)
            .expect_err("the goroutine's panic resumes in the owner");
        let message = tests::panic_message(&*payload);
        println!("owner caught: {message}");
        std::process::exit(3);
    }
    let out = tests::run_child(
        "a_deferred_panic_in_a_panicking_goroutine_keeps_the_goroutines_payload",
        "goroutine",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stdout.contains("owner caught: goroutine panic"),
        "{stdout}\n{stderr}"
    );
    assert!(stderr.contains(RECOVERED), "{stderr}");
}

#[test]
fn a_deferred_panic_without_unwinding_is_an_ordinary_panic() {
    let payload = std::panic::catch_unwind(|| {
        defer!(panic!("deferred panicked"));
    })
    .expect_err("the deferred call's panic propagates");
    assert_eq!(tests::panic_message(&*payload), "deferred panicked");
}
