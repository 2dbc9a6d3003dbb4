use goscope::prelude::*;

fn cleanup() {}

fn main() {
    let guard = defer!(cleanup());
    let _ = guard;
}
