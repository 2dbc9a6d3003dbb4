#[goscope::test(synctest = "on")]
fn virtual_time() {}

fn main() {}
