//! Scopes and failure behaviour: what `#[goscope::scoped]` (and so `main`
//! and `test`) promise about joining goroutines and about their panics, as
//! SPEC.md's "Macros" and "Failure behaviour" sections say. Deadlock
//! reports, the rest of "Failure behaviour", are pinned in `deadlock.rs`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use goscope::RecvTimeoutError;
use goscope::prelude::*;
use tests::{BLOCKED, PATIENCE, panic_message};

#[goscope::scoped]
fn goroutine_panics_with_a_str() {
    go!(|| panic!("a &'static str payload"));
}

#[test]
fn a_goroutine_panic_resumes_in_the_owner_with_its_str_payload() {
    let payload = panic::catch_unwind(goroutine_panics_with_a_str).expect_err("resumed");
    assert_eq!(
        payload.downcast_ref::<&'static str>(),
        Some(&"a &'static str payload"),
        "the goroutine's own payload, not a wrapper"
    );
}

#[goscope::scoped]
fn goroutine_panics_with_a_format(code: i32) {
    go!(move || panic!("failed with code {code}"));
}

#[test]
fn a_goroutine_panic_resumes_in_the_owner_with_its_string_payload() {
    let payload = panic::catch_unwind(|| goroutine_panics_with_a_format(7)).expect_err("resumed");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("failed with code 7")
    );
}

#[derive(Debug, PartialEq)]
struct CustomPayload {
    code: u32,
}

#[goscope::scoped]
fn goroutine_panics_with_a_custom_payload() {
    go! {
        panic::panic_any(CustomPayload { code: 418 });
    }
}

#[test]
fn a_goroutine_panic_resumes_in_the_owner_with_its_custom_payload() {
    let payload = panic::catch_unwind(goroutine_panics_with_a_custom_payload).expect_err("resumed");
    let payload = payload
        .downcast::<CustomPayload>()
        .expect("the payload keeps its type");
    assert_eq!(*payload, CustomPayload { code: 418 });
}

#[goscope::scoped]
fn body_and_goroutine_panic(goroutine_panicked: &WaitGroup) {
    go!(|| {
        defer!(goroutine_panicked.done());
        panic!("the goroutine's panic");
    });
    goroutine_panicked.wait();
    panic!("the body's panic");
}

#[test]
fn the_owners_own_panic_comes_first() {
    let wg = WaitGroup::new();
    wg.add(1);
    let payload = panic::catch_unwind(|| body_and_goroutine_panic(&wg)).expect_err("resumed");
    assert_eq!(panic_message(&*payload), "the body's panic");
}

#[goscope::scoped]
fn one_panics_one_waits(panicked: &WaitGroup, gate: &AtomicBool, finished: &AtomicBool) {
    go!(|| {
        defer!(panicked.done());
        panic!("first");
    });
    go!(|| {
        // Busy outside goscope (a cancellation cannot end this): the scope
        // waits for it.
        while !gate.load(Ordering::SeqCst) {
            thread::yield_now();
        }
        finished.store(true, Ordering::SeqCst);
    });
}

#[test]
fn a_goroutine_panic_resumes_only_after_the_other_goroutines() {
    let panicked = WaitGroup::new();
    panicked.add(1);
    let finished = AtomicBool::new(false);
    let gate = AtomicBool::new(false);
    let (returned_tx, returned) = chan(1);
    thread::scope(|s| {
        s.spawn(|| {
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                one_panics_one_waits(&panicked, &gate, &finished)
            }));
            let payload = result.expect_err("the panic resumed");
            let msg = panic_message(&*payload).to_owned();
            returned_tx
                .send((msg, finished.load(Ordering::SeqCst)))
                .unwrap();
        });
        // The first goroutine is unwinding...
        panicked.wait();
        // ...but the second is busy until the gate opens. Bounded wait: the
        // panic must not resume in the owner before the second has finished.
        assert_eq!(
            returned.recv_timeout(BLOCKED),
            Err(RecvTimeoutError::Timeout)
        );
        gate.store(true, Ordering::SeqCst);
        assert_eq!(
            returned.recv_timeout(PATIENCE),
            Ok(("first".to_owned(), true))
        );
    });
}

#[goscope::scoped]
fn spawn_and_return(gate: &Receiver<()>, finished: &AtomicBool) {
    go!(|| {
        gate.recv();
        finished.store(true, Ordering::SeqCst);
    });
    // Falls off the end at once: the scope must still wait.
}

