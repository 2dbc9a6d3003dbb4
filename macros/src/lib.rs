//! The macros of [goscope](https://docs.rs/goscope): `go!`, `select!`,
//! `defer!`, `scope!` and the `#[goscope::main]`, `#[goscope::test]` and
//! `#[goscope::scoped]` attributes. Depend on `goscope`, which re-exports
//! them; their expansions name only `::goscope` paths.
#![forbid(unsafe_code)]

mod call;
mod defer;
mod entry;
mod go;
mod marker;
mod scope;
mod select;
mod tokens;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Starts a goroutine: Go's `go` statement.
///
/// | form | runs |
/// | --- | --- |
/// | `go!(f(a, b))`, `go!(path::f::<T>(a))` | the call; `f`, `a` and `b` are evaluated now, left to right |
/// | `go!(recv.method(a))` | the method call; a place receiver (`x`, `x.field`, `x[i]`) is borrowed, any other is evaluated now and moved |
/// | `go!(move \|\| ...)`, `go!(\|\| ...)` | the closure as written |
/// | `go! { ... }` | the block, as a `move` closure (Go's `go func() { ... }()`) |
/// | `go!(static f(a))`, `go!(static move \|\| ...)`, `go!(static { ... })` | the same, always detached |
///
/// Inside a function marked `#[goscope::scoped]` or `#[goscope::test]`, or
/// in a `scope! { .. }` block, the goroutine is scoped: it may borrow the
/// function's locals, and the function (or block) ends only after it has
/// finished. In `#[goscope::main]` it is scoped too, but, as in Go, the
/// program ends when main returns: goroutines still waiting in goscope are
/// cancelled and the rest are not waited for. Anywhere else it is
/// detached: it must own what it uses (`'static`), and it ends when the
/// process ends.
///
/// `go!(static ..)` starts a detached goroutine anywhere, also inside those
/// functions: the function does not wait for it, so it must own what it
/// uses. This is how a Go function abandons goroutines: the first response
/// wins, a timeout gives up on slow work, a canceller waits on stdin.
///
/// # Receivers: borrowed or moved
///
/// In `go!(recv.method(a))` a receiver that is a place (`x`, `x.field`,
/// `x[i]`) is used where it is, not evaluated now:
///
/// - in a **scoped** goroutine it is borrowed when `method` takes `&self`
///   or `&mut self` (until the function joins its goroutines), and moved
///   into the goroutine when `method` takes `self`;
/// - in a **detached** goroutine (outside the attributes, or
///   `go!(static ..)`) it is always moved into the goroutine, which must
///   own it, even when `method` takes `&self`: clone it first
///   (`let e2 = e.clone(); go!(static e2.call())`) or share an `Arc`.
///
/// Any other receiver (`make().method()`, `x.field()`) is evaluated now and
/// moved, like the arguments.
///
/// The goroutine's function returns `()` or `Result<(), E>`; an `Err`
/// becomes a panic. A scoped goroutine's panic resumes, with its payload, in
/// the function that owns the scope; a detached goroutine's panic prints its
/// message and ends the process with status 2, as in Go.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// fn speak(who: &str, out: &Sender<String>) {
///     out.send(format!("{who} says hi")).unwrap();
/// }
///
/// #[goscope::main]
/// fn main() {
///     let (tx, rx) = chan(2);
///     let name = String::from("gopher");
///     go!(speak(&name, &tx)); // borrows `name` and `tx`
///     let tx2 = tx.clone();
///     go! {
///         // A block is a `move` closure: this goroutine owns `tx2`.
///         tx2.send("a block".to_string()).unwrap();
///     }
///     let mut got = vec![rx.recv().unwrap(), rx.recv().unwrap()];
///     got.sort();
///     assert_eq!(got, ["a block", "gopher says hi"]);
/// }
/// ```
#[proc_macro]
pub fn go(input: TokenStream) -> TokenStream {
    go::expand(input.into()).into()
}

