// In a scoped function `go!(e.call(..))` borrows `e`; `go!(static ..)` is
// detached, so it moves `e` into the goroutine.
use goscope::prelude::*;

struct Engine {
    name: String,
}

impl Engine {
    fn call(&self, n: i32) {
        println!("{} {n}", self.name);
    }
}

#[goscope::main]
fn main() {
    let e = Engine { name: "e".into() };
    go!(static e.call(1));
    println!("{}", e.name);
}
