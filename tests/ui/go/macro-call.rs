use gofer::prelude::*;

fn main() {
    go!(println!("hello from a goroutine"));
}
