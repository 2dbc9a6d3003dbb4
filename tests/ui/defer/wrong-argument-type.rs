use goscope::prelude::*;

fn close(fd: i32) {
    println!("closing {fd}");
}

fn main() {
    defer!(close("stdin"));
}
