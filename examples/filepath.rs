//! Go's `filepath.Walk` and `os.PathError`, for the MD5All examples: the
//! same order (lexical, directories before what they hold), the same
//! calls of the walk function (also for an error reading the root or a
//! directory) and Go's error texts (`lstat ROOT: ...`, `open PATH: ...`).

use std::error::Error;
use std::fmt;
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

/// An error and the operation and path that caused it: Go's
/// `*os.PathError`, displayed as Go displays it (`open PATH: ...`).
#[derive(Debug)]
pub(crate) struct PathError {
    op: &'static str,
    path: PathBuf,
    err: io::Error,
}

impl PathError {
    pub(crate) fn new(op: &'static str, path: &Path, err: io::Error) -> PathError {
        PathError {
            op,
            path: path.to_path_buf(),
            err,
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.op, self.path.display(), self.err)
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.err)
    }
}

/// Go's `os.ReadFile(path)`: the file's contents, or `open PATH: ...`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, PathError> {
    fs::read(path).map_err(|err| PathError::new("open", path, err))
}

/// Go's `filepath.Walk(root, walk_fn)`: calls `walk_fn` for `root` and for
/// everything under it, in lexical order, with its `lstat` metadata (so
/// symbolic links are not followed) or the error that kept the walk from
/// getting it (`lstat`) or from reading a directory (`open`). The walk
/// stops at the first error `walk_fn` returns, and returns it.
pub(crate) fn walk<E>(
    root: &Path,
    mut walk_fn: impl FnMut(&Path, Result<&Metadata, PathError>) -> Result<(), E>,
) -> Result<(), E> {
    match fs::symlink_metadata(root) {
        Ok(info) => walk_in(root, &info, &mut walk_fn),
        Err(err) => walk_fn(root, Err(PathError::new("lstat", root, err))),
    }
}

fn walk_in<E>(
    path: &Path,
    info: &Metadata,
    walk_fn: &mut impl FnMut(&Path, Result<&Metadata, PathError>) -> Result<(), E>,
) -> Result<(), E> {
    if !info.is_dir() {
        return walk_fn(path, Ok(info));
    }
    let names = fs::read_dir(path).and_then(|entries| {
        let mut names = entries
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    });
    let names = match names {
        Ok(names) => {
            walk_fn(path, Ok(info))?;
            names
        }
        // Go calls walkFn for the directory with the error, and stops there.
        Err(err) => return walk_fn(path, Err(PathError::new("open", path, err))),
    };
    for name in names {
        let file = path.join(name);
        match fs::symlink_metadata(&file) {
            Ok(info) => walk_in(&file, &info, walk_fn)?,
            Err(err) => walk_fn(&file, Err(PathError::new("lstat", &file, err)))?,
        }
    }
    Ok(())
}
