// `go! { ... }` is a `move` closure, as Go's `go func() { ... }()` is not:
// each goroutine increments its own copy of an `i32`. gofer's lint-free
// build makes that a warning; this crate denies it.
#![deny(unused)]
use gofer::prelude::*;

#[gofer::main]
fn main() {
    let mut counter = 0;
    go! {
        counter += 1;
    }
    println!("{counter}");
}
