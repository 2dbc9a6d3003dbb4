//! Go's `filepath.Walk` and `os.PathError`, for the MD5All examples: the
//! same order (lexical, directories before what they hold), the same
//! calls of the walk function (also for an error reading the root or a
//! directory) and Go's error texts (`lstat ROOT: ...`, `open PATH: ...`).
//!
//! ```
//! use std::path::Path;
//!
//! let mut files = 0;
//! examples::filepath::walk(Path::new(env!("CARGO_MANIFEST_DIR")), |_, info| {
//!     files += usize::from(info?.is_file());
//!     Ok::<(), examples::filepath::PathError>(())
//! })?;
//! assert!(files > 0);
//! # Ok::<(), examples::filepath::PathError>(())
//! ```

use std::error::Error;
use std::fmt;
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

/// An error and the operation and path that caused it: Go's
/// `*os.PathError`, displayed as Go displays it (`open PATH: ...`).
///
/// ```
/// use std::path::Path;
///
/// let err = examples::filepath::read_file(Path::new("/no/such/file")).unwrap_err();
/// assert!(err.to_string().starts_with("open /no/such/file: "), "{err}");
/// ```
#[derive(Debug)]
pub struct PathError {
    op: &'static str,
    path: PathBuf,
    err: io::Error,
}

impl PathError {
    /// The error `err` of the operation `op` (`"open"`, `"lstat"`) on `path`.
    ///
    /// ```
    /// use std::io;
    /// use std::path::Path;
    ///
    /// let err = io::Error::new(io::ErrorKind::NotFound, "not found");
    /// let err = examples::filepath::PathError::new("lstat", Path::new("a"), err);
    /// assert_eq!(err.to_string(), "lstat a: not found");
    /// ```
    pub fn new(op: &'static str, path: &Path, err: io::Error) -> PathError {
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
///
/// ```
/// use std::path::Path;
///
/// let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
/// assert!(examples::filepath::read_file(&manifest).is_ok());
/// ```
pub fn read_file(path: &Path) -> Result<Vec<u8>, PathError> {
    fs::read(path).map_err(|err| PathError::new("open", path, err))
}

/// Go's `filepath.Walk(root, walk_fn)`: calls `walk_fn` for `root` and for
/// everything under it, in lexical order, with its `lstat` metadata (so
/// symbolic links are not followed) or the error that kept the walk from
/// getting it (`lstat`) or from reading a directory (`open`). The walk
/// stops at the first error `walk_fn` returns, and returns it.
///
/// ```
/// use std::path::Path;
///
/// let err = examples::filepath::walk(Path::new("/no/such/dir"), |_, info| info.map(|_| ()));
/// assert!(err.unwrap_err().to_string().starts_with("lstat /no/such/dir: "));
/// ```
pub fn walk<E>(
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
