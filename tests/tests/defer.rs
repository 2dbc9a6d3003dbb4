//! `defer!`: Go's `defer`, at the exit of the enclosing block, as SPEC.md's
//! "`defer!`" section promises it.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Instant;

use goscope::prelude::*;
use tests::{PATIENCE, panic_message};

type Log = RefCell<Vec<String>>;

fn record(log: &Log, what: impl ToString) {
    log.borrow_mut().push(what.to_string());
}

fn entries(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

#[test]
fn deferred_calls_run_lifo_at_block_exit() {
    let log = Log::default();
    {
        defer!(record(&log, "first deferred"));
        defer!(record(&log, "second deferred"));
        defer!(record(&log, "third deferred"));
        record(&log, "body");
    }
    assert_eq!(
        entries(&log),
        [
            "body",
            "third deferred",
            "second deferred",
            "first deferred"
        ]
    );
}

#[test]
fn each_block_runs_its_own_deferred_calls() {
    // Go defers to function exit; goscope to block exit.
    let log = Log::default();
    {
        defer!(record(&log, "outer"));
        {
            defer!(record(&log, "inner"));
            record(&log, "inner body");
        }
        record(&log, "outer body");
    }
    assert_eq!(
        entries(&log),
        ["inner body", "inner", "outer body", "outer"]
    );
}

fn returns_early(log: &Log, early: bool) -> &'static str {
    defer!(record(log, "deferred"));
    if early {
        return "early";
    }
    record(log, "end of body");
    "late"
}

#[test]
fn deferred_calls_run_on_return() {
    let log = Log::default();
    assert_eq!(returns_early(&log, true), "early");
    assert_eq!(entries(&log), ["deferred"]);

    let log = Log::default();
    assert_eq!(returns_early(&log, false), "late");
    assert_eq!(entries(&log), ["end of body", "deferred"]);
}

fn question_mark(log: &Log, input: &str) -> Result<i32, std::num::ParseIntError> {
    defer!(record(log, "deferred"));
    let n: i32 = input.parse()?;
    record(log, "parsed");
    Ok(n)
}

#[test]
fn deferred_calls_run_on_question_mark() {
    let log = Log::default();
    assert!(question_mark(&log, "not a number").is_err());
    assert_eq!(entries(&log), ["deferred"]);

    let log = Log::default();
    assert_eq!(question_mark(&log, "7"), Ok(7));
    assert_eq!(entries(&log), ["parsed", "deferred"]);
}

#[test]
fn deferred_calls_run_on_break_and_continue() {
    let log = Log::default();
    for i in 0.. {
        defer!(record(&log, format!("deferred {i}")));
        if i == 0 {
            continue;
        }
        if i == 1 {
            break;
        }
        record(&log, "unreachable");
    }
    assert_eq!(entries(&log), ["deferred 0", "deferred 1"]);

    // `break` with a value out of a labelled block.
    let log = Log::default();
    let value = 'block: {
        defer!(record(&log, "deferred"));
        if !log.borrow().is_empty() {
            break 'block 0;
        }
        record(&log, "breaking");
        break 'block 42;
    };
    assert_eq!(value, 42);
    assert_eq!(entries(&log), ["breaking", "deferred"]);
}

#[test]
fn deferred_calls_run_during_panic_unwinding() {
    let log = Log::default();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        defer!(record(&log, "first deferred"));
        defer!(record(&log, "second deferred"));
        record(&log, "body");
        panic!("boom");
    }));
    let payload = result.expect_err("the body panicked");
    assert_eq!(panic_message(&*payload), "boom");
    assert_eq!(entries(&log), ["body", "second deferred", "first deferred"]);
}

#[test]
fn call_arguments_are_evaluated_at_the_defer_site() {
    let log = Log::default();
    {
        let mut x = 1;
        defer!(record(&log, format!("deferred saw {x}")));
        x = 2;
        record(&log, format!("body saw {x}"));
    }
    assert_eq!(entries(&log), ["body saw 2", "deferred saw 1"]);
}

fn traced(log: &Log, what: &str) -> i32 {
    record(log, what);
    what.len() as i32
}

#[test]
fn arguments_are_evaluated_left_to_right_before_the_body_goes_on() {
    let log = Log::default();
    let sum = Cell::new(0);
    let add = |a: i32, b: i32| sum.set(a + b);
    {
        defer!(add(traced(&log, "a"), traced(&log, "bb")));
        record(&log, "body");
        assert_eq!(sum.get(), 0, "the call itself is deferred");
    }
    assert_eq!(entries(&log), ["a", "bb", "body"]);
    assert_eq!(sum.get(), 3);
}

