//! Runs the Go tutorial's programs (`cargo run --example NAME`) and checks
//! their output, in any order Go's scheduler would allow.
//!
//! Run it with `cargo test -p examples`: that builds the examples first.
//! A target filter (`--test tutorial`) builds only this test, and runs the
//! example binaries of the last full build.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long an example may run before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(60);

/// The path of example `name`: `cargo test` builds the package's examples
/// into `target/<profile>/examples/`, beside the `deps/` directory that
/// holds this test executable.
fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/tutorial-HASH");
    let path = profile_dir
        .join("examples")
        .join(name)
        .with_extension(std::env::consts::EXE_EXTENSION);
    let built = std::fs::metadata(&path).and_then(|m| m.modified());
    let Ok(built) = built else {
        panic!(
            "{} is missing: run `cargo test -p examples`, which builds the examples",
            path.display()
        );
    };
    // Catch the commonest stale binary: an example edited since its build.
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("{name}.rs"));
    if let Ok(edited) = std::fs::metadata(&source).and_then(|m| m.modified()) {
        assert!(
            edited <= built,
            "{} is older than {}: run `cargo test -p examples` to rebuild it",
            path.display(),
            source.display()
        );
    }
    path
}

/// Runs example `name` and returns its stdout lines; fails the test if it
/// exits unsuccessfully or hangs.
fn run(name: &str) -> Vec<String> {
    let mut child = Command::new(example_path(name))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the example");
    let (done_tx, done_rx) = mpsc::channel();
    let mut pipes: Vec<Box<dyn Read + Send>> = vec![
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    let readers: Vec<_> = pipes
        .drain(..)
        .map(|mut pipe| {
            let done_tx = done_tx.clone();
            thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                let _ = done_tx.send(());
                text
            })
        })
        .collect();
    for _ in 0..2 {
        if done_rx.recv_timeout(PATIENCE).is_err() {
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().expect("waiting for the example");
    let mut texts = readers.into_iter().map(|r| r.join().unwrap());
    let (stdout, stderr) = (texts.next().unwrap(), texts.next().unwrap());
    assert!(
        status.success(),
        "example {name} failed ({status}); stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout.lines().map(str::to_owned).collect()
}

/// How many times each line occurs.
fn counts(lines: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for line in lines {
        *counts.entry(line.as_str()).or_default() += 1;
    }
    counts
}

#[test]
fn goroutines() {
    let lines = run("goroutines");
    // The two speakers interleave freely; main waits for the goroutine with
    // a WaitGroup, so all six lines are always there (Go's version relies
    // on a sleep).
    assert_eq!(
        counts(&lines),
        BTreeMap::from([("Goroutine says: Hi!", 3), ("Main says: Hello!", 3)]),
        "{lines:#?}"
    );
}

#[test]
fn waitgroup() {
    let lines = run("waitgroup");
    assert_eq!(lines.len(), 7, "{lines:#?}");
    for id in 1..=3 {
        let position = |line: String| {
            let found: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == line).collect();
            assert_eq!(found.len(), 1, "`{line}` exactly once: {lines:#?}");
            found[0]
        };
        let starting = position(format!("Worker {id} starting"));
        let done = position(format!("Worker {id} done"));
        assert!(
            starting < done,
            "worker {id} done before starting: {lines:#?}"
        );
    }
    assert_eq!(lines.last().map(String::as_str), Some("All workers done"));
}

#[test]
fn channels() {
    assert_eq!(run("channels"), ["ping"]);
}

#[test]
fn worker_pool() {
    let lines = run("worker_pool");
    assert_eq!(lines.len(), 10, "{lines:#?}");
    // job -> (worker, line index) of its `started` and `finished` lines.
    let mut started = BTreeMap::new();
    let mut finished = BTreeMap::new();
    for (at, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.split(' ').collect();
        let ["worker", worker, event, "job", job] = words[..] else {
            panic!("unexpected line `{line}`: {lines:#?}");
        };
        let worker: u32 = worker.parse().expect("a worker id");
        let job: u32 = job.parse().expect("a job number");
        assert!((1..=3).contains(&worker), "worker {worker}: {lines:#?}");
        let seen = match event {
            "started" => &mut started,
            "finished" => &mut finished,
            _ => panic!("unexpected line `{line}`: {lines:#?}"),
        };
        let previous = seen.insert(job, (worker, at));
        assert!(previous.is_none(), "job {job} {event} twice: {lines:#?}");
    }
    let jobs: Vec<u32> = (1..=5).collect();
    assert_eq!(started.keys().copied().collect::<Vec<_>>(), jobs);
    assert_eq!(finished.keys().copied().collect::<Vec<_>>(), jobs);
    for job in jobs {
        let (worker, start) = started[&job];
        let (finisher, end) = finished[&job];
        assert_eq!(worker, finisher, "job {job} changed workers: {lines:#?}");
        assert!(
            start < end,
            "job {job} finished before it started: {lines:#?}"
        );
        // A worker runs one job at a time: it starts nothing else meanwhile.
        let overlapping = started
            .values()
            .any(|&(w, at)| w == worker && start < at && at < end);
        assert!(
            !overlapping,
            "worker {worker} ran two jobs at once: {lines:#?}"
        );
    }
}
