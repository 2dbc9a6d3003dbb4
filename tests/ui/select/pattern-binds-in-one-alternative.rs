// An or-pattern must bind the same names in every alternative, as in `let`.
use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    select! {
        Some(v) | None = <-rx => println!("{v}"),
        default => {}
    }
}
