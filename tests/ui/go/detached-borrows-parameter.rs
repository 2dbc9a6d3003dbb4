// No `#[goscope::scoped]`: the goroutine is detached and may outlive
// `start`, so it cannot borrow `start`'s parameter.
use goscope::prelude::*;

fn greet(name: &str) {
    println!("hello, {name}");
}

fn start(name: &str) {
    go!(greet(name));
}

fn main() {
    start("gopher");
}
