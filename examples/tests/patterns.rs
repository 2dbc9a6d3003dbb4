//! Runs the Go concurrency pattern examples (`generator`, `pipeline`,
//! `prime_sieve`, `timeouts`, `rate_limiting`, `bounded_parallelism`,
//! `google_search`) and checks their output.

use std::fs;
use std::path::PathBuf;

mod runner;

use runner::run;

#[test]
fn generator() {
    let out = run("generator", &[]).success("generator");
    assert_eq!(
        out.lines(),
        [
            "fibonacci: 0 1 1 2 3 5 8 13 21 34",
            "count 1..=5 sums to 15",
        ]
    );
}

#[test]
fn pipeline() {
    let out = run("pipeline", &[]).success("pipeline");
    assert_eq!(
        out.lines(),
        [
            "2, 3 squared twice: 16 81",
            "fan-out/fan-in, squares of 1..=10: 1 4 9 16 25 36 49 64 81 100",
            "sum of squares: 385",
            "cancelled after 3 of 1000000: 1 16 81",
            "stages stopped: 3",
        ]
    );
}

#[test]
fn prime_sieve() {
    let out = run("prime_sieve", &[]).success("prime_sieve");
    assert_eq!(
        out.lines(),
        ["2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59 61 67 71"]
    );
    let out = run("prime_sieve", &["25"]).success("prime_sieve 25");
    let primes: Vec<u64> = out
        .stdout
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(primes.len(), 25);
    assert_eq!(primes.last(), Some(&97));
}

#[test]
fn timeouts() {
    let out = run("timeouts", &[]).success("timeouts");
    assert_eq!(
        out.lines(),
        [
            "timeout 1",
            "result 2",
            "heard 3 before the deadline: hello again bye",
        ]
    );
}

/// Parses `request N at T ms`.
fn request(line: &str) -> (u32, u128) {
    let words: Vec<&str> = line.split(' ').collect();
    match words[..] {
        ["request", n, "at", t, "ms"] => (n.parse().unwrap(), t.parse().unwrap()),
        _ => panic!("not a request line: {line:?}"),
    }
}

#[test]
fn rate_limiting() {
    let out = run("rate_limiting", &[]).success("rate_limiting");
    let lines = out.lines();
    assert_eq!(lines.len(), 12, "{lines:#?}");
    assert_eq!(lines[0], "steady: one request per 20 ms");
    assert_eq!(lines[6], "bursty: up to 3 at once, then one per 20 ms");
    // A tick never comes early, so request N waits at least N ticks. (How
    // late it may come depends on the machine: not checked.)
    for (i, line) in lines[1..6].iter().enumerate() {
        let (n, at) = request(line);
        assert_eq!(n, i as u32 + 1, "{line}");
        assert!(at >= 20 * u128::from(n), "served too early: {line}");
    }
    // Bursty: three tokens are there at the start; then one per tick.
    for (i, line) in lines[7..].iter().enumerate() {
        let (n, at) = request(line);
        assert_eq!(n, i as u32 + 1, "{line}");
        if n > 3 {
            assert!(at >= 20 * u128::from(n - 3), "served too early: {line}");
        }
    }
}

/// A fresh directory under the system's temporary directory, removed when
/// dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "goscope-patterns-{tag}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, rel: &str, contents: &str) {
        let path = self.0.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Three files in nested directories, with FNV-1a 64 test vectors for
/// contents.
fn fill(dir: &TempDir) {
    dir.write("a.txt", "foobar");
    dir.write("sub/b.txt", "");
    dir.write("sub/deeper/c.txt", "a");
}

/// What `bounded_parallelism` prints for [`fill`]'s files, in path order.
const FILLED: [&str; 3] = [
    "85944171f73967e8  a.txt",
    "cbf29ce484222325  sub/b.txt",
    "af63dc4c8601ec8c  sub/deeper/c.txt",
];

#[test]
fn bounded_parallelism_digests_every_file() {
    let dir = TempDir::new("ok");
    fill(&dir);
    let out = run("bounded_parallelism", &[dir.arg(), "3"]).success("bounded_parallelism");
    let mut want = FILLED.to_vec();
    want.push("3 files digested by 3 workers; errors: 0");
    assert_eq!(out.lines(), want);
    assert_eq!(out.stderr, "");
}

#[test]
fn bounded_parallelism_defaults_to_the_examples_directory() {
    // Other files there may come and go while it runs, so an error is
    // possible; but it must then be reported.
    let out = run("bounded_parallelism", &[]);
    assert!(
        out.status.success() || out.stderr.starts_with("error: "),
        "failed without saying why ({})",
        out.status
    );
    let lines = out.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("  bounded_parallelism.rs")),
        "{lines:#?}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .contains(" files digested by 4 workers; errors: "),
        "{lines:#?}"
    );
}

#[test]
#[cfg(unix)]
fn bounded_parallelism_reports_errors() {
    // A dangling symbolic link cannot be read: it is reported, the other
    // files are still digested, and the exit status says something failed.
    let dir = TempDir::new("err");
    fill(&dir);
    std::os::unix::fs::symlink(dir.0.join("missing"), dir.0.join("broken")).unwrap();
    let out = run("bounded_parallelism", &[dir.arg(), "2"]);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", out.stderr);
    let mut want = FILLED.to_vec();
    want.push("3 files digested by 2 workers; errors: 1");
    assert_eq!(out.lines(), want);
    assert!(
        out.stderr.starts_with("error: broken: ") && out.stderr.lines().count() == 1,
        "stderr:\n{}",
        out.stderr
    );

    // A directory that does not exist is an error too, not an empty result.
    let missing = dir.0.join("no such directory");
    let out = run("bounded_parallelism", &[missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "stderr:\n{}", out.stderr);
}

#[test]
fn google_search() {
    let run = run("google_search", &[]).success("google_search");
    let mut lines = run.lines();
    // Go's output: `timed out` first if the 80 ms ran out, then the results
    // that came in time, then the elapsed time.
    let timed_out = lines.first() == Some(&"timed out");
    if timed_out {
        lines.remove(0);
    }
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    let results = lines[0]
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .expect("the results in brackets");
    let kinds: Vec<&str> = results
        .split(" result for \"golang\"")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    // At most one result of each kind (the first replica wins), from one of
    // its two replicas; all three unless the search timed out.
    let mut seen: Vec<&str> = kinds
        .iter()
        .map(|k| k.trim_end_matches(['1', '2']))
        .collect();
    for kind in &seen {
        assert!(["web", "image", "video"].contains(kind), "{}", run.stdout);
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), kinds.len(), "a kind twice: {}", run.stdout);
    if !timed_out {
        assert_eq!(kinds.len(), 3, "{}", run.stdout);
    }
    assert!(
        lines[1].ends_with("ms") || lines[1].ends_with('s'),
        "the elapsed time: {}",
        run.stdout
    );
}