/// Records where it was made, and every call on it.
struct Recorder<'a> {
    log: &'a Log,
    name: &'static str,
}

impl<'a> Recorder<'a> {
    fn new(log: &'a Log, name: &'static str) -> Self {
        record(log, format!("made {name}"));
        Recorder { log, name }
    }

    fn call(&self, arg: i32) {
        record(self.log, format!("{}.call({arg})", self.name));
    }
}

#[test]
fn a_non_place_receiver_is_evaluated_at_the_defer_site() {
    let log = Log::default();
    {
        defer!(Recorder::new(&log, "r").call(traced(&log, "arg")));
        record(&log, "body");
    }
    assert_eq!(entries(&log), ["made r", "arg", "body", "r.call(3)"]);
}

#[test]
fn a_place_receiver_is_borrowed_until_the_block_ends() {
    let mut v = vec![1];
    {
        // `v.push` needs `&mut v`: borrowed, not moved or copied.
        defer!(v.push(3));
    }
    v.push(4);
    assert_eq!(v, [1, 3, 4]);

    struct Holder {
        items: Vec<&'static str>,
    }
    let mut h = Holder { items: vec![] };
    {
        defer!(h.items.push("field"));
    }
    assert_eq!(h.items, ["field"]);
}

#[test]
fn an_index_in_a_place_receiver_is_evaluated_at_the_defer_site() {
    let mut rows = vec![Vec::new(), Vec::new()];
    {
        let mut i = 0;
        defer!(rows[i].push("deferred"));
        i = 1;
        assert_eq!(i, 1);
    }
    assert_eq!(rows, [vec!["deferred"], vec![]]);
}

macro_rules! note {
    ($log:expr, $($fmt:tt)*) => {
        record(&$log, format!($($fmt)*))
    };
}

#[test]
fn a_macro_call_runs_whole_at_block_exit() {
    let log = Log::default();
    {
        let x = Cell::new(1);
        defer!(note!(log, "macro saw {}", x.get()));
        x.set(2);
        // Plain `println!` works too.
        defer!(println!("deferred println! ran, x = {}", x.get()));
    }
    assert_eq!(entries(&log), ["macro saw 2"]);
}

#[test]
fn a_block_runs_at_block_exit() {
    let log = Log::default();
    {
        defer!(record(&log, "call"));
        defer! {
            let n = entries(&log).len();
            record(&log, format!("block saw {n} entries"));
        }
        record(&log, "body");
    }
    assert_eq!(entries(&log), ["body", "block saw 1 entries", "call"]);
}

#[test]
fn deferred_calls_in_a_goroutine_run_when_it_ends() {
    let (tx, rx) = chan(3);
    go!(move || {
        defer! {
            tx.send("deferred").unwrap();
        }
        tx.send("body").unwrap();
    });
    assert_eq!(rx.iter().collect::<Vec<_>>(), ["body", "deferred"]);
}

#[derive(Debug)]
#[allow(dead_code)] // read through its `Debug` output
struct Refused(&'static str);

fn fallible(log: &Log) -> Result<(), Refused> {
    record(log, "fallible ran");
    Err(Refused("flush failed"))
}

#[test]
fn a_deferred_call_returning_err_panics() {
    let log = Log::default();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        defer!(fallible(&log));
        record(&log, "body");
    }));
    let payload = result.expect_err("the deferred Err became a panic");
    let msg = panic_message(&*payload);
    assert!(
        msg.contains(r#"Err(Refused("flush failed"))"#),
        "the panic names the error: {msg}"
    );
    assert_eq!(entries(&log), ["body", "fallible ran"]);
}

fn succeeds(log: &Log) -> Result<(), Refused> {
    record(log, "succeeded");
    Ok(())
}

#[test]
fn a_deferred_ok_is_silent() {
    let log = Log::default();
    {
        defer!(succeeds(&log));
    }
    assert_eq!(entries(&log), ["succeeded"]);
}

#[test]
fn a_deferred_err_while_unwinding_keeps_the_original_panic() {
    // A second panic during unwinding would abort the whole test binary.
    let log = Log::default();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        defer!(fallible(&log));
        panic!("the original panic");
    }));
    let payload = result.expect_err("the body panicked");
    assert_eq!(panic_message(&*payload), "the original panic");
    assert_eq!(entries(&log), ["fallible ran"]);
}

