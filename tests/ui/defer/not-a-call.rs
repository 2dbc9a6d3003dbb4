use goscope::prelude::*;

fn main() {
    let mut running = true;
    defer!(running = false);
    assert!(running);
}
