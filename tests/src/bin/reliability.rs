//! Programs for issue 17's reliability tests (`tests/reliability.rs` runs
//! each as a child process): `reliability NAME`. User `Drop` code that runs
//! while goscope waits, timer channels that can no longer fire, deferred
//! channel operations of a cancelled goroutine, timeouts under
//! cancellation, and values whose `Drop` panics while goscope drops them
//! during unwinding.
//!
//! Those named `deadlock_*` must be reported (exit status 2); `ok_*` must
//! finish normally; `owner_*` catch the first panic where the scope's owner
//! resumes it and print `owner got: MESSAGE`; `main_*` end with main's
//! panic (exit status 2).
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use goscope::prelude::*;
use goscope::time::{Ticker, Timer};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    match name.as_str() {
        "ok_select_refuses_a_slow_drop" => ok_select_refuses_a_slow_drop(),
        "owner_slow_drop_of_an_unsent_value" => owner_slow_drop_of_an_unsent_value(),
        "deadlock_in_a_refused_values_drop" => deadlock_in_a_refused_values_drop(),
        "deadlock_stopped_timer" => deadlock_stopped_timer(),
        "deadlock_fired_timer" => deadlock_fired_timer(),
        "deadlock_spent_after" => deadlock_spent_after(),
        "deadlock_stopped_ticker" => deadlock_stopped_ticker(),
        "deadlock_stopped_timer_in_select" => deadlock_stopped_timer_in_select(),
        "ok_reset_timer" => ok_reset_timer(),
        "ok_armed_timers" => ok_armed_timers(),
        "main_deferred_ops_when_main_panics" => main_deferred_ops_when_main_panics(),
        "owner_deferred_ops_when_a_goroutine_panics" => {
            owner_deferred_ops_when_a_goroutine_panics()
        }
        "owner_deferred_select_of_sends" => owner_deferred_select_of_sends(),
        "owner_deferred_select_refusing_none" => owner_deferred_select_refusing_none(),
        "owner_timeouts_in_goroutines" => owner_timeouts_in_goroutines(),
        "owner_timeout_in_the_owner" => owner_timeout_in_the_owner(),
        "main_unsent_value_drop_panics" => main_unsent_value_drop_panics(),
        "owner_refused_value_drop_panics" => owner_refused_value_drop_panics(),
        "owner_deferred_send_value_drop_panics" => owner_deferred_send_value_drop_panics(),
        "owner_select_send_value_drop_panics" => owner_select_send_value_drop_panics(),
        other => tests::unknown_scenario(other),
    }
}

/// Runs `owner` (a scoped function whose scope sees a panic) and prints the
/// message of the payload that resumed in it.
fn catch_owner(owner: impl FnOnce()) {
    let payload = panic::catch_unwind(AssertUnwindSafe(owner)).expect_err("the owner panics");
    println!("owner got: {}", tests::panic_message(&*payload));
}

/// A value whose `Drop` is a slow flush: a second of work outside goscope
/// (a goroutine running it is busy, never blocked).
struct Flush(bool);

impl Drop for Flush {
    fn drop(&mut self) {
        std::thread::sleep(Duration::from_secs(1));
    }
}

// ---- item 1: no user code runs while its goroutine is marked blocked ----

/// A `select!` arm refuses a value whose `Drop` takes a second, while the
/// sender waits for main's next receive. Main is running that `Drop`, not
/// blocked: no report (there used to be a false one at about 0.4 s).
#[goscope::main]
fn ok_select_refuses_a_slow_drop() {
    let (tx, rx) = chan::<Flush>(0);
    let (next_tx, next) = chan::<&str>(0);
    go! {
        tx.send(Flush(false)).unwrap();
        // Blocked here while main flushes the refused value.
        next_tx.send("the second value").unwrap();
    }
    // The refused value turns its arm off; the select goes on with the
    // other one.
    select! {
        Some(Flush(true)) = <-rx => println!("took a flush"),
        v = <-next => println!("select took {}", v.unwrap()),
    }
}

/// The owner panics while a goroutine is blocked sending a value whose
/// `Drop` takes a second: the cancelled send drops it, busy, and the owner
/// then gets its own panic (it used to be a deadlock report, exit 2).
#[goscope::main]
fn owner_slow_drop_of_an_unsent_value() {
    catch_owner(slow_drop_of_an_unsent_value);
}

