//! Runs the ports of well-known Go programs (x/sync errgroup's Pipeline
//! and Parallel examples, the Go blog's MD5All in its parallel and bounded
//! versions, the Go Tour's Equivalent Binary Trees) and checks that each
//! behaves as the Go program does: its output and exit status on every
//! error path in each of [`RUNS`] runs, and on the normal path in each of
//! [`NORMAL_RUNS`] (a tree of 200 files: slower).
//!
//! The MD5All programs digest a tree each test makes. Their error paths
//! are a file they cannot read (mode 000; when the test runs as root, who
//! can read it anyway, the example runs as user `nobody`) and a root that
//! does not exist.
#![cfg(unix)]

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Instant;

mod runner;

use examples::md5;
use runner::{PATIENCE, Run, example_path};

/// How many times each program runs on each error path: a program that
/// goes wrong one time in a hundred (a lost error, a panic in a goroutine
/// that outlives `main`) fails the test. `GOSCOPE_GO_PROGRAM_RUNS`
/// overrides it (and [`NORMAL_RUNS`]).
const RUNS: usize = 100;

/// How many times an MD5All program digests the whole tree.
const NORMAL_RUNS: usize = 20;

fn runs(default: usize) -> usize {
    std::env::var("GOSCOPE_GO_PROGRAM_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// How an example is run: as this process's user, or as `nobody`.
#[derive(Clone, Copy)]
enum As {
    Me,
    Nobody,
}

/// Runs `exe` with `args` as `user`; kills it and fails if it runs longer
/// than [`PATIENCE`].
fn run_exe(exe: &Path, args: &[&str], user: As) -> Run {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let As::Nobody = user {
        cmd.uid(65534).gid(65534);
    }
    // A copy of an example (see `As::Nobody`) made while another test
    // thread forks a child can be "busy" for a moment: the child holds the
    // copy's write descriptor until it execs. Linux's ETXTBSY; try again.
    let mut tries = 0;
    let child = loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other.expect("starting the example"),
        }
    };
    let pid = child.id();
    let (done_tx, done) = std::sync::mpsc::channel();
    let waiter = thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done_tx.send(());
        out
    });
    if done.recv_timeout(PATIENCE).is_err() {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("{} still running after {PATIENCE:?}: killed", exe.display());
    }
    let out = waiter.join().unwrap().expect("waiting for the example");
    Run {
        status: out.status,
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 output"),
    }
}

/// A tree of files under the system's temporary directory, removed when
/// dropped: three files with MD5 test vectors for contents (RFC 1321's and
/// the quick brown fox), 200 more, a symbolic link (not a regular file:
/// MD5All skips it, as Go's `Info().Mode().IsRegular()` does) and, if
/// asked, a file nobody may read.
struct Tree {
    dir: PathBuf,
    /// The files MD5All digests, with their digests.
    files: Vec<(PathBuf, String)>,
    unreadable: Option<PathBuf>,
}