/// Waits on several channel operations at once: Go's `select` statement.
///
/// ```
/// # use goscope::prelude::*;
/// # let (messages_tx, messages) = chan::<i32>(1);
/// # let (results, _results_rx) = chan::<i32>(1);
/// # let (_done_tx, done) = chan::<()>(0);
/// # let _ = &messages_tx;
/// # for _ in 0..2 {
/// select! {
///     msg = <-messages => println!("received {msg:?}"), // msg: Option<i32>
///     <-done => return,                                  // value dropped
///     results <- 42 => println!("sent"),
///     <-after(Duration::from_secs(1)) => println!("timeout"),
///     default => println!("no activity"),
/// }
/// # }
/// ```
///
/// - A receive arm binds `Option<T>`: `None` once the channel is closed and
///   drained, like Go's `v, ok := <-ch`.
/// - The pattern of a receive arm may be refutable, as in `let ... else`:
///   `Some(v) = <-rx`, `Some(Msg::Quit) = <-rx`, `None = <-done`. When the
///   value received does not match (typically `None`: the channel is
///   closed), the value is consumed all the same (dropped), and the arm is
///   off for the rest of this `select!`, which goes on waiting on the other
///   arms: Go's idiom of setting a finished channel to nil. A `select!`
///   whose arms are all off and that has no `default` blocks forever, like
///   Go's `select` over nil channels (the deadlock detector reports it if
///   nothing else runs). An arm with a plain binding (`v`, `_`) or no
///   pattern costs nothing extra.
/// - In goscope a channel closes when its last `Sender` is dropped, which
///   includes a goroutine that owned it returning; so where Go code relies
///   on a channel that is never closed, write `Some(v) = <-rx`.
/// - Every channel operand and send value is evaluated exactly once, in
///   source order, when the `select!` is entered.
/// - Among the arms that are ready, one is chosen uniformly at random.
///   Without `default` the `select!` blocks until an arm is ready; with it,
///   it never blocks.
/// - `select!` is an expression: its value is the chosen arm's value.
///   `break`, `continue`, `return` and `?` in an arm act on the enclosing
///   loop or function, as in a `match`; in Go, `break` ends the `select`.
/// - `select! {}` blocks forever, as Go's `select {}` does: it has type
///   `!`, unwinds when the goroutine's scope is cancelled, and shows as
///   `[select (no cases)]` in a deadlock report. A server's `main` that has
///   started its goroutines ends with it.
/// - A send arm whose receivers are all gone is never ready (as a Go send
///   that nobody will ever receive); its value is dropped with the `select!`.
///
/// # Examples
///
/// Go by Example's `select`: each goroutine sends once and returns, which
/// closes its channel; `Some(..)` turns a closed channel's arm off, so the
/// second round waits for the other message.
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::main]
/// fn main() {
///     let (c1_tx, c1) = chan(0);
///     let (c2_tx, c2) = chan(0);
///     go! {
///         sleep(Duration::from_millis(10));
///         c1_tx.send("one").unwrap();
///     }
///     go! {
///         sleep(Duration::from_millis(20));
///         c2_tx.send("two").unwrap();
///     }
///     for _ in 0..2 {
///         select! {
///             Some(msg1) = <-c1 => println!("received {msg1}"),
///             Some(msg2) = <-c2 => println!("received {msg2}"),
///         }
///     }
/// }
/// ```
///
/// Sends and receives in one loop:
///
/// ```
/// use goscope::prelude::*;
///
/// let (tx, rx) = chan(1);
/// let (_quit_tx, quit) = chan::<()>(0);
/// let mut sent = 0;
/// loop {
///     select! {
///         tx <- sent => sent += 1,
///         v = <-rx => assert_eq!(v, Some(sent - 1)),
///         <-quit => unreachable!(),
///     }
///     if sent == 10 {
///         break;
///     }
/// }
/// ```
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

