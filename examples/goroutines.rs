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
    go!(speak("Goroutine says: Hi!"));
    speak("Main says: Hello!");
    // No sleep needed here, unlike Go: main's scope joins the goroutine
    // before `main` returns, so its three lines are always printed.
}
