use goscope::prelude::*;

fn main() {
    go!(42);
}
