//! `go!`: Go's `go` statement, as SPEC.md's "`go!`" section promises it.

use std::collections::BTreeSet;
use std::panic;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::thread::{self, ThreadId};

use goscope::prelude::*;
use tests::{PATIENCE, panic_message};

type Log = Mutex<Vec<&'static str>>;

/// Returns `value`, noting in `log` that it was evaluated.
fn traced<T>(log: &Log, what: &'static str, value: T) -> T {
    log.lock().unwrap().push(what);
    value
}

fn entries(log: &Log) -> Vec<&'static str> {
    log.lock().unwrap().clone()
}

fn report(gate: &Receiver<()>, out: &Sender<(ThreadId, i32, i32)>, on: ThreadId, a: i32, b: i32) {
    // Blocked until the test has looked at what `go!` already did.
    gate.recv();
    out.send((on, a, b)).unwrap();
}

#[goscope::test]
fn arguments_are_evaluated_now_left_to_right_in_the_caller() {
    let log = Log::default();
    let (gate_tx, gate) = chan::<()>(0);
    let (out_tx, out) = chan(1);
    go!(report(
        &gate,
        &out_tx,
        thread::current().id(),
        traced(&log, "a", 1),
        traced(&log, "b", 2),
    ));
    // The goroutine is parked on `gate`, yet both side effects happened,
    // in order: `go!` evaluated them before it returned.
    assert_eq!(entries(&log), ["a", "b"]);
    gate_tx.send(()).unwrap();
    let (evaluated_on, a, b) = out.recv().unwrap();
    assert_eq!(
        evaluated_on,
        thread::current().id(),
        "evaluated by the caller"
    );
    assert_eq!((a, b), (1, 2));
}

fn pick_sender(log: &Log) -> fn(&Sender<i32>, i32) {
    log.lock().unwrap().push("function value");
    |tx, v| tx.send(v).unwrap()
}

#[goscope::test]
fn the_function_value_is_evaluated_now_before_the_arguments() {
    let log = Log::default();
    let (tx, rx) = chan(1);
    go!(pick_sender(&log)(&tx, traced(&log, "argument", 7)));
    assert_eq!(entries(&log), ["function value", "argument"]);
    assert_eq!(rx.recv(), Some(7));
}

fn send_after_gate(gate: &Receiver<()>, out: &Sender<i32>, x: i32) {
    gate.recv();
    out.send(x).unwrap();
}

#[goscope::test]
fn a_later_change_to_an_argument_is_not_seen() {
    let (gate_tx, gate) = chan::<()>(0);
    let (out_tx, out) = chan(1);
    let mut x = 1;
    go!(send_after_gate(&gate, &out_tx, x));
    x = 2;
    gate_tx.send(()).unwrap();
    assert_eq!(out.recv(), Some(1), "the goroutine got x as it was at go!");
    assert_eq!(x, 2);
}

#[goscope::test]
fn each_iteration_passes_its_own_loop_variable() {
    let (tx, rx) = chan(10);
    for i in 0..10 {
        go!(tx.send(i));
    }
    let got: BTreeSet<i32> = (0..10).map(|_| rx.recv().unwrap()).collect();
    assert_eq!(got, (0..10).collect());
}

#[goscope::test]
fn each_block_goroutine_captures_its_own_loop_variable() {
    let (tx, rx) = chan(10);
    for i in 0..10 {
        let tx = &tx;
        go! {
            tx.send(i).unwrap();
        }
    }
    let got: BTreeSet<i32> = (0..10).map(|_| rx.recv().unwrap()).collect();
    assert_eq!(got, (0..10).collect());
}

mod generic {
    use goscope::Sender;

    pub(super) fn send_default<T: Default>(tx: &Sender<T>) {
        tx.send(T::default()).unwrap();
    }
}

