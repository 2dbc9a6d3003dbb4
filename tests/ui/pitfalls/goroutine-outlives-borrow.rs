// A goroutine that borrows a value dropped while it may still run.
use gofer::prelude::*;

fn show(line: &str) {
    println!("{line}");
}

#[gofer::main]
fn main() {
    let line = String::from("hello");
    go!(show(&line));
    drop(line);
}
