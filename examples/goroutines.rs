//! Goroutines: `go speak("Goroutine says: Hi!")` beside main's own `speak`.
//!
//! ```go
//! func speak(msg string) {
//!     for i := 0; i < 3; i++ {
//!         fmt.Println(msg)
//!         time.Sleep(100 * time.Millisecond)
//!     }
//! }
//!
//! func main() {
//!     go speak("Goroutine says: Hi!")
//!     speak("Main says: Hello!")
//!     time.Sleep(500 * time.Millisecond)
//! }
//! ```
use goscope::prelude::*;

fn speak(msg: &str) {
    for _ in 0..3 {
        println!("{msg}");
        sleep(Duration::from_millis(100));
    }
}

#[goscope::main]
fn main() {
    let wg = WaitGroup::new();
    wg.add(1);
    let wg = &wg;
    go! {
        defer!(wg.done());
        speak("Goroutine says: Hi!");
    }
    speak("Main says: Hello!");
    // As in Go, the program ends when main returns, goroutines or not:
    // wait for this one (Go's version sleeps and hopes it is enough).
    wg.wait();
}
