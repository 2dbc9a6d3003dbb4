use goscope::prelude::*;
use std::rc::Rc;

fn show(n: Rc<i32>) {
    println!("{n}");
}

#[goscope::main]
fn main() {
    let shared = Rc::new(1);
    go!(show(shared.clone()));
}
