// The tutorial's data race, written with a `go! { .. }` block: the block is a
// `move` closure, so each goroutine would count into its own copy of the
// `i32` and the total would silently stay 0. goscope makes that an error.
use goscope::prelude::*;

#[goscope::main]
fn main() {
    let mut counter = 0;
    go! {
        counter += 1;
    }
    println!("{counter}");
}
