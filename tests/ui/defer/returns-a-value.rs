use goscope::prelude::*;

fn count() -> usize {
    3
}

fn main() {
    defer!(count());
}
