//! `#[goscope::main]`, `#[goscope::test]` and `#[goscope::scoped]`: what SPEC.md's
//! "Macros" section promises about the functions they mark, and what
//! STYLE.md promises about every expansion (hygiene, no `unsafe`).
// Expansions must compile under a user's `forbid(unsafe_code)`.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::num::ParseIntError;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use goscope::prelude::*;

// `#[goscope::main]` checks neither the name nor the crate root, so these
// `main`s can be called (and observed) from the tests below.

/// How many goroutines `main_with_question_mark::main` has seen finish.
static QUESTION_MARK_DONE: AtomicUsize = AtomicUsize::new(0);

/// How many goroutines `plain_main::main` has seen finish.
static PLAIN_DONE: AtomicUsize = AtomicUsize::new(0);

mod main_with_question_mark {
    use super::*;

    fn record(n: &i32) {
        assert!(*n > 0);
        QUESTION_MARK_DONE.fetch_add(1, Ordering::SeqCst);
    }

    #[goscope::main]
    pub(super) fn main() -> Result<(), ParseIntError> {
        let good: i32 = "42".parse()?;
        go!(record(&good));
        // `?` leaves `main` with the error, after joining the goroutine
        // that borrows `good`.
        let bad: i32 = "forty-two".parse()?;
        go!(record(&bad));
        Ok(())
    }
}

#[test]
fn main_question_mark_returns_the_error_after_joining() {
    let result = main_with_question_mark::main();
    assert!(result.is_err());
    assert_eq!(QUESTION_MARK_DONE.load(Ordering::SeqCst), 1);
}

mod main_with_exit_code {
    use super::*;

    #[goscope::main]
    pub(super) fn main() -> ExitCode {
        let (tx, rx) = chan(1);
        go!(tx.send(3u8));
        let Some(code) = rx.recv() else {
            return ExitCode::FAILURE;
        };
        if code == 3 {
            // An early `return` keeps its meaning.
            return ExitCode::from(code);
        }
        ExitCode::SUCCESS
    }
}

#[test]
fn main_may_return_any_type_main_accepts() {
    assert_eq!(main_with_exit_code::main(), ExitCode::from(3));
}

mod plain_main {
    use super::*;

    #[goscope::main]
    pub(super) fn main() {
        let wg = WaitGroup::new();
        for _ in 0..3 {
            wg.add(1);
            go!(|| {
                defer!(wg.done());
                PLAIN_DONE.fetch_add(1, Ordering::SeqCst);
            });
        }
        wg.wait();
    }
}

#[test]
fn main_without_a_return_type() {
    plain_main::main();
    assert_eq!(PLAIN_DONE.load(Ordering::SeqCst), 3);
}

fn push(out: &Mutex<Vec<i32>>, n: i32) {
    out.lock().unwrap().push(n);
}

#[goscope::scoped]
fn parse_all(inputs: &[&str], out: &Mutex<Vec<i32>>) -> Result<usize, ParseIntError> {
    if inputs.is_empty() {
        return Ok(0);
    }
    for s in inputs {
        let n: i32 = s.parse()?;
        go!(push(out, n));
    }
    Ok(inputs.len())
}

#[test]
fn scoped_fn_question_mark_and_return_keep_their_meaning() {
    let out = Mutex::new(Vec::new());
    assert_eq!(parse_all(&[], &out), Ok(0));
    assert_eq!(parse_all(&["1", "2"], &out), Ok(2));
    assert!(parse_all(&["3", "x", "4"], &out).is_err());
    // The goroutines started before the `?` were joined; none after it ran.
    let got: BTreeSet<i32> = out.into_inner().unwrap().into_iter().collect();
    assert_eq!(got, BTreeSet::from([1, 2, 3]));
}

#[goscope::scoped]
fn early_return_from_a_nested_scope(out: &Mutex<Vec<i32>>, stop_early: bool) -> &'static str {
    let a = 1;
    go!(push(out, a));
    let b = 2;
    go!(push(out, b));
    if stop_early {
        return "early";
    }
    let c = 3;
    go!(push(out, c));
    "late"
}

