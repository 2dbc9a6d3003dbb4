//! The goroutine timeline: `GOSCOPE_TRACE=PATH` writes the run as Chrome
//! Trace Event JSON (Perfetto, `chrome://tracing`, speedscope).
//!
//! # The event model
//!
//! Every goroutine is a track (`pid` the process, `tid` the goroutine id,
//! named by a `thread_name` metadata event: `goroutine 7 (src/main.rs:12)`,
//! `goroutine 1 (main)`). On its track:
//! - its life, a `B`/`E` slice `goroutine N`, from the moment it begins to run
//!   (or the root's entry) to its end; a goroutine still running when the program
//!   ends has a `B` and no `E`, which the viewers show as unfinished;
//! - a slice (`B`/`E`) for every span in which it waits in a goscope
//!   operation, from `park::wait` to the drop of its `Waiting`, named by the
//!   [`Wait`] and the site (`chan receive src/main.rs:14`); a wait still in
//!   progress at the end (a deadlock, `SIGQUIT`) has its `B` only, so the
//!   viewers show it unfinished;
//! - zero-length slices where a value leaves (`chan send`) and arrives
//!   (`chan receive`), and where a `go!` starts a goroutine (`go
//!   src/main.rs:12`), each bound to a flow arrow (`bind_id` with
//!   `flow_out` / `flow_in`, the Trace Event format's flow binding) that
//!   ends at the receive that took the value, or at the life slice of the
//!   goroutine started;
//! - instant events (`i`) for a panic (message and location), a goroutine
//!   unwinding because its scope was cancelled or the detector ended it,
//!   and, on a process-wide track, a deadlock report or a `SIGQUIT` dump
//!   (the text in `args`).
//!
//! Flows bind to slices of their own rather than to the blocking slices:
//! Perfetto binds a flow event to the slice open on its track and directs
//! the arrow by the slices' start times, so a receive that began waiting
//! before the send would get an arrow backwards. A value leaves when it is
//! handed to a waiting receiver, put in the buffer, or offered by a sender
//! that queues; it arrives when the receiver takes it. A queued send that
//! never completes (a timeout, a `select!` arm not chosen) leaves a flow
//! with no end, which the viewers ignore.
//!
//! # Cost
//!
//! With the variable unset, every hook is one relaxed load of [`ON`] (set
//! once, at the first root's entry, and never cleared) and nothing else:
//! no allocation, no thread-local, no clock. With it set, events go to a
//! buffer per thread (one uncontended lock per event), moved to a global
//! list in chunks; the file is written once per root's end (and before the
//! process exits with a report), from everything recorded so far, so it is
//! complete however the program ends. Over [`LIMIT`] the file keeps the
//! last events (see [`buffer`]).

use std::cell::{Cell, RefCell};
use std::ffi::OsString;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::Instant;

use crate::lock;
use crate::sched::park::Wait;

mod buffer;
mod json;

use buffer::{Event, Kind, Mark};

/// The size of a trace file, in bytes, past which the oldest events are
/// left out: 100 MiB (where `go tool trace` splits a trace).
pub(crate) const LIMIT: usize = 100 << 20;

/// Whether the timeline is being recorded: set once, when the first root
/// starts with `GOSCOPE_TRACE` set.
static ON: AtomicBool = AtomicBool::new(false);

/// Where the trace goes.
static PATH: OnceLock<OsString> = OnceLock::new();

/// Time zero of the trace.
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Flow ids of values: odd numbers (a `go!`'s flow is twice the id of the
/// goroutine it starts), handed to threads [`FLOW_BLOCK`] at a time.
static NEXT_FLOW: AtomicU64 = AtomicU64::new(1);

/// How many flow ids a thread takes at once (one shared counter bumped by
/// every send would bounce between cores).
const FLOW_BLOCK: u64 = 1024;

/// What names each goroutine's track.
#[derive(Clone, Debug)]
pub(crate) enum Name {
    Main,
    /// A `#[goscope::test]` root, with its thread's name (libtest's name
    /// for the test).
    Test(Option<String>),
    Go(&'static Location<'static>),
}

/// Every goroutine seen, for the metadata events (never left out).
static NAMES: Mutex<Vec<(u64, Name)>> = Mutex::new(Vec::new());

thread_local! {
    /// The goroutine running on this thread; 0 when none.
    static GID: Cell<u64> = const { Cell::new(0) };
    /// This thread's next flow id and the end of its block.
    static FLOWS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// The waits in progress on this thread, on what and where (a wait
    /// nests only inside a `Drop` run during another): the end of a slice
    /// repeats its name, as speedscope needs.
    static WAITS: RefCell<Vec<(Wait, &'static Location<'static>)>> =
        const { RefCell::new(Vec::new()) };
}

/// Whether the timeline is being recorded. The only cost of every hook
/// when it is not.
#[inline]
pub(crate) fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Turns recording on if `GOSCOPE_TRACE` names a file (once per process).
fn start() {
    static START: Once = Once::new();
    START.call_once(|| {
        let Some(path) = std::env::var_os("GOSCOPE_TRACE").filter(|p| !p.is_empty()) else {
            return;
        };
        let _ = PATH.set(path);
        let _ = EPOCH.set(Instant::now());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            panicked(info);
            previous(info);
        }));
        ON.store(true, Ordering::Relaxed);
    });
}

