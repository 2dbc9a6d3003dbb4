use goscope::prelude::*;

fn show(line: &str) {
    println!("{line}");
}

#[goscope::main]
fn main() {
    for i in 0..3 {
        let line = format!("line {i}");
        go!(show(&line));
    }
}
