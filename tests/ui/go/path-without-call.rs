use gofer::prelude::*;

fn worker() {}

fn main() {
    go!(worker);
}
