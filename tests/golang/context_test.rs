//! Go's own `context` tests, ported to goscope: `XTestWithCancel`,
//! `XTestParentFinishesChild`, `XTestChildFinishesFirst`, `XTestDeadline`,
//! `XTestTimeout`, `XTestCanceledTimeout`, `XTestSimultaneousCancels`,
//! `XTestInterlockedCancels`, `XTestLayersCancel`, `XTestLayersTimeout` and
//! `XTestCancelRemoves` of `src/context/context_test.go` (run by
//! `src/context/x_test.go`) in golang/go, BSD-style licence, Copyright 2014
//! The Go Authors.
//!
//! What the port leaves out: `WithValue` (goscope has none; its layers
//! become `with_cancel` layers), Go's `otherContext` wrapper (a context type
//! outside the package: goscope's `Context` is a struct, not an interface),
//! and `String()`. Go's checks of `parent.children` read the package's
//! internals; here they read the count that `Context`'s `Debug` shows.

use std::time::Instant;

use goscope::context::{CancelFunc, Context, Error};
use goscope::prelude::*;
use goscope::time::{Timer, after_func};

/// Go's `shortDuration`.
const SHORT: Duration = Duration::from_millis(1);
/// Go's `veryLongDuration`.
const VERY_LONG: Duration = Duration::from_secs(1000 * 3600);
/// Go's `quiescent(t)`: by then, whatever should happen has happened.
const QUIESCENT: Duration = Duration::from_secs(10);

/// Whether `<-ctx.done()` is ready now: Go's `select { case <-c.Done(): ...
/// default: }`.
fn is_done(ctx: &Context) -> bool {
    select! {
        <-ctx.done() => true,
        default => false,
    }
}

/// The number of cancellable children `ctx` holds (Go's
/// `len(pc.children)`), read from its `Debug` output.
fn children(ctx: &Context) -> usize {
    let debug = format!("{ctx:?}");
    let rest = debug
        .split_once("children: ")
        .unwrap_or_else(|| panic!("no children count in {debug}"))
        .1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a count")
}

#[goscope::test]
fn with_cancel() {
    let (c1, cancel) = Context::background().with_cancel();
    let (c2, _c2_cancel) = c1.with_cancel();
    let contexts = [&c1, &c2];
    for (i, c) in contexts.iter().enumerate() {
        assert_eq!(c.err(), None, "c[{i}].err()");
        assert!(!is_done(c), "<-c[{i}].done() should block");
    }
    cancel.cancel(); // Should propagate synchronously.
    for (i, c) in contexts.iter().enumerate() {
        assert!(is_done(c), "<-c[{i}].done() blocked, but shouldn't have");
        assert_eq!(c.err(), Some(Error::Canceled), "c[{i}].err()");
    }
}

#[goscope::test]
fn parent_finishes_child() {
    // Context tree:
    // parent -> cancel_child
    // parent -> timer_child
    let (parent, cancel) = Context::background().with_cancel();
    let (cancel_child, _stop1) = parent.with_cancel();
    let (timer_child, _stop2) = parent.with_timeout(VERY_LONG);
    for (name, c) in [
        ("parent", &parent),
        ("cancel_child", &cancel_child),
        ("timer_child", &timer_child),
    ] {
        assert!(!is_done(c), "<-{name}.done() should block");
    }
    // The parent's children should be the two cancellable children.
    assert_eq!(children(&parent), 2, "bad linkage");

    cancel.cancel();
    assert_eq!(children(&parent), 0, "cancel didn't clear the children");
    // Parent and children should all be finished.
    for (name, c) in [
        ("parent", &parent),
        ("cancel_child", &cancel_child),
        ("timer_child", &timer_child),
    ] {
        assert!(is_done(c), "<-{name}.done() blocked, but shouldn't have");
        assert_eq!(c.err(), Some(Error::Canceled), "{name}.err()");
    }
    // with_cancel returns a cancelled context on a cancelled parent.
    let (precanceled, _stop3) = parent.with_cancel();
    assert!(is_done(&precanceled), "<-precanceled.done() blocked");
    assert_eq!(precanceled.err(), Some(Error::Canceled));
}

