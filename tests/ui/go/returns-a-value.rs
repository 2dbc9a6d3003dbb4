use goscope::prelude::*;

fn answer() -> i32 {
    42
}

#[goscope::main]
fn main() {
    go!(answer());
}
