//! The pool of OS threads that runs goroutines.
//!
//! Every goroutine has an OS thread of its own while it runs, so blocking in
//! it is always safe. A thread whose goroutine has finished does not exit:
//! it becomes *idle*, and the next `go!` claims it instead of creating a
//! thread (a `clone()` syscall, and a fresh stack). Only when no thread is
//! idle does `go!` create one, so the pool grows on demand; a thread idle
//! for [`IDLE_TIMEOUT`] retires.
//!
//! Handing a goroutine to an idle thread costs a queue push. An idle thread
//! first *spins* on the queue for a few microseconds (at most
//! [`max_spinning`] threads at a time, as Go's scheduler bounds its
//! spinning threads), then sleeps
//! until woken. `go!` wakes a sleeper (a futex syscall) only when no thread
//! is spinning; a spinner that takes a goroutine wakes a sleeper if more are
//! queued. So bursts of `go!` are handed over without a syscall each, and an
//! idle pool burns no CPU.
//!
//! Invariants:
//! - `idle` counts idle threads not yet claimed; every queued task was
//!   claimed from it, so each has an idle thread of its own coming.
//! - whenever the queue is non-empty, some thread is spinning, or will look
//!   at the queue again before it sleeps, or has been woken to do so.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_channel as cb;

use crate::sched::cancel::Cancellable;
use crate::sched::park::{self, GInfo, LiveToken, Slot, slots};
use crate::sched::thread::{self, MAPPINGS_PER_THREAD};

/// How long a pool thread waits for a new goroutine before it exits.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many times a spinning thread polls the queue before sleeping (the
/// first few with a CPU pause, the rest yielding): a few microseconds.
const SPIN_ROUNDS: u32 = 64;

/// A unit of work for a goroutine thread. The job is responsible for calling
/// `goroutine::exited` once the goroutine's function has returned or unwound.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// A goroutine on its way to a thread.
pub(crate) struct Task {
    pub(crate) job: Job,
    pub(crate) info: GInfo,
    /// The live count of the goroutine's root, for leak checks.
    pub(crate) root_live: Option<LiveToken>,
    /// The cancellation token of the scope it was started into.
    pub(crate) token: Option<Arc<dyn Cancellable>>,
}

struct Pool {
    /// Idle threads that no `go!` has claimed yet.
    idle: AtomicUsize,
    /// Idle threads polling the queue.
    spinning: AtomicUsize,
    /// Idle threads asleep, waiting to be woken.
    sleepers: Mutex<Vec<Arc<Sleeper>>>,
    tx: cb::Sender<Task>,
    rx: cb::Receiver<Task>,
}

struct Sleeper {
    thread: Thread,
    /// Set by whoever takes this sleeper off `sleepers` to wake it.
    woken: AtomicBool,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let (tx, rx) = cb::unbounded();
    Pool {
        idle: AtomicUsize::new(0),
        spinning: AtomicUsize::new(0),
        sleepers: Mutex::new(Vec::new()),
        tx,
        rx,
    }
});

