// A detached goroutine owns what it uses: `go!(e.call(..))` moves the
// place receiver `e` into it, whatever `call` takes.
use goscope::prelude::*;

struct Engine {
    name: String,
}

impl Engine {
    fn call(&self, n: i32) {
        println!("{} {n}", self.name);
    }
}

fn start(e: Engine) {
    go!(e.call(1));
    println!("{}", e.name);
}

fn main() {
    start(Engine { name: "e".into() });
}
