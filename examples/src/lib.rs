//! The Go tutorial's programs and Go's concurrency patterns, written with
//! goscope. Each is an example target: `cargo run --example NAME`.
