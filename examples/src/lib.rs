//! The Go tutorial's programs and Go's concurrency patterns, written with
//! goscope. Each is an example target: `cargo run --example NAME`.
//!
//! This library holds what the MD5All examples (`md5all_parallel`,
//! `md5all_bounded`, `errgroup_pipeline`) take from Go's standard library
//! rather than from the program: [`md5`] (`crypto/md5`) and [`filepath`]
//! (`path/filepath.Walk`, `os.ReadFile`), so each example keeps only its
//! own Go program.

pub mod filepath;
pub mod md5;
