use gofer::prelude::*;

fn add(a: i32, b: i32) {
    println!("{}", a + b);
}

#[gofer::main]
fn main() {
    go!(add(1));
}
