//! The OS threads that run goroutines, and how they start.
//!
//! On Linux a goroutine thread is started with `pthread_create`, not
//! `std::thread`: std gives every thread it starts a signal stack of its
//! own, with a guard page, for its stack-overflow message. With the
//! thread's stack and guard page that is 4 memory mappings a thread, and
//! the kernel's `vm.max_map_count` (65,530 by default) then stops a process
//! at about 16,000 threads, far below its thread limit (rust-lang/rust#78497).
//! A goroutine thread costs 2 mappings, glibc's stack and guard page, so the
//! kernel's thread limits (`kernel.pid_max`, `kernel.threads-max`,
//! `ulimit -u`) are what bound a program.
//!
//! What a goroutine relies on works on such a thread as on std's:
//! thread-locals and their destructors (glibc runs Rust's at the thread's
//! exit, for any thread), [`std::thread::current`] (std makes a handle for
//! a thread it did not start on first use; parking and `unpark` work on
//! it), panics (the pool's worker catches its goroutines' panics, and the
//! trampoline catches anything else: a panic never unwinds into C). Two
//! things differ: std's panic message names the thread `<unnamed>` (std
//! knows the names of its own threads only; the OS's name, in `ps -L`,
//! `top -H`, gdb and `/proc/self/task/*/comm`, is `goroutine`), and the
//! stack-overflow message is goscope's own.
//!
//! # Stack overflow
//!
//! A goroutine that overflows its stack hits glibc's guard page. A signal
//! handler cannot run on the overflowed stack, so each goroutine thread has
//! a signal stack too, only not a mapping of its own: a slot of a shared
//! pool of them (`altstack`, 256 slots a mapping, reused as threads come
//! and go; untouched, it costs no memory). goscope's `SIGSEGV` handler,
//! installed in front of std's when the first goroutine thread starts,
//! prints `goroutine N has overflowed its stack` and aborts, as std does for
//! its threads; a fault anywhere else (or on any other thread) goes on to
//! the handler that was there before (std's, which reports the main
//! thread's and std threads' overflows), or to the default action.
//!
//! Other platforms keep std's threads.

use std::sync::LazyLock;

#[cfg(target_os = "linux")]
pub(crate) use linux::{running, spawn};
#[cfg(not(target_os = "linux"))]
pub(crate) use portable::{running, spawn};

/// What a goroutine thread runs: the pool's worker loop.
pub(crate) type Main = Box<dyn FnOnce() + Send + 'static>;

/// Memory mappings one goroutine thread costs: its stack and guard page
/// (on Linux; std's threads elsewhere add a signal stack and its guard).
pub(crate) const MAPPINGS_PER_THREAD: usize = if cfg!(target_os = "linux") { 2 } else { 4 };

/// The stack size of goroutine threads, in bytes: `GOSCOPE_STACK_SIZE` if
/// set, else what std gives the threads it starts (`RUST_MIN_STACK`, else
/// 2 MiB). Only the pages a goroutine touches count in its memory use.
pub(crate) fn stack_size() -> usize {
    static SIZE: LazyLock<usize> = LazyLock::new(|| {
        let var = |name: &str| std::env::var(name).ok()?.trim().parse().ok();
        var("GOSCOPE_STACK_SIZE")
            .or_else(|| var("RUST_MIN_STACK"))
            .unwrap_or(2 << 20)
    });
    *SIZE
}

