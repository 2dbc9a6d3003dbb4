use goscope::prelude::*;

fn main() {
    go!(async { println!("hello") });
}
