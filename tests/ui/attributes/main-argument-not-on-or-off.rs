#[goscope::main(deadlock = false)]
fn main() {}
