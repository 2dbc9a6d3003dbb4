//! Port of `test/chancap.go` from golang/go (BSD-style licence, Copyright
//! The Go Authors): `len` and `cap` of buffered and unbuffered channels.
//!
//! Go's `len(c)` and `cap(c)` are `len()` and `capacity()`, on either end.

use goscope::prelude::*;

#[goscope::test]
fn len_and_cap() {
    let (tx, rx) = chan::<i32>(10);
    assert_eq!(
        (tx.len(), tx.capacity()),
        (0, 10),
        "chan len/cap, want 0 10"
    );
    assert_eq!(
        (rx.len(), rx.capacity()),
        (0, 10),
        "chan len/cap, want 0 10"
    );

    for i in 0..3 {
        tx.send(i).unwrap();
    }
    assert_eq!(
        (tx.len(), tx.capacity()),
        (3, 10),
        "chan len/cap, want 3 10"
    );
    assert_eq!(
        (rx.len(), rx.capacity()),
        (3, 10),
        "chan len/cap, want 3 10"
    );

    let (tx, rx) = chan::<i32>(0);
    assert_eq!((tx.len(), tx.capacity()), (0, 0), "chan len/cap, want 0 0");
    assert_eq!((rx.len(), rx.capacity()), (0, 0), "chan len/cap, want 0 0");
}
