use goscope::prelude::*;

fn main() {
    let (tx, _rx) = chan::<i32>(1);
    select! {
        tx <- "forty-two" => println!("sent"),
        default => {}
    }
}
