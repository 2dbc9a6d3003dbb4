// Every form in SPEC.md compiles.
#![deny(warnings)]
use goscope::prelude::*;
use std::cell::RefCell;

fn note(_: &str) {}

fn worker(id: i32, wg: &WaitGroup) {
    defer!(wg.done());
    let _ = id;
}

fn generic<T: Send>(value: T, out: &Sender<T>) {
    let _ = out.send(value);
}

fn fallible(out: &Sender<i32>) -> Result<(), goscope::SendError<i32>> {
    out.send(1)
}

struct Counter {
    hits: std::sync::atomic::AtomicUsize,
}

impl Counter {
    fn hit(&self, n: usize) {
        self.hits.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

#[goscope::main]
fn main() {
    // `go!(f(a, b))`, `go!(path::f::<T>(a))`, `go!(recv.method(a))`.
    let wg = WaitGroup::new();
    for i in 1..=3 {
        wg.add(1);
        go!(worker(i, &wg));
    }
    wg.wait();
    let (tx, rx) = chan::<i32>(10);
    go!(generic::<i32>(7, &tx));
    go!(self::generic(8, &tx));
    go!(fallible(&tx));
    let counter = Counter {
        hits: Default::default(),
    };
    go!(counter.hit(1));
    let counters = [Counter {
        hits: Default::default(),
    }];
    go!(counters[0].hit(2));

    // `go!(move || ...)`, `go!(|| ...)`, `go! { ... }`.
    let tx2 = tx.clone();
    go!(move || {
        let _ = tx2.send(1);
    });
    go!(|| {
        let _ = tx.send(2);
    });
    let tx3 = tx.clone();
    go! {
        let _ = tx3.send(3);
    }
    // `go!` is an expression of type `()`.
    let () = go!(fallible(&tx));

    // `select!`, with every kind of arm; it is an expression.
    let (results, results_rx) = chan::<i32>(1);
    let (_done_tx, done) = chan::<()>(0);
    for _ in 0..3 {
        let n: i32 = select! {
            msg = <-rx => msg.unwrap_or(0),
            <-done => break,
            results <- 42 => 1,
            _ = <-after(Duration::from_millis(1)) => 2,
            <-never::<u8>() => 3,
            default => 4,
        };
        let _ = n;
    }
    let _ = results_rx.try_recv();
    let (_t, ticks) = ((), tick(Duration::from_millis(1)));
    select! {
        _ = <-ticks => {}
    }

    // `defer!(f(a))`, `defer!(recv.method(a))`, `defer!(println!(..))`,
    // `defer! { ... }`.
    let log = RefCell::new(Vec::new());
    {
        defer!(note("a path call"));
        defer!(counter.hit(3));
        defer!(println!("deferred"));
        defer! {
            log.borrow_mut().push("block");
        }
    }
}

#[goscope::scoped]
fn scoped(items: &[u64]) -> usize {
    let wg = WaitGroup::new();
    let sum = std::sync::atomic::AtomicUsize::new(0);
    for chunk in items.chunks(2) {
        wg.add(1);
        let (wg, sum) = (&wg, &sum);
        go! {
            defer!(wg.done());
            sum.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }
    wg.wait();
    sum.load(std::sync::atomic::Ordering::Relaxed)
}

#[goscope::main(deadlock = "off")]
fn with_result() -> Result<(), String> {
    let (tx, rx) = chan::<i32>(0);
    go!(tx.send(1));
    let v = rx.recv().ok_or("closed")?;
    if v == 1 {
        return Ok(());
    }
    Err("unexpected".into())
}

#[goscope::test(deadlock = "off", leak_check = "off")]
fn a_test() {
    let (tx, rx) = chan(0);
    go!(tx.send("ping"));
    assert_eq!(rx.recv(), Some("ping"));
}

fn detached() {
    let (tx, rx) = chan::<String>(1);
    let owned = String::from("owned");
    go!(move || {
        let _ = tx.send(owned);
    });
    let _ = rx.recv();
    let wg = WaitGroup::new();
    wg.go(|| {});
    wg.wait();
}

#[allow(dead_code)]
fn uses() {
    let _ = scoped(&[1, 2, 3]);
    let _ = with_result();
    detached();
    let _ = goscope::num_goroutine();
}