/// A fixed buffer that `write!` fills without allocating (a thread name, a
/// message written from a signal handler); what does not fit is cut off.
struct Text<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Text<N> {
    fn new() -> Self {
        Text {
            bytes: [0; N],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl<const N: usize> std::fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let take = s.len().min(N - self.len);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod portable {
    use super::{Main, stack_size};
    use std::io;

    /// Starts a goroutine thread running `main`.
    pub(crate) fn spawn(main: Main) -> io::Result<()> {
        std::thread::Builder::new()
            .name("goroutine".into())
            .stack_size(stack_size())
            .spawn(main)
            .map(drop)
    }

    /// A goroutine starts on this thread (nothing to record here).
    pub(crate) fn running(_id: u64) {}
}

#[cfg(target_os = "linux")]
mod linux {
    use super::{Main, Text, stack_size};
    use std::ffi::c_void;
    use std::io;
    use std::panic::{self, AssertUnwindSafe};
    use std::ptr;

    /// What `spawn` hands its new thread.
    struct Start {
        main: Main,
        /// The thread's signal stack (a slot of `altstack`).
        altstack: usize,
    }

    /// Starts a detached goroutine thread running `main`. An error is the
    /// OS's refusal (`EAGAIN`: a thread limit, or no memory mapping left);
    /// `main` is then dropped here.
    pub(crate) fn spawn(main: Main) -> io::Result<()> {
        overflow::install_handler();
        let altstack = altstack::take()?;
        let start = Box::into_raw(Box::new(Start { main, altstack }));
        if let Err(e) = create(start) {
            // SAFETY: `pthread_create` failed, so no thread was given
            // `start`: it is still the box leaked just above, ours alone.
            let start = unsafe { Box::from_raw(start) };
            altstack::give_back(start.altstack);
            return Err(e);
        }
        Ok(())
    }

    /// `pthread_create` with goscope's attributes: detached (nothing joins
    /// a pool thread), [`stack_size`] bytes of stack.
    fn create(start: *mut Start) -> io::Result<()> {
        // SAFETY: all zeroes is a valid `pthread_attr_t` to initialise (a
        // plain C struct), as std's own thread start does.
        let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is a live, writable attribute object.
        check(unsafe { libc::pthread_attr_init(&mut attr) })?;
        let created = (|| {
            // SAFETY: `attr` was initialised above and is destroyed only
            // after this closure.
            check(unsafe {
                libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED)
            })?;
            // What std does: at least the minimum, whole pages.
            let page = page_size();
            let size = stack_size()
                .max(libc::PTHREAD_STACK_MIN)
                .checked_next_multiple_of(page)
                .ok_or_else(|| io::Error::other("GOSCOPE_STACK_SIZE is too large"))?;
            // SAFETY: as above.
            check(unsafe { libc::pthread_attr_setstacksize(&mut attr, size) })?;
            let mut thread: libc::pthread_t = 0;
            // SAFETY: `attr` is initialised; `trampoline` takes ownership of
            // `start` (a leaked `Box<Start>`) on the new thread, and only if
            // the call succeeds.
            check(unsafe { libc::pthread_create(&mut thread, &attr, trampoline, start.cast()) })
        })();
        // SAFETY: initialised above, and not used after this.
        unsafe { libc::pthread_attr_destroy(&mut attr) };
        created
    }

    /// A pthread function's result as an `io::Result`.
    fn check(code: libc::c_int) -> io::Result<()> {
        match code {
            0 => Ok(()),
            code => Err(io::Error::from_raw_os_error(code)),
        }
    }

    fn page_size() -> usize {
        // SAFETY: `sysconf` only reads a system constant.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size).unwrap_or(4096)
    }

    /// The new thread's entry point.
    extern "C" fn trampoline(start: *mut c_void) -> *mut c_void {
        // SAFETY: `start` is the `Box<Start>` that `spawn` leaked and
        // `pthread_create` passed to this thread alone; it is taken back once.
        let Start { main, altstack } = *unsafe { Box::from_raw(start.cast::<Start>()) };
        let overflow = overflow::OnThisThread::enter(altstack);
        name_thread();
        // Unwinding out of an `extern "C"` function aborts the process. The
        // worker catches its goroutines' panics; what could still get here
        // (a payload that panics when dropped) ends this thread quietly, as
        // a std thread's panic does once its handle is gone.
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(main)) {
            if let Err(worse) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(worse);
            }
        }
        drop(overflow);
        ptr::null_mut()
    }

    /// A goroutine starts on this thread: its id goes into the overflow
    /// report.
    ///
    /// The OS's name of the thread stays `goroutine`, given once when the
    /// thread starts: renaming it `goroutine N` for each goroutine it runs
    /// (a `prctl` system call) was measured to double the cost of a `go!`
    /// that an idle pool thread takes (10,000 spawns with a `WaitGroup`: 25
    /// against 12.5 ms); the goroutine dump and the deadlock report give
    /// the ids.
    pub(crate) fn running(id: u64) {
        overflow::GOROUTINE.set(id);
    }

    /// Names this thread `goroutine` for the OS (`ps -L`, `top -H`, gdb,
    /// `/proc/self/task/*/comm`), as std named goroutine threads.
    fn name_thread() {
        // SAFETY: a NUL-terminated string of at most 16 bytes, as
        // `pthread_setname_np` requires; naming is best effort (an error
        // leaves the name the thread inherited).
        unsafe { libc::pthread_setname_np(libc::pthread_self(), c"goroutine".as_ptr()) };
    }

    /// Signal stacks for goroutine threads, without a mapping each: slots of
    /// shared mappings, handed out and taken back as threads start and end.
    /// A slot has no guard page of its own; goscope's handler needs little
    /// of it (see `altstack::size`).
    mod altstack {
        use crate::lock;
        use std::io;
        use std::ptr;
        use std::sync::{LazyLock, Mutex};

        /// Slots a mapping holds: a new mapping for every 256 threads alive
        /// at once, 0.004 a thread.
        const SLOTS_PER_MAPPING: usize = 256;

        /// The kernel's minimum signal stack (`AT_MINSIGSTKSZ`), which
        /// grows with the CPU's register state (3.3 KiB with AVX-512).
        const AT_MINSIGSTKSZ: libc::c_ulong = 51;

