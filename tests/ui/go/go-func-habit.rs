use goscope::prelude::*;

fn main() {
    go!(func() {
        println!("hello from a goroutine");
    }());
}
