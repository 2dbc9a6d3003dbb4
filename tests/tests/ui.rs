//! The trybuild UI suite: misuse of goscope fails to compile, and says what to
//! write instead.
//!
//! Every `ui/<macro>/<misuse>.rs` must fail to compile with exactly the
//! `.stderr` beside it; every `ui/pass/*.rs` must compile. Regenerate the
//! snapshots with `TRYBUILD=overwrite cargo test -p tests --test ui`, then
//! read the diff: a snapshot is a promise about what the user sees.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for dir in ["go", "select", "defer", "scope", "attributes", "pitfalls"] {
        t.compile_fail(format!("ui/{dir}/*.rs"));
    }
    t.pass("ui/pass/*.rs");
}
