use goscope::prelude::*;

fn add(a: i32, b: i32) {
    println!("{}", a + b);
}

#[goscope::main]
fn main() {
    go!(add(1));
}
