// `defer!(drop(x))` keeps `x` usable with its own type until the block
// exits, and mutable: Go's `mu.Lock(); defer mu.Unlock()`.
#![deny(warnings)]
use goscope::prelude::*;
use std::sync::Mutex;

fn main() {
    let m = Mutex::new(1);
    {
        let n = m.lock().unwrap();
        defer!(drop(n));
        *n += 1;
    }
    assert_eq!(*m.lock().unwrap(), 2);
}
