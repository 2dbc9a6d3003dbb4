use goscope::prelude::*;

#[goscope::main]
fn main() {
    go!(static);
}
