//! Property tests of the expansions (issue 13): on any tokens, `go!`,
//! `select!`, `defer!`, `scope!` and the attributes never panic, and what they produce
//! parses as Rust: the intended code, or that plus a `compile_error!`.
//!
//! Inputs are random token trees over a vocabulary that reaches every
//! branch of the parsers (Go's arrows, the attributes' markers, items), and
//! random mutations (delete, duplicate, swap, insert a token, at any depth)
//! of valid invocations. The attribute tests also expand the `go!`,
//! `defer!`, `select!` and `scope!` calls in the attribute's output, as rustc would,
//! so the markers the attributes hand them are covered too.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::entry::Kind;

const IDENTS: &[&str] = &[
    "go",
    "defer",
    "select",
    "scope",
    "fn",
    "let",
    "move",
    "static",
    "default",
    "async",
    "impl",
    "const",
    "mut",
    "ref",
    "self",
    "mod",
    "struct",
    "trait",
    "macro_rules",
    "return",
    "loop",
    "if",
    "match",
    "x",
    "f",
    "rx",
    "tx",
    "drop",
    "main",
    "scoped",
    "guard",
    "goscope",
    "deadlock",
    "leak_check",
    "__goscope_scope",
    "Some",
    "_",
];

const PUNCTS: &[char] = &[
    '<', '-', '=', '>', '!', ',', ';', '@', '|', '&', '.', ':', '?', '\'', '#', '*', '+',
];

fn leaf() -> impl Strategy<Value = TokenTree> {
    prop_oneof![
        4 => prop::sample::select(IDENTS)
            .prop_map(|name| TokenTree::Ident(Ident::new(name, Span::call_site()))),
        4 => (prop::sample::select(PUNCTS), any::<bool>()).prop_map(|(c, joint)| {
            let spacing = if joint { Spacing::Joint } else { Spacing::Alone };
            TokenTree::Punct(Punct::new(c, spacing))
        }),
        1 => prop_oneof![
            Just(Literal::i32_unsuffixed(1)),
            Just(Literal::string("off")),
            Just(Literal::string("{}")),
            Just(Literal::u8_suffixed(0)),
        ]
        .prop_map(TokenTree::Literal),
    ]
}

fn delimiter() -> impl Strategy<Value = Delimiter> {
    prop_oneof![
        Just(Delimiter::Parenthesis),
        Just(Delimiter::Brace),
        Just(Delimiter::Bracket),
        Just(Delimiter::None),
    ]
}

fn token_tree() -> impl Strategy<Value = TokenTree> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        (delimiter(), prop::collection::vec(inner, 0..8)).prop_map(|(delimiter, tts)| {
            TokenTree::Group(Group::new(delimiter, tts.into_iter().collect()))
        })
    })
}

fn tokens() -> impl Strategy<Value = TokenStream> {
    prop::collection::vec(token_tree(), 0..12).prop_map(|tts| tts.into_iter().collect())
}

/// A token stream flattened, groups as their brackets, so that a mutation
/// can reach any depth (and unbalance the brackets, which [`rebuild`]
/// repairs).
#[derive(Clone, Debug)]
enum Flat {
    Token(TokenTree),
    Open(Delimiter),
    Close,
}

fn flatten(tokens: TokenStream, out: &mut Vec<Flat>) {
    for tt in tokens {
        match tt {
            TokenTree::Group(g) => {
                out.push(Flat::Open(g.delimiter()));
                flatten(g.stream(), out);
                out.push(Flat::Close);
            }
            tt => out.push(Flat::Token(tt)),
        }
    }
}