/// Nanoseconds since the trace began.
fn now() -> u64 {
    EPOCH
        .get()
        .map_or(0, |epoch| epoch.elapsed().as_nanos() as u64)
}

/// The goroutine running on this thread, if recording; 0 otherwise.
fn current() -> u64 {
    if !on() {
        return 0;
    }
    GID.try_with(Cell::get).unwrap_or(0)
}

fn record(gid: u64, kind: Kind) {
    buffer::push(event(gid, kind));
}

fn event(gid: u64, kind: Kind) -> Event {
    Event {
        ts: now(),
        gid,
        kind,
    }
}

/// An event timed now and recorded when this is dropped: a channel
/// operation's, kept until the channel's lock is released (recording under
/// it would lengthen every partner's wait for the lock).
#[derive(Debug, Default)]
pub(crate) struct Later(Option<Event>);

impl Later {
    #[inline(never)]
    fn record(&mut self) {
        if let Some(event) = self.0.take() {
            buffer::push(event);
        }
    }

    fn set(&mut self, event: Event) {
        if let Some(earlier) = self.0.replace(event) {
            buffer::push(earlier);
        }
    }
}

impl Drop for Later {
    #[inline]
    fn drop(&mut self) {
        if self.0.is_some() {
            self.record();
        }
    }
}

fn name(gid: u64, name: Name) {
    lock(&NAMES).push((gid, name));
}

/// A root (`#[goscope::main]` or `#[goscope::test]` body, goroutine `id`)
/// begins on this thread. Turns recording on, the first time, if
/// `GOSCOPE_TRACE` is set.
pub(crate) fn root_begin(id: u64, main: bool) {
    start();
    if !on() {
        return;
    }
    GID.set(id);
    let test = || std::thread::current().name().map(str::to_string);
    name(id, if main { Name::Main } else { Name::Test(test()) });
    record(id, Kind::Start { flow: 0 });
}

/// Goroutine `id`, started by `parent`'s `go!` at `site`, begins on this
/// thread.
#[inline]
pub(crate) fn goroutine_begin(id: u64, parent: u64, site: Option<&'static Location<'static>>) {
    if on() {
        begin_slow(id, parent, site);
    }
}

fn begin_slow(id: u64, parent: u64, site: Option<&'static Location<'static>>) {
    let _ = GID.try_with(|g| g.set(id));
    if let Some(site) = site {
        name(id, Name::Go(site));
    }
    let flow = if parent == 0 { 0 } else { go_flow(id) };
    record(id, Kind::Start { flow });
}

/// The goroutine on this thread has ended.
#[inline]
pub(crate) fn goroutine_end() {
    if on() {
        end_slow();
    }
}

fn end_slow() {
    let gid = GID.try_with(|g| g.replace(0)).unwrap_or(0);
    if gid != 0 {
        record(gid, Kind::End);
    }
}

/// The flow id of the `go!` that starts goroutine `id`.
fn go_flow(id: u64) -> u64 {
    2 * id
}

/// A `go!` at `site` is starting goroutine `id`, in the goroutine on this
/// thread.
#[inline]
pub(crate) fn go(id: u64, site: &'static Location<'static>) {
    if on() {
        let gid = current();
        if gid != 0 {
            record(
                gid,
                Kind::Go {
                    site,
                    flow: go_flow(id),
                },
            );
        }
    }
}

/// The goroutine on this thread begins to wait on `what` at `site`.
#[inline]
pub(crate) fn wait_begin(what: Wait, site: &'static Location<'static>) {
    if on() {
        let gid = current();
        if gid != 0
            && WAITS
                .try_with(|w| w.borrow_mut().push((what, site)))
                .is_ok()
        {
            record(gid, Kind::WaitBegin { what, site });
        }
    }
}

