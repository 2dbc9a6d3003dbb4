//! How many goroutines a process can have (issue 19) and what happens at
//! the limit (issue 17 item 4). Each program runs as a child process
//! (`src/bin/limits.rs`): they take the process, and for a moment the
//! machine, to tens of thousands of threads.
//!
//! One test at a time would be kinder to the machine; the tests share it
//! through [`MACHINE`], and each waits (a bounded wait) until the machine
//! has the threads it needs free, since other processes' threads count
//! against the same `kernel.pid_max`.
use std::process::Output;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Held by the test whose child is running: one child at a time.
static MACHINE: Mutex<()> = Mutex::new(());

/// How long a program at the limits may run before it counts as hung: twice
/// [`tests::TIMEOUT`], since it takes the machine to tens of thousands of
/// threads.
const LIMITS_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs a scenario of `src/bin/limits.rs`, failing the test if it has not
/// ended within [`LIMITS_TIMEOUT`].
fn run(args: &[&str]) -> Output {
    tests::Program::new(env!("CARGO_BIN_EXE_limits"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .timeout(LIMITS_TIMEOUT)
        .run()
}

fn read_number(path: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Threads on the whole machine (`/proc/loadavg`'s fourth field).
fn machine_threads() -> usize {
    let loadavg = std::fs::read_to_string("/proc/loadavg").expect("read /proc/loadavg");
    loadavg
        .split_whitespace()
        .nth(3)
        .and_then(|f| f.split_once('/'))
        .and_then(|(_, threads)| threads.parse().ok())
        .expect("threads in /proc/loadavg")
}

/// Waits until the machine has room for `n` more threads besides what
/// goscope keeps for other processes: other processes' threads count
/// against the same limit, so a busy machine would fail the test for the
/// wrong reason. Fails after 120 s (a bounded wait).
fn wait_for_room(n: usize) {
    let pid_max = read_number("/proc/sys/kernel/pid_max");
    let map_limit = read_number("/proc/sys/vm/max_map_count") / 2;
    assert!(
        n + 4096 <= pid_max.min(map_limit),
        "this machine's limits (kernel.pid_max = {pid_max}, vm.max_map_count / 2 = {map_limit}) \
         do not allow {n} goroutines"
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    // goscope keeps 1,024 threads for the machine; pid_max's first 300 ids
    // are the kernel's; and a margin for what starts meanwhile.
    while machine_threads() + n + 1024 + 300 + 1024 > pid_max {
        assert!(
            Instant::now() < deadline,
            "the machine has {} threads: no room for {n} more (kernel.pid_max = {pid_max})",
            machine_threads()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What a clean limit panic says: the cause and the limits that apply.
fn assert_clean_limit_panic(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: {}\n{stderr}",
        out.status
    );
    for needle in [
        "go!: cannot start a goroutine",
        "vm.max_map_count",
        "kernel.pid_max",
        "ulimit -u",
    ] {
        assert!(
            stderr.contains(needle),
            "{what}: no {needle:?} in\n{stderr}"
        );
    }
    assert!(!stderr.contains("fatal runtime error"), "{what}: {stderr}");
}

#[test]
fn twenty_five_thousand_live_goroutines_start_are_released_and_finish() {
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    for run_no in 1..=10 {
        wait_for_room(25_000);
        let out = run(&["live", "25000"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "run {run_no}: {}\n{stdout}\n{stderr}",
            out.status
        );
        assert!(
            stdout.contains("finished 25000") && stdout.contains("alive at once: 25000"),
            "run {run_no}: {stdout}"
        );
    }
}

#[test]
fn thirty_thousand_live_goroutines_run_or_get_the_clean_limit_panic() {
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    for run_no in 1..=3 {
        let out = run(&["live", "30000"]);
        if out.status.success() {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stdout.contains("finished 30000"), "run {run_no}: {stdout}");
        } else {
            assert_clean_limit_panic(&out, &format!("30,000 goroutines, run {run_no}"));
        }
    }
}

/// Issue 17 item 4: the limit's estimate predates 40,000 mappings the
/// program made after its first goroutine. Before, std's new thread failed
/// to map its signal stack and the process aborted (14 of 14 runs; 5 of 5
/// here); now the OS's refusal of the thread is `go!`'s clean panic.
#[test]
fn a_program_that_maps_40k_regions_gets_the_clean_limit_panic() {
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    for run_no in 1..=5 {
        wait_for_room(15_000);
        let out = run(&["mapped_then_live", "30000"]);
        assert_clean_limit_panic(&out, &format!("40k mappings, run {run_no}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The mappings, not the threads, were the limit: far fewer than
        // 25,000 goroutines started.
        assert!(
            stderr.contains("the OS refused a new thread")
                || stderr.contains("memory mappings in use"),
            "run {run_no}: {stderr}"
        );
        let started: usize = stderr
            .split("the process is at its limit of OS threads (")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("run {run_no}: no count in {stderr}"));
        assert!(started < 15_000, "run {run_no}: {started} started");
    }
}

#[test]
fn a_goroutine_thread_uses_two_memory_mappings() {
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    wait_for_room(2_000);
    let out = run(&["maps_per_goroutine", "2000"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let each: f64 = stdout
        .trim()
        .strip_prefix("mappings per goroutine: ")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stdout:?}"));
    // Glibc's stack and guard page; a little more for the signal-stack
    // pool (a mapping per 256 threads) and malloc's arenas.
    assert!((1.95..=2.05).contains(&each), "{each} mappings each");
}