#[test]
fn return_inside_nested_scopes_leaves_the_function() {
    let out = Mutex::new(Vec::new());
    assert_eq!(early_return_from_a_nested_scope(&out, true), "early");
    let mut got = out.lock().unwrap().clone();
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    assert_eq!(early_return_from_a_nested_scope(&out, false), "late");
    assert_eq!(out.lock().unwrap().len(), 5);
}

#[goscope::test]
fn test_fns_may_return_result() -> Result<(), String> {
    let (tx, rx) = chan(1);
    go!(tx.send(5));
    let v = rx.recv().ok_or("closed")?;
    if v != 5 {
        return Err(format!("got {v}"));
    }
    Ok(())
}

#[goscope::test]
#[should_panic(expected = "goroutine says no: 42")]
fn a_goroutine_panic_fails_the_test_with_its_message() {
    go!(|| panic!("goroutine says no: {}", 42));
}

#[goscope::test]
#[should_panic(expected = "Err(\"refused\")")]
fn a_goroutine_err_fails_the_test() {
    go!(|| Err::<(), _>("refused"));
}

#[goscope::test(deadlock = "off")]
fn test_arguments_are_accepted() {
    let (tx, rx) = chan(0);
    go!(tx.send(1));
    assert_eq!(rx.recv(), Some(1));
}

struct Pool {
    workers: usize,
    seen: Mutex<Vec<usize>>,
    slots: Vec<usize>,
}

impl Pool {
    fn work(&self, id: usize) {
        self.seen.lock().unwrap().push(id);
    }

    #[goscope::scoped]
    fn run(&self) -> usize {
        for id in 0..self.workers {
            go!(self.work(id));
        }
        self.workers
    }

    #[goscope::scoped]
    fn fill(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            go!(move || *slot = i + 100);
        }
    }
}

#[test]
fn scoped_methods_borrow_self() {
    let mut pool = Pool {
        workers: 4,
        seen: Mutex::new(Vec::new()),
        slots: vec![0; 3],
    };
    assert_eq!(pool.run(), 4);
    let mut seen = pool.seen.lock().unwrap().clone();
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3]);
    pool.fill();
    assert_eq!(pool.slots, [100, 101, 102]);
}

#[goscope::scoped]
fn map_concurrently<T, U, F>(items: &[T], f: F) -> Vec<U>
where
    T: Sync,
    U: Send,
    F: Fn(&T) -> U + Sync,
{
    let (tx, rx) = chan(items.len());
    let (tx_ref, f) = (&tx, &f);
    for (i, item) in items.iter().enumerate() {
        go!(move || tx_ref.send((i, f(item))));
    }
    let mut results: Vec<(usize, U)> = rx.iter().take(items.len()).collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, u)| u).collect()
}

#[test]
fn scoped_generic_fns() {
    let words = ["go", "goscope", "rust"];
    assert_eq!(map_concurrently(&words, |w| w.len()), [2, 7, 4]);
    assert_eq!(
        map_concurrently(&[1, 2, 3], |n| n.to_string()),
        ["1", "2", "3"]
    );
}

#[goscope::scoped]
fn longer<'a>(a: &'a str, b: &'a str) -> &'a str {
    let (tx, rx) = chan(2);
    go!(tx.send(a.len()));
    go!(tx.send(b.len()));
    let lens = [rx.recv().unwrap(), rx.recv().unwrap()];
    if lens.iter().all(|&n| n == a.len()) || a.len() > b.len() {
        return a;
    }
    b
}

#[goscope::scoped]
fn first_word(s: &str) -> &str {
    let (tx, rx) = chan(1);
    go!(tx.send(s.split(' ').next().unwrap_or("")));
    rx.recv().unwrap()
}

#[goscope::scoped]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    let (tx, rx) = chan(limit as usize);
    for n in 0..limit {
        go!(tx.send((n % 2 == 0).then_some(n)));
    }
    let mut got: Vec<u32> = rx.iter().take(limit as usize).flatten().collect();
    got.sort_unstable();
    got.into_iter()
}

#[test]
fn scoped_fns_with_lifetimes_elision_and_impl_trait() {
    assert_eq!(longer("goscope", "go"), "goscope");
    assert_eq!(first_word("hello gopher"), "hello");
    assert_eq!(evens(7).collect::<Vec<_>>(), [0, 2, 4, 6]);
}

