#[gofer::main]
struct Main;

fn main() {}
