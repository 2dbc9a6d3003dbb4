//! `goscope::errgroup`: first error, the derived context, limits, and how
//! a `go` waiting for a slot looks to the deadlock detector.

use goscope::context::{Context, Error};
use goscope::errgroup::Group;
use goscope::prelude::*;

#[goscope::test]
fn the_first_error_cancels_the_context_before_wait() {
    let (g, ctx) = Group::with_context(&Context::background());
    let (failed_tx, failed) = chan::<()>(0);
    {
        let ctx = ctx.clone();
        g.go(move || {
            // Still running after the error: it sees the cancellation.
            failed.recv();
            select! {
                <-ctx.done() => Ok(()),
                <-after(Duration::from_secs(30)) => Err("not cancelled"),
            }
        });
    }
    g.go(move || {
        drop(failed_tx);
        Err("boom")
    });
    assert_eq!(g.wait(), Err("boom"));
    assert_eq!(ctx.err(), Some(Error::Canceled));
}

#[goscope::test]
fn only_the_first_error_is_kept() {
    let g = Group::new();
    let (first_tx, first) = chan::<()>(0);
    g.go(move || {
        drop(first_tx);
        Err(1)
    });
    g.go(move || {
        first.recv(); // after the first error
        Err(2)
    });
    assert_eq!(g.wait(), Err(1));
    g.go(|| Err(3));
    assert_eq!(
        g.wait(),
        Ok(()),
        "errors after the first are dropped, as Go's errOnce"
    );
}

#[goscope::test]
fn a_goroutine_of_the_group_can_start_more() {
    let g = Group::<String>::new();
    let (tx, rx) = chan(10);
    let inner = g.clone();
    g.go(move || {
        for i in 0..5 {
            let tx = tx.clone();
            inner.go(move || tx.send(i).map_err(|e| e.to_string()));
        }
        Ok(())
    });
    g.wait().unwrap();
    assert_eq!(rx.len(), 5);
}

#[goscope::test]
fn a_negative_limit_removes_the_limit() {
    let g = Group::<()>::new();
    g.set_limit(1);
    g.set_limit(-1);
    let (release_tx, release) = chan::<()>(0);
    for _ in 0..3 {
        let release = release.clone();
        assert!(g.try_go(move || {
            release.recv();
            Ok(())
        }));
    }
    drop(release_tx);
    g.wait().unwrap();
}

#[goscope::test]
#[should_panic(
    expected = "errgroup: modify limit while 1 goroutines in the group are still active"
)]
fn changing_the_limit_while_goroutines_run_panics() {
    let g = Group::<()>::new();
    g.set_limit(2);
    let (_hold, wait) = chan::<()>(0);
    g.go(move || {
        wait.recv_timeout(Duration::from_secs(30)).ok();
        Ok(())
    });
    g.set_limit(3);
}

#[goscope::test]
fn debug_shows_the_limit() {
    let g = Group::<()>::new();
    g.set_limit(4);
    assert!(format!("{g:?}").contains("limit: Some(4)"), "{g:?}");
}

#[goscope::test]
#[should_panic(expected = "[chan send]")]
fn a_go_waiting_for_a_slot_is_seen_by_the_deadlock_detector() {
    let g = Group::<()>::new();
    g.set_limit(1);
    let (_tx, rx) = chan::<()>(0);
    g.go(move || {
        rx.recv(); // never sent to
        Ok(())
    });
    // Waits for a slot that never frees: Go's `chan send` on the semaphore.
    g.go(|| Ok(()));
}

#[test]
fn scoped_group_goroutines_borrow_the_callers_locals() {
    let inputs: Vec<u64> = (1..=100).collect();
    let mut squares = vec![0; inputs.len()];
    let result: Result<(), String> = goscope::errgroup::scope(|g| {
        g.set_limit(8);
        for (x, slot) in inputs.iter().zip(squares.iter_mut()) {
            g.go(move || {
                *slot = x * x;
                Ok(())
            });
        }
    });
    result.unwrap();
    assert_eq!(
        squares.iter().sum::<u64>(),
        (1..=100u64).map(|x| x * x).sum()
    );
}

#[test]
fn scoped_group_returns_the_first_error_after_joining_all() {
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let result = goscope::errgroup::scope(|g| {
        for i in 0..10 {
            let finished = &finished;
            g.go(move || {
                finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i == 3 {
                    Err(format!("task {i}"))
                } else {
                    Ok(())
                }
            });
        }
        "value"
    });
    assert_eq!(result, Err("task 3".to_string()));
    assert_eq!(finished.into_inner(), 10, "every goroutine joined");
}

#[test]
fn scope_with_context_cancels_the_others_at_the_first_error() {
    let names = ["broken", "waits-1", "waits-2"];
    let result = goscope::errgroup::scope_with_context(&Context::background(), |g, ctx| {
        for name in &names {
            let ctx = ctx.clone();
            g.go(move || {
                if *name == "broken" {
                    return Err(format!("{name} failed"));
                }
                select! {
                    <-ctx.done() => Ok(()),
                    <-after(Duration::from_secs(30)) => Err(format!("{name} not cancelled")),
                }
            });
        }
    });
    assert_eq!(result, Err("broken failed".to_string()));
}

#[test]
#[should_panic(expected = "boom in a scoped group")]
fn a_panic_in_a_scoped_group_resumes_in_the_caller() {
    let _ = goscope::errgroup::scope::<(), _, _>(|g| {
        g.go(|| panic!("boom in a scoped group"));
    });
}
