#![doc = include_str!("../README.md")]
#![forbid(unsafe_op_in_unsafe_fn)]
// Under loom (`.ci/loom`) `WaitGroup` waits without the deadlock detector.
#![cfg_attr(loom, allow(dead_code))]

mod arg;
mod chan;
pub mod context;
mod defer;
mod detect;
mod entry;
pub mod errgroup;
pub mod guide;
mod lock;
mod prim;
mod sched;
pub mod sync;
pub mod synctest;
pub mod time;
mod trace;
mod unwind;

pub use crate::chan::{
    IntoIter, Iter, Receiver, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryIter,
    TryRecvError, TrySendError, chan, never,
};
pub use crate::sched::goroutine::{Outcome, num_goroutine};
pub use crate::sched::scope::Scope;
pub use crate::sync::WaitGroup;
pub use crate::time::{after, sleep, tick};

#[doc(inline)]
pub use goscope_macros::{defer, go, main, scope, scoped, select, test};

pub use std::time::Duration;

pub(crate) use crate::lock::lock;

/// Everything a goscope program uses: `use goscope::prelude::*;`.
///
/// # Examples
///
/// ```
/// use goscope::prelude::*;
///
/// #[goscope::main]
/// fn main() {
///     let (tx, rx) = chan(1);
///     go!(tx.send("hello"));
///     select! {
///         v = <-rx => assert_eq!(v, Some("hello")),
///         <-after(Duration::from_secs(5)) => panic!("timed out"),
///     }
/// }
/// ```
pub mod prelude {
    pub use crate::{
        Duration, Receiver, Sender, WaitGroup, after, chan, defer, go, never, scope, select, sleep,
        tick,
    };
}

/// What macro expansions name. Not public API: it changes with
/// `goscope-macros`, which is pinned to this crate's exact version.
#[doc(hidden)]
pub mod __private {
    pub use crate::arg::{Arg, release};
    pub use crate::chan::forever::select_no_cases;
    pub use crate::chan::select::{
        Accept, Always, Arm, Locked, Matching, Poll, RecvArm, RecvOperand, SendArm, SendOperand,
        select, send_value,
    };
    pub use crate::defer::{Defer, defer};
    pub use crate::entry::{Config, main, test};
    pub use crate::prim::ChanLock;
    pub use crate::sched::goroutine::go_detached;
    pub use crate::sched::scope::{Scope, main_scope, scope, unreachable_scope};
}
