// `go!(static ..)` in every form, outside a scope and inside one.
#![deny(warnings)]
use goscope::prelude::*;

fn work(tx: Sender<u32>, n: u32) {
    tx.send(n).unwrap();
}

struct Worker {
    tx: Sender<u32>,
}

impl Worker {
    fn run(self) {
        self.tx.send(4).unwrap();
    }
}

fn outside(tx: &Sender<u32>) {
    go!(static work(tx.clone(), 1));
    let tx2 = tx.clone();
    go!(static move || tx2.send(2).unwrap());
    let tx3 = tx.clone();
    go!(static {
        tx3.send(3).unwrap();
    });
    let w = Worker { tx: tx.clone() };
    go!(static w.run());
}

#[goscope::scoped]
fn inside(tx: &Sender<u32>) {
    let local = 10;
    go!(work(tx.clone(), local)); // scoped: may borrow
    go!(static work(tx.clone(), 11));
    let tx2 = tx.clone();
    go!(static move || tx2.send(12).unwrap());
    let tx3 = tx.clone();
    go!(static {
        tx3.send(13).unwrap();
    });
}

fn main() {
    let (tx, rx) = chan(9);
    outside(&tx);
    inside(&tx);
    drop(tx);
    let mut got: Vec<u32> = rx.iter().collect();
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3, 4, 10, 11, 12, 13]);
}
