#[goscope::scoped(deadlock = "off")]
fn work() {}

fn main() {
    work();
}
