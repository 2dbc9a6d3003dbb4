use goscope::prelude::*;

fn main() {
    defer!(|| println!("cleaning up"));
}
