//! Runs the `philosophers` example both ways: the ordered forks finish; the
//! left-fork-first variant deadlocks and is reported as Go reports it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long the example may run before the test kills it and fails.
const PATIENCE: Duration = Duration::from_secs(60);

const SOURCE: &str = "examples/philosophers.rs";

/// The example's binary, built from its current source (a no-op when it
/// is up to date): `cargo test --test philosophers` alone builds no
/// examples.
fn example_path() -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps/");
    BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args([
            "build",
            "--quiet",
            "-p",
            "examples",
            "--example",
            "philosophers",
        ]);
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
            .expect("running cargo to build the example");
        assert!(status.success(), "building the example failed ({status})");
    });
    profile_dir
        .join("examples")
        .join("philosophers")
        .with_extension(std::env::consts::EXE_EXTENSION)
}

/// Runs the example with `args`: (status, stdout, stderr).
fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(example_path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the example");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("philosophers {args:?} still running after {PATIENCE:?}: killed");
        }
        thread::sleep(Duration::from_millis(5));
    };
    (status, stdout.join().unwrap(), stderr.join().unwrap())
}

#[test]
fn ordered_forks_let_everyone_eat() {
    let (status, stdout, stderr) = run(&[]);
    assert!(status.success(), "{status}: {stderr}");
    let mut lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.pop(), Some("15 meals eaten"), "{stdout}");
    lines.sort_unstable();
    let want: Vec<String> = (0..5)
        .map(|i| format!("philosopher {i} has eaten 3 meals"))
        .collect();
    assert_eq!(lines, want);
}

#[test]
fn left_fork_first_deadlocks_and_is_reported() {
    let (status, stdout, stderr) = run(&["deadlock"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(stdout, "", "nobody eats");
    assert!(
        stderr.starts_with("fatal error: all goroutines are asleep - deadlock!\n\n"),
        "{stderr}"
    );
    let source = include_str!("../philosophers.rs");
    let line = source
        .lines()
        .position(|l| l.contains("let _right = right.lock()"))
        .unwrap()
        + 1;
    let waiting = format!("[sync.Mutex.Lock]:\n\t{SOURCE}:{line}:");
    assert_eq!(stderr.matches(&waiting).count(), 5, "{stderr}");
    assert!(
        stderr.contains("goroutine 1 [sync.WaitGroup.Wait]:"),
        "{stderr}"
    );
}
