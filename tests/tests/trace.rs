//! The goroutine timeline (SPEC.md, "Goroutine timeline"): the programs of
//! `src/bin/traced.rs` run as child processes with `GOSCOPE_TRACE` set, and
//! their trace files (Chrome Trace Event JSON) are parsed and checked.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The scenarios' source file, as the trace names it.
const SOURCE: &str = "tests/src/bin/traced.rs";

/// The line of the scenarios' source that contains `needle` (1-based).
fn line_of(needle: &str) -> usize {
    let source = include_str!("../src/bin/traced.rs");
    let index = source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in {SOURCE}"));
    index + 1
}

/// `SOURCE:line` of `needle`.
fn site(needle: &str) -> String {
    format!("{SOURCE}:{}", line_of(needle))
}

/// Where a scenario's trace goes.
fn trace_path(scenario: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "goscope-trace-{scenario}-{}.json",
        std::process::id()
    ))
}

fn spawn(scenario: &str, trace: Option<&PathBuf>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_traced"));
    command
        .arg(scenario)
        .env_remove("GOSCOPE_TRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(trace) = trace {
        command.env("GOSCOPE_TRACE", trace);
    }
    command.spawn().expect("start the traced binary")
}

/// Waits for `child`, killing it (and failing) after 30 s: only a guard
/// against a hang.
fn wait(mut child: Child, scenario: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("scenario {scenario} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs `scenario` with `GOSCOPE_TRACE` set; its output and its trace.
fn run(scenario: &str) -> (Output, Trace) {
    let path = trace_path(scenario);
    let _ = std::fs::remove_file(&path);
    let output = wait(spawn(scenario, Some(&path)), scenario);
    (output, Trace::read(&path))
}

/// A parsed trace file.
struct Trace {
    events: Vec<Value>,
}

/// A slice on one track: its name, start and end (µs); `None` for a slice
/// that never ended.
#[derive(Debug)]
struct Slice {
    name: String,
    start: f64,
    end: Option<f64>,
}

impl Trace {
    fn read(path: &PathBuf) -> Trace {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("no trace at {}: {e}", path.display()));
        let _ = std::fs::remove_file(path);
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the trace is not JSON ({e}):\n{text}"));
        let events = json["traceEvents"]
            .as_array()
            .expect("a traceEvents array")
            .clone();
        Trace { events }
    }

    /// Each goroutine's track name, by goroutine id.
    fn tracks(&self) -> BTreeMap<u64, String> {
        self.events
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
            .map(|e| {
                let tid = e["tid"].as_u64().unwrap();
                (tid, e["args"]["name"].as_str().unwrap().to_string())
            })
            .collect()
    }

    /// The events on goroutine `tid`'s track, in time order.
    fn on(&self, tid: u64) -> Vec<&Value> {
        let mut events: Vec<&Value> = self
            .events
            .iter()
            .filter(|e| e["ph"] != "M" && e["tid"].as_u64() == Some(tid))
            .collect();
        events.sort_by(|a, b| ts(a).total_cmp(&ts(b)));
        events
    }

    /// The `B`/`E` slices of `tid`'s track, matched as a stack.
    fn slices(&self, tid: u64) -> Vec<Slice> {
        let mut done = Vec::new();
        let mut open: Vec<Slice> = Vec::new();
        for e in self.on(tid) {
            let name = e["name"].as_str().unwrap_or_default().to_string();
            match e["ph"].as_str() {
                Some("B") => open.push(Slice {
                    name,
                    start: ts(e),
                    end: None,
                }),
                Some("E") => {
                    let mut slice = open.pop().expect("an E closes a B");
                    assert_eq!(slice.name, name, "an E is named as its B");
                    slice.end = Some(ts(e));
                    done.push(slice);
                }
                _ => {}
            }
        }
        done.extend(open);
        done
    }

    /// The instant events named `name`.
    fn instants(&self, name: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["ph"] == "i" && e["name"] == name)
            .collect()
    }
}

fn ts(e: &Value) -> f64 {
    e["ts"].as_f64().expect("a ts")
}