/// At most this many threads spin at once: one per CPU. (Half the CPUs, as
/// Go does, left a burst of `go!` waking a sleeper for nearly every goroutine
/// on 2 CPUs: measured 1.1 against 0.55 µs per spawn.)
fn max_spinning() -> usize {
    static MAX: LazyLock<usize> =
        LazyLock::new(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    *MAX
}

/// Runs `task` on an idle thread, or on a new one if none is idle.
pub(crate) fn hand_off(task: Task) -> io::Result<()> {
    let pool = &*POOL;
    let mut idle = pool.idle.load(Ordering::SeqCst);
    while idle > 0 {
        match pool
            .idle
            .compare_exchange_weak(idle, idle - 1, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {
                // Never disconnected: `POOL` owns both ends.
                let _ = pool.tx.send(task);
                // Pairs with the fence in `find_task`: either a spinner sees
                // the task, or we see no spinner and wake a sleeper.
                fence(Ordering::SeqCst);
                if pool.spinning.load(Ordering::SeqCst) == 0 {
                    pool.wake_one();
                }
                return Ok(());
            }
            Err(now) => idle = now,
        }
    }
    // A new thread, if the limits leave room for one (see `admit`).
    let threads = THREADS.fetch_add(1, Ordering::SeqCst);
    if let Err(why) = admit(threads) {
        THREADS.fetch_sub(1, Ordering::SeqCst);
        return Err(io::Error::other(limit_message(threads, &why)));
    }
    thread::spawn(Box::new(move || worker(task))).map_err(|e| {
        THREADS.fetch_sub(1, Ordering::SeqCst);
        io::Error::new(
            e.kind(),
            limit_message(threads, &format!("the OS refused a new thread: {e}")),
        )
    })
}

/// Pool threads alive (running a goroutine or idle).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// How many goroutine threads the process can have, and why.
#[derive(Debug, Clone, Copy)]
struct ThreadLimit {
    max_map_count: Option<usize>,
    pid_max: Option<usize>,
    threads_max: Option<usize>,
    nproc: Option<usize>,
}

/// Mappings left for everything else the program maps (heap arenas, files,
/// libraries, the panic machinery): a program at the thread limit can still
/// allocate, and print why it cannot start a goroutine.
const MAPPINGS_RESERVE: usize = 2048;

/// Threads (process ids) left for the rest of the machine: a program at
/// its thread limit must not leave other processes unable to fork.
const TASKS_RESERVE: usize = 1024;

/// Process ids below this are the kernel's (`RESERVED_PIDS`): `pid_max`
/// counts them, new threads never get them.
const RESERVED_PIDS: usize = 300;

fn thread_limit() -> ThreadLimit {
    static LIMIT: LazyLock<ThreadLimit> = LazyLock::new(|| {
        let nproc = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|limits| {
                let line = limits.lines().find(|l| l.starts_with("Max processes"))?;
                line.split_whitespace().nth(2)?.parse().ok()
            });
        ThreadLimit {
            max_map_count: read_number("/proc/sys/vm/max_map_count"),
            pid_max: read_number("/proc/sys/kernel/pid_max"),
            threads_max: read_number("/proc/sys/kernel/threads-max"),
            nproc,
        }
    });
    *LIMIT
}

fn read_number(path: &str) -> Option<usize> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The number of pool threads at which the limits are looked at again (0:
/// never looked at yet).
static NEXT_LOOK: AtomicUsize = AtomicUsize::new(0);

/// After a look that found no room, how long `go!` is refused without
/// looking again.
const RELOOK_AFTER: Duration = Duration::from_secs(1);

/// Whether a new pool thread may start, `threads` being alive: `Err` with
/// the reason when it would eat into [`MAPPINGS_RESERVE`] or
/// [`TASKS_RESERVE`].
///
/// One atomic load below the count the last look at the limits allowed. A
/// look counts `/proc/self/maps` and reads the machine's threads from
/// `/proc/loadavg`, and costs what the kernel takes to print every mapping:
/// 100 ms at 50,000 of them on a 2-core VM. So it happens only at the
/// first new thread and when the count it allowed is reached (near the
/// limit), and at most once every [`RELOOK_AFTER`] while there is no room
/// (a `go!` refused is refused at once meanwhile). What a look cannot
/// foresee (the program maps many regions after its first goroutine;
/// other processes start threads) ends in the OS refusing the thread:
/// `pthread_create` reports that as an error, which `go!` turns into the
/// same clean panic (std's threads abort instead, when their signal stack
/// cannot be mapped).
fn admit(threads: usize) -> Result<(), String> {
    if threads < NEXT_LOOK.load(Ordering::Relaxed) {
        return Ok(());
    }
    /// The last look that found no room: when, and why.
    static NO_ROOM: Mutex<Option<(Instant, String)>> = Mutex::new(None);
    let mut no_room = crate::lock(&NO_ROOM);
    // Another spawner may have looked while we waited.
    if threads < NEXT_LOOK.load(Ordering::Relaxed) {
        return Ok(());
    }
    if let Some((when, why)) = &*no_room {
        if when.elapsed() < RELOOK_AFTER {
            return Err(why.clone());
        }
    }
    let (room, why) = room_left();
    NEXT_LOOK.store(threads.saturating_add(room), Ordering::Relaxed);
    if room == 0 {
        *no_room = Some((Instant::now(), why.clone()));
        Err(why)
    } else {
        *no_room = None;
        Ok(())
    }
}

/// How many more goroutine threads the limits leave room for, and which
/// limit is the nearest.
fn room_left() -> (usize, String) {
    let limit = thread_limit();
    let mut room = usize::MAX;
    let mut why = String::from("no limit is known");
    if let Some(max) = limit.max_map_count {
        if let Ok(maps) = std::fs::read_to_string("/proc/self/maps") {
            let mapped = maps.lines().count();
            let left = max.saturating_sub(mapped + MAPPINGS_RESERVE) / MAPPINGS_PER_THREAD;
            if left < room {
                room = left;
                why = format!(
                    "{mapped} of vm.max_map_count = {max} memory mappings in use, \
                     {MAPPINGS_RESERVE} kept for the rest of the program"
                );
            }
        }
    }
    let tasks = std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| {
        // "0.10 0.20 0.30 RUNNING/THREADS LAST_PID": the machine's threads.
        l.split_whitespace()
            .nth(3)?
            .split_once('/')?
            .1
            .parse::<usize>()
            .ok()
    });
    let machine_max = match (limit.pid_max, limit.threads_max) {
        (Some(p), Some(t)) => Some(p.saturating_sub(RESERVED_PIDS).min(t)),
        (p, t) => p.map(|p| p.saturating_sub(RESERVED_PIDS)).or(t),
    };
    if let (Some(max), Some(tasks)) = (machine_max, tasks) {
        let left = max.saturating_sub(tasks + TASKS_RESERVE);
        if left < room {
            room = left;
            why = format!(
                "{tasks} threads on the machine, which kernel.pid_max and kernel.threads-max \
                 allow {max}, {TASKS_RESERVE} kept for other processes"
            );
        }
    }
    (room, why)
}

