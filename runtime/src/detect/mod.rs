//! The deadlock and leak detector.
//!
//! # How it decides
//!
//! Every thread that runs goroutines has a [`Slot`]: pool workers from the
//! moment they start, and the thread running a `#[goscope::main]` or
//! `#[goscope::test]` body (a *root*) while the body runs. A slot holds the
//! goroutine running on it and, while that goroutine waits in a goscope
//! operation that only another goroutine can complete, what it waits on.
//!
//! The fast path of every operation (a buffered send or receive that
//! completes at once, a spawn) touches none of this; an operation that is
//! about to park (and every unbuffered one) marks only its own slot (a
//! blocked bit and a counter of marks), so goroutines blocking and waking on
//! different threads never contend on detector state.
//!
//! A monitor thread looks every [`POLL`]. It reports a deadlock only when,
//! at every one of several looks spread over [`GRACE`]:
//! - every tracked goroutine is blocked (the blocked slots number the active
//!   roots plus the live goroutines), with no mark, unmark, spawn or exit
//!   since the first look;
//! - every thread of the process is one goscope knows (a pool worker, a root,
//!   the monitor, and under the test harness its main thread): a thread
//!   goscope did not start might hold a channel end and complete an operation
//!   at any time, so its mere existence keeps the detector silent;
//!
//! and, at the last look, no goscope thread is runnable (`R` in
//! `/proc/self/task/TID/stat`): a goroutine whose operation another one has
//! just completed is runnable until it has run and unmarked itself, however
//! long the scheduler keeps it waiting.
//!
//! What is never counted as blocked: sleeping, computing, I/O, waiting on a
//! `std::sync::Mutex` or anything else outside goscope, and goscope operations
//! that end by themselves (`recv_timeout`, `send_timeout`, a `select!` with
//! an `after`/`tick` arm, receiving from `after`/`tick`).
//!
//! Conservative by design, it stays silent: without
//! `#[goscope::main]`/`#[goscope::test]` (the main thread is then foreign); off
//! Linux (no `/proc`); while any foreign thread is alive (a test's helper
//! thread, a library's thread pool); and while any goroutine is untracked
//! (started under `deadlock = "off"`) or running (a leaked busy goroutine of
//! another test delays reports in the same process until it ends).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::lock;
use crate::sched::park::{self, BLOCKED_BIT, GInfo, RootSlot, Slot, TIMED_BIT, Wait};

pub(crate) use crate::sched::dump::describe;

#[cfg(unix)]
mod signal;

#[cfg(unix)]
pub(crate) use signal::dump_on_sigquit;

/// How long every goroutine must stay blocked before a deadlock is reported.
pub(crate) const GRACE: Duration = Duration::from_millis(200);

/// How often the monitor looks for a deadlock.
const POLL: Duration = Duration::from_millis(50);

/// Set when any root runs under the test harness: its main thread is then
/// libtest's, which waits for test results and touches no channel.
static UNDER_TEST_HARNESS: AtomicBool = AtomicBool::new(false);

/// A root: the thread running a `#[goscope::main]` or `#[goscope::test]` body.
pub(crate) struct Root {
    slot: RootSlot,
}

/// Makes this thread a root for as long as the returned guard lives; starts
/// the monitor if the root is watched.
pub(crate) fn enter_root(main: bool, deadlock: bool) -> Root {
    if !main {
        UNDER_TEST_HARNESS.store(true, Ordering::Relaxed);
    }
    let tracked = deadlock && park::detection_enabled();
    let slot = park::enter_root(main, tracked);
    if tracked {
        start_monitor();
    }
    Root { slot }
}

impl Root {
    /// The deadlock report, if the detector ended this root's goroutines.
    pub(crate) fn take_report(&self) -> Option<String> {
        lock(&self.slot.slot.report).take()
    }