        /// Bytes of one slot: the kernel's signal frame, the overflow
        /// report, and room for a handler that goscope's forwards to;
        /// whole pages, at least 16 KiB (std's is `SIGSTKSZ`, 8 KiB).
        pub(super) fn size() -> usize {
            static SIZE: LazyLock<usize> = LazyLock::new(|| {
                // SAFETY: `getauxval` only reads the auxiliary vector.
                let minimum = unsafe { libc::getauxval(AT_MINSIGSTKSZ) } as usize;
                (minimum + 8192)
                    .max(16384)
                    .next_multiple_of(super::page_size())
            });
            *SIZE
        }

        struct Pool {
            /// Slots given back.
            free: Vec<usize>,
            /// The next never-used slot of the newest mapping, and its end.
            next: usize,
            end: usize,
        }

        static POOL: Mutex<Pool> = Mutex::new(Pool {
            free: Vec::new(),
            next: 0,
            end: 0,
        });

        /// A slot for a new thread; an error if a new mapping was needed
        /// and the kernel refused it (the process is out of mappings).
        pub(super) fn take() -> io::Result<usize> {
            let mut pool = lock(&POOL);
            if let Some(slot) = pool.free.pop() {
                return Ok(slot);
            }
            if pool.next == pool.end {
                let bytes = size() * SLOTS_PER_MAPPING;
                // SAFETY: a new private anonymous mapping, touching no
                // existing memory. Never unmapped: its slots are reused.
                let mapped = unsafe {
                    libc::mmap(
                        ptr::null_mut(),
                        bytes,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                        -1,
                        0,
                    )
                };
                if mapped == libc::MAP_FAILED {
                    return Err(io::Error::last_os_error());
                }
                pool.next = mapped as usize;
                pool.end = pool.next + bytes;
            }
            let slot = pool.next;
            pool.next += size();
            Ok(slot)
        }

        /// Takes back a slot no thread uses as its signal stack any more.
        pub(super) fn give_back(slot: usize) {
            lock(&POOL).free.push(slot);
        }
    }

    /// The stack-overflow report of goroutine threads.
    mod overflow {
        use super::{Text, altstack};
        use std::cell::Cell;
        use std::ffi::{c_int, c_void};
        use std::fmt::Write as _;
        use std::ptr;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Once, OnceLock};

        thread_local! {
            /// This thread's guard pages, `start..end`; empty on threads
            /// goscope did not start. (Plain `Cell`s with a `const`
            /// initialiser and no destructor: a signal handler may read
            /// them, as std's handler reads its own.)
            static GUARD: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
            /// The goroutine running on this thread (0 between goroutines).
            pub(super) static GOROUTINE: Cell<u64> = const { Cell::new(0) };
        }

        /// The disposition of `SIGSEGV` before goscope's handler: where
        /// faults that are not a goroutine's overflow go.
        static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

        /// Goroutine threads' stack size, for the report.
        static STACK_BYTES: AtomicUsize = AtomicUsize::new(0);

        /// Installs goscope's `SIGSEGV` handler, once, in front of the one
        /// in place (std's, usually).
        pub(super) fn install_handler() {
            static INSTALL: Once = Once::new();
            INSTALL.call_once(|| {
                STACK_BYTES.store(super::stack_size(), Ordering::Relaxed);
                // SAFETY: all zeroes is a valid `sigaction` (a C struct).
                let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
                // SAFETY: only reads the current disposition into `previous`.
                if unsafe { libc::sigaction(libc::SIGSEGV, ptr::null(), &mut previous) } != 0 {
                    return;
                }
                // Recorded before ours is installed: the handler may run as
                // soon as it is.
                let _ = PREVIOUS.set(previous);
                // SAFETY: as above.
                let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
                action.sa_sigaction = on_fault as *const () as libc::sighandler_t;
                // On the thread's signal stack: the faulting one is full.
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                // SAFETY: `on_fault` has the `SA_SIGINFO` signature and
                // calls only async-signal-safe functions (`write`, `abort`,
                // `sigaction`) or the handler that was installed before.
                unsafe { libc::sigaction(libc::SIGSEGV, &action, ptr::null_mut()) };
            });
        }

        /// A goroutine thread's signal stack and guard range, from the
        /// thread's start to its end.
        pub(super) struct OnThisThread {
            altstack: usize,
        }