/// One end of a flow arrow: the track, the event's name and phase, when.
#[derive(Debug, Clone)]
struct End {
    tid: u64,
    name: String,
    ph: String,
    ts: f64,
}

/// Flow arrows by id: (where it starts, where it ends).
fn flows(trace: &Trace) -> BTreeMap<u64, (Vec<End>, Vec<End>)> {
    let mut flows: BTreeMap<u64, (Vec<End>, Vec<End>)> = BTreeMap::new();
    for e in &trace.events {
        let Some(id) = e["bind_id"].as_u64() else {
            continue;
        };
        let end = End {
            tid: e["tid"].as_u64().unwrap(),
            name: e["name"].as_str().unwrap().to_string(),
            ph: e["ph"].as_str().unwrap().to_string(),
            ts: ts(e),
        };
        let entry = flows.entry(id).or_default();
        if e["flow_out"] == true {
            entry.0.push(end);
        } else {
            assert_eq!(e["flow_in"], true, "a flow event has a direction: {e}");
            entry.1.push(end);
        }
    }
    flows
}

#[test]
fn a_worker_pool_trace_has_its_goroutines_waits_and_every_message() {
    let (output, trace) = run("worker_pool");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A track per goroutine: main, and three workers named by their go!.
    let tracks = trace.tracks();
    assert_eq!(
        tracks.get(&1).map(String::as_str),
        Some("goroutine 1 (main)")
    );
    let go_site = site("// go: worker");
    let workers: Vec<u64> = tracks
        .iter()
        .filter(|(_, name)| name.ends_with(&format!("({go_site})")))
        .map(|(tid, _)| *tid)
        .collect();
    assert_eq!(workers.len(), 3, "{tracks:?}");
    assert_eq!(tracks.len(), 4, "{tracks:?}");
    for &w in &workers {
        assert_eq!(tracks[&w], format!("goroutine {w} ({go_site})"));
    }

    // Every goroutine lives in one slice that ended (the program returned),
    // and every wait is named by its operation and its place in the source.
    for &tid in tracks.keys() {
        let slices = trace.slices(tid);
        assert!(
            slices.iter().all(|s| s.end.is_some()),
            "goroutine {tid}: {slices:?}"
        );
        let life: Vec<_> = slices
            .iter()
            .filter(|s| s.name == format!("goroutine {tid}"))
            .collect();
        assert_eq!(life.len(), 1, "goroutine {tid}: {slices:?}");
        for s in &slices {
            if s.name != format!("goroutine {tid}") {
                let (_, at) = s.name.rsplit_once(' ').unwrap();
                let line = at.strip_prefix(&format!("{SOURCE}:"));
                assert!(
                    line.is_some_and(|l| l.parse::<usize>().is_ok()),
                    "a wait without its location: {s:?}"
                );
                assert!(s.start >= life[0].start && s.end <= life[0].end);
            }
        }
    }

    // Each job's 5 ms of work is a sleep slice on a worker's track.
    let sleep = format!("sleep {}", site("// sleep: work"));
    let sleeps: Vec<Slice> = workers
        .iter()
        .flat_map(|&w| trace.slices(w))
        .filter(|s| s.name == sleep)
        .collect();
    assert_eq!(sleeps.len(), 5, "{sleeps:?}");
    assert!(sleeps.iter().all(|s| s.end.unwrap() - s.start >= 5000.0));

    // Each result is a rendezvous: exactly one side waited, the worker's
    // send or main's receive.
    let send_result = format!("chan send {}", site("// send: result"));
    let receive_result = format!("chan receive {}", site("// receive: result"));
    let sends = workers
        .iter()
        .flat_map(|&w| trace.slices(w))
        .filter(|s| s.name == send_result)
        .count();
    let receives = trace
        .slices(1)
        .iter()
        .filter(|s| s.name == receive_result)
        .count();
    assert_eq!(
        sends + receives,
        5,
        "{sends} sends and {receives} receives waited"
    );

    // Flows: each starts once and ends once, on another track, later.
    let flows = flows(&trace);
    for (id, (outs, ins)) in &flows {
        assert_eq!(
            (outs.len(), ins.len()),
            (1, 1),
            "flow {id}: {outs:?} -> {ins:?}"
        );
        assert_ne!(outs[0].tid, ins[0].tid, "flow {id}");
        assert!(outs[0].ts <= ins[0].ts, "flow {id} goes back in time");
    }
    // From each go! in main to the life of the worker it started.
    let go = format!("go {go_site}");
    let mut started: Vec<u64> = flows
        .values()
        .filter(|(outs, _)| outs[0].name == go)
        .map(|(outs, ins)| {
            assert_eq!(outs[0].tid, 1);
            assert_eq!(
                (ins[0].ph.as_str(), ins[0].name.clone()),
                ("B", format!("goroutine {}", ins[0].tid))
            );
            ins[0].tid
        })
        .collect();
    started.sort_unstable();
    assert_eq!(started, workers);
    // One flow per message: each job from main to a worker, each result
    // from a worker to main.
    let messages: Vec<(u64, u64)> = flows
        .values()
        .filter(|(outs, ins)| outs[0].name == "chan send" && ins[0].name == "chan receive")
        .map(|(outs, ins)| (outs[0].tid, ins[0].tid))
        .collect();
    let jobs = messages
        .iter()
        .filter(|(from, to)| *from == 1 && workers.contains(to))
        .count();
    let results = messages
        .iter()
        .filter(|(from, to)| workers.contains(from) && *to == 1)
        .count();
    assert_eq!((jobs, results), (5, 5), "{messages:?}");
    assert_eq!(flows.len(), 3 + 10, "{flows:?}");
}