#[goscope::test]
fn child_finishes_first() {
    let (cancelable, _stop) = Context::background().with_cancel();
    for (parent, cancellable_parent) in [(Context::background(), false), (cancelable, true)] {
        let (child, cancel) = parent.with_cancel();
        assert!(!is_done(&parent), "<-parent.done() should block");
        assert!(!is_done(&child), "<-child.done() should block");
        if cancellable_parent {
            assert_eq!(children(&parent), 1, "bad linkage");
        }
        cancel.cancel();
        if cancellable_parent {
            assert_eq!(
                children(&parent),
                0,
                "child's cancel didn't remove self from the parent's children"
            );
        }
        // The child should be finished.
        assert!(
            is_done(&child),
            "<-child.done() blocked, but shouldn't have"
        );
        assert_eq!(child.err(), Some(Error::Canceled));
        // The parent should not be.
        assert!(!is_done(&parent), "<-parent.done() should block");
        assert_eq!(parent.err(), None);
    }
}

/// Go's `testDeadline`: `c` times out well within [`QUIESCENT`], with
/// `DeadlineExceeded`.
fn test_deadline(c: &Context, name: &str) {
    let timer = Timer::new(QUIESCENT);
    select! {
        <-timer.c() => panic!("{name}: context not timed out after {QUIESCENT:?}"),
        <-c.done() => {}
    }
    assert_eq!(c.err(), Some(Error::DeadlineExceeded), "{name}: c.err()");
}

#[goscope::test]
fn deadline() {
    let (c, _c1) = Context::background().with_deadline(Instant::now() + SHORT);
    test_deadline(&c, "with_deadline");

    let (c, _c2) = Context::background().with_deadline(Instant::now() + SHORT);
    let (c, _c3) = c.with_deadline(Instant::now() + VERY_LONG);
    test_deadline(&c, "with_deadline+with_deadline");

    let (c, _c4) = Context::background().with_deadline(Instant::now() - SHORT);
    test_deadline(&c, "with_deadline+in the past");

    let (c, _c5) = Context::background().with_deadline(Instant::now());
    test_deadline(&c, "with_deadline+now");
}

#[goscope::test]
fn timeout() {
    let (c, _c1) = Context::background().with_timeout(SHORT);
    test_deadline(&c, "with_timeout");

    let (c, _c2) = Context::background().with_timeout(SHORT);
    let (c, _c3) = c.with_timeout(VERY_LONG);
    test_deadline(&c, "with_timeout+with_timeout");
}

#[goscope::test]
fn canceled_timeout() {
    let (c, _c1) = Context::background().with_timeout(Duration::from_secs(1));
    let (c, cancel) = c.with_timeout(VERY_LONG);
    cancel.cancel(); // Should propagate synchronously.
    assert!(is_done(&c), "<-c.done() blocked, but shouldn't have");
    assert_eq!(c.err(), Some(Error::Canceled));
}

#[goscope::test]
fn simultaneous_cancels() {
    let (root, cancel) = Context::background().with_cancel();
    let mut all: Vec<(Context, CancelFunc)> = vec![(root.clone(), cancel)];
    let mut queue = vec![root];
    // Create a tree of contexts.
    while !queue.is_empty() && all.len() < 100 {
        let parent = queue.remove(0);
        for _ in 0..4 {
            let (ctx, cancel) = parent.with_cancel();
            all.push((ctx.clone(), cancel));
            queue.push(ctx);
        }
    }
    let (contexts, cancels): (Vec<_>, Vec<_>) = all.into_iter().unzip();
    // Start all the cancels at once, in no particular order.
    let wg = WaitGroup::new();
    for cancel in cancels {
        wg.add(1);
        let wg = &wg;
        go! {
            cancel.cancel();
            wg.done();
        }
    }
    let (stuck_tx, stuck) = chan::<()>(0);
    let stuck_tx = std::sync::Mutex::new(Some(stuck_tx));
    let _timer = after_func(QUIESCENT, move || drop(stuck_tx.lock().unwrap().take()));
    // Wait on all the contexts.
    for ctx in &contexts {
        select! {
            <-ctx.done() => {}
            <-stuck => panic!("timed out after {QUIESCENT:?} waiting for <-ctx.done()"),
        }
    }
    wg.wait();
    assert_eq!(children(&contexts[0]), 0);
}

