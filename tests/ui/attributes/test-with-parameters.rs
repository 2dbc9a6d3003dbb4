#[goscope::test]
fn sends(n: usize) {
    let _ = n;
}

fn main() {}
