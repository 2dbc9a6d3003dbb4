// Go: `close(ch); close(ch)` panics with "close of closed channel". In
// goscope, closing is dropping the last Sender, and a value drops only once.
use goscope::prelude::*;

fn main() {
    let (tx, _rx) = chan::<i32>(1);
    drop(tx); // close(ch)
    drop(tx); // close(ch) again
}
