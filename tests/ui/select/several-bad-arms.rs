use goscope::prelude::*;

fn main() {
    let (tx, rx) = chan::<i32>(1);
    select! {
        rx.recv() => println!("not a channel operation"),
        v = <-rx => println!("{v:?}"),
        tx <- => println!("nothing to send"),
        default => {}
        default => {}
    }
}