        impl OnThisThread {
            /// Makes `altstack` (a slot of `altstack`) this thread's signal
            /// stack and records where its guard page is.
            pub(super) fn enter(altstack: usize) -> OnThisThread {
                let stack = libc::stack_t {
                    ss_sp: altstack as *mut c_void,
                    ss_flags: 0,
                    ss_size: altstack::size(),
                };
                // SAFETY: the slot is `altstack::size()` bytes of writable
                // memory that no other thread uses until `drop` has
                // disabled it here.
                if unsafe { libc::sigaltstack(&stack, ptr::null_mut()) } == 0 {
                    GUARD.set(guard_range());
                }
                OnThisThread { altstack }
            }
        }

        impl Drop for OnThisThread {
            fn drop(&mut self) {
                GUARD.set((0, 0));
                let disable = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                // SAFETY: turns this thread's signal stack off (it is not
                // running on it: this is ordinary code). Only then may
                // another thread have the slot.
                if unsafe { libc::sigaltstack(&disable, ptr::null_mut()) } == 0 {
                    altstack::give_back(self.altstack);
                }
            }
        }

        /// The addresses around the bottom of this thread's stack that a
        /// stack overflow faults on: glibc's guard page below the stack,
        /// and (as std allows for older glibc, which put it inside) as much
        /// again above.
        fn guard_range() -> (usize, usize) {
            // SAFETY: all zeroes is a valid `pthread_attr_t` to fill.
            let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
            // SAFETY: fills `attr` with the calling thread's attributes.
            if unsafe { libc::pthread_getattr_np(libc::pthread_self(), &mut attr) } != 0 {
                return (0, 0);
            }
            let (mut low, mut size, mut guard) = (ptr::null_mut(), 0, 0);
            // SAFETY: `attr` was filled above; the out-pointers are live
            // locals; `attr` is destroyed once, after its last use.
            let known = unsafe {
                let known = libc::pthread_attr_getstack(&attr, &mut low, &mut size) == 0
                    && libc::pthread_attr_getguardsize(&attr, &mut guard) == 0;
                libc::pthread_attr_destroy(&mut attr);
                known
            };
            let low = low as usize;
            if !known || guard == 0 || low < guard {
                return (0, 0);
            }
            (low - guard, low + guard)
        }

        /// goscope's `SIGSEGV` handler.
        extern "C" fn on_fault(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
            let (start, end) = GUARD.get();
            // SAFETY: the kernel passes an `SA_SIGINFO` handler a valid
            // `siginfo_t`.
            let (code, address) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
            // A fault the kernel raised (a positive code; `kill` and
            // `raise` give others) on this thread's guard page.
            if code > 0 && start <= address && address < end {
                report_overflow();
            }
            // SAFETY: forwards exactly what the kernel gave us.
            unsafe { forward(signal, info, context) };
        }

        /// Prints the overflow report and aborts, as std does for its own
        /// threads (`thread 'x' has overflowed its stack`).
        fn report_overflow() -> ! {
            let mut message = Text::<256>::new();
            let _ = write!(
                message,
                "\ngoroutine {} has overflowed its stack ({} bytes; GOSCOPE_STACK_SIZE sets \
                 the stack size of goroutines)\nfatal runtime error: stack overflow, aborting\n",
                GOROUTINE.get(),
                STACK_BYTES.load(Ordering::Relaxed),
            );
            let bytes = message.as_bytes();
            // SAFETY: `write` and `abort` are async-signal-safe; `bytes` is
            // a live buffer of `bytes.len()` bytes.
            unsafe {
                libc::write(libc::STDERR_FILENO, bytes.as_ptr().cast(), bytes.len());
                libc::abort()
            }
        }

        /// Hands a fault that is not a goroutine's overflow to the handler
        /// that was installed before goscope's, or, if that was the default
        /// (or ignoring it), restores the default and returns: the faulting
        /// instruction runs again and the kernel ends the process, as std's
        /// handler does.
        ///
        /// # Safety
        ///
        /// Only from [`on_fault`], with the arguments it was given.
        unsafe fn forward(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
            let previous = PREVIOUS.get();
            match previous.map(|p| (p.sa_sigaction, p.sa_flags)) {
                Some((handler, flags)) if handler != libc::SIG_DFL && handler != libc::SIG_IGN => {
                    if flags & libc::SA_SIGINFO != 0 {
                        // SAFETY: with `SA_SIGINFO`, `sa_sigaction` holds a
                        // handler of this signature.
                        let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                            unsafe { std::mem::transmute(handler) };
                        handler(signal, info, context);
                    } else {
                        // SAFETY: without `SA_SIGINFO`, `sa_sigaction` holds
                        // a plain `void (*)(int)` handler.
                        let handler: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
                        handler(signal);
                    }
                }
                _ => {
                    // SAFETY: all zeroes is `SIG_DFL` with no flags.
                    let default: libc::sigaction = unsafe { std::mem::zeroed() };
                    // SAFETY: `sigaction` is async-signal-safe.
                    unsafe { libc::sigaction(signal, &default, ptr::null_mut()) };
                }
            }
        }
    }
}
