//! WaitGroups: three workers, each with `defer wg.Done()`.
//!
//! ```go
//! func worker(id int, wg *sync.WaitGroup) {
//!     defer wg.Done()
//!     fmt.Printf("Worker %d starting\n", id)
//!     time.Sleep(time.Second)
//!     fmt.Printf("Worker %d done\n", id)
//! }
//!
//! func main() {
//!     var wg sync.WaitGroup
//!     for i := 1; i <= 3; i++ {
//!         wg.Add(1)
//!         go worker(i, &wg)
//!     }
//!     wg.Wait()
//!     fmt.Println("All workers done")
//! }
//! ```
use goscope::prelude::*;

fn worker(id: i32, wg: &WaitGroup) {
    defer!(wg.done());
    println!("Worker {id} starting");
    sleep(Duration::from_secs(1));
    println!("Worker {id} done");
}

#[goscope::main]
fn main() {
    let wg = WaitGroup::new();
    for i in 1..=3 {
        wg.add(1);
        go!(worker(i, &wg));
    }
    wg.wait();
    println!("All workers done");
}
