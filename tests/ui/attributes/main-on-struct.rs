#[goscope::main]
struct Main;

fn main() {}
