//! The tests of Go's `golang.org/x/sync/errgroup`, ported to goscope:
//! `TestZeroGroup`, `TestWithContext`, `TestTryGo` and `TestGoLimit` of
//! `errgroup/errgroup_test.go` in golang/sync, BSD-style licence, Copyright
//! 2016 The Go Authors.
//!
//! As in Go, every `wait` returns the first error: `TestZeroGroup` waits
//! after each `go` and sees the first error again every time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use goscope::context::Context;
use goscope::errgroup::Group;
use goscope::prelude::*;

#[goscope::test]
fn zero_group() {
    let err1 = "errgroup_test: 1";
    let err2 = "errgroup_test: 2";
    let cases: [&[Option<&str>]; 5] = [
        &[],
        &[None],
        &[Some(err1)],
        &[Some(err1), None],
        &[Some(err1), None, Some(err2)],
    ];
    for errs in cases {
        let g = Group::new();
        let mut first_err = None;
        for (i, &err) in errs.iter().enumerate() {
            g.go(move || err.map_or(Ok(()), Err));
            if first_err.is_none() && err.is_some() {
                first_err = err;
            }
            // Go: `g.Wait() != firstErr` fails, on every call.
            let want = first_err.map_or(Ok(()), Err);
            assert_eq!(g.wait(), want, "after errs[..={i}] of {errs:?}");
        }
    }
}

/// Go's table rows: what the goroutines return, and what `wait` should.
type Case = (&'static [Option<&'static str>], Result<(), &'static str>);

#[goscope::test]
fn with_context() {
    const DOOM: &str = "group_test: doomed";
    let cases: [Case; 4] = [
        (&[], Ok(())),
        (&[None], Ok(())),
        (&[Some(DOOM)], Err(DOOM)),
        (&[Some(DOOM), None], Err(DOOM)),
    ];
    for (errs, want) in cases {
        let (g, ctx) = Group::with_context(&Context::background());
        for &err in errs {
            g.go(move || err.map_or(Ok(()), Err));
        }
        assert_eq!(g.wait(), want, "errs {errs:?}");
        let canceled = select! {
            <-ctx.done() => true,
            default => false,
        };
        assert!(canceled, "errs {errs:?}: ctx.done() was not closed");
    }
}

#[goscope::test]
fn try_go() {
    let g = Group::<()>::new();
    let n = 42;
    g.set_limit(42);
    let (ch_tx, ch) = chan::<()>(0);
    let f = || {
        let ch_tx = ch_tx.clone();
        move || {
            ch_tx.send(()).unwrap();
            Ok(())
        }
    };
    for i in 0..n {
        assert!(
            g.try_go(f()),
            "try_go should succeed but failed at call {i}"
        );
    }
    assert!(!g.try_go(f()), "try_go is expected to fail but succeeded");
    let ch = &ch;
    go! {
        for _ in 0..n {
            ch.recv();
        }
    }
    g.wait().unwrap();

    assert!(g.try_go(f()), "try_go should succeed after all goroutines");
    go! { ch.recv(); }
    g.wait().unwrap();

    // Switch limit.
    g.set_limit(1);
    assert!(g.try_go(f()), "try_go should succeed");
    assert!(!g.try_go(f()), "try_go should fail");
    go! { ch.recv(); }
    g.wait().unwrap();

    // Block all calls.
    g.set_limit(0);
    for _ in 0..1 << 10 {
        assert!(!g.try_go(f()), "try_go should fail");
    }
    g.wait().unwrap();
}

#[goscope::test]
fn go_limit() {
    const LIMIT: i32 = 10;
    let g = Group::new();
    g.set_limit(LIMIT as isize);
    let active = Arc::new(AtomicI32::new(0));
    for _ in 0..=1 << 10 {
        let active = Arc::clone(&active);
        g.go(move || {
            let n = active.fetch_add(1, Ordering::SeqCst) + 1;
            if n > LIMIT {
                return Err(format!("saw {n} active goroutines; want ≤ {LIMIT}"));
            }
            // Give other goroutines a chance to increment active.
            sleep(Duration::from_micros(1));
            active.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        });
    }
    g.wait().unwrap();
}

