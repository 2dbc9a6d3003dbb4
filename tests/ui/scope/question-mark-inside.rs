use goscope::prelude::*;

fn parse_all(inputs: &[&str]) -> Result<u32, std::num::ParseIntError> {
    let (tx, rx) = chan(inputs.len());
    scope! {
        for s in inputs {
            let n: u32 = s.parse()?;
            let tx = tx.clone();
            go!(move || tx.send(n * 2).unwrap());
        }
    }
    drop(tx);
    Ok(rx.iter().sum())
}

fn main() {
    let _ = parse_all(&["1"]);
}