#[test]
fn a_deadlocked_programs_trace_has_the_report_and_the_waits() {
    let (output, trace) = run("deadlock");
    assert_eq!(output.status.code(), Some(2));
    let report = trace.instants("deadlock");
    assert_eq!(report.len(), 1, "{:?}", trace.events);
    let text = report[0]["args"]["report"].as_str().unwrap();
    assert!(
        text.starts_with("fatal error: all goroutines are asleep - deadlock!"),
        "{text}"
    );
    assert!(text.contains("goroutine 1 [chan receive]"), "{text}");
    // The waits that never ended are slices that never ended.
    let main: Vec<Slice> = trace.slices(1);
    let stuck = format!("chan receive {}", site("// receive: stuck"));
    assert!(
        main.iter().any(|s| s.name == stuck && s.end.is_none()),
        "{main:?}"
    );
    let tracks = trace.tracks();
    let go_site = site("// go: stuck");
    let (&other, _) = tracks
        .iter()
        .find(|(_, name)| name.ends_with(&format!("({go_site})")))
        .expect("the goroutine's track");
    assert!(
        trace
            .slices(other)
            .iter()
            .any(|s| s.name.starts_with("chan receive ") && s.end.is_none()),
        "{:?}",
        trace.slices(other)
    );
}

#[test]
fn a_panicking_programs_trace_has_the_panic_and_the_cancellation() {
    let (output, trace) = run("panic");
    assert_eq!(output.status.code(), Some(2));
    let panics = trace.instants("panic");
    assert_eq!(panics.len(), 1, "{:?}", trace.events);
    assert_eq!(panics[0]["tid"], 1);
    let message = panics[0]["args"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "panicked at {}:{}:\nmain gives up",
            site("// panic: main"),
            5
        )
    );
    // The goroutine waiting when main panicked unwound, cancelled.
    let cancelled = trace.instants("cancelled");
    assert_eq!(cancelled.len(), 1, "{:?}", trace.events);
    assert_ne!(cancelled[0]["tid"], 1);
}

#[test]
fn a_detached_goroutines_panic_is_in_the_trace() {
    let (output, trace) = run("detached_panic");
    assert_eq!(output.status.code(), Some(2));
    let panics = trace.instants("panic");
    assert_eq!(panics.len(), 1, "{:?}", trace.events);
    let message = panics[0]["args"]["message"].as_str().unwrap();
    assert!(
        message.contains("a detached goroutine gives up"),
        "{message}"
    );
    assert_ne!(panics[0]["tid"], 1);
}