    /// Goroutines of this root that are still alive (detached ones: scoped
    /// ones have been joined), waiting up to `patience` for them to end.
    pub(crate) fn leaked(&self, patience: Duration) -> Option<String> {
        let deadline = Instant::now() + patience;
        let id = self.slot.id;
        while self.slot.live.load(Ordering::SeqCst) > 1 {
            if Instant::now() >= deadline {
                return Some(describe(|info| info.root == id && info.id != id));
            }
            thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

fn tracked() -> usize {
    park::roots() + park::spawned()
}

static MONITOR: OnceLock<Thread> = OnceLock::new();

fn start_monitor() {
    MONITOR.get_or_init(|| {
        thread::Builder::new()
            .name("goscope deadlock detector".into())
            .spawn(monitor)
            .expect("goscope: failed to start the deadlock detector thread")
            .thread()
            .clone()
    });
}

/// (marks so far, blocked goroutines, tracked goroutines).
fn snapshot() -> (u64, usize, usize) {
    let tracked = tracked();
    park::with_slots(|slots| {
        let (mut marks, mut blocked) = (park::retired_marks(), 0usize);
        for slot in slots {
            let state = slot.state();
            marks = marks.wrapping_add(state >> 2);
            if state & BLOCKED_BIT != 0 {
                blocked += 1;
            } else if state & TIMED_BIT != 0 {
                // Waiting on timer channels: blocked once no timer is armed
                // (a stopped or fired `Timer`, a spent `after`).
                let dead = slot
                    .lock()
                    .as_ref()
                    .and_then(|c| c.blocked.as_ref().map(park::Blocked::is_blocking))
                    .unwrap_or(false);
                blocked += usize::from(dead);
            }
        }
        (marks, blocked, tracked)
    })
}

fn all_blocked(s: (u64, usize, usize)) -> bool {
    s.2 > 0 && s.1 == s.2
}

fn monitor() {
    own_thread();
    let me = park::own_tid();
    loop {
        thread::sleep(POLL);
        if looks_deadlocked(me) {
            deadlock();
            // Give the ended goroutines time to unwind before looking again.
            thread::sleep(GRACE);
        }
    }
}

/// Whether the process looks deadlocked now, and has for [`GRACE`]: every
/// tracked goroutine blocked, no mark, unmark, spawn or exit between the
/// looks, no thread goscope did not start at any look (one could complete an
/// operation and exit in between), and, at the end, no goscope thread
/// runnable (a goroutine whose operation was just completed is runnable
/// until it runs and unmarks itself, however long the scheduler makes it
/// wait).
fn looks_deadlocked(me: Option<u32>) -> bool {
    let first = snapshot();
    if !all_blocked(first) || foreign_threads(me) {
        return false;
    }
    if PENDING_CALLS.load(Ordering::SeqCst) > 0 {
        // An `after_func` will run: it may complete what they wait for.
        return false;
    }
    if crate::sched::pool::flush_idle_threads() {
        // Look again once they are gone.
        return false;
    }
    let steps = 4;
    for _ in 0..steps {
        thread::sleep(GRACE / steps);
        if snapshot() != first || foreign_threads(me) {
            return false;
        }
    }
    !runnable_threads(me) && snapshot() == first && PENDING_CALLS.load(Ordering::SeqCst) == 0
}

/// Whether a thread goscope knows, other than the monitor, is running or
/// runnable (state `R` in `/proc/self/task/TID/stat`); true if that cannot
/// be read.
fn runnable_threads(me: Option<u32>) -> bool {
    let tids: Vec<u32> = park::with_slots(|slots| slots.iter().filter_map(|s| s.tid).collect());
    tids.into_iter().filter(|&tid| Some(tid) != me).any(|tid| {
        match std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) {
            // The state follows the command name, which is in parentheses
            // and may contain anything: read it after the last `)`.
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                .is_none_or(|state| state == 'R'),
            // The thread has just exited: something happened.
            Err(_) => true,
        }
    })
}

/// Threads goscope runs for itself (the timer thread, the signal thread):
/// never goroutines, never foreign.
static OWN_THREADS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Marks the current thread as one of goscope's own service threads, so the
/// detector does not take it for a foreign thread that could hold a channel
/// end. Such a thread must never block on a channel that a goroutine waits
/// on for the program to progress (it is not counted as a goroutine).
pub(crate) fn own_thread() {
    if let Some(tid) = park::own_tid() {
        lock(&OWN_THREADS).push(tid);
    }
}

/// `after_func` timers armed and not yet fired (Go's `checkdead` is silent
/// while any timer is pending; goscope only for those that run code).
static PENDING_CALLS: AtomicUsize = AtomicUsize::new(0);

/// An `after_func` timer was armed (`true`), or fired or stopped (`false`).
pub(crate) fn pending_call(armed: bool) {
    if armed {
        PENDING_CALLS.fetch_add(1, Ordering::SeqCst);
    } else {
        PENDING_CALLS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether the process has a thread goscope did not start.
fn foreign_threads(me: Option<u32>) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return true;
    };
    let mut known: HashSet<u32> = park::with_slots(|slots| {
        slots
            .iter()
            .filter(|s| !s.is_guest)
            .filter_map(|s| s.tid)
            .collect()
    });
    known.extend(me);
    known.extend(lock(&OWN_THREADS).iter().copied());
    if UNDER_TEST_HARNESS.load(Ordering::Relaxed) {
        known.insert(std::process::id());
    }
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .any(|tid| !known.contains(&tid))
}

/// Reports the deadlock: a `#[goscope::main]` program exits with status 2; a
/// test's goroutines are ended, and its root fails with the report.
fn deadlock() {
    let slots: Vec<Arc<Slot>> = park::slots();
    let main = slots.iter().find(|s| s.is_main);
    if main.is_some() {
        let report = describe(|_| true);
        let help = scope_help(&slots, |_| true);
        eprintln!("fatal error: all goroutines are asleep - deadlock!\n\n{report}{help}");
        crate::trace::fatal(
            "deadlock",
            &format!("fatal error: all goroutines are asleep - deadlock!\n\n{report}{help}"),
        );
        std::process::exit(2);
    }
    for root in slots.iter().filter(|s| s.is_root) {
        let Some(id) = root.lock().as_ref().map(|c| c.info.id) else {
            continue;
        };
        let report = describe(|info| info.root == id);
        let help = scope_help(&slots, |info| info.root == id);
        *lock(&root.report) = Some(format!(
            "fatal error: all goroutines are asleep - deadlock!\n\n{report}{help}"
        ));
        crate::trace::report(
            "deadlock",
            lock(&root.report).as_deref().unwrap_or_default(),
        );
    }
    for slot in &slots {
        // Only the goroutines in the report: an idle pool thread must stay
        // usable for the next test.
        let in_report = slot
            .lock()
            .as_ref()
            .is_some_and(|c| c.info.tracked && c.blocked.is_some());
        if in_report {
            park::end(slot);
        }
    }
}

/// The hint for a deadlock in which a root waits for its scope: where it
/// waits, and the remedies that fit what its goroutines are blocked on.
fn scope_help(slots: &[Arc<Slot>], select: impl Fn(&GInfo) -> bool) -> String {
    let mut root_wait = None;
    let mut receivers = false;
    for slot in slots {
        let current = slot.lock();
        let Some(c) = current.as_ref().filter(|c| select(&c.info)) else {
            continue;
        };
        let Some(blocked) = &c.blocked else { continue };
        if slot.is_root {
            if blocked.what == Wait::Scope {
                root_wait = Some((c.info.id, blocked.site));
            }
        } else if matches!(blocked.what, Wait::ChanReceive | Wait::Select) {
            receivers = true;
        }
    }
    let Some((id, site)) = root_wait else {
        return String::new();
    };
    let mut help = format!(
        "\nhelp: goroutine {id} waits at {site} for the goroutines of its scope to finish, and \
         they cannot:\n"
    );
    if receivers {
        help.push_str(
            "  - a goroutine waits to receive: if this function still holds that channel's \
             Sender, drop it before the function's end (`drop(tx)`, or `defer!(drop(tx))` \
             where Go has `defer close(ch)`), so the channel closes and the receive ends\n",
        );
    }
    help.push_str(
        "  - to let the function return without waiting for a goroutine (a timeout, the \
         first response wins), start that goroutine with `go!(static ...)`: it must then \
         own its data\n  - to wait for one phase's goroutines in the middle of a function, \
         start them inside a `scope! { ... }` block\n",
    );
    help
}
