//! Builds the UI suite's pass cases (`tests/ui/pass/`) as examples of an
//! edition 2021 crate, so that `cargo test --workspace` checks that goscope's
//! expansions compile under edition 2021 as well as 2024 (the suite's own).
