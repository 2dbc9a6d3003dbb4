#[goscope::main]
async fn main() {}
