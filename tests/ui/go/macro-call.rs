use goscope::prelude::*;

fn main() {
    go!(println!("hello from a goroutine"));
}
