//! x/sync errgroup's Pipeline example (`ExampleGroup_pipeline`): MD5All
//! with bounded parallelism on an `errgroup.Group`. A walker goroutine
//! sends paths, 20 digesters read and digest them, a closer goroutine
//! waits for the group and closes the results channel, and the caller,
//! having drained it, waits for the group again to learn whether the
//! results are complete: both waits see the first error.
//!
//! Usage: `cargo run --example errgroup_pipeline [ROOT]` (x/sync's example
//! digests `.`; this one defaults to the examples' directory). Prints
//! `PATH:<tab>DIGEST` for each regular file, in no particular order (Go's
//! map order); on an error (an unreadable file, a missing ROOT) prints it
//! on stderr and exits with status 1, as Go's `log.Fatal` does.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `g, ctx := errgroup.WithContext(ctx)` | `let (g, ctx) = Group::<Error>::with_context(ctx);` |
//! | `g.Go(func() error { defer close(paths); ... })` | `g.go(move \|\| { ... })`, the goroutine owning `paths`' sender |
//! | `go func() { g.Wait(); close(c) }()` | `go!(static move \|\| { let _ = closer.wait(); drop(c) })` |
//! | `if err := g.Wait(); err != nil { return nil, err }` | `g.wait()?` |
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use goscope::context::Context;
use goscope::errgroup::{Error, Group};
use goscope::prelude::*;

use examples::{filepath, md5};

/// Go's `MD5All`: reads every file in the tree at `root` and returns a map
/// from path to the MD5 sum of its contents. If the walk fails or a read
/// fails, returns the error.
fn md5_all(ctx: &Context, root: &Path) -> Result<HashMap<PathBuf, [u8; 16]>, Error> {
    // ctx is cancelled when g.wait() returns. When this version of MD5All
    // returns, even with an error, every goroutine of the group has
    // finished.
    let (g, ctx) = Group::<Error>::with_context(ctx);
    let (paths_tx, paths) = chan::<PathBuf>(0);

    {
        let (ctx, root) = (ctx.clone(), root.to_path_buf());
        g.go(move || {
            // `paths_tx` closes when this goroutine returns (Go's
            // `defer close(paths)`).
            filepath::walk(&root, |path, info| {
                if !info?.is_file() {
                    return Ok(());
                }
                select! {
                    paths_tx <- path.to_path_buf() => Ok(()),
                    <-ctx.done() => Err(ctx.err().expect("done").into()),
                }
            })
        });
    }

    // Start a fixed number of goroutines to read and digest files.
    let (c_tx, c) = chan::<(PathBuf, [u8; 16])>(0);
    const NUM_DIGESTERS: usize = 20;
    for _ in 0..NUM_DIGESTERS {
        let (paths, c_tx, ctx) = (paths.clone(), c_tx.clone(), ctx.clone());
        g.go(move || {
            for path in &paths {
                let data = filepath::read_file(&path)?;
                select! {
                    c_tx <- (path, md5::sum(&data)) => {}
                    <-ctx.done() => return Err(ctx.err().expect("done").into()),
                }
            }
            Ok(())
        });
    }
    let closer = g.clone();
    go!(static move || {
        let _ = closer.wait();
        drop(c_tx); // close(c)
    });

    let mut m = HashMap::new();
    for (path, sum) in &c {
        m.insert(path, sum);
    }
    // Check whether any of the goroutines failed. Since g is accumulating
    // the errors, we don't need to send them (or check for them) in the
    // individual results sent on the channel.
    g.wait()?;
    Ok(m)
}

#[goscope::main]
fn main() {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").to_string());
    let m = match md5_all(&Context::background(), Path::new(&root)) {
        Ok(m) => m,
        Err(err) => {
            // Go's log.Fatal(err), without the time stamp.
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    for (k, sum) in &m {
        println!("{}:\t{}", k.display(), md5::hex(sum));
    }
}
