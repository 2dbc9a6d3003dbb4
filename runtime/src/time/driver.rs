//! The timer thread: one thread serves every [`Timer`](super::Timer),
//! [`Ticker`](super::Ticker), [`after_func`](super::after_func) and context
//! deadline of the process.
//!
//! Deadlines wait in an ordered map keyed by (deadline, id). The thread
//! sleeps (`park_timeout`) until the earliest one, fires every entry whose
//! deadline has passed, and sleeps again; scheduling an entry earlier than
//! all others unparks it. A timer costs a map entry and its own small
//! state, never a thread.
//!
//! Entries are fired *after* the map's lock is released, so a target may
//! schedule again (a ticker's next tick) from `fire`. A target must check,
//! under its own lock, that the key it is fired with is still the one it
//! armed: a `stop` or `reset` that ran between the pop and the fire has
//! moved on, and the stale firing must do nothing. Lock order: a target's
//! own lock, then the map's; the thread never holds the map's lock while
//! firing.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::lock;
use crate::sched::{bubble, park};

pub(crate) use crate::sched::bubble::{Fire, Key};

struct Driver {
    timers: Mutex<BTreeMap<Key, Arc<dyn Fire>>>,
    thread: Thread,
}

static DRIVER: LazyLock<Driver> = LazyLock::new(|| {
    let thread = thread::Builder::new()
        .name("goscope timer".into())
        .spawn(run)
        .expect("goscope: failed to start the timer thread")
        .thread()
        .clone();
    Driver {
        timers: Mutex::new(BTreeMap::new()),
        thread,
    }
});

/// How far away a deadline that overflows `Instant` is put: far enough to
/// never fire in practice, near enough to be representable.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `now + d`, saturating at [`FAR_FUTURE`]; on the bubble's clock in a
/// synctest bubble.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = park::now();
    now.checked_add(d).unwrap_or(now + FAR_FUTURE)
}

/// Arms `target` to be fired at `when`: by the timer thread, or, in a
/// synctest bubble, by the bubble when its clock gets there.
pub(crate) fn schedule(when: Instant, target: Arc<dyn Fire>) -> Key {
    if let Some(bubble) = park::current_bubble() {
        return bubble.schedule(when, target);
    }
    let driver = &*DRIVER;
    let mut timers = lock(&driver.timers);
    let key = Key::new(when, 0);
    let earliest = timers
        .first_key_value()
        .is_none_or(|(first, _)| key < *first);
    timers.insert(key, target);
    drop(timers);
    if earliest {
        // The thread sleeps until the old earliest deadline (or forever):
        // make it look again. A thread that is awake keeps the token and
        // does not sleep past this deadline either.
        driver.thread.unpark();
    }
    key
}

/// Disarms `key`; false if it was not armed (fired, or being fired now).
pub(crate) fn unschedule(key: Key) -> bool {
    if key.bubble() != 0 {
        return bubble::unschedule(key);
    }
    lock(&DRIVER.timers).remove(&key).is_some()
}

/// The timer thread's loop.
fn run() {
    // Not a goroutine and never foreign: it only sends on timer channels
    // (which never block) and starts `after_func` goroutines.
    crate::detect::own_thread();
    let driver = &*DRIVER;
    let mut due = Vec::new();
    loop {
        let now = Instant::now();
        let next = {
            let mut timers = lock(&driver.timers);
            while let Some(entry) = timers.first_entry() {
                if entry.key().when() > now {
                    break;
                }
                let (key, target) = entry.remove_entry();
                due.push((key, target));
            }
            timers.first_key_value().map(|(key, _)| key.when())
        };
        for (key, target) in due.drain(..) {
            // A panic here (an `after_func` goroutine the OS refused to
            // start) must not take every other timer of the process down
            // with this thread: the panic hook has printed it; go on.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| target.fire(key)));
        }
        match next {
            Some(when) => thread::park_timeout(when.saturating_duration_since(Instant::now())),
            None => thread::park(),
        }
    }
}