/// Groups again; a stray close is dropped, an unclosed group closed at the
/// end.
fn rebuild(flat: Vec<Flat>) -> TokenStream {
    let mut stack: Vec<(Delimiter, Vec<TokenTree>)> = vec![(Delimiter::None, Vec::new())];
    for f in flat {
        match f {
            Flat::Token(tt) => {
                if let Some((_, tts)) = stack.last_mut() {
                    tts.push(tt);
                }
            }
            Flat::Open(d) => stack.push((d, Vec::new())),
            Flat::Close if stack.len() > 1 => close(&mut stack),
            Flat::Close => {}
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    stack
        .pop()
        .map(|(_, v)| v.into_iter().collect())
        .unwrap_or_default()
}

fn close(stack: &mut Vec<(Delimiter, Vec<TokenTree>)>) {
    if let Some((d, tts)) = stack.pop() {
        let group = TokenTree::Group(Group::new(d, tts.into_iter().collect()));
        if let Some((_, parent)) = stack.last_mut() {
            parent.push(group);
        }
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Insert(Index, TokenTree),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Duplicate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<Index>(), leaf()).prop_map(|(at, tt)| Mutation::Insert(at, tt)),
    ]
}

fn mutate(seed: &str, mutations: &[Mutation]) -> TokenStream {
    let tokens: TokenStream = seed.parse().expect("the seeds are valid tokens");
    let mut flat = Vec::new();
    flatten(tokens, &mut flat);
    for m in mutations {
        if flat.is_empty() {
            break;
        }
        match m {
            Mutation::Delete(at) => {
                flat.remove(at.index(flat.len()));
            }
            Mutation::Duplicate(at) => {
                let at = at.index(flat.len());
                flat.insert(at, flat[at].clone());
            }
            Mutation::Swap(a, b) => {
                let (a, b) = (a.index(flat.len()), b.index(flat.len()));
                flat.swap(a, b);
            }
            Mutation::Insert(at, tt) => flat.insert(at.index(flat.len()), Flat::Token(tt.clone())),
        }
    }
    rebuild(flat)
}

const GO_SEEDS: &[&str] = &[
    "f(a, b)",
    "path::f::<T>(a)",
    "recv.method(a[i], &x)",
    "move || tx.send(1)",
    "{ let x = 1; f(&x); }",
    "static f(a)",
    "static move || f(a)",
    "@scoped __goscope_scope (f(a))",
    "@scoped __goscope_scope { defer!(wg.done()); go!(g()); }",
    "func() { x() }()",
];

const SELECT_SEEDS: &[&str] = &[
    "v = <-rx => f(v), <-done => return, tx <- 42 => {}, default => {},",
    "Some(v) = <-rx => v, <-after(Duration::from_secs(1)) => 0",
    "v := <-rx => {} case <-done: {}",
    "<-rx => { go!(f()); } default => break",
];

const SCOPE_SEEDS: &[&str] = &[
    "let (tx, rx) = chan(0); defer!(drop(tx)); go!(f(&rx)); let b = 2; go!(g(&b)); b",
    "for x in xs { go!(f(x)); } scope! { go!(g()); } go!(static h())",
    "loop { if done { break; } } fn item() { go!(f()); } select! { v = <-rx => return v, }",
    "let n = s.parse()?; 'a: { break 'a; } go!(move || { return; })",
];

const DEFER_SEEDS: &[&str] = &[
    "f(a, g(b))",
    "drop(tx)",
    "mem::drop(tx)",
    "wg.done()",
    "println!(\"{}\", x)",
    "{ x.done(); go!(f()); }",
    "@guard __goscope_defer0 (drop(tx))",
    "@guard __goscope_defer1 { log(1); }",
    "|| f()",
];

const ITEM_SEEDS: &[&str] = &[
    "fn main() { let (tx, rx) = chan(0); defer!(drop(tx)); let total = 0; go!(consume(&rx, &total)); let b = 2; go!(g(&total, &b)); defer!(f(b)); b }",
    "fn f(x: &[u8]) -> Result<usize, E> { let v = vec![{ fn inner() { go!(f()); } 1 }, { let c = || go!(g()); 2 }]; let n = x.len(); go!(h(&n)); select! { v = <-rx => {}, default => {} } Ok(n) }",
    "async fn t(x: i32) -> impl Iterator<Item = &u8> { let a = 1; go!(f(&a)); fn item() {} a }",
    "#[test] const fn t<T>() where T: Copy { defer! { go!(f()); } }",
    "impl S { fn f(&self) {} }",
    "struct S;",
];

const ARG_SEEDS: &[&str] = &[
    "",
    "deadlock = \"off\"",
    "leak_check = \"on\", deadlock = \"off\"",
    "x",
];

/// What the output must parse as.
#[derive(Clone, Copy, Debug)]
enum Output {
    /// `go!` and `select!`: an expression.
    Expr,
    /// `defer!`: statements.
    Stmts,
    /// The attributes: items.
    File,
}

fn check(what: &str, input: &TokenStream, out: &TokenStream, as_: Output) {
    let parsed = match as_ {
        Output::Expr => syn::parse2::<syn::Expr>(out.clone()).map(drop),
        Output::Stmts => {
            syn::parse::Parser::parse2(syn::Block::parse_within, out.clone()).map(drop)
        }
        Output::File => syn::parse2::<syn::File>(out.clone()).map(drop),
    };
    assert!(
        parsed.is_ok(),
        "{what}!({input}) expanded to tokens that are not Rust ({as_:?}): {}\n{out}",
        parsed.err().map(|e| e.to_string()).unwrap_or_default()
    );
    expand_nested(out.clone());
}

/// Expands, as rustc would next, every `go!`, `defer!` and `select!` in
/// `tokens`, and checks what they produce.
fn expand_nested(tokens: TokenStream) {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tt) in tts.iter().enumerate() {
        match (tt, tts.get(i + 1), tts.get(i + 2)) {
            (
                TokenTree::Ident(name),
                Some(TokenTree::Punct(bang)),
                Some(TokenTree::Group(args)),
            ) if bang.as_char() == '!' => {
                let input = args.stream();
                match name.to_string().as_str() {
                    "go" => check(
                        "go",
                        &input,
                        &crate::go::expand(input.clone()),
                        Output::Expr,
                    ),
                    "defer" => check(
                        "defer",
                        &input,
                        &crate::defer::expand(input.clone()),
                        Output::Stmts,
                    ),
                    "select" => check(
                        "select",
                        &input,
                        &crate::select::expand(input.clone()),
                        Output::Expr,
                    ),
                    "scope" => check(
                        "scope",
                        &input,
                        &crate::scope::expand(input.clone()),
                        Output::Expr,
                    ),
                    _ => expand_nested(input),
                }
            }
            (TokenTree::Group(g), ..) => expand_nested(g.stream()),
            _ => {}
        }
    }
}

