use goscope::prelude::*;

fn close_file() {}
fn close_socket() {}

fn main() {
    defer!(close_file(), close_socket());
}
