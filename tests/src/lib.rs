//! Integration tests and the trybuild UI suite for goscope, and the one home
//! of the helpers they share: how long a test waits ([`BLOCKED`],
//! [`PATIENCE`], [`TIMEOUT`]), bounded child processes ([`Program`],
//! [`run_child`]), and what their reports say ([`scenario_line`],
//! [`entries`], [`panic_message`]).
//!
//! The integration tests (`tests/*.rs`), Go's ported tests (`golang/`) and
//! the programs they run (`src/bin/*.rs`) all `use tests::...`.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long a test watches for something that must *not* happen (a blocked
/// send completing, a scope returning early): "blocks forever" is watched
/// this long, 0.1 s as Go's `select3.go` does. A slow machine can only make
/// such a check pass vacuously, never fail spuriously.
///
/// ```
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// assert!(rx.recv_timeout(tests::BLOCKED).is_err()); // nobody sends
/// # drop(tx);
/// ```
pub const BLOCKED: Duration = Duration::from_millis(100);

/// How long a test waits, in its own process, for something that must
/// happen (a send to complete, a timer to fire, a goroutine to end) before
/// it declares the test failed instead of hanging. Generous, so a loaded
/// machine cannot fail a correct test: only a real hang takes this long.
///
/// ```
/// let (tx, rx) = std::sync::mpsc::channel();
/// std::thread::spawn(move || tx.send(42).unwrap());
/// assert_eq!(rx.recv_timeout(tests::PATIENCE), Ok(42));
/// ```
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How long a child process ([`Program`], [`run_child`]) may run before it
/// counts as hung, is killed and fails the test. Each program ends within a
/// few seconds when goscope keeps its promises; the hangs these tests look
/// for are forever.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The first line of the deadlock detector's report, as Go prints it.
pub const DEADLOCK: &str = "fatal error: all goroutines are asleep - deadlock!";

/// A program of this package (`src/bin/*.rs`), or any executable, to run as
/// a bounded child process: stdin is empty, stdout and stderr are captured,
/// and a child still running after its timeout ([`TIMEOUT`] unless set) is
/// killed and fails the test.
///
/// Integration tests name a bin of this package by
/// `env!("CARGO_BIN_EXE_<name>")`, as in
/// `Program::new(env!("CARGO_BIN_EXE_scenarios")).arg("deadlock_receive")`.
///
/// ```
/// # #[cfg(unix)] {
/// let out = tests::Program::new("echo").arg("hello").run();
/// assert!(out.status.success());
/// assert_eq!(out.stdout, b"hello\n");
/// # }
/// ```
#[derive(Debug)]
pub struct Program {
    command: Command,
    timeout: Duration,
    what: String,
}

impl Program {
    /// The executable at `path`, with no arguments yet.
    pub fn new(path: impl AsRef<OsStr>) -> Self {
        let path = path.as_ref();
        let name = std::path::Path::new(path)
            .file_name()
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        let mut command = Command::new(path);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Program {
            command,
            timeout: TIMEOUT,
            what: name,
        }
    }

    /// Adds an argument (the first names the scenario).
    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.what.push(' ');
        self.what.push_str(&arg.as_ref().to_string_lossy());
        self.command.arg(arg);
        self
    }

    /// Adds arguments, as [`arg`](Self::arg) each.
    #[must_use]
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(self, args: I) -> Self {
        args.into_iter().fold(self, Self::arg)
    }

    /// Sets an environment variable of the child.
    #[must_use]
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Sets how long the child may run before it counts as hung (instead
    /// of [`TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the child; [`Running::wait`] collects it. Starting several
    /// before waiting for any runs them side by side.
    ///
    /// # Panics
    ///
    /// If the executable cannot be started.
    pub fn spawn(mut self) -> Running {
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("start `{}`: {e}", self.what));
        // The pipes close when the child exits: read them on threads (a
        // child writing more than a pipe holds never blocks on us) and wait
        // for both with a deadline, so a hanging child fails the test.
        let (done_tx, done) = mpsc::channel();
        let read = |pipe: Box<dyn Read + Send>| {
            let done_tx = done_tx.clone();
            thread::spawn(move || {
                let mut pipe = pipe;
                let mut buf = Vec::new();
                let _ = pipe.read_to_end(&mut buf);
                let _ = done_tx.send(());
                buf
            })
        };
        let stdout = read(Box::new(child.stdout.take().expect("stdout is piped")));
        let stderr = read(Box::new(child.stderr.take().expect("stderr is piped")));
        Running {
            child,
            done,
            stdout,
            stderr,
            timeout: self.timeout,
            what: self.what,
        }
    }

    /// Runs the child to its end: its status, stdout and stderr.
    ///
    /// # Panics
    ///
    /// If the child cannot be started, or is still running after its
    /// timeout (it is killed first).
    pub fn run(self) -> Output {
        self.spawn().wait()
    }
}

/// A child started by [`Program::spawn`].
#[derive(Debug)]
pub struct Running {
    child: Child,
    done: mpsc::Receiver<()>,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
    timeout: Duration,
    what: String,
}

