use gofer::prelude::*;
use std::rc::Rc;

fn show(n: Rc<i32>) {
    println!("{n}");
}

#[gofer::main]
fn main() {
    let shared = Rc::new(1);
    go!(show(shared.clone()));
}
