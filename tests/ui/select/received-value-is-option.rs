use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    let total: i32 = select! {
        v = <-rx => v + 1,
        default => 0,
    };
    println!("{total}");
}
