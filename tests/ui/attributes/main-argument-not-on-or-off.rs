#[gofer::main(deadlock = false)]
fn main() {}
