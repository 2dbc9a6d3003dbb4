//! A `select!` arm whose body is a block needs no `,` before the next arm,
//! as in `match`, even when that arm starts with Go's `<-`.
use gofer::prelude::*;

fn main() {
    let (tx, rx) = chan::<i32>(1);
    let (_tx2, rx2) = chan::<i32>(1);
    tx.send(1).unwrap();
    let got = select! {
        v = <-rx => {
            v
        }
        <-rx2 => {
            None
        }
    };
    assert_eq!(got, Some(1));
}
