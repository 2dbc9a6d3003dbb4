//! Go's `sync` package: [`WaitGroup`].
//!
//! `sync.Once` is [`std::sync::OnceLock`], `sync/atomic` is
//! [`std::sync::atomic`] and `sync.Cond` is [`std::sync::Condvar`].

mod wait_group;

pub use wait_group::WaitGroup;