/// Go's `Search`: a fake search that answers at once (`fakeSearch`).
fn fake_search(kind: &str, ctx: &Context, query: &str) -> Result<String, goscope::errgroup::Error> {
    if let Some(err) = ctx.err() {
        return Err(err.into());
    }
    Ok(format!("{kind} result for {query:?}"))
}

/// `ExampleGroup_parallel`: each goroutine writes its slot of `results`,
/// a local of `google` (the borrowing form, `errgroup::scope_with_context`).
#[goscope::test]
fn example_group_parallel() {
    fn google(ctx: &Context, query: &str) -> Result<Vec<String>, goscope::errgroup::Error> {
        let searches = ["web", "image", "video"];
        let mut results = vec![String::new(); searches.len()];
        // Go's `if err := g.Wait(); err != nil { return nil, err }`;
        // `scope_with_context` returns once its goroutines are done. The
        // function's return type names the error type (a `?` alone would
        // not: see the errgroup module docs).
        goscope::errgroup::scope_with_context(ctx, |g, ctx| {
            for (search, result) in searches.iter().zip(results.iter_mut()) {
                let ctx = ctx.clone();
                g.go(move || {
                    *result = fake_search(search, &ctx, query)?;
                    Ok(())
                });
            }
        })
        .map(|()| results)
    }
    let results = google(&Context::background(), "golang").unwrap();
    assert_eq!(
        results,
        [
            r#"web result for "golang""#,
            r#"image result for "golang""#,
            r#"video result for "golang""#,
        ]
    );
    // And the error path: a cancelled context fails every search.
    let (ctx, cancel) = Context::background().with_cancel();
    cancel.cancel();
    assert_eq!(
        google(&ctx, "golang").unwrap_err().to_string(),
        "context canceled"
    );
}

/// `ExampleGroup_pipeline`'s shape over an in-memory tree: a walker, a
/// fixed number of digesters, a closer goroutine that waits for the group
/// and closes the results, and the caller's own `Wait` afterwards. One
/// "file" cannot be read: both waits must report it (the caller's wait
/// once returned `Ok(())`, and MD5All reported success with partial
/// results).
#[goscope::test]
fn example_group_pipeline_both_waits_see_the_error() {
    const FILES: usize = 200;
    const UNREADABLE: usize = 137;
    let (g, ctx) = Group::<String>::with_context(&Context::background());
    let (paths_tx, paths) = chan::<usize>(0);
    {
        let ctx = ctx.clone();
        g.go(move || {
            let paths_tx = paths_tx; // defer close(paths)
            for path in 0..FILES {
                select! {
                    paths_tx <- path => {}
                    <-ctx.done() => return Err(ctx.err().unwrap().to_string()),
                }
            }
            Ok(())
        });
    }
    let (c_tx, c) = chan::<(usize, usize)>(0);
    for _ in 0..20 {
        let (paths, c_tx, ctx) = (paths.clone(), c_tx.clone(), ctx.clone());
        g.go(move || {
            for path in &paths {
                if path == UNREADABLE {
                    return Err(format!("open file{path}: permission denied"));
                }
                select! {
                    c_tx <- (path, path * 2) => {}
                    <-ctx.done() => return Err(ctx.err().unwrap().to_string()),
                }
            }
            Ok(())
        });
    }
    drop(paths);
    let closer = g.clone();
    let (closer_saw_tx, closer_saw) = chan(1);
    go!(static move || {
        closer_saw_tx.send(closer.wait()).unwrap();
        drop(c_tx); // close(c)
    });
    let m: std::collections::HashMap<usize, usize> = c.iter().collect();
    assert!(
        m.len() < FILES,
        "the error stops the pipeline early or not, never completes it"
    );
    let want = Err(format!("open file{UNREADABLE}: permission denied"));
    assert_eq!(closer_saw.recv(), Some(want.clone()), "the closer's wait");
    assert_eq!(g.wait(), want, "the caller's wait");
}
