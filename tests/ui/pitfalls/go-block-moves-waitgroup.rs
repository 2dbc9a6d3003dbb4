// Go's `go func() { defer wg.Done(); ... }()` ported as a `go! { ... }` block:
// the block is a `move` closure, so the first goroutine takes `wg` and the
// loop cannot use it again. Borrow it instead: `let wg = &wg;` before the
// loop.
use goscope::prelude::*;

#[goscope::main]
fn main() {
    let wg = WaitGroup::new();
    for i in 0..3 {
        wg.add(1);
        go! {
            defer!(wg.done());
            println!("worker {i}");
        }
    }
    wg.wait();
}
