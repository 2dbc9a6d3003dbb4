//! Go's `sync` package: [`WaitGroup`], [`Mutex`] and [`RwLock`].
//!
//! The locks are Go's `sync.Mutex` and `sync.RWMutex` with Rust's guards, as
//! `std::sync` has them, but never poisoned; a goroutine waiting for one
//! counts as blocked for the deadlock detector, which names it as Go does
//! (`[sync.Mutex.Lock]`, `[sync.RWMutex.RLock]`, `[sync.RWMutex.Lock]`).
//!
//! The rest of Go's package is in `std`: `sync.Once` is
//! [`std::sync::OnceLock`], `sync/atomic` is [`std::sync::atomic`] and
//! `sync.Cond` is [`std::sync::Condvar`].

mod mutex;
mod rwlock;
mod wait_group;
mod waiter;

pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use wait_group::WaitGroup;
