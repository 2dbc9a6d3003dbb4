use gofer::prelude::*;

fn cleanup() {}

fn main() {
    defer!(cleanup);
}
