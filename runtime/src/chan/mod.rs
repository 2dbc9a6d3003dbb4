//! Channels and `select!`: Go's `chan T`, `<-`, `close` and `select`.
//!
//! `core` is the channel itself (Go's `hchan`: a lock, a ring buffer and
//! queues of waiting goroutines); `channel` the two ends users hold;
//! `select` what `select!` lowers onto; `err` and `iter` what operations
//! return.

mod channel;
pub(crate) mod core;
mod err;
pub(crate) mod forever;
mod iter;
pub(crate) mod select;

pub use channel::{Receiver, Sender, chan, never};
pub use err::{RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use iter::{IntoIter, Iter, TryIter};
