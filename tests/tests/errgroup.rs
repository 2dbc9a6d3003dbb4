//! `goscope::errgroup`: first error, the derived context, limits, and how
//! a `go` waiting for a slot looks to the deadlock detector.

use goscope::context::Context;
use goscope::errgroup::{Error, Group};
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
    assert_eq!(ctx.err(), Some(goscope::context::Error::Canceled));
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
        Err(1),
        "errors after the first are dropped, as Go's errOnce"
    );
}

#[goscope::test]
fn every_wait_returns_the_first_error() {
    let g = Group::new();
    g.go(|| Err("first".to_string()));
    assert_eq!(g.wait(), Err("first".to_string()));
    assert_eq!(g.wait(), Err("first".to_string()), "a second wait");
    assert_eq!(g.wait(), Err("first".to_string()), "a third wait");
}

/// x/sync's Pipeline example: a closer goroutine waits for the group and
/// closes the results channel; the caller drains it and waits again to
/// learn whether the results are complete. Both waits see the error.
#[goscope::test]
fn a_closer_goroutines_wait_and_the_callers_both_see_the_error() {
    let g = Group::<String>::new();
    let (results_tx, results) = chan::<u32>(0);
    for i in 0..8 {
        let results_tx = results_tx.clone();
        g.go(move || {
            if i == 5 {
                return Err(format!("part {i} failed"));
            }
            results_tx.send(i).map_err(|e| e.to_string())
        });
    }
    let closer = g.clone();
    let (closer_saw_tx, closer_saw) = chan(1);
    go!(static move || {
        let _ = closer_saw_tx.send(closer.wait());
        drop(results_tx); // close(c)
    });
    let received = results.iter().count();
    assert_eq!(received, 7, "every part but the failed one");
    assert_eq!(closer_saw.recv(), Some(Err("part 5 failed".to_string())));
    assert_eq!(
        g.wait(),
        Err("part 5 failed".to_string()),
        "the caller's wait"
    );
}

#[goscope::test]
fn several_goroutines_waiting_at_once_all_see_the_error() {
    let g = Group::new();
    let (release_tx, release) = chan::<()>(0);
    g.go(move || {
        release.recv();
        Err("late")
    });
    let (saw_tx, saw) = chan(4);
    for _ in 0..4 {
        let (g, saw_tx) = (g.clone(), saw_tx.clone());
        go!(static move || saw_tx.send(g.wait()).unwrap());
    }
    drop(saw_tx);
    drop(release_tx);
    let seen: Vec<_> = saw.iter().collect();
    assert_eq!(seen, vec![Err("late"); 4]);
}

#[goscope::test]
fn the_default_error_type_takes_every_question_mark() {
    fn refuse_str() -> Result<(), &'static str> {
        Err("a &str")
    }
    fn refuse_string() -> Result<(), String> {
        Err("a String".to_string())
    }
    // `E` defaults to `errgroup::Error`, Go's `error`: no turbofish.
    let g: Group = Group::new();
    g.go(|| {
        refuse_str()?;
        Ok(())
    });
    g.go(|| {
        refuse_string()?;
        Ok(())
    });
    g.go(|| {
        let _: i32 = "x".parse()?;
        Ok(())
    });
    g.go(|| {
        std::fs::read("/no/such/file/for/goscope")?;
        Ok(())
    });
    let err = g.wait().unwrap_err();
    let text = err.to_string();
    assert!(
        [
            "a &str",
            "a String",
            "invalid digit found in string",
            "No such file or directory (os error 2)"
        ]
        .contains(&text.as_str()),
        "{text}"
    );
    assert_eq!(
        g.wait().unwrap_err().to_string(),
        text,
        "the same error again"
    );
}

#[goscope::test]
fn the_default_error_is_shared_and_keeps_its_type() {
    let g = Group::<Error>::new();
    g.go(|| Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no").into()));
    let (a, b) = (g.wait().unwrap_err(), g.wait().unwrap_err());
    let (a, b) = (
        a.downcast_ref::<std::io::Error>().expect("an io::Error"),
        b.downcast_ref::<std::io::Error>().expect("an io::Error"),
    );
    assert!(std::ptr::eq(a, b), "both waits hand out the one error");
    assert_eq!(a.kind(), std::io::ErrorKind::PermissionDenied);
    assert_eq!(format!("{:?}", g.wait().unwrap_err()), format!("{a:?}"));
}

#[goscope::test]
fn the_default_error_converts_into_a_boxed_error() {
    fn md5_all() -> Result<(), Box<dyn std::error::Error>> {
        let g = Group::<Error>::new();
        g.go(|| Err("unreadable".into()));
        g.wait()?;
        Ok(())
    }
    assert_eq!(md5_all().unwrap_err().to_string(), "unreadable");
}

#[goscope::test]
fn e_is_inferred_from_where_the_error_goes() {
    // Go's `if err := g.Wait(); err != nil { return nil, err }`: the
    // function's return type names `E`, the goroutines only use `?`.
    #[expect(
        clippy::question_mark,
        reason = "`g.wait()?` would leave `E` to be inferred from `From` impls alone"
    )]
    fn lengths(inputs: &'static [&'static str]) -> Result<usize, Error> {
        let g = Group::new();
        for input in inputs {
            g.go(move || {
                let _: u32 = input.parse()?;
                Ok(())
            });
        }
        if let Err(err) = g.wait() {
            return Err(err);
        }
        Ok(inputs.len())
    }
    assert_eq!(lengths(&["1", "2"]).unwrap(), 2);
    assert!(lengths(&["1", "-"]).is_err());

    // The same with `map`, which clippy prefers.
    fn count(inputs: &'static [&'static str]) -> Result<usize, Error> {
        let g = Group::new();
        for input in inputs {
            g.go(move || {
                let _: u32 = input.parse()?;
                Ok(())
            });
        }
        g.wait().map(|()| inputs.len())
    }
    assert_eq!(count(&["1", "2"]).unwrap(), 2);
    assert!(count(&["-"]).is_err());
}

#[goscope::test]
fn an_arc_keeps_an_error_that_is_not_clone() {
    let g = Group::<std::sync::Arc<std::io::Error>>::new();
    g.go(|| {
        std::fs::read_dir("/no/such/dir/for/goscope")?;
        Ok(())
    });
    let (a, b) = (g.wait().unwrap_err(), g.wait().unwrap_err());
    assert!(
        std::sync::Arc::ptr_eq(&a, &b),
        "both waits hand out the one error"
    );
    assert_eq!(a.kind(), std::io::ErrorKind::NotFound);
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
