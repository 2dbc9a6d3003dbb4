//! The guide: goscope for a Go programmer, one chapter per topic.
//!
//! The [crate page](crate) has the Go → goscope table and where goscope
//! differs from Go; the chapters go deeper, each with Go's code beside
//! goscope's where it helps. They are modules with no items, only text, so
//! docs.rs shows them and `cargo test --doc` compiles and runs every
//! example in them. Read them in any order:
//!
//! - [`scopes`]: when a function returns: `#[goscope::main]` ends the
//!   program, `#[goscope::scoped]` and `scope!` wait, and the order of
//!   defers and waits.
//! - [`timeouts`]: giving up on slow work with `go!(static ...)`: Pike's
//!   Google Search, first response wins.
//! - [`panics`]: what a panic does to a scope, and cancellation.
//! - [`closed_channels`]: closed and nil channels in `select!`, sends whose
//!   receiver is gone, channels as map keys.
//! - [`time_context_errgroup`]: Go's `time`, `context` and `errgroup`
//!   packages, and what they cost.
//! - [`locks`]: `sync::Mutex` and `sync::RwLock`, Go's locks with Rust's
//!   guards.
//! - [`deadlocks`]: the deadlock and leak reports, and why they are never
//!   false.
//! - [`sigquit`]: Ctrl-\ prints every goroutine.
//! - [`synctest`]: testing timeouts in virtual time.
//! - [`timeline`]: `GOSCOPE_TRACE`, a picture of a run.
//! - [`mistakes`]: the compile errors goscope gives, and what they say.
//! - [`go_tests`]: Go's own tests, ported and passing.
//! - [`patterns`]: Go's concurrency patterns as runnable examples.
//! - [`porting_a_go_server`]: a goroutine per connection with `std::net`.
//! - [`performance`]: goscope against raw crossbeam/std and Go, measured.

#[doc = include_str!("scopes.md")]
pub mod scopes {}

#[doc = include_str!("timeouts.md")]
pub mod timeouts {}

#[doc = include_str!("panics.md")]
pub mod panics {}

#[doc = include_str!("closed_channels.md")]
pub mod closed_channels {}

#[doc = include_str!("time_context_errgroup.md")]
pub mod time_context_errgroup {}

#[doc = include_str!("locks.md")]
pub mod locks {}

#[doc = include_str!("deadlocks.md")]
pub mod deadlocks {}

#[doc = include_str!("sigquit.md")]
pub mod sigquit {}

#[doc = include_str!("synctest.md")]
pub mod synctest {}

#[doc = include_str!("timeline.md")]
pub mod timeline {}

#[doc = include_str!("mistakes.md")]
pub mod mistakes {}

#[doc = include_str!("go_tests.md")]
pub mod go_tests {}

#[doc = include_str!("patterns.md")]
pub mod patterns {}

#[doc = include_str!("porting_a_go_server.md")]
pub mod porting_a_go_server {}

#[doc = include_str!("performance.md")]
pub mod performance {}

#[cfg(test)]
mod tests {
    /// The chapters declared above, as `pub mod NAME {}` lines.
    fn chapters() -> Vec<&'static str> {
        include_str!("mod.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("pub mod ")?.strip_suffix(" {}"))
            .collect()
    }

    /// The README (the crate page on docs.rs, a front page on GitHub) links
    /// each chapter by its docs.rs address: every link names a chapter
    /// that exists, and every chapter is linked.
    #[test]
    fn readme_links_every_chapter_by_its_module_name() {
        const PREFIX: &str = "https://docs.rs/goscope/latest/goscope/guide/";
        let readme = include_str!("../../README.md");
        let linked: Vec<&str> = readme
            .split(PREFIX)
            .skip(1)
            .map(|rest| {
                rest.split_once("/index.html")
                    .map(|(name, _)| name)
                    .expect("a guide link ends in /index.html")
            })
            .collect();
        let chapters = chapters();
        assert!(!chapters.is_empty(), "no `pub mod NAME {{}}` line found");
        for name in &linked {
            assert!(
                chapters.contains(name),
                "README links {name}, no such chapter"
            );
        }
        for name in &chapters {
            assert!(
                linked.contains(name),
                "README does not link the chapter {name}"
            );
        }
    }
}
