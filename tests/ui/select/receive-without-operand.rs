use gofer::prelude::*;

fn main() {
    select! {
        v = <- => println!("{v:?}"),
        default => {}
    }
}
