//! `select! {}` is Go's `select {}`: it never returns, so it has type `!`
//! and fits wherever a value or a statement goes.
#![deny(warnings)]
use goscope::prelude::*;

fn forever() -> ! {
    select! {}
}

fn answer(ready: bool) -> u32 {
    if ready { 42 } else { select! {} }
}

fn serve(requests: Receiver<u32>) {
    go! {
        for r in &requests {
            let _ = r;
        }
    }
    select! {}
}

fn main() {
    assert_eq!(answer(true), 42);
    let _ = (forever, serve);
}
