// A receive arm's pattern matches the `Option<T>` received: a `Result`
// pattern is a type error on the pattern.
use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    select! {
        Ok(v) = <-rx => println!("{v}"),
        default => {}
    }
}
