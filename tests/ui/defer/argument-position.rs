use goscope::prelude::*;

fn cleanup() {}

fn main() {
    drop(defer!(cleanup()));
}