/// Why `go!` cannot start another goroutine: `why`, and the limits.
fn limit_message(threads: usize, why: &str) -> String {
    let limit = thread_limit();
    let show = |v: Option<usize>| v.map_or_else(|| "unknown".to_string(), |v| v.to_string());
    let by_mappings = limit.max_map_count.map_or_else(
        || "unknown".to_string(),
        |max| (max / MAPPINGS_PER_THREAD).to_string(),
    );
    format!(
        "the process is at its limit of OS threads ({threads} goroutine threads alive; {why}). \
         Each goroutine is an OS thread using {MAPPINGS_PER_THREAD} memory mappings: \
         vm.max_map_count = {} allows at most {by_mappings}; kernel.pid_max = {} and \
         kernel.threads-max = {} bound the threads of the whole machine; ulimit -u = {}. \
         Raise the limits (e.g. `sysctl -w vm.max_map_count=262144 kernel.pid_max=4194304`, \
         `ulimit -u`) or start fewer goroutines (a worker pool, or a semaphore channel)",
        show(limit.max_map_count),
        show(limit.pid_max),
        show(limit.threads_max),
        show(limit.nproc),
    )
}

impl Pool {
    fn lock_sleepers(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Sleeper>>> {
        crate::lock(&self.sleepers)
    }

    /// Wakes one sleeping thread, if any is asleep. (If none is, a thread on
    /// its way to sleep will look at the queue after registering.)
    fn wake_one(&self) {
        let sleeper = {
            let mut sleepers = self.lock_sleepers();
            let sleeper = sleepers.pop();
            // Under the lock: the sleeper resets the flag under it too, when
            // it registers again, so a late `true` cannot land on its next
            // registration.
            if let Some(sleeper) = &sleeper {
                sleeper.woken.store(true, Ordering::SeqCst);
            }
            sleeper
        };
        if let Some(sleeper) = sleeper {
            sleeper.thread.unpark();
        }
    }

    /// Takes a task off the queue; if more are waiting and nobody spins,
    /// wakes a sleeper for them.
    fn take(&self) -> Option<Task> {
        let task = self.rx.try_recv().ok()?;
        self.share_work();
        Some(task)
    }

    /// After taking a task: if more are queued and nobody spins, wake a
    /// sleeper for them.
    fn share_work(&self) {
        if !self.rx.is_empty() && self.spinning.load(Ordering::SeqCst) == 0 {
            self.wake_one();
        }
    }

    /// Removes `me` from the sleepers; false if somebody already took it off
    /// to wake it.
    fn unregister(&self, me: &Arc<Sleeper>) -> bool {
        let mut sleepers = self.lock_sleepers();
        // From the back: a thread that has just registered is usually last.
        match sleepers.iter().rposition(|s| Arc::ptr_eq(s, me)) {
            Some(i) => {
                sleepers.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Waits for a task as an idle thread; `None` once this thread may
    /// retire.
    fn find_task(&self, me: &Arc<Sleeper>) -> Option<Task> {
        // Spin a little, if not too many threads already do.
        if self.spinning.fetch_add(1, Ordering::SeqCst) < max_spinning() {
            for round in 0..SPIN_ROUNDS {
                if let Some(task) = self.take_while_spinning() {
                    return Some(task);
                }
                if round < 8 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        self.spinning.fetch_sub(1, Ordering::SeqCst);
        // Pairs with the fence in `hand_off`.
        fence(Ordering::SeqCst);
        let mut deadline = Instant::now() + IDLE_TIMEOUT;
        // The detector asks idle threads to retire at once before it calls a
        // deadlock (see `flush_epoch`).
        let epoch = flush_epoch();
        loop {
            {
                let mut sleepers = self.lock_sleepers();
                me.woken.store(false, Ordering::SeqCst);
                sleepers.push(Arc::clone(me));
            }
            // A task queued before we registered found nobody to wake.
            if let Some(task) = self.take() {
                self.unregister(me);
                return Some(task);
            }
            loop {
                std::thread::park_timeout(deadline.saturating_duration_since(Instant::now()));
                if me.woken.load(Ordering::SeqCst) {
                    break;
                }
                if let Some(task) = self.take() {
                    self.unregister(me);
                    return Some(task);
                }
                if Instant::now() >= deadline || flush_epoch() != epoch {
                    if !self.unregister(me) {
                        // Woken just now: look at the queue first.
                        break;
                    }
                    // Retire, unless every idle thread has been claimed:
                    // then a goroutine is on its way and we must stay.
                    let retired = self
                        .idle
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if retired {
                        return None;
                    }
                    deadline = Instant::now() + IDLE_TIMEOUT;
                    break;
                }
            }
            if let Some(task) = self.take() {
                return Some(task);
            }
        }
    }

    fn take_while_spinning(&self) -> Option<Task> {
        let task = self.rx.try_recv().ok()?;
        // Stop counting as a spinner before looking for more work to share,
        // so `take`'s check sees the truth.
        self.spinning.fetch_sub(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.share_work();
        Some(task)
    }
}

/// A pool thread: runs its first goroutine, then whatever it is handed,
/// until it has been idle for [`IDLE_TIMEOUT`].
fn worker(first: Task) {
    let slot = park::register_worker();
    // Unregistered however the thread ends (a job's unwinding escapes only
    // if a panic payload panics when dropped): a stale slot would let the
    // detector take a recycled thread id for one of goscope's.
    let _registered = Registered(&slot);
    let _counted = Counted;
    let pool = &*POOL;
    let me = Arc::new(Sleeper {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    });
    let mut task = first;
    loop {
        thread::running(task.info.id);
        park::begin(&slot, task.info, task.root_live, task.token);
        (task.job)();
        park::left();
        if park::worker_ended(&slot) {
            // Ended by the deadlock detector: its slot is spent.
            break;
        }
        pool.idle.fetch_add(1, Ordering::SeqCst);
        match pool.find_task(&me) {
            Some(next) => task = next,
            None => break,
        }
    }
}

/// Counts a pool thread out of [`THREADS`] however it ends.
struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        THREADS.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Registered<'a>(&'a Arc<park::Slot>);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        park::unregister_worker(self.0);
    }
}

/// Bumped to ask idle pool threads to retire now (see [`flush_epoch`]).
static FLUSH: AtomicU64 = AtomicU64::new(0);

/// Idle pool threads retire when this changes. An idle thread may still
/// hold what a goroutine left in its thread-locals (a `Sender` in a
/// `thread_local!`), which it drops only as the thread exits: before the
/// detector calls a deadlock, every idle thread must have exited, so those
/// destructors have run (an exiting thread is foreign to the detector until
/// it is gone).
pub(crate) fn flush_epoch() -> u64 {
    FLUSH.load(Ordering::SeqCst)
}

/// Asks idle pool threads to retire; true if there were any.
pub(crate) fn flush_idle_threads() -> bool {
    let idle: Vec<Arc<Slot>> = slots()
        .into_iter()
        .filter(|s| !s.is_root && !s.is_guest && !s.is_busy())
        .collect();
    if idle.is_empty() {
        return false;
    }
    FLUSH.fetch_add(1, Ordering::SeqCst);
    for slot in idle {
        slot.unpark();
    }
    true
}
