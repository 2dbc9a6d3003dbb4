use goscope::prelude::*;

fn cleanup() {}

fn main() {
    defer!(cleanup);
}
