// Go's tutorial: two goroutines increment one counter without a lock. In Go
// this is a data race; in goscope it does not compile.
use goscope::prelude::*;

#[goscope::main]
fn main() {
    let mut counter = 0;
    let wg = WaitGroup::new();
    for _ in 0..2 {
        wg.add(1);
        go!(|| {
            counter += 1;
            wg.done();
        });
    }
    wg.wait();
}
