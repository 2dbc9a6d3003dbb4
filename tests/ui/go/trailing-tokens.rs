use gofer::prelude::*;

fn ping() {}
fn pong() {}

fn main() {
    go!(ping(), pong());
}