#[goscope::test]
fn interlocked_cancels() {
    let (parent, cancel_parent) = Context::background().with_cancel();
    let (child, cancel_child) = parent.with_cancel();
    go! {
        parent.done().recv();
        cancel_child.cancel();
    }
    cancel_parent.cancel();
    let timer = Timer::new(QUIESCENT);
    select! {
        <-child.done() => {}
        <-timer.c() => panic!("timed out after {QUIESCENT:?} waiting for child.done()"),
    }
}

/// Go's `testLayers`: a stack of at least 30 contexts, a random mix of
/// `with_cancel` and `with_timeout` layers; cancelling any layer (or, with
/// `timeout`, waiting) makes the top one done.
fn test_layers(seed: u64, timeout: bool) {
    let mut rng = seed | 1;
    let mut next = move |n: u64| {
        // xorshift64
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut cancels = Vec::new();
    let mut timers = 0;
    let mut ctx = Context::background();
    let mut i = 0;
    while i < 30 || timers == 0 || cancels.is_empty() {
        i += 1;
        let (child, cancel) = if next(2) == 0 {
            ctx.with_cancel()
        } else {
            timers += 1;
            ctx.with_timeout(if timeout { SHORT } else { VERY_LONG })
        };
        ctx = child;
        cancels.push(cancel);
    }
    if !timeout {
        assert!(
            !is_done(&ctx),
            "seed={seed}: ctx should not be cancelled yet"
        );
    }
    if timeout {
        let timer = Timer::new(QUIESCENT);
        select! {
            <-ctx.done() => {}
            <-timer.c() => panic!("seed={seed}: ctx should have timed out after {QUIESCENT:?}"),
        }
        assert_eq!(ctx.err(), Some(Error::DeadlineExceeded), "seed={seed}");
    } else {
        let k = next(cancels.len() as u64) as usize;
        cancels[k].cancel();
        assert!(is_done(&ctx), "seed={seed}: ctx should be cancelled");
        assert_eq!(ctx.err(), Some(Error::Canceled), "seed={seed}");
    }
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

#[goscope::test]
fn layers_cancel() {
    test_layers(seed(), false);
}

#[goscope::test]
fn layers_timeout() {
    test_layers(seed(), true);
}

#[goscope::test]
fn cancel_removes() {
    // Cancelling a child, or its deadline passing, removes it from its
    // parent's children.
    let (ctx, _cancel) = Context::background().with_cancel();
    assert_eq!(children(&ctx), 0);

    let (_child, cancel) = ctx.with_cancel();
    assert_eq!(children(&ctx), 1, "after with_cancel");
    cancel.cancel();
    assert_eq!(children(&ctx), 0, "after cancelling with_cancel child");

    let (child, cancel) = ctx.with_timeout(Duration::from_secs(3600));
    assert_eq!(children(&ctx), 1, "after with_timeout");
    drop(cancel); // dropping cancels too
    assert_eq!(child.err(), Some(Error::Canceled));
    assert_eq!(children(&ctx), 0, "after cancelling with_timeout child");

    let (child, _cancel) = ctx.with_timeout(SHORT);
    child.done().recv();
    assert_eq!(children(&ctx), 0, "after with_timeout child timed out");
}
