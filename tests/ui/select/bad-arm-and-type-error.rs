use goscope::prelude::*;

fn main() {
    let (tx, rx) = chan::<i32>(1);
    select! {
        rx.recv() => println!("not a channel operation"),
        v = <-rx => {
            let n: i32 = v;
            println!("{n}");
        }
        tx <- 1 => println!("sent"),
    }
}
