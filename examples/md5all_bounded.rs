//! The Go blog's "Go Concurrency Patterns: Pipelines and cancellation",
//! `bounded.go`: MD5All with bounded parallelism. A three-stage pipeline:
//! `walkFiles` sends the paths of the regular files in the tree, a fixed
//! number of `digester` goroutines read and digest them, and `MD5All`
//! collects the digests, stopping at the first error and closing `done`
//! so that every goroutine still running gives up.
//!
//! Usage: `cargo run --example md5all_bounded [ROOT]` (the blog's program
//! takes ROOT as its argument; this one defaults to the examples'
//! directory). Prints `DIGEST  PATH` for each regular file, sorted by
//! path; on an error (an unreadable file, a missing ROOT) prints the error
//! instead and exits with status 0, as the blog's `main` does.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `done := make(chan struct{})`, `defer close(done)` | `let (done_tx, done) = chan::<()>(0);`, `defer!(drop(done_tx));` |
//! | `defer close(paths)` in the walker | the walker owns `paths`' sender: it closes when the walker returns |
//! | `errc <- filepath.Walk(...)` ("no select needed, since errc is buffered") | `errc.send(filepath::walk(...))`: completes, as in Go, also once MD5All has returned |
//! | `wg.Add(numDigesters)`, `go func() { digester(...); wg.Done() }()` | `wg.go(move \|\| digester(...))` (Go 1.25's `wg.Go`) |
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

/// Go's `walkFiles`: starts a goroutine to walk the tree at `root` and
/// send the path of each regular file on the first channel. It sends the
/// walk's result on the second. If `done` is closed, it abandons the walk.
fn walk_files(
    done: Receiver<()>,
    root: PathBuf,
) -> (Receiver<PathBuf>, Receiver<Result<(), GoError>>) {
    let (paths_tx, paths) = chan(0);
    let (errc_tx, errc) = chan(1);
    go! {
        // `paths_tx` closes when this goroutine returns (Go's
        // `defer close(paths)`). No select needed for the send on errc,
        // since it is buffered: it completes even when MD5All has returned
        // and nobody will receive it.
        let err = filepath::walk(&root, |path, info| -> Result<(), GoError> {
            if !info?.is_file() {
                return Ok(());
            }
            select! {
                paths_tx <- path.to_path_buf() => Ok(()),
                <-done => Err("walk canceled".into()),
            }
        });
        errc_tx.send(err).expect("errc has room");
    }
    (paths, errc)
}

/// Go's `digester`: reads and digests files from `paths` and sends the
/// digests on `c` until either `paths` or `done` is closed.
fn digester(done: &Receiver<()>, paths: &Receiver<PathBuf>, c: &Sender<Digest>) {
    for path in paths {
        let sum = filepath::read_file(&path)
            .map(|data| md5::sum(&data))
            .map_err(GoError::from);
        select! {
            c <- Digest { path, sum } => {}
            <-done => return,
        }
    }
}

/// Go's `MD5All`: reads every file in the tree at `root` and returns a map
/// from path to the MD5 sum of its contents. If the walk fails or a read
/// fails, returns the error.
fn md5_all(root: &Path) -> Result<HashMap<PathBuf, [u8; 16]>, GoError> {
    // MD5All closes done when it returns; it may do so before receiving
    // every value from c and errc.
    let (done_tx, done) = chan::<()>(0);
    defer!(drop(done_tx));

    let (paths, errc) = walk_files(done.clone(), root.to_path_buf());

    // Start a fixed number of goroutines to read and digest files.
    let (c_tx, c) = chan(0);
    let wg = WaitGroup::new();
    const NUM_DIGESTERS: usize = 20;
    for _ in 0..NUM_DIGESTERS {
        let (done, paths, c_tx) = (done.clone(), paths.clone(), c_tx.clone());
        wg.go(move || digester(&done, &paths, &c_tx));
    }
    go!(static move || {
        wg.wait();
        drop(c_tx); // close(c)
    });
    // End of pipeline.

    let mut m = HashMap::new();
    for r in &c {
        m.insert(r.path, r.sum?);
    }
    // Check whether the walk failed.
    errc.recv().expect("walk_files sends the walk's result")?;
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