#[goscope::test]
fn path_call_with_turbofish() {
    let (tx, rx) = chan(2);
    go!(generic::send_default::<String>(&tx));
    go!(self::generic::send_default::<String>(&tx));
    assert_eq!(rx.recv(), Some(String::new()));
    assert_eq!(rx.recv(), Some(String::new()));
}

/// Reports its final value, and the thread that dropped it, when dropped.
struct Tally {
    n: u32,
    report: Sender<(u32, ThreadId)>,
}

impl Tally {
    fn add(&mut self, k: u32) {
        self.n += k;
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        let _ = self.report.send((self.n, thread::current().id()));
    }
}

#[goscope::scoped]
fn add_in_a_goroutine(report: Sender<(u32, ThreadId)>) {
    let mut tally = Tally { n: 1, report };
    go!(tally.add(41));
}

#[test]
fn a_place_receiver_is_borrowed_mutably() {
    let (tx, rx) = chan(1);
    add_in_a_goroutine(tx);
    // The goroutine changed the local in place; the local was then dropped
    // by its own function, so it was borrowed, not moved into the goroutine.
    assert_eq!(rx.recv(), Some((42, thread::current().id())));
}

struct Counter(AtomicU32);

impl Counter {
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[goscope::scoped]
fn bump_each(counters: &[Counter], outer: &Holder) {
    for i in 0..counters.len() {
        // An index place: `i` is evaluated now, `counters` borrowed.
        go!(counters[i].bump());
    }
    // A field place.
    go!(outer.counter.bump());
    go!((outer.counter).bump());
}

struct Holder {
    counter: Counter,
}

#[test]
fn index_and_field_receivers_are_places() {
    let counters = [const { Counter(AtomicU32::new(0)) }; 4];
    let holder = Holder {
        counter: Counter(AtomicU32::new(0)),
    };
    bump_each(&counters, &holder);
    for c in &counters {
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
    }
    assert_eq!(holder.counter.0.load(Ordering::SeqCst), 2);
}

#[goscope::test]
fn a_place_receiver_stays_usable_by_the_caller() {
    let (tx, rx) = chan(2);
    go!(tx.send("goroutine"));
    // `tx` was borrowed, not moved: the caller still has it.
    tx.send("caller").unwrap();
    let got: BTreeSet<_> = [rx.recv().unwrap(), rx.recv().unwrap()].into();
    assert_eq!(got, BTreeSet::from(["caller", "goroutine"]));
}

/// Remembers the thread that made it.
struct Probe {
    made_on: ThreadId,
}

impl Probe {
    fn new() -> Self {
        Probe {
            made_on: thread::current().id(),
        }
    }

