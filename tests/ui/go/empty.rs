use gofer::prelude::*;

fn main() {
    go!();
}
