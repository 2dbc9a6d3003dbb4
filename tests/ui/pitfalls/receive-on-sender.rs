// Go: a receive from a send-only channel (`chan<- int`) does not compile. A
// gofer Sender is that send-only end.
use gofer::prelude::*;

fn main() {
    let (tx, _rx) = chan::<i32>(1);
    let v = tx.recv();
    println!("{v:?}");
}