    fn send_to(self, out: &Sender<(ThreadId, ThreadId)>) {
        out.send((self.made_on, thread::current().id())).unwrap();
    }
}

#[goscope::test]
fn a_non_place_receiver_is_evaluated_now_and_moved() {
    let (tx, rx) = chan(1);
    go!(Probe::new().send_to(&tx));
    let (made_on, ran_on) = rx.recv().unwrap();
    assert_eq!(
        made_on,
        thread::current().id(),
        "receiver made by the caller"
    );
    assert_ne!(ran_on, thread::current().id(), "call run by the goroutine");
}

#[goscope::test]
fn a_closure_runs_as_written_and_may_borrow() {
    let (tx, rx) = chan(2);
    let greeting = String::from("hello");
    go!(|| tx.send(greeting.len()));
    // The closure only borrowed: both are still ours.
    tx.send(greeting.len() + 1).unwrap();
    let got: BTreeSet<_> = [rx.recv().unwrap(), rx.recv().unwrap()].into();
    assert_eq!(got, BTreeSet::from([5, 6]));
}

#[goscope::test]
fn a_move_closure_owns_what_it_uses() {
    let (tx, rx) = chan(1);
    let owned = String::from("moved in");
    go!(move || {
        tx.send(owned).unwrap();
        // `tx` is dropped with the closure: the channel closes.
    });
    assert_eq!(rx.recv().as_deref(), Some("moved in"));
    assert_eq!(rx.recv(), None);
}

#[goscope::test]
fn a_block_runs_as_a_move_closure() {
    let (gate_tx, gate) = chan::<()>(0);
    let (tx, rx) = chan(1);
    let mut n = 1;
    go! {
        gate.recv();
        tx.send(n).unwrap();
    }
    // `n` was copied into the goroutine: changing ours is allowed and unseen.
    n += 1;
    gate_tx.send(()).unwrap();
    assert_eq!(rx.recv(), Some(1));
    assert_eq!(n, 2);
    // `tx` was moved into the block, and dropped when it ended.
    assert_eq!(rx.recv(), None);
}

fn both(a: &str, b: &[i32], out: &Sender<String>) {
    out.send(format!("{a}{b:?}")).unwrap();
}

#[goscope::test]
fn locals_declared_between_goroutines_can_be_borrowed() {
    let (tx, rx) = chan(3);
    let a = String::from("a");
    go!(both(&a, &[], &tx));
    let b = vec![1, 2];
    go!(both(&a, &b, &tx));
    let c = String::from("c");
    go!(both(&c, &b, &tx));
    let got: BTreeSet<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
    assert_eq!(
        got,
        BTreeSet::from(["a[]".into(), "a[1, 2]".into(), "c[1, 2]".into()])
    );
}

#[goscope::scoped]
fn nested_goroutines(hits: &AtomicUsize) {
    go! {
        // A goroutine inside a goroutine is scoped too: it borrows `hits`.
        go!(|| {
            go!(|| {
                hits.fetch_add(1, Ordering::SeqCst);
            });
            hits.fetch_add(1, Ordering::SeqCst);
        });
        hits.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn nested_goroutines_are_scoped_and_joined() {
    let hits = AtomicUsize::new(0);
    nested_goroutines(&hits);
    // The function returned only after all three had finished.
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[goscope::test]
fn go_inside_a_select_arm() {
    let (tx, rx) = chan(1);
    let (out_tx, out) = chan(1);
    tx.send(21).unwrap();
    select! {
        v = <-rx => go!(out_tx.send(v.unwrap() * 2)),
        default => unreachable!(),
    }
    assert_eq!(out.recv(), Some(42));
}

#[goscope::scoped]
fn spawn_from_a_closure(out: &Sender<usize>) {
    let total = AtomicUsize::new(0);
    let wg = WaitGroup::new();
    let (wg, total) = (&wg, &total);
    let spawn = |i: usize| {
        wg.add(1);
        go!(move || {
            defer!(wg.done());
            total.fetch_add(i, Ordering::SeqCst);
        });
    };
    (1..=4).for_each(spawn);
    wg.wait();
    out.send(total.load(Ordering::SeqCst)).unwrap();
}

#[test]
fn go_inside_a_closure_in_a_scoped_fn() {
    let (tx, rx) = chan(1);
    spawn_from_a_closure(&tx);
    assert_eq!(rx.recv(), Some(10));
}

#[test]
fn go_is_a_unit_expression() {
    let (tx, rx) = chan(3);
    let tx2 = tx.clone();
    #[allow(clippy::let_unit_value)] // the point: its type is `()`
    let unit: () = go!(move || tx2.send(1));
    assert_eq!(unit, ());
    let tx3 = tx.clone();
    match rx.capacity() {
        3 => go!(tx3.send(2)),
        _ => unreachable!(),
    }
    let tx4 = tx.clone();
    if rx.capacity() == 3 {
        go!(tx4.send(3))
    } else {
        go!(tx4.send(0))
    }
    drop(tx);
    let got: BTreeSet<i32> = rx.iter().collect();
    assert_eq!(got, BTreeSet::from([1, 2, 3]));
}

fn owned_worker(id: u32, out: Sender<u32>) {
    out.send(id * 10).unwrap();
}

#[test]
fn go_outside_any_scope_is_detached() {
    // A plain `#[test]`: these goroutines must own what they use.
    let (tx, rx) = chan(4);
    go!(owned_worker(1, tx.clone()));
    let tx2 = tx.clone();
    go!(tx2.send(20));
    let tx3 = tx.clone();
    go!(move || tx3.send(30));
    go! {
        tx.send(40).unwrap();
    }
    let mut got: Vec<u32> = rx.iter().collect();
    got.sort_unstable();
    assert_eq!(got, [10, 20, 30, 40]);
}

#[test]
fn a_detached_goroutine_ends_when_the_process_ends() {
    if tests::is_child("detached outlives main") {
        go!(move || {
            // Blocked for good: a nil channel.
            never::<()>().recv();
        });
        return; // the test, and so the process, ends under it
    }
    // `run_child` fails if the child hangs.
    let out = tests::run_child(
        "a_detached_goroutine_ends_when_the_process_ends",
        "detached outlives main",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[derive(Debug)]
#[allow(dead_code)] // read through its `Debug` output
struct WorkFailed(u8);

fn failing_work() -> Result<(), WorkFailed> {
    Err(WorkFailed(7))
}

#[goscope::scoped]
fn start_failing_work() {
    go!(failing_work());
}

#[test]
fn a_goroutine_returning_err_panics() {
    let payload = panic::catch_unwind(start_failing_work).expect_err("the Err became a panic");
    let msg = panic_message(&*payload);
    assert!(msg.contains("Err(WorkFailed(7))"), "{msg}");
}

#[test]
fn a_goroutine_err_panic_names_the_go_that_started_it() {
    let payload = panic::catch_unwind(start_failing_work).expect_err("the Err became a panic");
    let msg = panic_message(&*payload);
    // The panic's own location is goscope's; its message points at the
    // user's `go!`.
    assert!(
        msg.contains("(started by go! at tests/tests/go.rs:"),
        "{msg}"
    );
}

#[goscope::scoped]
fn send_to_nobody() {
    let (tx, rx) = chan::<i32>(0);
    drop(rx);
    go!(tx.send(1));
}

#[test]
fn a_failed_send_in_a_goroutine_is_not_lost() {
    let payload = panic::catch_unwind(send_to_nobody).expect_err("the SendError became a panic");
    assert!(panic_message(&*payload).contains("Err(SendError"));
}

#[goscope::scoped]
fn count_goroutines() -> usize {
    let (gate_tx, gate) = chan::<()>(0);
    let started = WaitGroup::new();
    for _ in 0..3 {
        started.add(1);
        go!(|| {
            started.done();
            gate.recv();
        });
    }
    // All three are running and parked on the gate.
    started.wait();
    let n = goscope::num_goroutine();
    drop(gate_tx);
    n
}

#[test]
fn num_goroutine_counts_live_goroutines_and_main() {
    // The count is process-wide and tests run in parallel: play the
    // scenario in a child process that runs this test alone.
    if tests::is_child("num_goroutine") {
        assert_eq!(goscope::num_goroutine(), 1, "main alone");
        let (release_tx, release) = chan::<()>(0);
        go!(move || {
            release.recv();
        });
        assert_eq!(goscope::num_goroutine(), 2, "counted from go! on");
        assert_eq!(count_goroutines(), 5, "main, detached, three scoped");
        assert_eq!(goscope::num_goroutine(), 2, "the scope joined its three");
        drop(release_tx);
        // The detached goroutine ends on its own time: poll, bounded.
        let deadline = std::time::Instant::now() + PATIENCE;
        while goscope::num_goroutine() != 1 {
            assert!(std::time::Instant::now() < deadline, "the count never fell");
            thread::yield_now();
        }
        return;
    }
    let out = tests::run_child(
        "num_goroutine_counts_live_goroutines_and_main",
        "num_goroutine",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// `go!(static ..)`: a detached goroutine, also inside a scope.

/// A replica that answers once `gate` opens, then says how its answer went.
fn slow_replica(gate: Receiver<()>, answer: Sender<&'static str>, said: Sender<&'static str>) {
    gate.recv();
    let outcome = match answer.send("slow") {
        Ok(()) => "slow replica: answer taken",
        Err(_) => "slow replica: nobody was listening",
    };
    said.send(outcome).unwrap();
}

/// Pike's "first response wins": every replica runs in a `static`
/// goroutine, so the function returns with the first answer and abandons
/// the others (with plain `go!` it would wait for all of them).
#[goscope::scoped]
fn first_response(gate: Receiver<()>, said: Sender<&'static str>) -> &'static str {
    let (answer_tx, answers) = chan(0);
    let fast = answer_tx.clone();
    go!(static move || fast.send("fast"));
    go!(static slow_replica(gate, answer_tx, said));
    answers.recv().expect("a replica answers")
}

#[goscope::test]
fn a_scoped_fn_returns_while_its_static_goroutine_is_still_blocked() {
    let (gate_tx, gate) = chan::<()>(0);
    let (said_tx, said) = chan(1);
    let (result_tx, result) = chan(1);
    // In its own goroutine, so that a `first_response` that waited for the
    // slow replica (blocked until the gate opens, below) fails the bounded
    // wait instead of hanging the test.
    go!(static move || result_tx.send(first_response(gate, said_tx)));
    assert_eq!(result.recv_timeout(PATIENCE), Ok("fast"));
    // The slow replica outlived `first_response`: it is still there to take
    // this, and its answer finds the channel closed.
    gate_tx.send(()).unwrap();
    assert_eq!(
        said.recv_timeout(PATIENCE),
        Ok("slow replica: nobody was listening")
    );
}

#[goscope::test]
fn every_static_form_runs_detached_inside_a_scope() {
    let (tx, rx) = chan(3);
    let owned = String::from("owned");
    let (tx1, tx2) = (tx.clone(), tx.clone());
    go!(static move || tx1.send(1).unwrap());
    go!(static owned_worker(2, tx2));
    go!(static {
        // A block is a `move` closure: it owns `owned` and `tx`.
        assert_eq!(owned, "owned");
        tx.send(3).unwrap();
    });
    let mut got: Vec<u32> = rx.iter().take(3).collect();
    got.sort_unstable();
    assert_eq!(got, [1, 3, 20]); // `owned_worker` sends ten times its id
}

#[test]
fn static_forms_work_outside_a_scope_too() {
    let (tx, rx) = chan(2);
    let tx1 = tx.clone();
    go!(static owned_worker(1, tx1));
    go!(static {
        tx.send(2).unwrap();
    });
    let mut got: Vec<u32> = rx.iter().collect();
    got.sort_unstable();
    assert_eq!(got, [2, 10]);
}

#[goscope::test]
fn a_go_inside_a_static_goroutine_is_detached_too() {
    let (tx, rx) = chan(1);
    go!(static {
        // Not in the test's scope: this goroutine owns what it uses, and
        // may outlive the one that started it.
        let (inner_tx, inner) = chan(1);
        go!(move || inner_tx.send(5));
        tx.send(inner.recv().unwrap() * 2).unwrap();
    });
    assert_eq!(rx.recv_timeout(PATIENCE), Ok(10));
}

#[goscope::test]
fn a_block_that_starts_with_a_static_item_stays_scoped() {
    let (tx, rx) = chan(1);
    let name = String::from("gopher");
    let name = &name; // a borrow: compiles only in a scoped goroutine
    go! {
        static GREETING: &str = "hello";
        tx.send(format!("{GREETING}, {name}")).unwrap();
    }
    assert_eq!(rx.recv_timeout(PATIENCE), Ok("hello, gopher".to_string()));
}
