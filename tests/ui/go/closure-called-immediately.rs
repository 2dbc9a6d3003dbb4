use goscope::prelude::*;

fn main() {
    go!(move || {
        println!("hello from a goroutine");
    }());
}
