//! Bounded parallelism: digest every file under a directory with a fixed
//! number of worker goroutines. The Go idiom of the Go blog's "Go
//! Concurrency Patterns: Pipelines and cancellation" (`bounded.go`: a
//! walker goroutine feeds paths to `numDigesters` digesters, whose results
//! are collected into a map).
//!
//! Usage: `cargo run --example bounded_parallelism [DIR] [WORKERS]`
//! (default: this examples directory, 4 workers). Prints one line per file,
//! sorted by path: its FNV-1a 64-bit checksum and its path under DIR. Every
//! file or directory that cannot be read is reported on stderr, and the
//! program then exits with status 1: errors are reported, not swallowed.
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use goscope::prelude::*;

/// What became of one path: its checksum, or why it could not be read.
type Digest = (PathBuf, io::Result<u64>);

/// The 64-bit FNV-1a hash of `bytes`: a simple, well-known checksum.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Sends every non-directory path under `dir` on `paths`; a directory that
/// cannot be listed is reported on `results`. Symbolic links are not
/// followed into directories: they are digested (or fail) as files.
fn walk(dir: &Path, paths: &Sender<PathBuf>, results: &Sender<Digest>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            let _ = results.send((dir.to_path_buf(), Err(e)));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let _ = results.send((dir.to_path_buf(), Err(e)));
                continue;
            }
        };
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, paths, results),
            Ok(_) => {
                let _ = paths.send(path);
            }
            Err(e) => {
                let _ = results.send((path, Err(e)));
            }
        }
    }
}

/// Go's `walkFiles`: walks `root`, then closes `paths` (by dropping it).
fn walk_files(root: &Path, paths: Sender<PathBuf>, results: Sender<Digest>) {
    walk(root, &paths, &results);
}

/// Go's `digester`: digests the files it receives until `paths` closes.
fn digester(paths: &Receiver<PathBuf>, results: Sender<Digest>) {
    for path in paths {
        let sum = fs::read(&path).map(|bytes| fnv1a(&bytes));
        if results.send((path, sum)).is_err() {
            return;
        }
    }
}

#[goscope::main]
fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(
        args.next()
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").to_string()),
    );
    let workers: usize = match args.next().map(|n| n.parse()) {
        None => 4,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: WORKERS must be a positive number");
            return ExitCode::from(2);
        }
    };

    let (paths_tx, paths) = chan(0);
    let (results_tx, results) = chan(0);
    go!(walk_files(&root, paths_tx, results_tx.clone()));
    for _ in 0..workers {
        go!(digester(&paths, results_tx.clone()));
    }
    // `results` closes once the walker and every digester are done.
    drop(results_tx);

    let digests: BTreeMap<PathBuf, io::Result<u64>> = results.iter().collect();
    let (mut files, mut errors) = (0, 0);
    for (path, sum) in &digests {
        let name = path.strip_prefix(&root).unwrap_or(path);
        let name = if name.as_os_str().is_empty() {
            path
        } else {
            name
        };
        match sum {
            Ok(sum) => {
                files += 1;
                println!("{sum:016x}  {}", name.display());
            }
            Err(e) => {
                errors += 1;
                eprintln!("error: {}: {e}", name.display());
            }
        }
    }
    println!("{files} files digested by {workers} workers; errors: {errors}");
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
