// Go: `close(ch); ch <- 1` panics with "send on closed channel". In goscope,
// closing is dropping the last Sender, so the send does not compile.
use goscope::prelude::*;

fn main() {
    let (tx, rx) = chan::<i32>(1);
    drop(tx); // close(ch)
    tx.send(1).unwrap();
    println!("{:?}", rx.recv());
}
