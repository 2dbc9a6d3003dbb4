// A `select!` whose every arm is bad still has a value of any type: the
// `let` below reports nothing more.
use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    let n: i32 = select! {
        rx.recv() => 1,
    };
    println!("{n}");
}