#[goscope::scoped]
fn slow_drop_of_an_unsent_value() {
    let (tx, _rx) = chan::<Flush>(0);
    let started = WaitGroup::new();
    started.add(1);
    let (tx, started) = (&tx, &started);
    go! {
        started.done();
        // Nobody receives: cancelled when the owner panics.
        let _ = tx.send(Flush(false));
    }
    started.wait();
    panic!("the owner failed");
}

/// A value whose `Drop` waits on a goscope channel nobody sends to.
struct RecvOnDrop(Receiver<()>);

impl Drop for RecvOnDrop {
    fn drop(&mut self) {
        self.0.recv(); // the Drop's receive
    }
}

/// A `select!` arm refuses a value whose `Drop` blocks for good in a
/// goscope receive: a real deadlock, reported with that receive (it used to
/// hang silently: the inner wait left main marked running).
#[goscope::main]
fn deadlock_in_a_refused_values_drop() {
    let (tx, rx) = chan::<RecvOnDrop>(0);
    let (_keep, never_sent) = chan::<()>(0);
    go! {
        tx.send(RecvOnDrop(never_sent)).unwrap();
    }
    // Refuses every value, and drops it.
    select! {
        None = <-rx => println!("closed"),
    }
    println!("unreachable: the refused value's Drop never returns");
}

// ---- item 2: timer channels that can no longer fire ----

/// A receive on a stopped `Timer`'s channel, as the only thing left.
#[goscope::main]
fn deadlock_stopped_timer() {
    let timer = Timer::new(Duration::from_secs(3600));
    timer.stop();
    timer.c().recv(); // the stopped timer's receive
}

/// A second receive on a `Timer`'s channel once it has fired.
#[goscope::main]
fn deadlock_fired_timer() {
    let timer = Timer::new(Duration::from_millis(10));
    timer.c().recv().unwrap();
    timer.c().recv(); // the fired timer's second receive
}

/// A second receive on a spent `after`.
#[goscope::main]
fn deadlock_spent_after() {
    let fired = after(Duration::from_millis(10));
    fired.recv().unwrap();
    fired.recv(); // the spent after's second receive
}

/// A receive on a stopped `Ticker`'s channel.
#[goscope::main]
fn deadlock_stopped_ticker() {
    let ticker = Ticker::new(Duration::from_millis(10));
    ticker.c().recv().unwrap();
    ticker.stop();
    ticker.c().recv(); // the stopped ticker's receive
}

/// A `select!` over a stopped `Timer`'s channel and a channel nobody sends
/// to.
#[goscope::main]
fn deadlock_stopped_timer_in_select() {
    let (_keep, rx) = chan::<i32>(0);
    let timer = Timer::new(Duration::from_secs(3600));
    timer.stop();
    select! { // the select with a stopped timer
        <-timer.c() => println!("fired"),
        v = <-rx => println!("{v:?}"),
    }
}

/// A stopped `Timer` that is reset is armed again: its receive sleeps until
/// it fires.
#[goscope::main]
fn ok_reset_timer() {
    let timer = Timer::new(Duration::from_secs(3600));
    timer.stop();
    timer.reset(Duration::from_millis(800));
    timer.c().recv().unwrap();
    println!("the reset timer fired");
}

/// Receives on armed timers (a `Timer`, an `after`, a `Ticker`), each a
/// second or so away, while a goroutine waits on a channel main closes
/// afterwards: only time can make progress, and it does. Never reported.
#[goscope::main]
fn ok_armed_timers() {
    let (done_tx, done) = chan::<()>(0);
    go! {
        done.recv();
    }
    let timer = Timer::new(Duration::from_millis(800));
    timer.c().recv().unwrap();
    after(Duration::from_millis(800)).recv().unwrap();
    let ticker = Ticker::new(Duration::from_millis(800));
    ticker.c().recv().unwrap();
    drop(done_tx);
    println!("the timers fired");
}

// ---- item 5: deferred channel operations of a cancelled goroutine ----

