//! Runs the `philosophers` example both ways: the ordered forks finish; the
//! left-fork-first variant deadlocks and is reported as Go reports it.

mod runner;

const SOURCE: &str = "examples/philosophers.rs";

/// Runs the example with `args`: (status, stdout, stderr).
fn run(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let run = runner::run("philosophers", args);
    (run.status, run.stdout, run.stderr)
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
