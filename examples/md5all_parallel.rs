//! The Go blog's "Go Concurrency Patterns: Pipelines and cancellation",
//! `parallel.go`: MD5All with a goroutine per file. `sumFiles` walks the
//! tree and starts a goroutine to digest each regular file; `MD5All`
//! collects the digests and stops at the first error, closing `done` so
//! that every goroutine still running gives up.
//!
//! Usage: `cargo run --example md5all_parallel [ROOT]` (the blog's program
//! takes ROOT as its argument; this one defaults to the examples'
//! directory). Prints `DIGEST  PATH` for each regular file, sorted by
//! path; on an error (an unreadable file, a missing ROOT) prints the error
//! instead and exits with status 0, as the blog's `main` does.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `done := make(chan struct{})`, `defer close(done)` | `let (done_tx, done) = chan::<()>(0);`, `defer!(drop(done_tx));` |
//! | `errc := make(chan error, 1)`, `errc <- err` | `chan(1)`, `errc.send(err)`: completes, as in Go, also once MD5All has returned |
//! | `var wg sync.WaitGroup`, `wg.Add(1)`, `go func() { ...; wg.Done() }()` | `wg.go(move \|\| ...)` (Go 1.25's `wg.Go`) |
//! | `go func() { wg.Wait(); close(c) }()` | `go!(static move \|\| { wg.wait(); drop(c) })` |
use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use goscope::prelude::*;

use examples::{filepath, md5};

/// Go's `error`.
type GoError = Box<dyn Error + Send + Sync>;

/// The product of reading and summing a file using MD5.
struct Digest {
    path: PathBuf,
    sum: Result<[u8; 16], GoError>,
}

/// Go's `sumFiles`: starts goroutines to walk the tree at `root` and digest
/// each regular file. They send the digests on the first channel and the
/// walk's result on the second. If `done` is closed, they abandon their
/// work.
fn sum_files(
    done: Receiver<()>,
    root: PathBuf,
) -> (Receiver<Digest>, Receiver<Result<(), GoError>>) {
    let (c_tx, c) = chan(0);
    let (errc_tx, errc) = chan(1);
    go! {
        let wg = WaitGroup::new();
        let err = filepath::walk(&root, |path, info| -> Result<(), GoError> {
            if !info?.is_file() {
                return Ok(());
            }
            wg.go({
                let (path, c, done) = (path.to_path_buf(), c_tx.clone(), done.clone());
                move || {
                    let sum = filepath::read_file(&path)
                        .map(|data| md5::sum(&data))
                        .map_err(GoError::from);
                    select! {
                        c <- Digest { path, sum } => {}
                        <-done => {}
                    }
                }
            });
            // Abort the walk if done is closed.
            select! {
                <-done => Err("walk canceled".into()),
                default => Ok(()),
            }
        });
        // Walk has returned, so every wg.go has been called: close c once
        // all the sends are done.
        go!(static move || {
            wg.wait();
            drop(c_tx);
        });
        // No select needed here, since errc is buffered: the send completes
        // even when MD5All has returned and nobody will receive it.
        errc_tx.send(err).expect("errc has room");
    }
    (c, errc)
}

/// Go's `MD5All`: reads every file in the tree at `root` and returns a map
/// from path to the MD5 sum of its contents. If the walk fails or a read
/// fails, returns the error.
fn md5_all(root: &Path) -> Result<HashMap<PathBuf, [u8; 16]>, GoError> {
    // MD5All closes done when it returns; it may do so before receiving
    // every value from c and errc.
    let (done_tx, done) = chan::<()>(0);
    defer!(drop(done_tx));

    let (c, errc) = sum_files(done, root.to_path_buf());
    let mut m = HashMap::new();
    for r in &c {
        m.insert(r.path, r.sum?);
    }
    errc.recv().expect("sum_files sends the walk's result")?;
    Ok(m)
}

#[goscope::main]
fn main() {
    // Calculate the MD5 sum of all files under the specified directory,
    // then print the results sorted by path name.
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").to_string());
    let m = match md5_all(Path::new(&root)) {
        Ok(m) => m,
        Err(err) => {
            println!("{err}");
            return;
        }
    };
    let mut paths: Vec<&PathBuf> = m.keys().collect();
    paths.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str())); // Go's sort.Strings
    for path in paths {
        println!("{}  {}", md5::hex(&m[path]), path.display());
    }
}