#[test]
fn values_taken_and_sent_by_select_have_their_flows() {
    let (output, trace) = run("select");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let messages: Vec<(u64, u64)> = flows(&trace)
        .values()
        .filter(|(outs, ins)| outs[0].name == "chan send" && !ins.is_empty())
        .map(|(outs, ins)| {
            assert_eq!(ins.len(), 1);
            assert_eq!(ins[0].name, "chan receive");
            (outs[0].tid, ins[0].tid)
        })
        .collect();
    let other = messages
        .iter()
        .find(|(from, _)| *from != 1)
        .map(|(from, _)| *from)
        .expect("a message from the goroutine");
    let mut messages = messages;
    messages.sort_unstable();
    assert_eq!(messages, [(1, other), (other, 1)]);
}

#[cfg(unix)]
#[test]
fn a_trace_is_complete_after_sigquit() {
    let path = trace_path("sigquit");
    let _ = std::fs::remove_file(&path);
    let mut child = spawn("sigquit", Some(&path));
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .any(|l| l.is_ok_and(|l| l == "ready"));
    assert!(ready, "the scenario never got ready");
    let kill = Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let output = wait(child, "sigquit");
    assert_eq!(output.status.code(), Some(2));
    let trace = Trace::read(&path);
    let dump = trace.instants("SIGQUIT");
    assert_eq!(dump.len(), 1, "{:?}", trace.events);
    assert!(
        dump[0]["args"]["report"]
            .as_str()
            .unwrap()
            .contains("goroutine 1 [sleep]"),
        "{}",
        dump[0]
    );
    // main is still asleep.
    let asleep = format!("sleep {}", site("sleep(Duration::from_secs(60))"));
    assert!(
        trace
            .slices(1)
            .iter()
            .any(|s| s.name == asleep && s.end.is_none())
    );
}

/// Set in the child process of [`a_test_roots_trace_is_written_when_it_ends`].
const CHILD: &str = "GOSCOPE_TRACE_TEST_CHILD";

/// The child's test: a goroutine sends main a value. Does nothing in the
/// ordinary run of this file.
#[goscope::test]
fn traced_test_root() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (tx, rx) = goscope::chan(0);
    goscope::go!(move || tx.send(7).unwrap()); // go: test
    assert_eq!(rx.recv(), Some(7));
}

#[test]
fn a_test_roots_trace_is_written_when_it_ends() {
    let path = trace_path("test_root");
    let _ = std::fs::remove_file(&path);
    let exe = std::env::current_exe().expect("the test executable");
    let child = Command::new(exe)
        .args(["traced_test_root", "--exact"])
        .env(CHILD, "1")
        .env("GOSCOPE_TRACE", &path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("re-run the test executable");
    let output = wait(child, "test_root");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let trace = Trace::read(&path);
    let tracks = trace.tracks();
    let (&root, name) = tracks
        .iter()
        .find(|(_, name)| name.contains("(test"))
        .unwrap_or_else(|| panic!("no test root track: {tracks:?}"));
    assert_eq!(*name, format!("goroutine {root} (test traced_test_root)"));
    let flows = flows(&trace);
    let go = format!("go tests/tests/trace.rs:{}", {
        let source = include_str!("trace.rs");
        1 + source
            .lines()
            .position(|l| l.ends_with("// go: test"))
            .unwrap()
    });
    assert!(
        flows
            .values()
            .any(|(outs, ins)| outs[0].name == go && outs[0].tid == root && ins[0].tid != root),
        "{flows:?}"
    );
    assert!(
        flows.values().any(|(outs, ins)| outs[0].name == "chan send"
            && ins[0].name == "chan receive"
            && ins[0].tid == root),
        "{flows:?}"
    );
    // The root's life ended with the test.
    assert!(trace.slices(root).iter().all(|s| s.end.is_some()));
}
