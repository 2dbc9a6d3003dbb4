use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    select! {
        v = <-rx. => println!("{v:?}"),
        default => {}
    }
}