/// Two goroutines blocked for good, each with a deferred receive or send on
/// a channel nobody uses; main panics. Their scope is cancelled: they
/// unwind, the deferred operations return at once (`None`, the value back)
/// and main's panic ends the program (it used to be a deadlock report).
#[goscope::main]
fn main_deferred_ops_when_main_panics() {
    let (_keep_tx, rx) = chan::<i32>(0);
    let (tx, _keep_rx) = chan::<i32>(0);
    let (_never_tx, never) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(2);
    let (never, started) = (&never, &started);
    go! {
        defer!(println!("deferred recv gave {:?}", rx.recv()));
        started.done();
        never.recv();
    }
    go! {
        defer!(println!("deferred send gave {:?}", tx.send(5).map_err(|e| e.into_inner())));
        started.done();
        never.recv();
    }
    started.wait();
    panic!("the owner failed");
}

/// The same with the first panic in a goroutine, and the owner blocked too:
/// the owner gets the goroutine's payload.
#[goscope::main]
fn owner_deferred_ops_when_a_goroutine_panics() {
    catch_owner(deferred_ops_when_a_goroutine_panics);
}

#[goscope::scoped]
fn deferred_ops_when_a_goroutine_panics() {
    let (_keep_tx, rx) = chan::<i32>(0);
    let (tx, _keep_rx) = chan::<i32>(0);
    let (_never_tx, never) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(2);
    let (rx, tx, never, started) = (&rx, &tx, &never, &started);
    go! {
        defer!(println!("deferred recv gave {:?}", rx.recv()));
        started.done();
        never.recv();
    }
    go! {
        defer!(println!("deferred send gave {:?}", tx.send(5).map_err(|e| e.into_inner())));
        started.done();
        never.recv();
    }
    started.wait();
    go! {
        panic!("a goroutine failed");
    }
    never.recv();
}

/// A deferred `select!` whose only arm is a send, in a goroutine unwinding
/// from its scope's cancellation: it has nothing to complete as if closed.
/// The first panic must still reach the owner.
#[goscope::main]
fn owner_deferred_select_of_sends() {
    catch_owner(deferred_select_of_sends);
}

#[goscope::scoped]
fn deferred_select_of_sends() {
    let (tx, _keep_rx) = chan::<i32>(0);
    let (_never_tx, never) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(1);
    let (tx, never, started) = (&tx, &never, &started);
    go! {
        defer!(select! {
            tx <- 1 => println!("sent"),
        });
        started.done();
        never.recv();
    }
    started.wait();
    panic!("the owner failed");
}

/// A deferred `select!` whose only arm refuses a closed channel's `None`,
/// in a goroutine unwinding from its scope's cancellation. The first panic
/// must still reach the owner.
#[goscope::main]
fn owner_deferred_select_refusing_none() {
    catch_owner(deferred_select_refusing_none);
}

#[goscope::scoped]
fn deferred_select_refusing_none() {
    let (_keep_tx, rx) = chan::<i32>(0);
    let (_never_tx, never) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(1);
    let (rx, never, started) = (&rx, &never, &started);
    go! {
        defer!(select! {
            Some(v) = <-rx => println!("got {v}"),
        });
        started.done();
        never.recv();
    }
    started.wait();
    panic!("the owner failed");
}

// ---- item 6: cancellation ends recv_timeout and send_timeout ----

/// Goroutines wait 30 s in `recv_timeout` and `send_timeout`; the owner
/// panics. They end at once, and the owner gets its panic long before the
/// timeouts (it used to wait them out). Prints how long that took.
#[goscope::main]
fn owner_timeouts_in_goroutines() {
    let start = Instant::now();
    catch_owner(timeouts_in_goroutines);
    println!("after {} ms", start.elapsed().as_millis());
}

#[goscope::scoped]
fn timeouts_in_goroutines() {
    let (_keep_tx, rx) = chan::<i32>(0);
    let (tx, _keep_rx) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(2);
    let (rx, tx, started) = (&rx, &tx, &started);
    go! {
        started.done();
        let _ = rx.recv_timeout(Duration::from_secs(30));
        println!("unreachable: recv_timeout returned");
    }
    go! {
        started.done();
        let _ = tx.send_timeout(1, Duration::from_secs(30));
        println!("unreachable: send_timeout returned");
    }
    started.wait();
    panic!("the owner failed");
}