#[goscope::scoped]
fn items_are_visible_everywhere() -> i32 {
    let start = helper(LIMIT);
    let (tx, rx) = chan(1);
    go!(|| tx.send(Point {
        x: start,
        y: helper(start)
    }));
    let point = rx.recv().unwrap();

    // Items after the `let`s and the `go!`, as Rust allows anywhere: the
    // code above uses them, and so does the tail below.
    fn helper(x: i32) -> i32 {
        x + 1
    }
    const LIMIT: i32 = 10;
    struct Point {
        x: i32,
        y: i32,
    }

    point.x + point.y
}

#[test]
fn items_declared_after_lets_are_visible() {
    assert_eq!(items_are_visible_everywhere(), 11 + 12);
}

#[goscope::scoped]
fn let_else(input: Option<&str>) -> usize {
    let Some(s) = input else {
        return 0;
    };
    let (tx, rx) = chan(1);
    go!(|| tx.send(s.len()));
    let Some(n) = rx.recv() else {
        unreachable!("the goroutine sent");
    };
    n * 2
}

#[test]
fn let_else_in_the_body() {
    assert_eq!(let_else(None), 0);
    assert_eq!(let_else(Some("four")), 8);
}

#[goscope::scoped]
fn shadowing_and_mutation(out: &Mutex<Vec<i32>>) {
    let x = 1;
    go!(push(out, x));
    let x = x + 1; // shadows; the first goroutine got 1
    go!(push(out, x));
    let mut y = 10;
    go!(push(out, y));
    y += 1; // passed by value: the goroutine got 10
    go!(push(out, y));
}

#[test]
fn shadowed_and_mutated_locals() {
    let out = Mutex::new(Vec::new());
    shadowing_and_mutation(&out);
    let got: BTreeSet<i32> = out.into_inner().unwrap().into_iter().collect();
    assert_eq!(got, BTreeSet::from([1, 2, 10, 11]));
}

/// Other attributes and the visibility survive.
#[goscope::scoped]
#[inline]
#[must_use]
pub(crate) fn keeps_attributes() -> i32 {
    let (tx, rx) = chan(1);
    go!(tx.send(1));
    rx.recv().unwrap()
}

#[test]
fn other_attributes_are_kept() {
    assert_eq!(keeps_attributes(), 1);
}

/// Names an unhygienic expansion would pick up instead of the real ones:
/// macro output must name only `::core`, `::std` and `::goscope` paths.
mod shadowed {
    #![allow(dead_code, unused_macros)]
    use goscope::prelude::*;

    struct Option;
    struct Some;
    struct None;
    struct Result;
    struct Ok;
    struct Err;
    struct Box;
    struct Vec;
    struct Send;
    struct Arg;
    struct Scope;
    struct Defer;
    fn scope() {}
    fn spawn() {}
    fn main() {}
    fn defer() {}
    fn select() {}
    mod core {}
    mod std {}
    macro_rules! unreachable {
        ($($t:tt)*) => {
            compile_error!("an expansion used a local `unreachable!`")
        };
    }
    macro_rules! panic {
        ($($t:tt)*) => {
            compile_error!("an expansion used a local `panic!`")
        };
    }

    fn add(total: &::std::sync::Mutex<i32>, n: i32) {
        *total.lock().unwrap() += n;
    }

    fn add_then_done(total: &::std::sync::Mutex<i32>, n: i32, wg: &WaitGroup) {
        defer!(wg.done());
        add(total, n);
    }

    #[goscope::scoped]
    pub(super) fn run(input: &Receiver<i32>) -> i32 {
        let total = ::std::sync::Mutex::new(0);
        let (tx, rx) = chan(3);
        go!(tx.send(1));
        go!(|| tx.send(2));
        let wg = WaitGroup::new();
        wg.add(1);
        go!(add_then_done(&total, 1000, &wg));
        {
            defer!(add(&total, 10));
            defer! {
                *total.lock().unwrap() += 100;
            }
        }
        let got = select! {
            v = <-input => v.unwrap_or(0),
            default => -1,
        };
        let from_goroutines: i32 = [rx.recv(), rx.recv()].into_iter().flatten().sum();
        wg.wait();
        let total = *total.lock().unwrap();
        got + from_goroutines + total
    }
}