#[goscope::test]
fn defer_drop_closes_a_channel_at_block_exit_and_keeps_it_usable_until_then() {
    // Go's `defer close(ch)`: the sender stays usable in the block and is
    // dropped, closing the channel, when the block exits.
    let (tx, rx) = chan(3);
    {
        defer!(drop(tx));
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.len(), 3);
    }
    assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn defer_drop_runs_in_turn_with_the_other_deferred_calls() {
    struct Noisy<'a>(&'a RefCell<Vec<&'static str>>);
    impl Drop for Noisy<'_> {
        fn drop(&mut self) {
            self.0.borrow_mut().push("dropped");
        }
    }
    let log = RefCell::new(Vec::new());
    {
        let noisy = Noisy(&log);
        defer! {
            log.borrow_mut().push("first");
        }
        defer!(drop(noisy));
        defer! {
            log.borrow_mut().push("third");
        }
        log.borrow_mut().push("body");
    }
    assert_eq!(*log.borrow(), ["body", "third", "dropped", "first"]);
}

// Top-level `defer!` in a scoped function: it runs when the body finishes,
// before the function waits for its goroutines, wherever it stands among
// the `let`s (SPEC.md, "`defer!`"). A later `let` followed by a `go!` opens
// a nested scope, so each test puts `defer!`s at several nesting levels.

/// Go's `for v := range ch`: ends when the channel is closed, then reports
/// the total.
fn consume(rx: &Receiver<i32>, total: &AtomicI32, out: &AtomicI32) {
    for v in rx {
        total.fetch_add(v, Ordering::SeqCst);
    }
    out.store(total.load(Ordering::SeqCst), Ordering::SeqCst);
}

/// Go's `defer close(ch)` before a later `let`: the consumer borrows that
/// later local, so it runs in a scope nested inside the level the
/// `defer!` was written at.
#[goscope::scoped]
fn close_before_a_later_let(values: &[i32], out: &AtomicI32) {
    let (tx, rx) = chan(0);
    defer!(drop(tx));
    let total = AtomicI32::new(0);
    go!(consume(&rx, &total, out));
    for &v in values {
        tx.send(v).unwrap();
    }
}

#[goscope::test]
fn defer_drop_before_a_later_let_closes_the_channel_before_the_join() {
    // Before the fix the deferred drop sat outside the scope that joins
    // `consume`, which waited for the close: the detector's deadlock
    // report failed this test.
    let out = AtomicI32::new(-1);
    close_before_a_later_let(&[1, 2, 3], &out);
    assert_eq!(out.load(Ordering::SeqCst), 6);
}

/// Passes everything from `rx` on to `tx`, until `rx` is closed.
fn forward(rx: &Receiver<i32>, tx: Sender<i32>) {
    for v in rx {
        tx.send(v * 10).unwrap();
    }
}

/// A pipeline closed stage by stage: each `defer!(drop(..))` stands after
/// `let`s, and the goroutines that wait for the closes are started after
/// later `let`s, in scopes nested inside the levels the `defer!`s were
/// written at.
#[goscope::scoped]
fn close_a_pipeline(values: &[i32], out: &AtomicI32) {
    let (tx, rx) = chan(0);
    let (first_tx, first_rx) = chan(0);
    defer!(drop(tx));
    go!(forward(&first_rx, tx.clone()));
    // Runs first (LIFO): ends `forward`, which drops its clone of `tx`;
    // then the drop of `tx` ends `consume`.
    defer!(drop(first_tx));
    let total = AtomicI32::new(0);
    go!(consume(&rx, &total, out));
    for &v in values {
        first_tx.send(v).unwrap();
    }
}

#[goscope::test]
fn defer_drop_after_later_lets_closes_the_channels_before_the_join() {
    let out = AtomicI32::new(-1);
    close_a_pipeline(&[1, 2, 3], &out);
    assert_eq!(out.load(Ordering::SeqCst), 60);
}

type SharedLog = Mutex<Vec<String>>;

fn note(log: &SharedLog, what: impl ToString) {
    log.lock().unwrap().push(what.to_string());
}

/// A goroutine that the function joins: it waits (bounded) until the
/// deferred calls have run, so it ends only if they run before the join.
fn wait_for_defers(ran: &AtomicBool, log: &SharedLog) {
    let deadline = Instant::now() + PATIENCE;
    while !ran.load(Ordering::SeqCst) {
        if Instant::now() > deadline {
            note(log, "the deferred calls did not run before the join");
            return;
        }
        std::thread::yield_now();
    }
    note(log, "joined after the deferred calls");
}

/// How a [`defers_at_three_levels`] call leaves its body.
#[derive(Clone, Copy, PartialEq)]
enum Exit {
    Tail,
    Return,
    Question,
    Panic,
}