#[test]
fn a_scoped_fn_returns_only_after_its_goroutines() {
    let finished = AtomicBool::new(false);
    let (gate_tx, gate) = chan::<()>(0);
    let (returned_tx, returned) = chan::<bool>(1);
    thread::scope(|s| {
        s.spawn(|| {
            spawn_and_return(&gate, &finished);
            returned_tx.send(finished.load(Ordering::SeqCst)).unwrap();
        });
        // Bounded wait: the goroutine is parked on the gate, so the
        // function must not have returned.
        assert_eq!(
            returned.recv_timeout(BLOCKED),
            Err(RecvTimeoutError::Timeout)
        );
        gate_tx.send(()).unwrap();
        assert_eq!(
            returned.recv_timeout(PATIENCE),
            Ok(true),
            "returned after the goroutine had finished"
        );
    });
}

fn push_after(gate: &Receiver<()>, out: &Mutex<Vec<String>>, what: String) {
    gate.recv();
    out.lock().unwrap().push(what);
}

#[goscope::scoped]
fn staged(gate: &Receiver<()>, out: &Mutex<Vec<String>>) -> usize {
    let a = String::from("a");
    go!(push_after(gate, out, a.clone()));
    let b = format!("{a}b");
    go!(push_after(gate, out, b.clone()));
    let c = format!("{b}c");
    go!(push_after(gate, out, c.clone()));
    a.len() + b.len() + c.len()
}

#[test]
fn nested_scopes_of_several_lets_all_join() {
    let out = Mutex::new(Vec::new());
    let (gate_tx, gate) = chan::<()>(3);
    for _ in 0..3 {
        gate_tx.send(()).unwrap();
    }
    assert_eq!(staged(&gate, &out), 6, "the tail's value comes out");
    let mut out = out.into_inner().unwrap();
    out.sort();
    assert_eq!(out, ["a", "ab", "abc"]);
}

#[goscope::scoped]
fn sum_in_chunks(numbers: &[u64]) -> u64 {
    let total = Mutex::new(0);
    let wg = WaitGroup::new();
    for chunk in numbers.chunks(3) {
        wg.add(1);
        go!(|| {
            defer!(wg.done());
            *total.lock().unwrap() += chunk.iter().sum::<u64>();
        });
    }
    wg.wait();
    *total.lock().unwrap()
}

#[goscope::scoped]
fn fill(slots: &mut [usize]) {
    for (i, slot) in slots.iter_mut().enumerate() {
        go!(move || *slot = i * i);
    }
}

#[test]
fn parameters_are_borrowed_by_goroutines() {
    let mut slots = [0; 5];
    fill(&mut slots);
    assert_eq!(slots, [0, 1, 4, 9, 16]);
    assert_eq!(sum_in_chunks(&[1, 2, 3, 4, 5, 6, 7]), 28);
}

#[goscope::scoped]
fn count_in_goroutines(numbers: &[u64], evens: &AtomicUsize) {
    for chunk in numbers.chunks(2) {
        go!(|| {
            let n = chunk.iter().filter(|&&n| n % 2 == 0).count();
            evens.fetch_add(n, Ordering::SeqCst);
        });
    }
}

#[test]
fn shared_parameters_are_borrowed_by_goroutines() {
    let evens = AtomicUsize::new(0);
    count_in_goroutines(&[1, 2, 3, 4, 6, 8, 9], &evens);
    assert_eq!(evens.load(Ordering::SeqCst), 4);
}

#[test]
fn a_detached_goroutine_panic_exits_the_process_with_status_2() {
    if tests::is_child("detached panic") {
        go!(|| panic!("detached goroutine gave up"));
        // Bounded: the process should end long before this returns.
        let _ = never::<()>().recv_timeout(PATIENCE);
        return;
    }
    assert_child_exits_with_status_2(
        "a_detached_goroutine_panic_exits_the_process_with_status_2",
        "detached panic",
        "detached goroutine gave up",
    );
}

/// Runs `test` as a child process in the `scenario` role and checks that it
/// exits with Go's status 2, printing `message`.
fn assert_child_exits_with_status_2(test: &str, scenario: &str, message: &str) {
    let out = tests::run_child(test, scenario);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(stderr.contains(message), "stderr:\n{stderr}");
}

