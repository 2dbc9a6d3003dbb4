use goscope::prelude::*;

fn wait_for(rx: &Receiver<u32>) -> u32 {
    scope! {
        select! {
            Some(v) = <-rx => return v,
            <-after(Duration::from_secs(1)) => {}
        }
    }
    0
}

fn main() {
    let (_tx, rx) = chan(0);
    let _ = wait_for(&rx);
}
