//! The Go Tour's "Exercise: Equivalent Binary Trees": two binary trees may
//! hold the same values in different shapes. `walk` sends a tree's values
//! in order on a channel; `same` walks two trees in two goroutines and
//! compares what comes out, stopping at the first difference.
//!
//! Usage: `cargo run --example binary_trees`. Prints what the Tour asks
//! for: the values of `tree::new(1)`, and whether `tree::new(1)` and
//! `tree::new(1)`, then `tree::new(1)` and `tree::new(2)`, hold the same
//! values (each `tree::new` has a random shape).
//!
//! | Go | goscope |
//! | --- | --- |
//! | `func Walk(t *tree.Tree, ch chan int)`, ending with `close(ch)` | `fn walk(t: &Tree, ch: Sender<i32>)`: `ch` closes when `walk` returns |
//! | `go Walk(t1, ch1)` in `Same` | `go!(walk(t1, ch1))` in a `#[goscope::scoped]` `same`, borrowing `t1` |
//! | `return false` at the first difference, leaving the walkers blocked | drop the receivers: a walker's next send fails, and it returns |
use goscope::prelude::*;

/// Go's `golang.org/x/tour/tree`.
mod tree {
    use std::hash::{BuildHasher, RandomState};

    /// A binary tree of `i32`s: Go's `tree.Tree`.
    pub(crate) struct Tree {
        pub(crate) left: Option<Box<Tree>>,
        pub(crate) value: i32,
        pub(crate) right: Option<Box<Tree>>,
    }

    /// A new binary search tree of random shape holding the values `k`,
    /// `2k`, ..., `10k`: Go's `tree.New(k)`.
    pub(crate) fn new(k: i32) -> Box<Tree> {
        let mut t = None;
        for v in perm(10) {
            t = Some(insert(t, (1 + v) * k));
        }
        t.expect("ten values")
    }

    fn insert(t: Option<Box<Tree>>, v: i32) -> Box<Tree> {
        match t {
            None => Box::new(Tree {
                left: None,
                value: v,
                right: None,
            }),
            Some(mut t) => {
                if v < t.value {
                    t.left = Some(insert(t.left.take(), v));
                } else {
                    t.right = Some(insert(t.right.take(), v));
                }
                t
            }
        }
    }

    /// A random permutation of `0..n`: Go's `rand.Perm(n)`.
    fn perm(n: i32) -> Vec<i32> {
        // A random seed (std's hasher keys are random), then xorshift64.
        let mut x = RandomState::new().hash_one(0u8) | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut p: Vec<i32> = (0..n).collect();
        for i in (1..p.len()).rev() {
            let j = usize::try_from(next() % (i as u64 + 1)).expect("at most i");
            p.swap(i, j);
        }
        p
    }
}

use tree::Tree;

/// Sends every value of `t` on `ch`, in order, then closes `ch` (by
/// dropping it): Go's `Walk`. Stops early if nobody receives any more.
fn walk(t: &Tree, ch: Sender<i32>) {
    fn send_all(t: Option<&Tree>, ch: &Sender<i32>) -> Result<(), goscope::SendError<i32>> {
        let Some(t) = t else { return Ok(()) };
        send_all(t.left.as_deref(), ch)?;
        ch.send(t.value)?;
        send_all(t.right.as_deref(), ch)
    }
    // An error means `same` stopped listening: the walk is over.
    let _ = send_all(Some(t), &ch);
}

/// Whether `t1` and `t2` hold the same values: Go's `Same`.
#[goscope::scoped]
fn same(t1: &Tree, t2: &Tree) -> bool {
    let (tx1, ch1) = chan(0);
    let (tx2, ch2) = chan(0);
    go!(walk(t1, tx1));
    go!(walk(t2, tx2));
    let same = loop {
        let (v1, v2) = (ch1.recv(), ch2.recv());
        if v1 != v2 {
            break false;
        }
        if v1.is_none() {
            break true;
        }
    };
    // Go returns here and leaves the walkers blocked on their next send.
    // A scoped function waits for its goroutines, so it lets them finish:
    // with the receivers gone, a walker's next send fails and it returns.
    drop((ch1, ch2));
    same
}

#[goscope::main]
fn main() {
    let t = tree::new(1);
    let (tx, ch) = chan(0);
    go!(walk(&t, tx));
    let values: Vec<String> = ch.iter().map(|v| v.to_string()).collect();
    println!("walk(tree::new(1)): {}", values.join(" "));
    println!(
        "same(tree::new(1), tree::new(1)): {}",
        same(&tree::new(1), &tree::new(1))
    );
    println!(
        "same(tree::new(1), tree::new(2)): {}",
        same(&tree::new(1), &tree::new(2))
    );
}