impl Running {
    /// Waits for the child to end (at most its timeout, counted from this
    /// call): its status, stdout and stderr.
    ///
    /// # Panics
    ///
    /// If the child is still running after its timeout: it is killed, and
    /// the panic shows its stderr.
    pub fn wait(mut self) -> Output {
        let mut timed_out = false;
        for _ in 0..2 {
            if self.done.recv_timeout(self.timeout).is_err() {
                timed_out = true;
                let _ = self.child.kill();
                break;
            }
        }
        let status = self.child.wait().expect("wait for the child");
        let stdout = self.stdout.join().expect("the stdout reader");
        let stderr = self.stderr.join().expect("the stderr reader");
        assert!(
            !timed_out,
            "`{}` hung and was killed after {:?}; stderr:\n{}",
            self.what,
            self.timeout,
            String::from_utf8_lossy(&stderr)
        );
        Output {
            status,
            stdout,
            stderr,
        }
    }
}

/// The environment variable that tells a re-run test executable which
/// scenario to play.
const SCENARIO: &str = "GOSCOPE_TEST_SCENARIO";

/// Whether this process is a child started by [`run_child`] to play
/// `scenario`.
///
/// ```
/// assert!(!tests::is_child("no test runs me as a child"));
/// ```
pub fn is_child(scenario: &str) -> bool {
    std::env::var(SCENARIO).is_ok_and(|s| s == scenario)
}

/// Re-runs the current test executable with only the test named `test`
/// (its full path inside the test crate), where [`is_child`]`(scenario)` is
/// true: for a test whose program must end the process. Bounded by
/// [`TIMEOUT`].
///
/// ```no_run
/// #[test]
/// fn exits_with_status_2() {
///     if tests::is_child("exit") {
///         std::process::exit(2);
///     }
///     let out = tests::run_child("exits_with_status_2", "exit");
///     assert_eq!(out.status.code(), Some(2));
/// }
/// ```
///
/// # Panics
///
/// If the child hangs (it is killed first).
pub fn run_child(test: &str, scenario: &str) -> Output {
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut program = Program::new(exe)
        .args([test, "--exact", "--nocapture", "--include-ignored"])
        .args(["--test-threads", "1"])
        .env(SCENARIO, scenario);
    program.what = format!("child `{test}` ({scenario})");
    program.run()
}

/// The message of a panic payload, for `&str` and `String` payloads (what
/// `panic!` gives), or `"<not a string payload>"`.
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(tests::panic_message(&*payload), "boom 1");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<not a string payload>"
    }
}

/// `src/bin/scenarios.rs`, the deadlock detector's programs, as reports name
/// it.
pub const SCENARIOS: &str = "tests/src/bin/scenarios.rs";

/// `src/bin/reliability.rs`, issue 17's programs, as reports name it.
pub const RELIABILITY: &str = "tests/src/bin/reliability.rs";

/// The line (1-based) of the first line of `file` ([`SCENARIOS`] or
/// [`RELIABILITY`]) that contains `marker`: where a report must point.
///
/// ```
/// let line = tests::scenario_line(tests::SCENARIOS, "fn main()");
/// assert!(line > 1);
/// ```
///
/// # Panics
///
/// If `file` is neither, or no line of it contains `marker`.
pub fn scenario_line(file: &str, marker: &str) -> usize {
    let source = match file {
        SCENARIOS => include_str!("bin/scenarios.rs"),
        RELIABILITY => include_str!("bin/reliability.rs"),
        _ => panic!("{file:?} is not a scenarios' source"),
    };
    let index = source
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker:?} is not in {file}"));
    index + 1
}

/// The goroutine entries of the deadlock report in `stderr`: each entry's
/// header line and its other lines.
///
/// ```
/// let stderr = format!("{}\n\ngoroutine 1 [chan receive]:\nmain goroutine\n", tests::DEADLOCK);
/// let entries = tests::entries(&stderr);
/// assert_eq!(entries[0].0, "goroutine 1 [chan receive]:");
/// assert_eq!(entries[0].1, ["main goroutine"]);
/// ```
///
/// # Panics
///
/// If `stderr` has no report ([`DEADLOCK`]).
pub fn entries(stderr: &str) -> Vec<(String, Vec<String>)> {
    let report = &stderr[stderr.find(DEADLOCK).expect("report header")..];
    report
        .split("\n\n")
        .skip(1)
        .filter(|e| e.starts_with("goroutine "))
        .map(|e| {
            let mut lines = e.lines().map(str::to_string);
            (lines.next().unwrap(), lines.collect())
        })
        .collect()
}

/// What a program of `src/bin/*.rs` does with a scenario name it does not
/// know: says so and exits with status 64.
///
/// ```no_run
/// match std::env::args().nth(1).unwrap_or_default().as_str() {
///     "hello" => println!("hello"),
///     other => tests::unknown_scenario(other),
/// }
/// ```
pub fn unknown_scenario(name: &str) -> ! {
    eprintln!("unknown scenario {name:?}");
    std::process::exit(64);
}
