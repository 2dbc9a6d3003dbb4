//! Where events wait to be written: a buffer per thread, moved in chunks
//! to a global list that keeps the newest.
//!
//! A thread's buffer is behind a lock of its own, which only that thread
//! takes, except while the trace is being written (so a pool thread that is
//! idle, or a goroutine still running when the program ends, has its
//! events in the file too). Every [`CHUNK`] events, and when the thread
//! exits, its buffer moves to the global list. The list keeps at most
//! enough events to fill the file ([`cap`]): past that it drops the chunk
//! whose newest event is the oldest, so what stays is the end of the run.

use std::panic::Location;
use std::sync::{Arc, Mutex};

use super::LIMIT;
use crate::lock;
use crate::sched::park::Wait;

/// One thing that happened, on goroutine `gid`'s track (0: the process's).
#[derive(Clone, Debug)]
pub(crate) struct Event {
    /// Nanoseconds since the trace began (a slice's start).
    pub(crate) ts: u64,
    pub(crate) gid: u64,
    pub(crate) kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// The goroutine begins, started by the `go!` of flow `flow` (0: a
    /// root).
    Start { flow: u64 },
    /// The goroutine ends.
    End,
    /// It begins to wait on `what` at `site`.
    WaitBegin {
        what: Wait,
        site: &'static Location<'static>,
    },
    /// The wait on `what` at `site` ends.
    WaitEnd {
        what: Wait,
        site: &'static Location<'static>,
    },
    /// A value left with flow `flow`.
    Send { flow: u64 },
    /// A value that left with flow `flow` arrived.
    Receive { flow: u64 },
    /// A `go!` at `site` started the goroutine of flow `flow`.
    Go {
        site: &'static Location<'static>,
        flow: u64,
    },
    /// Something to mark: a panic, a cancellation, a report (boxed: rare,
    /// and every event is as large as the largest kind).
    Instant(Box<Mark>),
}

/// What an instant event marks: its name, and the text to show with it.
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub(crate) name: &'static str,
    pub(crate) text: Option<String>,
}

// What a thread's buffer holds per event (each kind's data fits in 16
// bytes; an instant's text is boxed).
const _: () = assert!(std::mem::size_of::<Event>() <= 40);

/// How many events a thread gathers before moving them to the global list.
const CHUNK: usize = 1024;

/// How many emptied chunks the list keeps for reuse.
const SPARE: usize = 64;

/// The fewest bytes an event takes in the file (an `E` of the life of
/// goroutine 1 in process 1 at time 0 takes 73).
const MIN_BYTES: usize = 64;

/// How many events the global list keeps: enough to fill a file of
/// [`LIMIT`] bytes.
fn cap() -> usize {
    LIMIT / MIN_BYTES
}

type Shared = Arc<Mutex<Vec<Event>>>;

/// The global list: full chunks, each with the time of its newest event.
pub(crate) struct Chunks {
    chunks: Vec<(u64, Vec<Event>)>,
    events: usize,
    /// Emptied chunks dropped from the list, for threads' next buffers
    /// (no allocation, no fresh pages, once the list is full).
    spare: Vec<Vec<Event>>,
}

impl Chunks {
    const fn new() -> Chunks {
        Chunks {
            chunks: Vec::new(),
            events: 0,
            spare: Vec::new(),
        }
    }

    /// An empty buffer for a thread.
    fn buffer(&mut self) -> Vec<Event> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK))
    }

    /// Adds `events`, then drops the chunks with the oldest newest events
    /// while more than `cap` events are kept.
    pub(crate) fn add(&mut self, events: Vec<Event>, cap: usize) {
        if events.is_empty() {
            return;
        }
        let newest = events.iter().map(|e| e.ts).max().unwrap_or(0);
        self.events += events.len();
        self.chunks.push((newest, events));
        while self.events > cap && self.chunks.len() > 1 {
            let oldest = (0..self.chunks.len())
                .min_by_key(|&i| self.chunks[i].0)
                .unwrap_or(0);
            let (_, mut dropped) = self.chunks.swap_remove(oldest);
            self.events -= dropped.len();
            if self.spare.len() < SPARE {
                dropped.clear();
                self.spare.push(dropped);
            }
        }
    }

    fn events(&self) -> impl Iterator<Item = &Event> {
        self.chunks.iter().flat_map(|(_, events)| events)
    }
}

/// The global list. Lock order: this, then a thread's buffer.
static CHUNKS: Mutex<Chunks> = Mutex::new(Chunks::new());

/// The buffers of the threads alive.
static LIVE: Mutex<Vec<Shared>> = Mutex::new(Vec::new());

/// This thread's buffer; moved to the global list when the thread exits.
struct Local(Shared);

impl Local {
    fn new() -> Local {
        let shared = Arc::new(Mutex::new(Vec::with_capacity(CHUNK)));
        lock(&LIVE).push(Arc::clone(&shared));
        Local(shared)
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        move_to_global(&self.0);
        lock(&LIVE).retain(|s| !Arc::ptr_eq(s, &self.0));
    }
}

thread_local! {
    static LOCAL: Local = Local::new();
}

/// Moves a thread's buffer to the global list.
fn move_to_global(shared: &Shared) {
    let mut chunks = lock(&CHUNKS);
    let fresh = chunks.buffer();
    let events = std::mem::replace(&mut *lock(shared), fresh);
    chunks.add(events, cap());
}

/// Records `event` in this thread's buffer. (Dropped during the thread's
/// exit, once its buffer is gone.)
pub(crate) fn push(event: Event) {
    let _ = LOCAL.try_with(|local| {
        let full = {
            let mut events = lock(&local.0);
            events.push(event);
            events.len() >= CHUNK
        };
        if full {
            move_to_global(&local.0);
        }
    });
}

/// Every event kept so far, in no order.
pub(crate) fn snapshot() -> Vec<Event> {
    let live: Vec<Shared> = lock(&LIVE).clone();
    // Held while the buffers are read: a buffer moving to the list is
    // seen in one place or the other, never both or neither.
    let chunks = lock(&CHUNKS);
    let mut events: Vec<Event> = chunks.events().cloned().collect();
    for shared in &live {
        events.extend(lock(shared).iter().cloned());
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts: u64) -> Event {
        Event {
            ts,
            gid: 1,
            kind: Kind::End,
        }
    }

    #[test]
    fn the_list_keeps_the_newest_chunks() {
        let mut chunks = Chunks::new();
        // Three threads' chunks, arriving out of order: the one whose
        // events are the oldest goes first.
        chunks.add((10..20).map(at).collect(), 20);
        chunks.add((0..10).map(at).collect(), 20);
        chunks.add((20..30).map(at).collect(), 20);
        let mut kept: Vec<u64> = chunks.events().map(|e| e.ts).collect();
        kept.sort_unstable();
        assert_eq!(kept, (10..30).collect::<Vec<_>>());
        assert_eq!(chunks.events, 20);
    }
}
