// A goroutine started after a top-level `defer!(drop(tx))` that borrows
// `tx`: the deferred drop runs before the function waits for the
// goroutine, so the goroutine could use a dropped sender. Give it a clone.
use goscope::prelude::*;

fn produce(tx: &Sender<i32>) {
    tx.send(1).unwrap();
}

fn consume(rx: &Receiver<i32>, limit: &usize) {
    for _ in rx.iter().take(*limit) {}
}

#[goscope::main]
fn main() {
    let (tx, rx) = chan(0);
    defer!(drop(tx));
    let limit = 1;
    go!(consume(&rx, &limit));
    go!(produce(&tx));
}
