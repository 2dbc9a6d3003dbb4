use gofer::prelude::*;

fn main() {
    go!(async { println!("hello") });
}
