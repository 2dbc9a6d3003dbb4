use gofer::prelude::*;

fn answer() -> i32 {
    42
}

#[gofer::main]
fn main() {
    go!(answer());
}
