// Go's select3.go: a send case on a closed channel panics, inside `select`
// too. In gofer, closing is dropping the last Sender, so a `select!` send arm
// on it does not compile.
use gofer::prelude::*;

fn main() {
    let (tx, rx) = chan::<i32>(1);
    drop(tx); // close(ch)
    select! {
        tx <- 1 => println!("sent"),
        default => println!("no room"),
    }
    println!("{:?}", rx.recv());
}
