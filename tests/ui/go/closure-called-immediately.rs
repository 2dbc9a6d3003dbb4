use gofer::prelude::*;

fn main() {
    go!(move || {
        println!("hello from a goroutine");
    }());
}
