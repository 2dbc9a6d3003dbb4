//! The dining philosophers, with `goscope::sync::Mutex` forks.
//!
//! Five philosophers sit at a round table with a fork between each pair;
//! to eat, one needs both forks beside them. In Go:
//!
//! ```go
//! func philosopher(i int, first, second *sync.Mutex, wg *sync.WaitGroup) {
//!     defer wg.Done()
//!     for meal := 0; meal < 3; meal++ {
//!         first.Lock()
//!         second.Lock()
//!         fmt.Println("philosopher", i, "eats")
//!         second.Unlock()
//!         first.Unlock()
//!     }
//! }
//! ```
//!
//! `cargo run --example philosophers` takes the forks in a global order
//! (lower number first), so no cycle of waits can form: every philosopher
//! eats three meals and the program ends.
//!
//! `cargo run --example philosophers -- deadlock` makes each philosopher
//! take the left fork, wait until all five hold one, then reach for the
//! right one, which the neighbour holds: the classic deadlock. Go prints
//! `fatal error: all goroutines are asleep - deadlock!` with every goroutine
//! in `[sync.Mutex.Lock]`; so does goscope, with the source location of each
//! `lock()`, and the program exits with status 2 instead of hanging.
use goscope::prelude::*;
use goscope::sync::Mutex;

const PHILOSOPHERS: usize = 5;
const MEALS: usize = 3;

/// Eats `MEALS` meals, taking `first` then `second`.
fn dine(i: usize, first: &Mutex<()>, second: &Mutex<()>, eaten: &Mutex<usize>) {
    for _ in 0..MEALS {
        let _first = first.lock();
        let _second = second.lock();
        *eaten.lock() += 1;
    }
    println!("philosopher {i} has eaten {MEALS} meals");
}

/// Takes the left fork, waits until every philosopher holds one, then
/// reaches for the right fork.
fn dine_left_first(i: usize, left: &Mutex<()>, right: &Mutex<()>, seated: &WaitGroup) {
    let _left = left.lock();
    seated.done();
    seated.wait();
    let _right = right.lock();
    println!("philosopher {i} eats");
}

#[goscope::main]
fn main() {
    let deadlock = std::env::args().nth(1).is_some_and(|a| a == "deadlock");
    let forks: Vec<Mutex<()>> = (0..PHILOSOPHERS).map(|_| Mutex::new(())).collect();
    let eaten = Mutex::new(0);
    let seated = WaitGroup::new();
    if deadlock {
        seated.add(PHILOSOPHERS as isize);
    }
    let wg = WaitGroup::new();
    // `go! { .. }` moves what it names: share these by reference.
    let (wg, seated, eaten) = (&wg, &seated, &eaten);
    for i in 0..PHILOSOPHERS {
        let (left, right) = (&forks[i], &forks[(i + 1) % PHILOSOPHERS]);
        wg.add(1);
        if deadlock {
            go! {
                defer!(wg.done());
                dine_left_first(i, left, right, seated);
            }
        } else {
            // Lower-numbered fork first: the last philosopher takes fork 0
            // before fork 4, which breaks the cycle.
            let (first, second) = if i + 1 < PHILOSOPHERS {
                (left, right)
            } else {
                (right, left)
            };
            go! {
                defer!(wg.done());
                dine(i, first, second, eaten);
            }
        }
    }
    wg.wait();
    println!("{} meals eaten", *eaten.lock());
}
