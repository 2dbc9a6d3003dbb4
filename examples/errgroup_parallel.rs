//! x/sync errgroup's Parallel example (`ExampleGroup_parallel`): the
//! "Google Search 2.0" function of Go's concurrency talk, with a context
//! and error handling. Each search runs in a goroutine of the group and
//! writes its own slot of `results`, a local of `google`: the goroutines
//! borrow, so the group is `errgroup::scope_with_context`, which waits for
//! them before it returns, as Go's `g.Wait()` does.
//!
//! Usage: `cargo run --example errgroup_parallel [QUERY]` (default
//! `golang`). Prints the three results. The original's fake searches never
//! fail; these fail on an empty query, to show the error path: the error
//! is printed on stderr and the program exits with status 0, as Go's
//! example returns from `main`.
//!
//! | Go | goscope |
//! | --- | --- |
//! | `g, ctx := errgroup.WithContext(ctx)` | `errgroup::scope_with_context(ctx, \|g, ctx\| { ... })` |
//! | `results[i] = result` in `g.Go(func() error { ... })` | `*result = ...` through a slot borrowed from `results` |
//! | `if err := g.Wait(); err != nil { return nil, err }` | the `?` on `scope_with_context`'s result |
use std::sync::LazyLock;

use goscope::context::Context;
use goscope::errgroup::{self, Error};

/// Go's `type Result string`.
type SearchResult = String;

/// Go's `type Search func(ctx context.Context, query string) (Result, error)`.
type Search = Box<dyn Fn(&Context, &str) -> Result<SearchResult, Error> + Send + Sync>;

static WEB: LazyLock<Search> = LazyLock::new(|| fake_search("web"));
static IMAGE: LazyLock<Search> = LazyLock::new(|| fake_search("image"));
static VIDEO: LazyLock<Search> = LazyLock::new(|| fake_search("video"));

/// Go's `fakeSearch(kind)`: a search that answers at once.
fn fake_search(kind: &'static str) -> Search {
    Box::new(move |_ctx, query| {
        if query.is_empty() {
            return Err("empty query".into());
        }
        Ok(format!("{kind} result for {query:?}"))
    })
}

/// Go's `Google`: runs the web, image and video searches in parallel and
/// returns their results in that order, or the first error.
fn google(ctx: &Context, query: &str) -> Result<Vec<SearchResult>, Error> {
    let searches: [&Search; 3] = [&WEB, &IMAGE, &VIDEO];
    let mut results = vec![SearchResult::new(); searches.len()];
    // `::<Error, _, _>` names the error type: the goroutines' `?` and this
    // `?` alone would leave it open.
    errgroup::scope_with_context::<Error, _, _>(ctx, |g, ctx| {
        for (search, result) in searches.iter().zip(&mut results) {
            let ctx = ctx.clone();
            g.go(move || {
                *result = search(&ctx, query)?;
                Ok(())
            });
        }
    })?;
    Ok(results)
}

#[goscope::main]
fn main() {
    let query = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "golang".to_string());
    let results = match google(&Context::background(), &query) {
        Ok(results) => results,
        Err(err) => {
            eprintln!("{err}");
            return;
        }
    };
    for result in results {
        println!("{result}");
    }
}
