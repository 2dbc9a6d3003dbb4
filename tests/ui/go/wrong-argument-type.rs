use goscope::prelude::*;

fn greet(name: &str) {
    println!("hello, {name}");
}

#[goscope::main]
fn main() {
    go!(greet(42));
}
