use goscope::prelude::*;

fn main() {
    go!();
}
