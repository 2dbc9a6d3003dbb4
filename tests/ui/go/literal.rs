use gofer::prelude::*;

fn main() {
    go!(42);
}
