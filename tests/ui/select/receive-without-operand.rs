use goscope::prelude::*;

fn main() {
    select! {
        v = <- => println!("{v:?}"),
        default => {}
    }
}
