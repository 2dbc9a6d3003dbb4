use gofer::prelude::*;

fn greet(name: &str) {
    println!("hello, {name}");
}

#[gofer::main]
fn main() {
    go!(greet(42));
}
