//! Disk usage, after "The Go Programming Language" (Donovan & Kernighan),
//! section 8.9, `du4`: a directory walk with a goroutine per directory, a
//! counting semaphore bounding open directories, and cancellation. Go's
//! `du4` cancels through a `done` channel closed when the user presses a
//! key; here a `Context` carries the cancellation, so nothing needs a
//! package-level channel.
//!
//! The program builds its own tree in a temporary directory, walks it once
//! to the end, then again, cancelling after the first files, and removes
//! the tree.
use std::fs;
use std::path::{Path, PathBuf};

use goscope::context::Context;
use goscope::prelude::*;

/// Go's `sema`: at most 20 directories read at once.
#[derive(Clone)]
struct Sema {
    acquire: Sender<()>,
    release: Receiver<()>,
}

/// Walks the tree under `dir`, sending the size of each file on
/// `file_sizes`; a goroutine per subdirectory. Stops early once `ctx` is
/// done. The channel closes once every walker has dropped its sender.
fn walk_dir(dir: PathBuf, ctx: Context, sema: Sema, file_sizes: Sender<u64>) {
    if ctx.err().is_some() {
        return;
    }
    for entry in dirents(&dir, &ctx, &sema) {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            let (ctx, sema, file_sizes) = (ctx.clone(), sema.clone(), file_sizes.clone());
            go!(walk_dir(entry.path(), ctx, sema, file_sizes));
        } else if file_sizes.send(meta.len()).is_err() {
            return; // nobody is counting any more
        }
    }
}

/// The entries of `dir`, read while holding a token of `sema`; none if
/// `ctx` is done first.
fn dirents(dir: &Path, ctx: &Context, sema: &Sema) -> Vec<fs::DirEntry> {
    select! {
        sema.acquire <- () => {}      // acquire token
        <-ctx.done() => return Vec::new(), // cancelled
    }
    defer! {
        sema.release.recv(); // release token
    }
    match fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).collect(),
        Err(err) => {
            eprintln!("du: {err}");
            Vec::new()
        }
    }
}

/// Walks `root`; with `cancel_after`, cancels the walk once that many
/// files have been counted. Returns (files, bytes, cancelled).
fn du(root: &Path, cancel_after: Option<u64>) -> (u64, u64, bool) {
    let (ctx, cancel) = Context::background().with_cancel();
    let (sema_tx, sema_rx) = chan(20);
    let sema = Sema {
        acquire: sema_tx,
        release: sema_rx,
    };
    let (file_sizes_tx, file_sizes) = chan(0);
    go!(walk_dir(
        root.to_path_buf(),
        ctx.clone(),
        sema,
        file_sizes_tx
    ));
    let (mut nfiles, mut nbytes) = (0, 0);
    loop {
        select! {
            <-ctx.done() => {
                // Drain file_sizes to let the walkers finish.
                for _ in &file_sizes {}
                return (nfiles, nbytes, true);
            }
            size = <-file_sizes => {
                let Some(size) = size else { break }; // every walker is done
                nfiles += 1;
                nbytes += size;
                if cancel_after == Some(nfiles) {
                    cancel.cancel(); // Go's du4: the user pressed a key
                }
            }
        }
    }
    (nfiles, nbytes, false)
}

/// Creates a tree of 4 directories of 3 subdirectories of 10 files under
/// `root`; returns its (files, bytes).
fn make_tree(root: &Path) -> std::io::Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    for d in 0..4 {
        for s in 0..3 {
            let dir = root.join(format!("dir{d}")).join(format!("sub{s}"));
            fs::create_dir_all(&dir)?;
            for f in 0..10u64 {
                let size = 100 * (d + 1) + 10 * s + f;
                fs::write(dir.join(format!("file{f}")), vec![b'x'; size as usize])?;
                files += 1;
                bytes += size;
            }
        }
    }
    Ok((files, bytes))
}

#[goscope::main]
fn main() -> std::io::Result<()> {
    let root = std::env::temp_dir().join(format!("goscope-du-{}", std::process::id()));
    defer! {
        let _ = fs::remove_dir_all(&root);
    }
    let (files, bytes) = make_tree(&root)?;
    println!("created: {files} files  {bytes} bytes");

    let (nfiles, nbytes, cancelled) = du(&root, None);
    println!("walk: {nfiles} files  {nbytes} bytes  cancelled: {cancelled}");

    let (nfiles, _, cancelled) = du(&root, Some(10));
    let counted = if nfiles < files { "fewer" } else { "all" };
    println!(
        "walk cancelled after 10 files: counted {counted} than {files}, cancelled: {cancelled}"
    );
    Ok(())
}
