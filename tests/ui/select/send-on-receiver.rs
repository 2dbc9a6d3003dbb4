use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    select! {
        rx <- 1 => println!("sent"),
        default => {}
    }
}
