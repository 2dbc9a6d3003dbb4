use goscope::prelude::*;

fn ping() {}
fn pong() {}

fn main() {
    go!(ping(), pong());
}
