//! What a goroutine's thread is (issue 19): on Linux a thread goscope
//! starts with `pthread_create`, without std's per-thread signal stack. What
//! a goroutine relies on must work there as on a std thread: its OS name,
//! `std::thread::current()` and parking, thread-local destructors, and a
//! stack overflow that ends the process with a message. Programs whose exit
//! matters run as child processes (`src/bin/limits.rs`).
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use goscope::prelude::*;
use tests::Program;

/// Runs a scenario of `src/bin/limits.rs` with `env` set, bounded by
/// [`tests::TIMEOUT`].
fn run(scenario: &str, env: &[(&str, &str)]) -> Output {
    env.iter()
        .fold(
            Program::new(env!("CARGO_BIN_EXE_limits"))
                .arg(scenario)
                .env("RUST_BACKTRACE", "0"),
            |program, (key, value)| program.env(key, value),
        )
        .run()
}

#[cfg(unix)]
fn signal(out: &Output) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal()
}

/// The overflow report is goscope's own (std's handler knows nothing of a
/// thread it did not start), from the signal stack goscope gives the
/// thread; the process aborts, as with std's report.
#[test]
#[cfg(unix)]
fn a_stack_overflow_in_a_goroutine_ends_the_process_with_a_message() {
    let out = run("overflow_in_goroutine", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(signal(&out), Some(6), "SIGABRT: {}\n{stderr}", out.status);
    assert!(
        stderr.contains("goroutine 2 has overflowed its stack (2097152 bytes;"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fatal runtime error: stack overflow"),
        "{stderr}"
    );
}

/// The stack size is std's for its threads (`RUST_MIN_STACK`) unless
/// `GOSCOPE_STACK_SIZE` says otherwise; the report says which.
#[test]
#[cfg(unix)]
fn a_goroutine_overflows_the_stack_size_it_was_given() {
    let out = run("overflow_in_goroutine", &[("GOSCOPE_STACK_SIZE", "262144")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(signal(&out), Some(6), "SIGABRT: {}\n{stderr}", out.status);
    assert!(stderr.contains("(262144 bytes;"), "{stderr}");
    let out = run("overflow_in_goroutine", &[("RUST_MIN_STACK", "524288")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(524288 bytes;"), "{stderr}");
}

/// A fault that is not a goroutine's overflow goes on to the handler that
/// was there before goscope's: std's, which reports main's overflow.
#[test]
#[cfg(unix)]
fn a_stack_overflow_on_main_is_still_reported_by_std() {
    let out = run("overflow_on_main", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(signal(&out), Some(6), "SIGABRT: {}\n{stderr}", out.status);
    assert!(
        stderr.contains("thread 'main'") && stderr.contains("has overflowed its stack"),
        "{stderr}"
    );
}

/// The OS refusing the thread (here: a stack it cannot map) is an error
/// `go!` turns into its panic, never an abort.
#[test]
fn a_thread_the_os_refuses_is_a_clean_panic() {
    let out = run(
        "stack_too_large",
        &[("GOSCOPE_STACK_SIZE", "1000000000000000")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}\n{stderr}", out.status);
    assert!(
        stderr.contains("go!: cannot start a goroutine")
            && stderr.contains("the OS refused a new thread"),
        "{stderr}"
    );
    assert!(!stderr.contains("unreachable"), "{stderr}");
}

/// The OS knows a goroutine's thread as `goroutine` (`ps -L`, `top -H`,
/// gdb), as it knew std's goroutine threads.
#[test]
#[cfg(target_os = "linux")]
fn a_goroutine_thread_is_named_goroutine() {
    let names = goscope::sync::Mutex::new(Vec::new());
    #[goscope::scoped]
    fn collect(names: &goscope::sync::Mutex<Vec<String>>) {
        for _ in 0..3 {
            go!(|| {
                let comm = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
                names.lock().push(comm.trim().to_string());
            });
        }
    }
    collect(&names);
    assert_eq!(names.into_inner(), ["goroutine"; 3]);
}

/// `std::thread::current()` in a goroutine is a handle std made for a
/// thread it did not start: it parks and is unparked like any other.
#[goscope::test]
fn a_goroutine_parks_and_is_unparked_through_its_thread_handle() {
    let (handle_tx, handle_rx) = mpsc::channel();
    let woken = &AtomicBool::new(false);
    go!(move || {
        handle_tx.send(std::thread::current()).unwrap();
        // Spurious wake-ups are allowed: park until the flag is set,
        // bounded so a lost unpark fails instead of hanging.
        let deadline = std::time::Instant::now() + tests::PATIENCE;
        while !woken.load(Ordering::SeqCst) {
            assert!(std::time::Instant::now() < deadline, "never unparked");
            std::thread::park_timeout(Duration::from_secs(1));
        }
    });
    let handle = handle_rx.recv().unwrap();
    assert_ne!(handle.id(), std::thread::current().id());
    woken.store(true, Ordering::SeqCst);
    handle.unpark();
}

/// Sends on drop: the destructor of a thread-local runs as its thread exits.
struct Farewell(mpsc::Sender<&'static str>);

impl Drop for Farewell {
    fn drop(&mut self) {
        let _ = self.0.send("thread-local dropped");
    }
}

thread_local! {
    static FAREWELL: std::cell::RefCell<Option<Farewell>> = const { std::cell::RefCell::new(None) };
}

/// A goroutine leaves a value in a thread-local; its destructor runs when
/// the pool thread retires (after its idle timeout: a bounded wait).
#[test]
fn a_thread_local_left_by_a_goroutine_is_dropped_when_its_thread_exits() {
    let (tx, rx) = mpsc::channel();
    go!(static move || FAREWELL.with(|f| *f.borrow_mut() = Some(Farewell(tx))));
    assert_eq!(rx.recv_timeout(tests::PATIENCE), Ok("thread-local dropped"));
}
