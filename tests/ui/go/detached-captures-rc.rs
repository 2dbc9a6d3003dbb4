use goscope::prelude::*;
use std::rc::Rc;

fn show(n: Rc<i32>) {
    println!("{n}");
}

// Outside a scope the goroutine is detached: it runs on another thread, so
// what it takes must be `Send`.
fn start(shared: Rc<i32>) {
    go!(show(shared));
}

fn main() {
    start(Rc::new(1));
}