#[derive(Debug)]
struct Broken;

fn fails() -> Result<(), Broken> {
    Err(Broken)
}

#[test]
fn a_detached_goroutine_returning_err_exits_the_process_with_status_2() {
    if tests::is_child("detached err") {
        go!(fails());
        let _ = never::<()>().recv_timeout(PATIENCE);
        return;
    }
    assert_child_exits_with_status_2(
        "a_detached_goroutine_returning_err_exits_the_process_with_status_2",
        "detached err",
        "Err(Broken)",
    );
}

#[test]
fn a_wait_group_go_panic_exits_the_process_with_status_2() {
    if tests::is_child("wg.go panic") {
        let wg = WaitGroup::new();
        wg.go(|| panic!("wg.go goroutine gave up"));
        wg.wait();
        let _ = never::<()>().recv_timeout(PATIENCE);
        return;
    }
    assert_child_exits_with_status_2(
        "a_wait_group_go_panic_exits_the_process_with_status_2",
        "wg.go panic",
        "wg.go goroutine gave up",
    );
}

#[goscope::scoped]
fn two_goroutines_panic(both_started: &WaitGroup) {
    for name in ["first", "second"] {
        go!(move || {
            both_started.done();
            both_started.wait();
            panic!("{name} goroutine's message");
        });
    }
}

#[test]
fn no_goroutine_panic_is_lost() {
    // Only one payload can resume in the owner; the other's message must
    // still be printed. Checked on a child's stderr.
    if tests::is_child("two panics") {
        let wg = WaitGroup::new();
        wg.add(2);
        assert!(panic::catch_unwind(|| two_goroutines_panic(&wg)).is_err());
        return;
    }
    let out = tests::run_child("no_goroutine_panic_is_lost", "two panics");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr:\n{stderr}");
    assert!(
        stderr.contains("first goroutine's message"),
        "stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("second goroutine's message"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn a_payload_whose_drop_panics_leaves_no_goroutine_counted() {
    // Two goroutines of one scope panic with payloads whose `Drop` panics;
    // dropping the second one used to unwind past the goroutine's
    // bookkeeping: `num_goroutine` stayed one too high and a later real
    // deadlock hung instead of being reported.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scenarios"))
        .arg("deadlock_after_a_payload_drop_panicked")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the scenarios binary");
    // Bounded: a child that hangs is killed and fails the test.
    let deadline = std::time::Instant::now() + PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the deadlock was never reported; stdout:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stdout.contains("goroutines after the panics: 1"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(
        stderr.contains("fatal error: all goroutines are asleep - deadlock!"),
        "stderr:\n{stderr}"
    );
    // The dropped payload's own panic was printed, not swallowed.
    assert!(
        stderr.contains("a panic payload's drop panicked"),
        "stderr:\n{stderr}"
    );
}

#[goscope::scoped]
fn two_goroutines_resume_unwind(both_started: &WaitGroup) {
    for name in ["first", "second"] {
        go!(move || {
            both_started.done();
            both_started.wait();
            panic::resume_unwind(Box::new(format!("{name} goroutine's payload")))
        });
    }
}

/// The lines of `stderr` that report a dropped goroutine panic.
fn dropped_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("goscope: goroutine ") && l.ends_with("this one is dropped"))
        .collect()
}

