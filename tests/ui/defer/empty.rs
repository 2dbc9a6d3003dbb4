use goscope::prelude::*;

fn main() {
    defer!();
}