impl Tree {
    fn new(tag: &str, unreadable: bool) -> Tree {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "goscope-go-programs-{tag}-{}-{nanos}",
            std::process::id()
        ));
        let mut tree = Tree {
            dir,
            files: Vec::new(),
            unreadable: None,
        };
        fs::create_dir_all(tree.dir.join("root/b/c")).unwrap();
        // Readable by `nobody`, whatever the umask.
        for d in ["", "root", "root/b", "root/b/c"] {
            fs::set_permissions(tree.dir.join(d), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let known = [
            ("a.txt", "", "d41d8cd98f00b204e9800998ecf8427e"),
            ("b/abc.txt", "abc", "900150983cd24fb0d6963f7d28e17f72"),
            (
                "b/c/fox.txt",
                "The quick brown fox jumps over the lazy dog",
                "9e107d9d372bb6826bd81d3542a419d6",
            ),
        ];
        for (name, contents, digest) in known {
            assert_eq!(md5::hex(&md5::sum(contents.as_bytes())), digest, "md5.rs");
            tree.write(name, contents);
        }
        for i in 0..200 {
            tree.write(&format!("b/file-{i:03}"), &format!("file {i}\n").repeat(i));
        }
        std::os::unix::fs::symlink("a.txt", tree.root().join("link")).unwrap();
        if unreadable {
            let path = tree.root().join("b/c/secret");
            fs::write(&path, "secret").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
            tree.unreadable = Some(path);
        }
        tree.files
            .sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
        tree
    }

    fn write(&mut self, name: &str, contents: &str) {
        let path = self.root().join(name);
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        self.files
            .push((path, md5::hex(&md5::sum(contents.as_bytes()))));
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// Runs example `name` on this tree's root (or `root`) as a user who
    /// cannot read the unreadable file: `nobody` when this process can.
    fn run(&self, name: &str, root: &Path) -> Run {
        let mut exe = example_path(name);
        let mut user = As::Me;
        // Root reads anything: then run the example as `nobody`, from a
        // copy it may execute wherever the build directory is.
        let privileged = self
            .unreadable
            .as_ref()
            .is_some_and(|secret| fs::read(secret).is_ok());
        if privileged {
            user = As::Nobody;
            let copy = self.dir.join(name);
            if !copy.exists() {
                fs::copy(&exe, &copy).unwrap();
                fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
            }
            exe = copy;
        }
        run_exe(&exe, &[root.to_str().unwrap()], user)
    }

    /// The error text of reading the unreadable file, as the examples
    /// print it (Go's `open PATH: permission denied`).
    fn unreadable_error(&self) -> String {
        let secret = self.unreadable.as_ref().expect("an unreadable file");
        let denied = io::Error::from_raw_os_error(13); // EACCES
        format!("open {}: {denied}", secret.display())
    }

    fn missing(&self) -> PathBuf {
        self.dir.join("missing")
    }

    fn missing_error(&self) -> String {
        let missing = io::Error::from_raw_os_error(2); // ENOENT
        format!("lstat {}: {missing}", self.missing().display())
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs `check` `n` times (or as `GOSCOPE_GO_PROGRAM_RUNS` says), and
/// says how long they took.
fn repeat(what: &str, n: usize, mut check: impl FnMut(usize)) {
    let start = Instant::now();
    let n = runs(n);
    for run in 0..n {
        check(run);
    }
    eprintln!("{what}: {n} runs in {:?}", start.elapsed());
}

/// Fails with everything the example printed unless it printed `stdout`
/// and `stderr` and exited with `code`.
fn expect(run: usize, name: &str, out: &Run, code: i32, stdout: &str, stderr: &str) {
    let ok = out.status.code() == Some(code) && out.stdout == stdout && out.stderr == stderr;
    assert!(
        ok,
        "run {run} of {name}: want status {code}, stdout {stdout:?}, stderr {stderr:?}; \
         got {}, stdout {:?}, stderr {:?}",
        out.status, out.stdout, out.stderr
    );
}

/// What the Go blog's MD5All prints for `tree`: `DIGEST  PATH`, by path.
fn blog_listing(tree: &Tree) -> String {
    tree.files
        .iter()
        .map(|(path, digest)| format!("{digest}  {}\n", path.display()))
        .collect()
}

fn blog_md5all(name: &str) {
    let tree = Tree::new(name, false);
    let listing = blog_listing(&tree);
    repeat(&format!("{name}: every file"), NORMAL_RUNS, |run| {
        let out = tree.run(name, &tree.root());
        expect(run, name, &out, 0, &listing, "");
    });
    let missing = format!("{}\n", tree.missing_error());
    repeat(&format!("{name}: a missing root"), RUNS, |run| {
        let out = tree.run(name, &tree.missing());
        expect(run, name, &out, 0, &missing, "");
    });
    let tree = Tree::new(name, true);
    let unreadable = format!("{}\n", tree.unreadable_error());
    repeat(&format!("{name}: an unreadable file"), RUNS, |run| {
        // MD5All returns at the first error, abandoning the goroutines
        // still at work; they must wind down without a trace (the walker's
        // send on the buffered errc completes, as in Go).
        let out = tree.run(name, &tree.root());
        expect(run, name, &out, 0, &unreadable, "");
    });
}

#[test]
fn md5all_parallel() {
    blog_md5all("md5all_parallel");
}

#[test]
fn md5all_bounded() {
    blog_md5all("md5all_bounded");
}

#[test]
fn errgroup_pipeline() {
    let name = "errgroup_pipeline";
    let tree = Tree::new(name, false);
    let mut listing: Vec<String> = tree
        .files
        .iter()
        .map(|(path, digest)| format!("{}:\t{digest}", path.display()))
        .collect();
    listing.sort();
    repeat("errgroup_pipeline: every file", NORMAL_RUNS, |run| {
        let out = tree.run(name, &tree.root());
        assert!(
            out.status.success(),
            "run {run}: {}\n{}",
            out.status,
            out.stderr
        );
        assert_eq!(out.stderr, "", "run {run}");
        // Go's map order: any order, every file once.
        let mut lines = out.lines();
        lines.sort_unstable();
        assert_eq!(lines, listing, "run {run}");
    });
    // Both waits (the closer goroutine's and MD5All's) see the error: the
    // caller's once returned Ok(()), and MD5All reported success with part
    // of the digests.
    let missing = format!("{}\n", tree.missing_error());
    repeat("errgroup_pipeline: a missing root", RUNS, |run| {
        let out = tree.run(name, &tree.missing());
        expect(run, name, &out, 1, "", &missing);
    });
    let tree = Tree::new(name, true);
    let unreadable = format!("{}\n", tree.unreadable_error());
    repeat("errgroup_pipeline: an unreadable file", RUNS, |run| {
        let out = tree.run(name, &tree.root());
        expect(run, name, &out, 1, "", &unreadable);
    });
}

#[test]
fn errgroup_parallel() {
    let name = "errgroup_parallel";
    let exe = example_path(name);
    repeat("errgroup_parallel", RUNS, |run| {
        let out = run_exe(&exe, &[], As::Me);
        let want = "web result for \"golang\"\n\
                    image result for \"golang\"\n\
                    video result for \"golang\"\n";
        expect(run, name, &out, 0, want, "");
        let out = run_exe(&exe, &[""], As::Me);
        expect(run, name, &out, 0, "", "empty query\n");
    });
}

#[test]
fn binary_trees() {
    let name = "binary_trees";
    let exe = example_path(name);
    // Each run builds trees of new random shapes.
    repeat("binary_trees", RUNS, |run| {
        let out = run_exe(&exe, &[], As::Me);
        let want = "walk(tree::new(1)): 1 2 3 4 5 6 7 8 9 10\n\
                    same(tree::new(1), tree::new(1)): true\n\
                    same(tree::new(1), tree::new(2)): false\n";
        expect(run, name, &out, 0, want, "");
    });
}
