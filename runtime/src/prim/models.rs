//! loom models of the crate's small concurrent cores, in one place with one
//! [`model`] helper: every interleaving of their threads, up to a
//! preemption bound. Only in a `--cfg loom` test build; run by `.ci/loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p goscope --release --lib -- prim::models
//! ```
//!
//! - [`wait_group`]: `WaitGroup`'s add, done, wait and reuse;
//! - [`join`]: a scope's count-and-join and its first panic;
//! - [`chan`]: the channel core (`chan/core.rs`): the unbuffered
//!   rendezvous, a `select!` queued on two channels that two partners race
//!   to complete, a timed-out wait racing its partner, and close racing a
//!   queued receive.

mod chan;
mod join;
mod wait_group;

/// Explores every interleaving of `f`'s threads with at most
/// `LOOM_MAX_PREEMPTIONS` (default 3) preemptions, and prints how many it
/// explored (shown with `--nocapture`).
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = ::loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    let explored = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&explored);
    builder.check(move || {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    println!(
        "{} interleavings",
        explored.load(std::sync::atomic::Ordering::Relaxed)
    );
}
