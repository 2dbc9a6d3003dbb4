//! Channels: the unbuffered ping.
//!
//! ```go
//! func main() {
//!     messages := make(chan string)
//!     go func() { messages <- "ping" }()
//!     msg := <-messages
//!     fmt.Println(msg)
//! }
//! ```
use goscope::prelude::*;

#[goscope::main]
fn main() {
    let (messages_tx, messages) = chan::<&str>(0);
    go! {
        messages_tx.send("ping").unwrap();
    }
    let msg = messages.recv().unwrap();
    println!("{msg}");
}
