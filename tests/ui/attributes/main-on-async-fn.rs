#[gofer::main]
async fn main() {}
