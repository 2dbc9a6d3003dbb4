use goscope::prelude::*;

fn greet(name: &str) {
    println!("hello, {name}");
}

// No `#[goscope::main]` or `#[goscope::scoped]`: the goroutine is detached and
// may outlive `start`, so it must own its data.
fn start() {
    let name = String::from("gopher");
    go!(greet(&name));
}

fn main() {
    start();
}
