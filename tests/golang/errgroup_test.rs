//! The tests of Go's `golang.org/x/sync/errgroup`, ported to goscope:
//! `TestZeroGroup`, `TestWithContext`, `TestTryGo` and `TestGoLimit` of
//! `errgroup/errgroup_test.go` in golang/sync, BSD-style licence, Copyright
//! 2016 The Go Authors.
//!
//! One difference is deliberate: Go's `Wait` returns the first error again
//! on every later call; goscope's `wait` moves it out (so `E` need not be
//! `Clone`) and returns `Ok(())` afterwards. `TestZeroGroup` checks that.

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
        let mut reported = false;
        for (i, &err) in errs.iter().enumerate() {
            g.go(move || err.map_or(Ok(()), Err));
            if first_err.is_none() && err.is_some() {
                first_err = err;
            }
            let want = match first_err {
                Some(e) if !reported => {
                    reported = true;
                    Err(e)
                }
                // Go: the same error again. goscope: it was moved out, and
                // later errors are dropped (Go's errOnce).
                _ => Ok(()),
            };
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
