//! Channels and `select!`: Go's `chan T`, `<-`, `close` and `select`.

mod channel;
pub(crate) mod forever;
pub(crate) mod select;

pub(crate) use channel::Flavor;
pub use channel::{
    IntoIter, Iter, Receiver, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryIter,
    TryRecvError, TrySendError, chan, never,
};
