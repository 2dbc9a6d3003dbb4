// Inside the block, a goroutine's borrow lasts until the block ends: the
// data cannot be changed meanwhile (after the block, it can).
use goscope::prelude::*;

fn count(items: &[u32], out: &Sender<usize>) {
    out.send(items.len()).unwrap();
}

fn main() {
    let mut items = vec![1, 2, 3];
    let (tx, rx) = chan(1);
    scope! {
        go!(count(&items, &tx));
        items.push(4);
    }
    let _ = rx.recv();
}
