#[gofer::test]
#[test]
fn sends() {}

fn main() {}
