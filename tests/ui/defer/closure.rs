use gofer::prelude::*;

fn main() {
    defer!(|| println!("cleaning up"));
}