/// The owner waits 30 s in `recv_timeout` when a goroutine panics: the
/// owner's wait ends at once and it gets the goroutine's panic.
#[goscope::main]
fn owner_timeout_in_the_owner() {
    let start = Instant::now();
    catch_owner(timeout_in_the_owner);
    println!("after {} ms", start.elapsed().as_millis());
}

#[goscope::scoped]
fn timeout_in_the_owner() {
    let (_keep_tx, rx) = chan::<i32>(0);
    go! {
        panic!("a goroutine failed");
    }
    let _ = rx.recv_timeout(Duration::from_secs(30));
    println!("unreachable: the owner's recv_timeout returned");
}

// ---- item 7: a panicking Drop of a value goscope drops ----

/// A value whose `Drop` panics.
struct Bomb(bool);

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("bomb went off");
    }
}

/// A goroutine is blocked sending a `Bomb` when main panics: the cancelled
/// send drops it, its `Drop` panics; main's panic ends the program (exit
/// status 2), the second panic is printed; no abort.
#[goscope::main]
fn main_unsent_value_drop_panics() {
    let (tx, _keep_rx) = chan::<Bomb>(0);
    let started = WaitGroup::new();
    started.add(1);
    let started = &started;
    go! {
        started.done();
        let _ = tx.send(Bomb(false));
    }
    started.wait();
    panic!("the owner failed");
}

/// A goroutine unwinding from its scope's cancellation runs a deferred
/// `select!` whose pattern refuses a `Bomb`: goscope drops it while the
/// goroutine unwinds, its `Drop` panics. The owner gets the first panic.
#[goscope::main]
fn owner_refused_value_drop_panics() {
    catch_owner(refused_value_drop_panics);
}

#[goscope::scoped]
fn refused_value_drop_panics() {
    let (bombs_tx, bombs) = chan::<Bomb>(1);
    let (_keep_tx, pending) = chan::<i32>(0);
    let (_never_tx, never) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(1);
    let (bombs, pending, never, started) = (&bombs, &pending, &never, &started);
    go! {
        defer!(select! {
            // Refuses the buffered `Bomb(false)`, and drops it.
            Some(Bomb(true)) = <-bombs => println!("took a bomb"),
            // Nobody sends: while unwinding it ends as if closed.
            v = <-pending => println!("deferred select gave {v:?}"),
        });
        started.done();
        never.recv();
    }
    started.wait();
    bombs_tx.send(Bomb(false)).unwrap();
    panic!("the owner failed");
}

/// A goroutine unwinding from its scope's cancellation runs a deferred send
/// of a `Bomb`: the send gives it back and `defer!` drops the result while
/// the goroutine unwinds, its `Drop` panics. The owner gets the first panic.
#[goscope::main]
fn owner_deferred_send_value_drop_panics() {
    catch_owner(deferred_send_value_drop_panics);
}

#[goscope::scoped]
fn deferred_send_value_drop_panics() {
    let (tx, _keep_rx) = chan::<Bomb>(0);
    let (_never_tx, never) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(1);
    let (tx, never, started) = (&tx, &never, &started);
    go! {
        defer!(tx.send(Bomb(false)));
        started.done();
        never.recv();
    }
    started.wait();
    panic!("the owner failed");
}

/// A goroutine unwinding from its scope's cancellation runs a deferred
/// `select!` with a send arm of a `Bomb`; the receive arm ends it as if
/// closed, and goscope drops the unsent `Bomb` while the goroutine unwinds.
/// The owner gets the first panic.
#[goscope::main]
fn owner_select_send_value_drop_panics() {
    catch_owner(select_send_value_drop_panics);
}

#[goscope::scoped]
fn select_send_value_drop_panics() {
    let (tx, _keep_rx) = chan::<Bomb>(0);
    let (_keep_tx, pending) = chan::<i32>(0);
    let (_never_tx, never) = chan::<i32>(0);
    let started = WaitGroup::new();
    started.add(1);
    let (tx, pending, never, started) = (&tx, &pending, &never, &started);
    go! {
        defer!(select! {
            tx <- Bomb(false) => println!("sent a bomb"),
            v = <-pending => println!("deferred select gave {v:?}"),
        });
        started.done();
        never.recv();
    }
    started.wait();
    panic!("the owner failed");
}