#[test]
fn a_second_resume_unwind_is_reported_not_lost() {
    // `resume_unwind` runs no panic hook: the payload that does not resume
    // in the owner used to vanish without a trace.
    if tests::is_child("two resume_unwinds") {
        let wg = WaitGroup::new();
        wg.add(2);
        let payload = panic::catch_unwind(|| two_goroutines_resume_unwind(&wg)).unwrap_err();
        eprintln!("owner got: {}", panic_message(&*payload));
        return;
    }
    let out = tests::run_child(
        "a_second_resume_unwind_is_reported_not_lost",
        "two resume_unwinds",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr:\n{stderr}");
    let (kept, dropped) = if stderr.contains("owner got: first") {
        ("first", "second")
    } else {
        ("second", "first")
    };
    assert!(
        stderr.contains(&format!("owner got: {kept} goroutine's payload")),
        "stderr:\n{stderr}"
    );
    let lines = dropped_lines(&stderr);
    assert_eq!(lines.len(), 1, "stderr:\n{stderr}");
    assert!(
        lines[0].contains(&format!("panicked with \"{dropped} goroutine's payload\"")),
        "stderr:\n{stderr}"
    );
}

/// A payload that is not a string.
struct Custom;

#[goscope::scoped]
fn resume_unwind_then_custom_panic() {
    // Goroutines: this one, and the two below.
    let before = goscope::num_goroutine();
    go!(|| panic::resume_unwind(Box::new("the first payload")));
    go!(move || {
        // Panic only once the first goroutine has finished, and so has
        // handed its payload to the scope: the custom one is the second.
        while goscope::num_goroutine() > before + 1 {
            thread::yield_now();
        }
        panic::panic_any(Custom)
    });
}

#[test]
fn a_custom_panic_after_a_resume_unwind_is_reported() {
    // The first payload (from `resume_unwind`) resumes in the owner; the
    // second, not a string, used to survive only as the hook's
    // "Box<dyn Any>" line, with no word that it was dropped.
    if tests::is_child("resume_unwind then custom") {
        let payload = panic::catch_unwind(resume_unwind_then_custom_panic).unwrap_err();
        eprintln!("owner got: {}", panic_message(&*payload));
        return;
    }
    let out = tests::run_child(
        "a_custom_panic_after_a_resume_unwind_is_reported",
        "resume_unwind then custom",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr:\n{stderr}");
    assert!(
        stderr.contains("owner got: the first payload"),
        "stderr:\n{stderr}"
    );
    let lines = dropped_lines(&stderr);
    assert_eq!(lines.len(), 1, "stderr:\n{stderr}");
    assert!(
        lines[0].contains("panicked with a payload that is not a string"),
        "stderr:\n{stderr}"
    );
}

// `scope! { .. }`: a block that is a scope of its own (SPEC.md, "Macros").

fn fill_from(part: &mut [u64], from: u64) {
    for (i, slot) in part.iter_mut().enumerate() {
        *slot = from + i as u64;
    }
}

/// A plain function, phase by phase: goroutines borrow a local mutably,
/// the block waits for them, then the function uses the data again.
fn phases() -> (Vec<u64>, u64) {
    let mut numbers = vec![0; 6];
    scope! {
        let (low, high) = numbers.split_at_mut(3);
        go!(fill_from(low, 1));
        go!(fill_from(high, 4));
    }
    numbers.push(7);
    let sum = scope! {
        let (tx, rx) = chan(0);
        for part in numbers.chunks(2) {
            let tx = tx.clone();
            go!(move || tx.send(part.iter().sum::<u64>()).unwrap());
        }
        drop(tx);
        rx.iter().sum()
    };
    (numbers, sum)
}

#[test]
fn scope_blocks_run_phases_in_a_plain_function() {
    assert_eq!(phases(), (vec![1, 2, 3, 4, 5, 6, 7], 28));
}

#[test]
fn a_scope_block_ends_only_after_its_goroutines() {
    let (gate_tx, gate) = chan::<()>(0);
    let finished = AtomicBool::new(false);
    let (ended_tx, ended) = chan::<bool>(1);
    thread::scope(|s| {
        s.spawn(|| {
            scope! {
                go!(|| {
                    gate.recv();
                    finished.store(true, Ordering::SeqCst);
                });
            }
            ended_tx.send(finished.load(Ordering::SeqCst)).unwrap();
        });
        // Bounded wait: the goroutine is parked on the gate, so the block
        // must not have ended.
        assert_eq!(ended.recv_timeout(BLOCKED), Err(RecvTimeoutError::Timeout));
        drop(gate_tx);
        assert_eq!(ended.recv_timeout(PATIENCE), Ok(true));
    });
}

#[goscope::scoped]
fn scope_in_a_scoped_fn(words: &[&str]) -> (usize, String) {
    let mut lengths = vec![0; words.len()];
    let lengths_total = scope! {
        for (word, slot) in words.iter().zip(lengths.iter_mut()) {
            go!(move || *slot = word.len());
        }
        words.len()
    };
    // The goroutines' mutable borrows of `lengths` ended with the block.
    lengths.push(lengths_total);
    let log = Mutex::new(Vec::new());
    go!(|| log.lock().unwrap().push(lengths.iter().sum::<usize>()));
    (lengths.len(), format!("{lengths:?}"))
}

#[test]
fn scope_blocks_work_in_scoped_functions() {
    assert_eq!(
        scope_in_a_scoped_fn(&["go", "scope"]),
        (3, "[2, 5, 2]".to_owned())
    );
}

#[test]
fn scope_blocks_nest() {
    let mut outer = [0u32; 2];
    let mut inner = [0u32; 2];
    scope! {
        let [a, b] = &mut outer;
        go!(move || *a = 1);
        scope! {
            let [c, d] = &mut inner;
            go!(move || *c = 3);
            go!(move || *d = 4);
        }
        // The inner block has ended: its goroutines are done.
        assert_eq!(inner, [3, 4]);
        go!(move || *b = 2);
    }
    assert_eq!((outer, inner), ([1, 2], [3, 4]));
}

#[test]
fn a_scope_block_in_a_goroutine() {
    let (tx, rx) = chan(1);
    // A detached goroutine, with a block whose goroutines borrow its locals.
    go!(move || {
        let mut halves = [0u64; 2];
        scope! {
            let [low, high] = &mut halves;
            go!(move || *low = (1..=50).sum());
            go!(move || *high = (51..=100).sum());
        }
        tx.send(halves[0] + halves[1]).unwrap();
    });
    assert_eq!(rx.recv_timeout(PATIENCE), Ok(5050));
}

#[test]
fn a_scope_block_runs_its_top_level_defer_before_it_waits() {
    let (tx, rx) = chan::<u32>(0);
    let mut sum = 0;
    scope! {
        // Go's `defer close(ch)`: ends the goroutine's range before the
        // block waits for it.
        defer!(drop(tx));
        let sum = &mut sum;
        go!(move || {
            for n in &rx {
                *sum += n;
            }
        });
        for n in 1..=4 {
            tx.send(n).unwrap();
        }
    }
    assert_eq!(sum, 10);
}

#[test]
fn a_goroutine_panic_in_a_scope_block_resumes_there_after_the_others() {
    let waiting_unwound = AtomicBool::new(false);
    let after_block = AtomicBool::new(false);
    let payload = panic::catch_unwind(AssertUnwindSafe(|| {
        let (_never_tx, never) = chan::<()>(0);
        scope! {
            go!(|| {
                // Cancelled by the other goroutine's panic: unwinds.
                defer!(waiting_unwound.store(true, Ordering::SeqCst));
                never.recv();
            });
            go!(|| panic!("a goroutine of the block failed"));
        }
        after_block.store(true, Ordering::SeqCst);
    }))
    .expect_err("the goroutine's panic resumed at the block");
    assert_eq!(panic_message(&*payload), "a goroutine of the block failed");
    assert!(waiting_unwound.load(Ordering::SeqCst));
    assert!(!after_block.load(Ordering::SeqCst));
}

#[test]
fn a_panic_in_a_scope_block_cancels_its_goroutines() {
    let unwound = AtomicBool::new(false);
    let started = WaitGroup::new();
    started.add(1);
    let payload = panic::catch_unwind(AssertUnwindSafe(|| {
        let (_never_tx, never) = chan::<()>(0);
        scope! {
            go!(|| {
                defer!(unwound.store(true, Ordering::SeqCst));
                started.done();
                never.recv();
            });
            started.wait();
            panic!("the block gave up");
        }
    }))
    .expect_err("the block's panic resumed");
    assert_eq!(panic_message(&*payload), "the block gave up");
    assert!(unwound.load(Ordering::SeqCst));
}

/// How many goroutines of the block in `main_waits_for_a_scope_block` ran.
static BLOCK_IN_MAIN_RAN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[goscope::main]
fn main_waits_for_a_scope_block() {
    let (gate_tx, gate) = chan::<()>(0);
    go!(move || drop(gate_tx));
    scope! {
        go!(|| {
            gate.recv();
            BLOCK_IN_MAIN_RAN.fetch_add(1, Ordering::SeqCst);
        });
    }
    assert_eq!(BLOCK_IN_MAIN_RAN.load(Ordering::SeqCst), 1);
}

#[test]
fn a_scope_block_in_main_waits_for_its_goroutines() {
    // main itself ends the program when it returns; a block in it waits.
    main_waits_for_a_scope_block();
    assert_eq!(BLOCK_IN_MAIN_RAN.load(Ordering::SeqCst), 1);
}