/// Runs a call when the enclosing block exits: Go's `defer`, at block scope.
///
/// `defer!(f(a))`, `defer!(recv.method(a))`, `defer!(println!(..))` or
/// `defer! { ... }`. Deferred calls run in reverse order on every exit from
/// the block: falling off its end, `return`, `?`, `break`, and panic
/// unwinding. For the call forms the arguments are evaluated now, as in Go,
/// and so is a receiver that is not a place (`defer!(cell.borrow_mut().push(x))`
/// takes the `RefMut` now and holds it until the block ends); a place
/// receiver is borrowed until the block ends. A macro call or a block runs
/// whole at exit.
///
/// A receiver that is a place (`x`, `x.field`, `x[i]`) is borrowed until
/// the block exits when the method takes `&self` or `&mut self`, and moved
/// now when it takes `self`: after `defer!(conn.close())` with a
/// `close(self)`, `conn` cannot be used (Go would run `Close` on the value
/// `conn` held at the `defer`). To keep using it, defer something that
/// borrows (`defer!(conn.shutdown())` with `&self`), or `defer!(drop(conn))`
/// with the closing in `conn`'s `Drop`.
///
/// `defer!(drop(x))` is Go's `defer close(ch)` (or `defer mu.Unlock()`):
/// `x` is dropped when the block exits, in turn with the other deferred
/// calls, and stays usable until then with its own type. It does so by
/// moving `x` into a new binding of the same name, declared at the
/// `defer!`; that binding is mutable, so `let n = m.lock().unwrap();
/// defer!(drop(n)); *n += 1;` works, and `x` itself need not be `mut`
/// (if it is, rustc says that it "does not need to be mutable": right, and
/// the only way to silence it is to drop the `mut`).
///
/// `defer!` is a statement: it binds the deferred call to the enclosing
/// block, so it cannot be used as a value.
///
/// Go defers to the end of the function; goscope uses Rust's block scope. At
/// the top level of a function the two are the same. In a function marked
/// `#[goscope::main]`, `#[goscope::scoped]` or `#[goscope::test]`, a
/// top-level `defer!` runs when the body finishes (after its tail
/// expression), before the function waits for its goroutines, wherever it
/// stands among the `let`s: `defer!(drop(tx))` ends the goroutines that
/// range over the channel, as Go's `defer close(ch)` does.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use std::cell::RefCell;
///
/// let log = RefCell::new(Vec::new());
/// let push = |line: &'static str| log.borrow_mut().push(line);
/// {
///     defer!(push("first deferred, runs last"));
///     defer! {
///         push("second deferred, runs first");
///     }
///     push("body");
/// }
/// assert_eq!(
///     log.into_inner(),
///     ["body", "second deferred, runs first", "first deferred, runs last"]
/// );
/// ```
///
/// Go's `defer close(ch)` in a scoped function:
///
/// ```
/// use goscope::prelude::*;
///
/// fn sum(numbers: &Receiver<i32>, total: &mut i32) {
///     for n in numbers {
///         *total += n;
///     }
/// }
///
/// #[goscope::scoped]
/// fn total(of: &[i32], total: &mut i32) {
///     let (tx, rx) = chan(0);
///     defer!(drop(tx)); // runs before the function waits for `sum`
///     let values = of.to_vec();
///     go!(sum(&rx, total));
///     for v in values {
///         tx.send(v).unwrap();
///     }
/// }
///
/// # fn main() {
/// let mut t = 0;
/// total(&[1, 2, 3], &mut t);
/// assert_eq!(t, 6);
/// # }
/// ```
#[proc_macro]
pub fn defer(input: TokenStream) -> TokenStream {
    defer::expand(input.into()).into()
}

/// A block that is a scope of its own: its goroutines may borrow what
/// lives outside it, and it ends only once they have all finished.
///
/// `scope! { ... }` works anywhere: in a scoped function, in a plain
/// function, in a goroutine. Every `go!` in the block starts a goroutine of
/// the block's scope (as in a `#[goscope::scoped]` function: the block's
/// top-level locals may be borrowed by the goroutines started after them,
/// and a top-level `defer!` runs before the block waits). Its value is the
/// block's value, and the borrows of its goroutines end with it: a Go
/// program's "start these, wait for them, then use the results" phase,
/// `std::thread::scope`'s shape without the closure.
///
/// A goroutine's panic cancels the block's scope (its goroutines waiting
/// in goscope unwind) and resumes, with its own payload, where the block
/// is, once every goroutine has finished; a panic in the block itself does
/// the same.
///
/// The block runs in closures, so a `return`, `?`, `break` or `continue`
/// that would leave it is a compile error: give the block a value and act
/// on it after the block. `go!(static ..)` in it is detached, as anywhere.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// fn fill(part: &mut [u64], from: u64) {
///     for (i, slot) in part.iter_mut().enumerate() {
///         *slot = from + i as u64;
///     }
/// }
///
/// let mut numbers = vec![0; 8];
/// // Phase one: goroutines borrow `numbers` mutably, one half each.
/// scope! {
///     let (low, high) = numbers.split_at_mut(4);
///     go!(fill(low, 0));
///     go!(fill(high, 4));
/// }
/// // Phase two: the borrows have ended, the data is ours again.
/// let total: u64 = scope! {
///     let (tx, rx) = chan(2);
///     for half in numbers.chunks(4) {
///         let tx = tx.clone();
///         go!(move || tx.send(half.iter().sum::<u64>()).unwrap());
///     }
///     drop(tx);
///     rx.iter().sum()
/// };
/// assert_eq!(total, 28);
/// numbers.push(total);
/// ```
#[proc_macro]
pub fn scope(input: TokenStream) -> TokenStream {
    scope::expand(input.into()).into()
}

