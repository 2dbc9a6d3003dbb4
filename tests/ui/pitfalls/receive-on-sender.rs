// Go: a receive from a send-only channel (`chan<- int`) does not compile. A
// goscope Sender is that send-only end.
use goscope::prelude::*;

fn main() {
    let (tx, _rx) = chan::<i32>(1);
    let v = tx.recv();
    println!("{v:?}");
}
