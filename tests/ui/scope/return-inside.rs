use goscope::prelude::*;

fn first_even(numbers: &[u32]) -> Option<u32> {
    scope! {
        for n in numbers {
            if n % 2 == 0 {
                return Some(*n);
            }
        }
    }
    None
}

fn main() {
    let _ = first_even(&[1, 2]);
}
