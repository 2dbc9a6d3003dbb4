use goscope::prelude::*;

fn main() {
    let (tx, rx) = chan::<u32>(1);
    loop {
        scope! {
            go!(tx.send(1));
            if rx.recv() == Some(1) {
                break;
            }
            // A loop of the block's own may be left.
            for n in 0.. {
                if n == 3 {
                    break;
                }
            }
        }
    }
}
