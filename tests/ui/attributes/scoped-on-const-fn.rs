// A goroutine cannot start at compile time.
use goscope::prelude::*;

#[goscope::scoped]
const fn answer() -> i32 {
    42
}

fn main() {
    let _ = answer();
    let _ = chan::<i32>(0);
}
