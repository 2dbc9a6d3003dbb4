//! Runs an example as a child process, built from its current source, and
//! collects what it printed: shared by the example tests.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long an example may run before the test kills it and fails. The
/// examples take well under 2 s; this only guards against a hang.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// The path of example `name`, built from its current source.
///
/// The examples land in `target/<profile>/examples/`, beside the `deps/`
/// directory that holds this test executable
/// (`target/<profile>/deps/patterns-HASH`). A plain `cargo test` builds
/// them before running the tests, but `cargo test --test patterns` does
/// not, and would run stale binaries: so the first call asks cargo to
/// build them (a no-op when they are up to date).
pub(crate) fn example_path(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps/");
    BUILT.get_or_init(|| build_examples(profile_dir));
    let path = profile_dir
        .join("examples")
        .join(name)
        .with_extension(std::env::consts::EXE_EXTENSION);
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// Builds [`EXAMPLES`] with the cargo that runs this test, in the profile
/// whose output directory is `profile_dir`.
fn build_examples(profile_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", "examples", "--examples"]);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(profile) => {
            build.args(["--profile", profile]);
        }
        None => panic!("no profile directory in {}", profile_dir.display()),
    }
    if let Some(target_dir) = profile_dir.parent() {
        build.arg("--target-dir").arg(target_dir);
    }
    let status = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("running cargo to build the examples");
    assert!(status.success(), "building the examples failed ({status})");
}

/// What an example printed, and how it ended.
pub(crate) struct Run {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Fails the test, with everything the example printed, unless it
    /// exited successfully.
    pub(crate) fn success(self, name: &str) -> Self {
        assert!(
            self.status.success(),
            "example {name} failed ({}); stdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Reads `pipe` to the end on a thread of its own, so a chatty child never
/// blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        pipe.read_to_string(&mut text)
            .expect("reading the example's output");
        text
    })
}

/// Runs example `name` with `args`; kills it and fails if it runs longer
/// than [`PATIENCE`].
pub(crate) fn run(name: &str, args: &[&str]) -> Run {
    let mut child: Child = Command::new(example_path(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the example");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the example") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("example {name} still running after {PATIENCE:?}: killed");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Run {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
