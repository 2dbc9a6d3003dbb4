use goscope::prelude::*;

fn main() {
    let (tx, _rx) = chan::<i32>(1);
    select! {
        tx <- => println!("sent"),
        default => {}
    }
}
