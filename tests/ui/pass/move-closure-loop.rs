// `go!(move || loop { .. })`: a goroutine that never returns (its closure
// returns `!`) is accepted.
#![deny(warnings)]
use goscope::prelude::*;

fn main() {
    let (tx, rx) = chan::<u64>(0);
    go!(move || loop {
        if tx.send(1).is_err() {
            return;
        }
    });
    assert_eq!(rx.recv(), Some(1));
}
