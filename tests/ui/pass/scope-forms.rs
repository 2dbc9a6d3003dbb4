//! `scope! { .. }` wherever a block goes, with what a block may hold.
#![deny(warnings)]
use goscope::prelude::*;

fn double(n: &u32, out: &Sender<u32>) {
    let _ = out.send(n * 2);
}

fn phases(input: &[u32]) -> Result<u32, String> {
    let mut copy = input.to_vec();
    // An expression, whose value is the block's.
    let first = scope! {
        // Items are visible in the whole block.
        const LIMIT: u32 = 100;
        let (tx, rx) = chan(input.len());
        defer!(drop(rx));
        for n in input {
            go!(double(n, &tx));
        }
        // A loop of the block's own, and a closure's own `return` and `?`.
        let mut seen = 0;
        for _ in input {
            if seen == LIMIT {
                break;
            }
            seen += 1;
        }
        let parse = |s: &str| -> Result<u32, std::num::ParseIntError> {
            if s.is_empty() {
                return Ok(0);
            }
            Ok(s.parse::<u32>()? + seen)
        };
        let _ = parse("1");
        select! {
            v = <-rx => v.unwrap_or(0),
            default => 0,
        }
    };
    // The borrows ended with the block.
    copy.push(first);
    scope! {
        let (low, high) = copy.split_at_mut(1);
        go!(move || low[0] += 1);
        // Nested, and in a goroutine.
        go!(move || scope! {
            for x in high.iter_mut() {
                go!(move || *x += 1);
            }
        });
        // Detached, as anywhere.
        go!(static move || {});
    }
    if copy.is_empty() {
        return Err("empty".to_owned());
    }
    Ok(copy.iter().sum())
}

#[goscope::scoped]
fn in_a_scoped_fn(numbers: &mut [u32]) {
    let (tx, rx) = chan(numbers.len());
    scope! {
        for n in numbers.iter() {
            go!(double(n, &tx));
        }
    }
    for n in numbers.iter_mut() {
        *n = rx.recv().unwrap_or(0);
    }
    go!(tx.send(0).unwrap());
}

fn main() {
    assert!(phases(&[1, 2]).is_ok());
    let mut numbers = [1, 2];
    in_a_scoped_fn(&mut numbers);
    let mut sorted = numbers;
    sorted.sort();
    assert_eq!(sorted, [2, 4]);
}