/// Runs `main` as Go's main goroutine, with scoped goroutines.
///
/// Every goroutine that `go!` starts lexically inside the function may
/// borrow the function's locals (those of its top-level block, declared
/// before the `go!`). Any return type that `main` accepts works, and
/// `return` and `?` keep their meaning.
///
/// When the body returns (its tail expression evaluated, its top-level
/// `defer!`s run, as Go's `return f()` evaluates `f()` and runs the defers),
/// the program ends as in Go: goroutines still running are not waited for.
/// main's scope is cancelled, so every goroutine blocked or sleeping in a
/// goscope operation unwinds (its `defer!`s run), and the process exits
/// with main's status (an `Err` is printed as Rust's `main` prints it)
/// without waiting for goroutines busy in code that never calls goscope.
/// To let them finish, wait for them: a `WaitGroup`, a channel, or a
/// `scope! { .. }` block. A `#[goscope::scoped]` function, by contrast,
/// waits for its goroutines.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// fn worker(id: i32, wg: &WaitGroup) {
///     defer!(wg.done());
///     println!("Worker {id} done");
/// }
///
/// #[goscope::main]
/// fn main() {
///     let wg = WaitGroup::new();
///     for i in 1..=3 {
///         wg.add(1);
///         go!(worker(i, &wg));
///     }
///     wg.wait();
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

/// Marks a test whose goroutines are scoped, as in `#[goscope::main]`.
///
/// It is `#[test]` plus the scope: a goroutine's panic fails the test with
/// the goroutine's own message, and the test returns only once every
/// goroutine it started has finished.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::test]
/// fn ping() {
///     let (tx, rx) = chan(0);
///     go!(tx.send("ping"));
///     assert_eq!(rx.recv(), Some("ping"));
/// }
/// # fn main() {}
/// ```
///
/// Arguments: `deadlock = "off"` (no deadlock detector), `leak_check =
/// "off"` (the test may end with detached goroutines still running), and
/// `synctest`: the body runs in a synctest bubble (`goscope::synctest::run`),
/// where time is virtual (Go's `synctest.Test`):
///
/// ```
/// use goscope::prelude::*;
/// use goscope::time;
///
/// #[goscope::test(synctest)]
/// fn an_hour_passes_at_once() {
///     let start = time::now();
///     sleep(Duration::from_secs(3600));
///     assert_eq!(time::now() - start, Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}

/// Gives any function the scope of `#[goscope::main]`: goroutines started in
/// it may borrow its locals and parameters, and it returns only once they
/// have all finished.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// #[goscope::scoped]
/// fn count_evens(numbers: &[u64]) -> usize {
///     let evens = AtomicUsize::new(0);
///     let wg = WaitGroup::new();
///     for chunk in numbers.chunks(2) {
///         wg.add(1);
///         // A `go!` block is a `move` closure: hand it references.
///         let (wg, evens) = (&wg, &evens);
///         go! {
///             defer!(wg.done());
///             let n = chunk.iter().filter(|&&n| n % 2 == 0).count();
///             evens.fetch_add(n, Ordering::Relaxed);
///         }
///     }
///     wg.wait();
///     evens.load(Ordering::Relaxed)
/// }
///
/// # fn main() {
/// assert_eq!(count_evens(&[1, 2, 3, 4, 6]), 3);
/// # }
/// ```
#[proc_macro_attribute]
pub fn scoped(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Scoped, args.into(), item.into()).into()
}
