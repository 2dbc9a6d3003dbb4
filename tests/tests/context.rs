//! `goscope::context`: the cancellation tree, deadlines on the timer
//! thread, and how waits on `done()` look to the deadlock detector.

use std::time::Instant;

use goscope::context::{Context, Error};
use goscope::prelude::*;

/// The number of cancellable children `ctx` holds, from its `Debug`.
fn children(ctx: &Context) -> usize {
    let debug = format!("{ctx:?}");
    let rest = debug.split_once("children: ").expect("a children count").1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a count")
}

#[test]
fn context_is_clone_send_sync_and_debug() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    check::<Context>();
    fn error<T: std::error::Error + Send + Sync + Copy + 'static>() {}
    error::<Error>();
}

#[goscope::test]
fn short_lived_children_are_released_from_a_long_lived_parent() {
    let (parent, _cancel) = Context::background().with_cancel();
    for i in 0..20_000 {
        let (child, cancel) = if i % 2 == 0 {
            parent.with_cancel()
        } else {
            parent.with_timeout(Duration::from_secs(3600))
        };
        let (_grandchild, _cancel_grandchild) = child.with_cancel();
        drop(cancel); // Go's `defer cancel()` at the end of the work
        assert!(child.err().is_some());
    }
    assert_eq!(children(&parent), 0, "{parent:?}");
    assert_eq!(parent.err(), None);
}

#[goscope::test]
fn children_whose_deadline_passed_are_released() {
    let (parent, _cancel) = Context::background().with_cancel();
    let kids: Vec<_> = (0..100)
        .map(|_| parent.with_timeout(Duration::from_millis(1)))
        .collect();
    for (kid, _) in &kids {
        // Bounded: the deadline closes it.
        assert_eq!(kid.done().recv(), None);
        assert_eq!(kid.err(), Some(Error::DeadlineExceeded));
    }
    assert_eq!(children(&parent), 0);
}

#[goscope::test]
fn a_child_of_a_cancelled_parent_is_born_cancelled() {
    let (parent, cancel) = Context::background().with_timeout(Duration::from_secs(3600));
    cancel.cancel();
    let (child, _c1) = parent.with_timeout(Duration::from_secs(1));
    assert_eq!(child.err(), Some(Error::Canceled), "the parent's error");
    assert_eq!(child.done().recv(), None);
    assert_eq!(children(&parent), 0, "a born-cancelled child is not linked");
}

#[goscope::test]
fn a_parent_deadline_ends_the_children_with_deadline_exceeded() {
    let start = Instant::now();
    let (parent, _c1) = Context::background().with_timeout(Duration::from_millis(20));
    let (child, _c2) = parent.with_cancel();
    let (grandchild, _c3) = child.with_timeout(Duration::from_secs(3600));
    assert_eq!(grandchild.deadline(), parent.deadline());
    assert_eq!(grandchild.done().recv(), None);
    assert!(
        start.elapsed() >= Duration::from_millis(20),
        "not before the deadline"
    );
    assert_eq!(child.err(), Some(Error::DeadlineExceeded));
    assert_eq!(grandchild.err(), Some(Error::DeadlineExceeded));
}

#[goscope::test]
fn cancelling_a_child_never_cancels_the_parent() {
    let (parent, _cancel) = Context::background().with_cancel();
    let (child, cancel_child) = parent.with_timeout(Duration::from_secs(3600));
    cancel_child.cancel();
    cancel_child.cancel(); // idempotent
    assert_eq!(child.err(), Some(Error::Canceled));
    assert_eq!(parent.err(), None);
    let open = select! {
        <-parent.done() => false,
        default => true,
    };
    assert!(open);
}

#[goscope::test]
fn done_wakes_every_waiting_goroutine() {
    let (ctx, cancel) = Context::background().with_cancel();
    let wg = WaitGroup::new();
    let wg = &wg;
    for _ in 0..8 {
        wg.add(1);
        let ctx = ctx.clone();
        go! {
            defer!(wg.done());
            assert_eq!(ctx.done().recv(), None);
            assert_eq!(ctx.err(), Some(Error::Canceled));
        }
    }
    cancel.cancel();
    wg.wait();
}

#[goscope::test]
fn waiting_for_a_deadline_is_sleeping_not_a_deadlock() {
    // Longer than the detector's grace: a wait it took for blocking would
    // fail this test with a deadlock report.
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(800));
    assert_eq!(ctx.done().recv(), None);
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(800));
    select! {
        <-ctx.done() => {}
        <-never::<()>() => unreachable!(),
    }
    assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
}

#[goscope::test]
#[should_panic(expected = "[chan receive]")]
fn waiting_for_a_cancel_nobody_will_make_is_a_deadlock() {
    let (ctx, _cancel) = Context::background().with_cancel();
    ctx.done().recv();
}

/// How deep the chains of the stack-depth tests go: 20 times what used to
/// overflow a goroutine's stack (about 50,000 levels, issue 17 item 8).
const DEEP: usize = 1_000_000;

/// Issue 17 item 8: each context owns its parent, so dropping a chain used
/// to recurse once per level and overflow the stack. Every context of the
/// chain stays cancellable (its `CancelFunc` kept) until the root's cancel
/// reaches them all, then the chain is dropped leaf first.
#[goscope::test]
fn a_million_deep_context_chain_is_cancelled_and_dropped_in_a_goroutine() {
    go! {
        let (root, cancel_root) = Context::background().with_cancel();
        let mut cancels = Vec::with_capacity(DEEP);
        let mut leaf = root.clone();
        for _ in 0..DEEP {
            let (child, cancel) = leaf.with_cancel();
            cancels.push(cancel);
            leaf = child;
        }
        assert_eq!(leaf.err(), None);
        // The cancellation reaches every level (it used to recurse too).
        cancel_root.cancel();
        assert_eq!(leaf.err(), Some(Error::Canceled));
        // The leaf holds the whole chain: dropping it last drops all.
        drop(root);
        drop(cancels);
        drop(leaf);
    }
}

/// The same chain cancelled level by level as it is built (each child is
/// born of a cancelled parent), dropped from the leaf, which owns it all.
#[goscope::test]
fn a_million_deep_chain_of_cancelled_contexts_drops_in_a_goroutine() {
    go! {
        let mut leaf = Context::background();
        for _ in 0..DEEP {
            let (child, cancel) = leaf.with_cancel();
            drop(cancel);
            leaf = child;
        }
        assert_eq!(leaf.err(), Some(Error::Canceled));
        drop(leaf);
    }
}