/// The innermost wait of the goroutine on this thread has ended.
#[inline]
pub(crate) fn wait_end() {
    if on() {
        wait_end_slow();
    }
}

fn wait_end_slow() {
    let Some((what, site)) = WAITS.try_with(|w| w.borrow_mut().pop()).ok().flatten() else {
        // Began before recording did.
        return;
    };
    record(current(), Kind::WaitEnd { what, site });
}

/// A value leaves the goroutine on this thread (into a channel's buffer,
/// to a waiting receiver, or offered by a send that queues). Returns the
/// flow id that goes with the value; 0 when not recording.
#[inline]
pub(crate) fn send() -> u64 {
    if on() { send_slow() } else { 0 }
}

fn send_slow() -> u64 {
    let gid = current();
    if gid == 0 {
        // A timer's thread, or a thread goscope did not start.
        return 0;
    }
    let flow = next_flow();
    record(gid, Kind::Send { flow });
    flow
}

/// A fresh flow id for a value.
fn next_flow() -> u64 {
    let block = || NEXT_FLOW.fetch_add(2 * FLOW_BLOCK, Ordering::Relaxed);
    FLOWS
        .try_with(|f| {
            let (mut next, mut end) = f.get();
            if next == end {
                next = block();
                end = next + 2 * FLOW_BLOCK;
            }
            f.set((next + 2, end));
            next
        })
        .unwrap_or_else(|_| block())
}

/// The goroutine on this thread has taken a value that left with `flow`.
#[inline]
pub(crate) fn receive(flow: u64) {
    if flow != 0 && on() {
        let gid = current();
        if gid != 0 {
            record(gid, Kind::Receive { flow });
        }
    }
}

/// [`send`], recorded when `later` is dropped.
pub(crate) fn send_later(later: &mut Later) -> u64 {
    let gid = current();
    if gid == 0 {
        return 0;
    }
    let flow = next_flow();
    later.set(event(gid, Kind::Send { flow }));
    flow
}

/// [`receive`], recorded when `later` is dropped.
#[inline]
pub(crate) fn receive_later(flow: u64, later: &mut Later) {
    if flow != 0 && on() {
        let gid = current();
        if gid != 0 {
            later.set(event(gid, Kind::Receive { flow }));
        }
    }
}

/// The goroutine on this thread unwinds out of a wait: its scope was
/// cancelled, or (`by_detector()`) the deadlock detector ended it in a test.
#[inline]
pub(crate) fn unwinding(by_detector: fn() -> bool) {
    if on() {
        let gid = current();
        if gid != 0 {
            let name = if by_detector() {
                "ended by the deadlock detector"
            } else {
                "cancelled"
            };
            instant(gid, name, None);
        }
    }
}

fn instant(gid: u64, name: &'static str, text: Option<String>) {
    record(gid, Kind::Instant(Box::new(Mark { name, text })));
}

/// The panic hook's part: an instant event on the panicking goroutine's
/// track, with the message and location.
fn panicked(info: &std::panic::PanicHookInfo<'_>) {
    let gid = current();
    if gid == 0 {
        return;
    }
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>")
        .to_string();
    let text = match info.location() {
        Some(at) => format!(
            "panicked at {}:{}:{}:\n{message}",
            at.file(),
            at.line(),
            at.column()
        ),
        None => message,
    };
    instant(gid, "panic", Some(text));
}

/// A report about the whole process (a deadlock report for a test's
/// root): an instant event on the process's track, with the text.
pub(crate) fn report(name: &'static str, text: &str) {
    if on() {
        instant(0, name, Some(text.to_string()));
    }
}

/// The process is about to exit with `text` printed (a deadlock report, a
/// `SIGQUIT` dump): records it, then writes the trace.
pub(crate) fn fatal(name: &'static str, text: &str) {
    report(name, text);
    finish();
}

/// Writes the trace file from everything recorded so far (when a root
/// ends, and before the process exits). The goroutine on this thread, if
/// any (a root), ends here. Recording goes on: a later call writes the file
/// again, with the events since.
pub(crate) fn finish() {
    if !on() {
        return;
    }
    end_slow();
    let Some(path) = PATH.get() else { return };
    // One writer at a time; the last to write has seen the most.
    static WRITING: Mutex<()> = Mutex::new(());
    let _writing = lock(&WRITING);
    let events = buffer::snapshot();
    let names = lock(&NAMES).clone();
    if let Err(e) = json::write_file(path.as_ref(), &names, events, LIMIT) {
        eprintln!(
            "goscope: cannot write the trace to {} (GOSCOPE_TRACE): {e}",
            std::path::Path::new(path).display()
        );
    }
}
