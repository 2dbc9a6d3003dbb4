// Go: a send on a receive-only channel (`<-chan int`) does not compile. A
// goscope Receiver is that receive-only end.
use goscope::prelude::*;

fn main() {
    let (_tx, rx) = chan::<i32>(1);
    rx.send(1);
}
