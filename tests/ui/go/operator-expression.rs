use goscope::prelude::*;

fn main() {
    let (a, b) = (1, 2);
    go!(a + b);
}