#[test]
fn expansions_are_hygienic() {
    let (tx, rx) = chan(1);
    tx.send(5).unwrap();
    let got = shadowed::run(&rx);
    assert_eq!(got, 5 + 1 + 2 + 1110);
}

fn hello(tx: Sender<&'static str>) {
    tx.send("hello from a nested fn").unwrap();
}

#[goscope::test]
fn go_in_an_item_inside_another_macros_tokens_is_left_detached() {
    // Issue 13, item 6: the `go!` in `inside` was pointed at the test's
    // scope, which a nested `fn` cannot see (E0434). Items are not in the
    // scope, in other macros' tokens as in the body; closures are.
    let (tx, rx) = chan(2);
    let sizes = vec![
        {
            fn inside(tx: Sender<&'static str>) {
                go!(hello(tx));
            }
            inside(tx.clone());
            1
        },
        {
            let tx = &tx;
            let send = || go!(tx.send("hello from a closure"));
            send();
            2
        },
    ];
    assert_eq!(sizes, [1, 2]);
    let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
    got.sort_unstable();
    assert_eq!(got, ["hello from a closure", "hello from a nested fn"]);
}

#[goscope::test]
fn a_go_inside_a_static_goroutine_in_another_macros_tokens_is_detached_too() {
    // In other macros' tokens, as in the body: the `go!` inside a
    // `go!(static ..)` is detached (it was pointed at the test's scope, which
    // the detached closure cannot borrow).
    let (tx, rx) = chan(1);
    let started = vec![{
        go!(static move || {
            go!(hello(tx));
        });
        true
    }];
    assert_eq!(started, [true]);
    assert_eq!(rx.recv(), Some("hello from a nested fn"));
}

/// Runs the scenario `name` of `src/bin/scenarios.rs`: its status, stdout
/// and stderr. Bounded: a child that has not ended after [`tests::TIMEOUT`]
/// is killed and fails the test (a `main` that waited for its goroutines
/// would sleep for an hour or compute forever).
fn run_scenario(name: &str) -> (Option<i32>, String, String) {
    let out = tests::Program::new(env!("CARGO_BIN_EXE_scenarios"))
        .arg(name)
        .run();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (out.status.code(), text(out.stdout), text(out.stderr))
}

#[test]
fn main_returning_ends_the_program_under_running_goroutines() {
    // The tutorial's "if main exits, the program kills all other running
    // goroutines": one sleeps for an hour, one computes forever, one waits
    // on a channel nobody sends to.
    let (status, stdout, stderr) = run_scenario("exit_main_returns_while_goroutines_run");
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "main returns\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("deadlock"), "{stderr}");
}

#[test]
fn main_returning_unwinds_a_goroutine_blocked_on_a_channel() {
    let (status, stdout, stderr) = run_scenario("exit_unwinds_a_blocked_goroutine");
    // Its `defer!` ran, after main's body; the receive never completed.
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "main returns\ndeferred\n"),
        "{stderr}"
    );
}

#[test]
fn main_returning_from_a_nested_scope_ends_every_level() {
    let (status, stdout, stderr) = run_scenario("exit_from_a_nested_scope");
    assert_eq!(
        (status, stdout.as_str()),
        (Some(0), "main returns\n"),
        "{stderr}"
    );
}

#[test]
fn main_returning_err_prints_it_and_exits_with_status_1() {
    for name in [
        "exit_main_returns_err",
        "exit_main_returns_err_while_a_goroutine_computes",
    ] {
        let (status, stdout, stderr) = run_scenario(name);
        assert_eq!(status, Some(1), "{name}: {stderr}");
        assert_eq!(stdout, "", "{name}");
        // As Rust's `main` prints an `Err`.
        assert_eq!(stderr, "Error: \"the answer is not 42\"\n", "{name}");
    }
}

#[test]
fn main_returning_an_exit_code_exits_with_it_under_a_busy_goroutine() {
    let (status, _, stderr) =
        run_scenario("exit_main_returns_an_exit_code_while_a_goroutine_computes");
    assert_eq!(status, Some(3), "{stderr}");
}