fn go(input: TokenStream) {
    check(
        "go",
        &input,
        &crate::go::expand(input.clone()),
        Output::Expr,
    );
}

fn select(input: TokenStream) {
    check(
        "select",
        &input,
        &crate::select::expand(input.clone()),
        Output::Expr,
    );
}

fn scope(input: TokenStream) {
    check(
        "scope",
        &input,
        &crate::scope::expand(input.clone()),
        Output::Expr,
    );
}

fn defer(input: TokenStream) {
    check(
        "defer",
        &input,
        &crate::defer::expand(input.clone()),
        Output::Stmts,
    );
}

/// rustc hands an attribute only tokens that parse as an item; on others
/// it must still not panic.
fn attributes(args: TokenStream, item: TokenStream) {
    let is_item = syn::parse2::<syn::Item>(item.clone()).is_ok();
    for kind in [Kind::Main, Kind::Test, Kind::Scoped] {
        let out = crate::entry::expand(kind, args.clone(), item.clone());
        if is_item {
            check(kind_name(kind), &item, &out, Output::File);
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Main => "#[goscope::main]",
        Kind::Test => "#[goscope::test]",
        Kind::Scoped => "#[goscope::scoped]",
    }
}

fn seeded(seeds: &'static [&'static str]) -> impl Strategy<Value = TokenStream> {
    (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 0..5),
    )
        .prop_map(|(seed, mutations)| mutate(seed, &mutations))
}

