use goscope::prelude::*;

fn main() {
    go!(static 42);
}
