use gofer::prelude::*;

fn cleanup() {}

fn main() {
    drop(defer!(cleanup()));
}
