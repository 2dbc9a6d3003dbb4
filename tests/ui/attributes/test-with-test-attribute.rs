#[goscope::test]
#[test]
fn sends() {}

fn main() {}
