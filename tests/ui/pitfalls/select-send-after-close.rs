// Go's select3.go: a send case on a closed channel panics, inside `select`
// too. In goscope, closing is dropping the last Sender, so a `select!` send arm
// on it does not compile.
use goscope::prelude::*;

fn main() {
    let (tx, rx) = chan::<i32>(1);
    drop(tx); // close(ch)
    select! {
        tx <- 1 => println!("sent"),
        default => println!("no room"),
    }
    println!("{:?}", rx.recv());
}
