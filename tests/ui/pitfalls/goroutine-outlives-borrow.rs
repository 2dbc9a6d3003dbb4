// A goroutine that borrows a value dropped while it may still run.
use goscope::prelude::*;

fn show(line: &str) {
    println!("{line}");
}

#[goscope::main]
fn main() {
    let line = String::from("hello");
    go!(show(&line));
    drop(line);
}
