// `go!(static ..)` starts a detached goroutine even in a scoped function:
// the function does not wait for it, so it must own what it uses.
use goscope::prelude::*;

fn greet(name: &str) {
    println!("hello, {name}");
}

#[goscope::scoped]
fn start() {
    let name = String::from("gopher");
    go!(static greet(&name));
}

fn main() {
    start();
}
