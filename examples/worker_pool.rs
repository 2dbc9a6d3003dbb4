//! A worker pool: 3 workers, 5 jobs, buffered channels.
//!
//! ```go
//! func worker(id int, jobs <-chan int, results chan<- int) {
//!     for j := range jobs {
//!         fmt.Println("worker", id, "started job", j)
//!         time.Sleep(time.Second)
//!         fmt.Println("worker", id, "finished job", j)
//!         results <- j * 2
//!     }
//! }
//!
//! func main() {
//!     const numJobs = 5
//!     jobs := make(chan int, numJobs)
//!     results := make(chan int, numJobs)
//!     for w := 1; w <= 3; w++ {
//!         go worker(w, jobs, results)
//!     }
//!     for j := 1; j <= numJobs; j++ {
//!         jobs <- j
//!     }
//!     close(jobs)
//!     for a := 1; a <= numJobs; a++ {
//!         <-results
//!     }
//! }
//! ```
use goscope::prelude::*;

// Go's `<-chan int` and `chan<- int` are goscope's `Receiver` and `Sender`.
fn worker(id: i32, jobs: &Receiver<i32>, results: &Sender<i32>) {
    for j in jobs {
        println!("worker {id} started job {j}");
        sleep(Duration::from_secs(1));
        println!("worker {id} finished job {j}");
        results.send(j * 2).unwrap();
    }
}

#[goscope::main]
fn main() {
    const NUM_JOBS: i32 = 5;
    let (jobs_tx, jobs) = chan(NUM_JOBS as usize);
    let (results, results_rx) = chan(NUM_JOBS as usize);
    for w in 1..=3 {
        go!(worker(w, &jobs, &results));
    }
    for j in 1..=NUM_JOBS {
        jobs_tx.send(j).unwrap();
    }
    drop(jobs_tx); // close(jobs): the workers' `for j in jobs` loops end
    for _ in 1..=NUM_JOBS {
        results_rx.recv();
    }
}
