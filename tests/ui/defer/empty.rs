use gofer::prelude::*;

fn main() {
    defer!();
}
