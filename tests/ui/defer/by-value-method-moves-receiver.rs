// `defer!(m.close())` with a `close(self)` moves `m` at the `defer!`: it
// cannot be used afterwards.
use goscope::prelude::*;

struct Conn {
    open: bool,
}

impl Conn {
    fn close(self) {}
    fn is_open(&self) -> bool {
        self.open
    }
}

fn report(c: &Conn) {
    println!("open: {}", c.is_open());
}

#[goscope::main]
fn main() {
    let m = Conn { open: true };
    defer!(m.close());
    let tries = 3;
    go!(report(&m));
    println!("{tries}");
}
