// The pattern of a receive arm matches `Option<T>`, not `T`: `Some(..)`
// wraps the element's pattern.
use goscope::prelude::*;

enum Msg {
    Quit,
}

fn main() {
    let (_tx, rx) = chan::<Msg>(1);
    select! {
        Msg::Quit = <-rx => {}
        default => {}
    }
}
