use goscope::prelude::*;
use std::cell::RefCell;

fn bump(counter: &RefCell<i32>) {
    *counter.borrow_mut() += 1;
}

#[goscope::main]
fn main() {
    let counter = RefCell::new(0);
    go!(bump(&counter));
}
