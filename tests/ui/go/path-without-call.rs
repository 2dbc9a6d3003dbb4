use goscope::prelude::*;

fn worker() {}

fn main() {
    go!(worker);
}
