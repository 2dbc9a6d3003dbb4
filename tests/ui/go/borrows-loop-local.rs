use gofer::prelude::*;

fn show(line: &str) {
    println!("{line}");
}

#[gofer::main]
fn main() {
    for i in 0..3 {
        let line = format!("line {i}");
        go!(show(&line));
    }
}