/// `defer!`s at three nesting levels (each `let` followed by a `go!` opens
/// one), a goroutine that needs them to run before the join, and every way
/// out of the body.
#[goscope::scoped]
fn defers_at_three_levels(
    log: &SharedLog,
    ran: &AtomicBool,
    exit: Exit,
) -> Result<&'static str, std::num::ParseIntError> {
    defer! {
        note(log, "level 0");
        ran.store(true, Ordering::SeqCst);
    }
    let first = String::from("level 1");
    go!(wait_for_defers(ran, log));
    // Borrows `first`, declared before it at this level, until it runs.
    defer! {
        note(log, &first);
    }
    if exit == Exit::Return {
        return Ok("returned");
    }
    let second = "level 2";
    go!(note(log, "goroutine"));
    defer!(note(log, second));
    let n: i32 = if exit == Exit::Question { "x" } else { "2" }.parse()?;
    if exit == Exit::Panic {
        panic!("boom at level {n}");
    }
    // The tail is evaluated before the deferred calls run.
    note(log, "tail");
    Ok("tail")
}

fn without_goroutine(log: &SharedLog) -> Vec<String> {
    let mut entries = log.lock().unwrap().clone();
    entries.retain(|e| e != "goroutine");
    entries
}

#[test]
fn top_level_defers_run_lifo_across_nesting_levels_before_the_join() {
    let (log, ran) = (SharedLog::default(), AtomicBool::new(false));
    assert_eq!(defers_at_three_levels(&log, &ran, Exit::Tail), Ok("tail"));
    assert_eq!(
        without_goroutine(&log),
        [
            "tail",
            "level 2",
            "level 1",
            "level 0",
            "joined after the deferred calls"
        ]
    );
}

#[test]
fn top_level_defers_run_before_the_join_on_return_and_question_mark() {
    let (log, ran) = (SharedLog::default(), AtomicBool::new(false));
    assert_eq!(
        defers_at_three_levels(&log, &ran, Exit::Return),
        Ok("returned")
    );
    assert_eq!(
        without_goroutine(&log),
        ["level 1", "level 0", "joined after the deferred calls"]
    );

    let (log, ran) = (SharedLog::default(), AtomicBool::new(false));
    assert!(defers_at_three_levels(&log, &ran, Exit::Question).is_err());
    assert_eq!(
        without_goroutine(&log),
        [
            "level 2",
            "level 1",
            "level 0",
            "joined after the deferred calls"
        ]
    );
}

#[test]
fn top_level_defers_run_before_the_join_on_panic() {
    let (log, ran) = (SharedLog::default(), AtomicBool::new(false));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        defers_at_three_levels(&log, &ran, Exit::Panic)
    }));
    let payload = result.expect_err("the body panicked");
    assert_eq!(panic_message(&*payload), "boom at level 2");
    assert_eq!(
        without_goroutine(&log),
        [
            "level 2",
            "level 1",
            "level 0",
            "joined after the deferred calls"
        ]
    );
}

/// A `let` after `defer!(drop(tx))` that shadows `tx`: the nested scopes
/// carry the deferred drop, and the body sees the user's new `tx`.
#[goscope::scoped]
fn shadow_the_dropped_sender(out: &AtomicI32) -> i32 {
    let (tx, rx) = chan(1);
    defer!(drop(tx));
    let tx = 40;
    let total = AtomicI32::new(0);
    go!(consume(&rx, &total, out));
    tx + 2
}

#[goscope::test]
fn a_let_that_shadows_the_dropped_local_keeps_its_own_value() {
    let out = AtomicI32::new(-1);
    assert_eq!(shadow_the_dropped_sender(&out), 42);
    assert_eq!(out.load(Ordering::SeqCst), 0, "closed without a value");
}

fn sum_into(rx: &Receiver<i32>, total: &AtomicI32) {
    for v in rx {
        total.fetch_add(v, Ordering::SeqCst);
    }
}

#[goscope::scoped]
fn shadow_the_deferred_sender(total: &AtomicI32) {
    let (tx, rx) = chan::<i32>(0);
    defer!(drop(tx));
    // Reads the old `tx` in the initializer of the `let` that shadows it.
    let tx = tx.clone();
    go!(sum_into(&rx, total));
    tx.send(5).unwrap();
    drop(tx);
    // The deferred drop of the first `tx` closes the channel before the
    // function waits for `sum_into`.
}

#[test]
fn a_let_that_shadows_a_deferred_drop_may_read_the_old_value() {
    let (done_tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let total = AtomicI32::new(0);
        shadow_the_deferred_sender(&total);
        done_tx.send(total.into_inner()).unwrap();
    });
    assert_eq!(done.recv_timeout(PATIENCE), Ok(5));
}