/// An item for the attributes: random tokens in a function's body, or a
/// mutated function.
fn item() -> impl Strategy<Value = TokenStream> {
    prop_oneof![
        tokens().prop_map(|body| {
            let body = Group::new(Delimiter::Brace, body);
            quote::quote!(fn main() #body)
        }),
        tokens(),
        seeded(ITEM_SEEDS),
    ]
}

proptest! {
    #[test]
    fn go_on_random_tokens(input in tokens()) {
        go(input);
    }

    #[test]
    fn go_on_mutated_calls(input in seeded(GO_SEEDS)) {
        go(input);
    }

    #[test]
    fn select_on_random_tokens(input in tokens()) {
        select(input);
    }

    #[test]
    fn select_on_mutated_arms(input in seeded(SELECT_SEEDS)) {
        select(input);
    }

    #[test]
    fn scope_on_random_tokens(input in tokens()) {
        scope(input);
    }

    #[test]
    fn scope_on_mutated_blocks(input in seeded(SCOPE_SEEDS)) {
        scope(input);
    }

    #[test]
    fn defer_on_random_tokens(input in tokens()) {
        defer(input);
    }

    #[test]
    fn defer_on_mutated_calls(input in seeded(DEFER_SEEDS)) {
        defer(input);
    }

    #[test]
    fn attributes_on_random_tokens(args in tokens(), item in item()) {
        attributes(args, item);
    }

    #[test]
    fn attributes_on_mutated_functions(args in seeded(ARG_SEEDS), item in seeded(ITEM_SEEDS)) {
        attributes(args, item);
    }
}

/// The seeds themselves expand to Rust, with no error where they are valid.
#[test]
fn valid_seeds_expand_without_errors() {
    let valid = |tokens: &TokenStream| !tokens.to_string().contains("compile_error");
    let go_seeds = GO_SEEDS
        .iter()
        .filter(|s| !s.starts_with("static") && !s.starts_with("func"));
    for seed in go_seeds {
        let out = crate::go::expand(seed.parse().unwrap());
        assert!(valid(&out), "go!({seed}): {out}");
    }
    for seed in &DEFER_SEEDS[..DEFER_SEEDS.len() - 1] {
        let out = crate::defer::expand(seed.parse().unwrap());
        assert!(valid(&out), "defer!({seed}): {out}");
    }
    let out = crate::entry::expand(
        Kind::Main,
        TokenStream::new(),
        ITEM_SEEDS[0].parse().unwrap(),
    );
    assert!(valid(&out), "{out}");
    for seed in &SCOPE_SEEDS[..2] {
        let out = crate::scope::expand(seed.parse().unwrap());
        assert!(valid(&out), "scope!({seed}): {out}");
    }
    // The others leave the block once each (a `return`, a `?`), and only
    // once: the block's own loops and labelled blocks, and a goroutine's
    // `return`, stay inside it.
    for seed in &SCOPE_SEEDS[2..] {
        let out = crate::scope::expand(seed.parse().unwrap()).to_string();
        let errors = out.matches("compile_error").count();
        assert_eq!(errors, 1, "scope!({seed}): {out}");
    }
}

/// A `go!` in a nested item inside another macro's tokens is left alone
/// (issue 13, item 6); one in a closure there is pointed at the scope.
#[test]
fn go_in_other_macros_tokens_skips_nested_items() {
    let item = "fn main() { let v = vec![{ fn inside() { go!(a()); } go!(b()); || go!(c()) }]; }";
    let out = crate::entry::expand(Kind::Main, TokenStream::new(), item.parse().unwrap());
    let out = out.to_string();
    assert!(out.contains("go ! (a ())"), "{out}");
    assert!(
        out.contains("go ! (@ scoped __goscope_scope (b ()))"),
        "{out}"
    );
    assert!(
        out.contains("go ! (@ scoped __goscope_scope (c ()))"),
        "{out}"
    );
}

/// Past 64 nested scopes the levels go through a `&mut dyn FnMut`; a
/// return type that a closure cannot name keeps the direct form.
#[test]
fn deep_nesting_switches_to_dyn_scopes() {
    // syn parses 70 nested closures recursively: more than a test thread's
    // stack in a debug build (rustc gives a proc macro a larger one).
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(deep_nesting)
        .expect("a thread for the deep expansion")
        .join()
        .expect("the deep expansion checked out");
}

fn deep_nesting() {
    let body: String = (0..70)
        .map(|i| format!("let x{i} = {i}; go!(f(&x{i}));"))
        .collect();
    for (sig, deep) in [("fn f() -> u8", true), ("fn f() -> impl Sized", false)] {
        let item = format!("{sig} {{ {body} 0 }}");
        let out = crate::entry::expand(Kind::Scoped, TokenStream::new(), item.parse().unwrap());
        check(
            "#[goscope::scoped]",
            &item.parse().unwrap(),
            &out,
            Output::File,
        );
        let text = out.to_string();
        assert_eq!(text.contains("__goscope_once"), deep, "{sig}");
        // The function's own scope and the first 64 nested levels call
        // `scope` with their closure.
        let direct = text.matches(":: scope (| __goscope_scope |").count();
        assert_eq!(direct, 1 + if deep { 64 } else { 70 }, "{sig}");
    }
}
