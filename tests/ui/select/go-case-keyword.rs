use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    select! {
        case v = <-rx => println!("{v:?}"),
        default => {}
    }
}
