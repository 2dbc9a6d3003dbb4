//! Helpers shared by the behaviour tests: bounded waits and child processes.
#![allow(dead_code)] // each test file uses its own subset

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long a test watches for something that must *not* happen yet (a
/// blocked send completing, a scope returning early). A slow machine can
/// only make such a check pass vacuously, never fail spuriously.
pub(crate) const BLOCKED: Duration = Duration::from_millis(50);

/// How long a test waits for something that must happen before declaring
/// the test failed, instead of hanging forever.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// The environment variable that tells a re-run test executable which
/// scenario to play.
const SCENARIO: &str = "GOSCOPE_TEST_SCENARIO";

/// Whether this process is a child started by [`run_child`] to play
/// `scenario`.
pub(crate) fn is_child(scenario: &str) -> bool {
    std::env::var(SCENARIO).is_ok_and(|s| s == scenario)
}

/// Re-runs the current test executable with only the test named `test`
/// (its full path inside the test crate), with [`is_child`]`(scenario)`
/// true. Kills the child if it has not ended after [`PATIENCE`].
pub(crate) fn run_child(test: &str, scenario: &str) -> Output {
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--include-ignored"])
        .args(["--test-threads", "1"])
        .env(SCENARIO, scenario)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("re-running the test executable");
    // The pipes close when the child exits: read them on threads and wait
    // for both with a deadline, so a hanging child fails the test.
    let (done_tx, done_rx) = mpsc::channel();
    let mut readers = Vec::new();
    for mut pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let done_tx = done_tx.clone();
        readers.push(thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = done_tx.send(());
            buf
        }));
    }
    let mut timed_out = false;
    for _ in 0..2 {
        if done_rx.recv_timeout(PATIENCE).is_err() {
            timed_out = true;
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().expect("waiting for the child");
    let mut out = readers.into_iter().map(|r| r.join().unwrap());
    let (stdout, stderr) = (out.next().unwrap(), out.next().unwrap());
    assert!(
        !timed_out,
        "child `{test}` ({scenario}) hung and was killed; stderr:\n{}",
        String::from_utf8_lossy(&stderr)
    );
    Output {
        status,
        stdout,
        stderr,
    }
}

/// The message of a panic payload, for `&str` and `String` payloads.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<not a string payload>"
    }
}

/// The child-process scenarios' source file, as reports name it.
pub(crate) const SCENARIOS: &str = "tests/src/bin/scenarios.rs";

/// The line of the scenarios' source that contains `needle` (1-based).
pub(crate) fn scenario_line(needle: &str) -> usize {
    let source = include_str!("../../src/bin/scenarios.rs");
    let index = source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in {SCENARIOS}"));
    index + 1
}
