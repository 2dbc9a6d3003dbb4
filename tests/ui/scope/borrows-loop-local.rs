// A goroutine of a `scope!` block may borrow what outlives the block, and
// the block's own top-level locals, but not a local of a loop body inside
// it: the loop drops it while the goroutine may still run.
use goscope::prelude::*;

fn show(line: &str) {
    println!("{line}");
}

fn main() {
    let lines = ["a", "b"];
    scope! {
        for (i, line) in lines.iter().enumerate() {
            let numbered = format!("{i}: {line}");
            go!(show(&numbered));
        }
    }
}
