//! `#[goscope::main]`, `#[goscope::test]` and `#[goscope::scoped]`.
//!
//! ```text
//! #[goscope::main]
//! fn main() -> R {
//!     let a = ..;
//!     let b = ..;
//!     defer!(f(&a));
//!     go!(g(&a, &b));
//!     let c = ..;
//!     go!(h(&c));
//!     tail
//! }
//! ```
//! becomes
//! ```text
//! fn main() -> R {
//!     ::goscope::__private::main(|__goscope_scope| -> R {
//!         let a = ..;
//!         let b = ..;
//!         defer!(@guard __goscope_defer0 (f(&a)));
//!         ::goscope::__private::scope(|__goscope_scope| -> R {
//!             let __goscope_defer0 = __goscope_defer0;
//!             go!(@scoped __goscope_scope (g(&a, &b)));
//!             let c = ..;
//!             ::goscope::__private::scope(|__goscope_scope| -> R {
//!                 let __goscope_defer0 = __goscope_defer0;
//!                 go!(@scoped __goscope_scope (h(&c)));
//!                 tail
//!             })
//!         })
//!     })
//! }
//! ```
//! A statement that starts a goroutine after a `let` opens a nested scope,
//! so every local outlives the scope that joins its borrowers; locals of
//! inner blocks (a loop body) do not, and borrowing them stays a compile
//! error. Consecutive `let`s share one scope: the nesting is only as deep as
//! lets and goroutines alternate. Past 64 levels (rustc counts nested
//! instantiations of `scope` against `recursion_limit`, 128 by default) a
//! level passes `scope` a `&mut dyn FnMut` instead of its closure. The
//! closures carry the function's return type, so `return` and `?` keep
//! their meaning.
//!
//! A top-level `defer!` runs when the body finishes, before the function
//! waits for its goroutines, as Go runs defers at return: its guard moves
//! into every scope opened after it and drops, with the others in reverse
//! order, at the end of the innermost body, after the tail expression and
//! before the first join. So `defer!(drop(tx))` (Go's `defer close(ch)`)
//! ends goroutines that range over the channel wherever it stands.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Error, Item, ItemFn, Meta, Result, ReturnType, Stmt, Token, Type};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
    Scoped,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[goscope::main]",
            Kind::Test => "#[goscope::test]",
            Kind::Scoped => "#[goscope::scoped]",
        }
    }

    /// The `__private` function that opens the outermost scope.
    fn entry(self) -> Ident {
        let name = match self {
            Kind::Main => "main",
            Kind::Test => "test",
            Kind::Scoped => "scope",
        };
        Ident::new(name, Span::call_site())
    }
}

pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let (args, mut errors) = match parse_args(kind, args) {
        Ok(args) => (args, None),
        Err(err) => (Args::default(), Some(err)),
    };
    let f = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = not_a_function(kind, &item);
            // Keep the item so its other errors still show.
            return quote!(#err #item);
        }
    };
    let valid_sig = match validate_fn(kind, &f) {
        Ok(()) => true,
        Err(err) => {
            match &mut errors {
                Some(errors) => errors.combine(err),
                None => errors = Some(err),
            }
            false
        }
    };
    let errors = errors.map(|e| e.to_compile_error());
    let lowered = if f.sig.asyncness.is_some() || f.sig.constness.is_some() {
        // The body cannot run in a scope closure; keep it as written so the
        // user sees the one error above.
        f.into_token_stream()
    } else {
        // Lower even when the signature is wrong, so the body is still
        // checked (and completed in an IDE) as it will be: one error, not
        // a cascade.
        lower(kind, &args, f, valid_sig)
    };
    if kind == Kind::Main && !valid_sig {
        // rustc has its own error for a `main` that is async, generic or
        // takes parameters. Keep the user's function, checked as written,
        // inside a plain `fn main() {}`, so only the error above shows.
        return quote! {
            #errors
            fn main() {
                #[allow(dead_code)]
                #lowered
            }
        };
    }
    quote!(#errors #lowered)
}

/// The attribute's arguments.
struct Args {
    /// `deadlock = "off"` turns the deadlock detector off for this program
    /// or test.
    deadlock: bool,
    /// `leak_check = "off"` lets a test end with goroutines still running.
    leak_check: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            deadlock: true,
            leak_check: true,
        }
    }
}

fn parse_args(kind: Kind, args: TokenStream) -> Result<Args> {
    let mut parsed = Args::default();
    if args.is_empty() {
        return Ok(parsed);
    }
    let accepted = match kind {
        Kind::Main => "`deadlock = \"off\"`",
        Kind::Test => "`deadlock = \"off\"` or `leak_check = \"off\"`",
        Kind::Scoped => {
            return Err(Error::new_spanned(
                args,
                "#[goscope::scoped] takes no arguments: its goroutines follow the program's settings",
            ));
        }
    };
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut errors: Option<Error> = None;
    for meta in metas {
        let result = (|| {
            let Meta::NameValue(nv) = &meta else {
                return Err(Error::new_spanned(&meta, format!("expected {accepted}")));
            };
            let slot = if nv.path.is_ident("deadlock") {
                &mut parsed.deadlock
            } else if nv.path.is_ident("leak_check") && kind == Kind::Test {
                &mut parsed.leak_check
            } else {
                return Err(Error::new_spanned(
                    &nv.path,
                    format!("unknown argument to {}: expected {accepted}", kind.attr()),
                ));
            };
            let name = nv.path.to_token_stream();
            let expected = format!("expected \"on\" or \"off\": `{name} = \"off\"`");
            *slot = match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => match s.value().as_str() {
                    "on" => true,
                    "off" => false,
                    _ => return Err(Error::new_spanned(s, expected)),
                },
                other => return Err(Error::new_spanned(other, expected)),
            };
            Ok(())
        })();
        if let Err(err) = result {
            match &mut errors {
                Some(errors) => errors.combine(err),
                None => errors = Some(err),
            }
        }
    }
    errors.map_or(Ok(parsed), Err)
}

fn not_a_function(kind: Kind, item: &TokenStream) -> TokenStream {
    let what = match kind {
        Kind::Main => "`fn main() { ... }`",
        Kind::Test => "a test function: `fn it_works() { ... }`",
        Kind::Scoped => "a function: `fn f() { ... }`",
    };
    let parsed = syn::parse2::<Item>(item.clone());
    let help = match &parsed {
        Ok(Item::Impl(_)) => "\nhelp: put it on each method that starts goroutines",
        _ => "",
    };
    let span_tokens = match parsed {
        // Point at the keyword and name, not the whole body.
        Ok(item) => item_head(&item).unwrap_or_else(|| item.to_token_stream()),
        Err(_) => item.clone(),
    };
    Error::new_spanned(span_tokens, format!("{} goes on {what}{help}", kind.attr()))
        .to_compile_error()
}

fn item_head(item: &Item) -> Option<TokenStream> {
    fn head(keyword: &dyn ToTokens, name: &dyn ToTokens) -> TokenStream {
        quote!(#keyword #name)
    }
    Some(match item {
        Item::Struct(i) => head(&i.struct_token, &i.ident),
        Item::Enum(i) => head(&i.enum_token, &i.ident),
        Item::Const(i) => head(&i.const_token, &i.ident),
        Item::Static(i) => head(&i.static_token, &i.ident),
        Item::Mod(i) => head(&i.mod_token, &i.ident),
        Item::Trait(i) => head(&i.trait_token, &i.ident),
        Item::Type(i) => head(&i.type_token, &i.ident),
        Item::Impl(i) => head(&i.impl_token, &i.self_ty),
        Item::Use(i) => i.use_token.into_token_stream(),
        _ => return None,
    })
}

fn validate_fn(kind: Kind, f: &ItemFn) -> Result<()> {
    let sig = &f.sig;
    let attr = kind.attr();
    let mut errors: Vec<Error> = Vec::new();
    if let Some(constness) = &sig.constness {
        errors.push(Error::new_spanned(
            constness,
            format!(
                "{attr} cannot be used on a `const fn`: goroutines run at run time; remove `const`"
            ),
        ));
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.push(Error::new_spanned(
            asyncness,
            format!("{attr} cannot be used on an `async fn`: goscope's goroutines are threads, not futures; remove `async`"),
        ));
    }
    if kind != Kind::Scoped {
        let name = if kind == Kind::Main {
            "`main`"
        } else {
            "a test"
        };
        if !sig.inputs.is_empty() {
            errors.push(Error::new_spanned(
                &sig.inputs,
                format!("{name} takes no parameters: {attr} cannot pass any"),
            ));
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            errors.push(Error::new_spanned(
                &sig.generics,
                format!("{name} cannot be generic: {attr} has no types to give it"),
            ));
        }
    }
    if kind == Kind::Test {
        if let Some(attr) = f.attrs.iter().find(|a| a.path().is_ident("test")) {
            errors.push(Error::new_spanned(
                attr,
                "remove this `#[test]`: #[goscope::test] already makes the function a test",
            ));
        }
    }
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(errors);
            Err(first)
        }
    }
}

/// `valid_sig`: whether the signature passed validation; a test attribute is
/// added only then, so rustc does not repeat the error in its own words.
fn lower(kind: Kind, args: &Args, mut f: ItemFn, valid_sig: bool) -> TokenStream {
    let scope = Ident::new("__goscope_scope", Span::mixed_site());
    // Point every `go!` in the body at the innermost scope.
    let mut rewrite = RewriteGo { scope: &scope };
    rewrite.visit_block_mut(&mut f.block);

    // Items are visible in the whole block wherever they are written; keep
    // them outside the scope closures so they still are.
    let (items, stmts): (Vec<Stmt>, Vec<Stmt>) = std::mem::take(&mut f.block.stmts)
        .into_iter()
        .partition(|s| matches!(s, Stmt::Item(_)));

    let mut defers = 0;
    let steps = stmts
        .into_iter()
        .map(|stmt| Step::new(stmt, &mut defers))
        .collect();
    let ret = closure_return(&f.sig.output);
    let (body, deep) = nest(steps, &scope, &ret, f.block.brace_token.span.close());
    let deep = deep.then(deep_scope_items);
    let entry = kind.entry();
    let config = match kind {
        Kind::Scoped => TokenStream::new(),
        Kind::Main | Kind::Test => {
            let Args {
                deadlock,
                leak_check,
            } = args;
            quote!(::goscope::__private::Config { deadlock: #deadlock, leak_check: #leak_check },)
        }
    };
    let span = f.block.brace_token.span.join();
    let block = quote_spanned! {span=>
        {
            #(#items)*
            #deep
            ::goscope::__private::#entry(#config |#scope| #ret { #body })
        }
    };
    // Items are hoisted out of the scope closures: a `return x;` that was
    // followed by items becomes the last statement of a closure, which
    // clippy would call needless.
    let hoisted = (!items.is_empty()).then(|| quote!(#[allow(clippy::needless_return)]));
    let attrs = &f.attrs;
    let vis = &f.vis;
    let sig = &f.sig;
    let test =
        (kind == Kind::Test && valid_sig && !f.attrs.iter().any(|a| a.path().is_ident("test")))
            .then(|| quote!(#[::core::prelude::v1::test]));
    quote! {
        #test
        #(#attrs)*
        #hoisted
        #vis #sig #block
    }
}

/// One top-level statement of the body, and what the nesting needs to know
/// about it.
struct Step {
    tokens: TokenStream,
    span: Span,
    /// A `let`: what it binds.
    binds: Option<Vec<Ident>>,
    /// It starts a goroutine in the scope (a rewritten `go!`).
    spawns: bool,
    /// A top-level `defer!`, now naming its guard.
    defer: Option<TopDefer>,
    /// A `let` with an initializer (and no `else`): the initializer, and the
    /// `let` with it replaced by [`init_ident`], for a `let` that shadows a
    /// deferred drop's local (see [`stash_shadowed`]).
    init: Option<(TokenStream, TokenStream)>,
}

/// The hidden local that holds a shadowing `let`'s initializer for a moment.
fn init_ident() -> Ident {
    Ident::new("__goscope_init", Span::mixed_site())
}

/// A top-level `defer!`: its guard (for `defer!(drop(x))`, the owner of
/// `x`) is moved into every nested scope opened after it, so that it drops
/// at the end of the innermost body, before any scope joins.
struct TopDefer {
    guard: Ident,
    /// `x` in `defer!(drop(x))`: the body goes on using `x`, a `&mut` to the
    /// owner, so each nested scope declares it again (unless a later `let`
    /// shadowed it).
    dropped: Option<Ident>,
}

impl Step {
    /// `defers`: how many top-level `defer!`s came before.
    fn new(mut stmt: Stmt, defers: &mut usize) -> Step {
        let binds = match &stmt {
            Stmt::Local(local) => {
                let mut names = BoundNames(Vec::new());
                names.visit_pat_mut(&mut local.pat.clone());
                Some(names.0)
            }
            _ => None,
        };
        let defer = match &mut stmt {
            Stmt::Macro(syn::StmtMacro { mac, .. })
            | Stmt::Expr(syn::Expr::Macro(syn::ExprMacro { mac, .. }), _)
                if is_defer_path(&mac.path) =>
            {
                *defers += 1;
                Some(mark_defer(mac, *defers - 1))
            }
            _ => None,
        };
        let init = match &stmt {
            Stmt::Local(local) => local
                .init
                .as_ref()
                .filter(|i| i.diverge.is_none())
                .map(|i| {
                    let mut rebound = local.clone();
                    if let Some(init) = rebound.init.as_mut() {
                        let ident = init_ident();
                        *init.expr = syn::parse_quote!(#ident);
                    }
                    (i.expr.to_token_stream(), rebound.to_token_stream())
                }),
            _ => None,
        };
        let tokens = stmt.to_token_stream();
        Step {
            span: stmt.span(),
            spawns: spawns(tokens.clone()),
            tokens,
            binds,
            defer,
            init,
        }
    }
}

/// Names a top-level `defer!`'s guard: `defer!(@guard __goscope_deferN (..))`.
fn mark_defer(mac: &mut syn::Macro, n: usize) -> TopDefer {
    let guard = quote::format_ident!("__goscope_defer{}", n, span = Span::mixed_site());
    let tokens = std::mem::take(&mut mac.tokens);
    let dropped = crate::defer::dropped_local(&tokens);
    let mut group = Group::new(delimiter(&mac.delimiter), tokens);
    group.set_span(mac.delimiter.span().join());
    let marker = Ident::new(crate::defer::GUARD_MARKER, Span::call_site());
    mac.tokens = quote!(@#marker #guard #group);
    TopDefer { guard, dropped }
}

fn is_defer_path(path: &syn::Path) -> bool {
    crate::call::path_is(path, &[&["defer"], &["goscope", "defer"]])
}

/// The names a `let` pattern binds.
struct BoundNames(Vec<Ident>);

impl VisitMut for BoundNames {
    fn visit_pat_ident_mut(&mut self, pat: &mut syn::PatIdent) {
        self.0.push(pat.ident.clone());
        syn::visit_mut::visit_pat_ident_mut(self, pat);
    }
}

/// A level of nesting: its statements, and what it takes over from the
/// levels around it.
struct Level {
    /// Where the `let` that made the level necessary starts.
    open: Span,
    /// Moves the outer levels' deferred calls in.
    carried: TokenStream,
    stmts: Vec<TokenStream>,
}

/// A statement that starts a goroutine after a `let` opens a nested scope,
/// so that the goroutine may borrow every local declared so far: consecutive
/// `let`s share one scope, and the nesting is only as deep as lets and
/// goroutines alternate. Every top-level `defer!` guard is moved into each
/// nested scope opened after it, so all of them drop, in reverse order, at
/// the end of the innermost body: after the tail expression, before the
/// first join. `close` is the function body's closing brace.
///
/// Returns the body, and whether it needs [`deep_scope_items`].
fn nest(steps: Vec<Step>, scope: &Ident, ret: &TokenStream, close: Span) -> (TokenStream, bool) {
    let mut levels = vec![Level {
        open: close,
        carried: TokenStream::new(),
        stmts: Vec::new(),
    }];
    // The top-level deferred calls so far, oldest first, and whether a
    // later `let` shadowed the local that a `defer!(drop(x))` names.
    let mut deferred: Vec<(TopDefer, bool)> = Vec::new();
    let mut last_let: Option<Span> = None;
    for step in steps {
        if last_let.is_some() && step.spawns {
            last_let = None;
            // At the first `go!` the scope is opened for: a capture error of
            // the scope's closure (a local moved before) names it.
            let open = step.span;
            let carried = deferred.iter().map(|(d, shadowed)| carry(d, *shadowed));
            levels.push(Level {
                open,
                carried: quote!(#(#carried)*),
                stmts: Vec::new(),
            });
        }
        let mut tokens = step.tokens;
        if let Some(names) = &step.binds {
            last_let = Some(step.span);
            let mut stashes = TokenStream::new();
            for (d, shadowed) in &mut deferred {
                if let Some(x) = d
                    .dropped
                    .as_ref()
                    .filter(|x| !*shadowed && names.contains(x))
                {
                    *shadowed = true;
                    stashes.extend(stash_shadowed(d, x));
                }
            }
            if !stashes.is_empty() {
                // The initializer may still read the old `x`
                // (`let tx = tx.clone();`): evaluate it first, then move
                // `x` away, then bind.
                tokens = match &step.init {
                    Some((init, rebound)) => {
                        let ident = init_ident();
                        quote!(let #ident = #init; #stashes #rebound)
                    }
                    None => quote!(#stashes #tokens),
                };
            }
        }
        if let Some(d) = step.defer {
            deferred.push((d, false));
        }
        if let Some(level) = levels.last_mut() {
            level.stmts.push(tokens);
        }
    }
    // Innermost first: each level ends by running the next one in its own
    // scope.
    let outermost = levels.remove(0);
    let mut deep = false;
    let mut inner = TokenStream::new();
    for (
        at,
        Level {
            open,
            carried,
            stmts,
        },
    ) in levels.into_iter().enumerate().rev()
    {
        let body = quote!(#carried #(#stmts)* #inner);
        // User spans, not the attribute's: rustc names the captured locals
        // in borrow errors only for closures written in user code, and a
        // local borrowed for too long is then reported as dropped at the
        // function's closing brace, as without a scope.
        let mut body = Group::new(Delimiter::Brace, body);
        body.set_span(close);
        // The closure's head too: rustc reports a capture there.
        let ret = match ret.to_string().as_str() {
            "-> ()" => quote_spanned!(open=> -> ()),
            _ => ret.clone(),
        };
        let closure = quote_spanned!(open=> |#scope| #ret #body);
        inner = match return_type(&ret).filter(|_| at >= DIRECT_LEVELS) {
            Some(ty) => {
                deep = true;
                deep_scope(closure, &ty, open)
            }
            None => quote_spanned!(open=> ::goscope::__private::scope(#closure)),
        };
    }
    let stmts = outermost.stmts;
    (quote!(#(#stmts)* #inner), deep)
}

/// How many nested scopes call `scope` with their closure directly. rustc
/// instantiates `scope` inside the previous one for each, and stops at
/// `recursion_limit` (128 by default); deeper ones go through a
/// `&mut dyn FnMut`, one instance for all of them.
const DIRECT_LEVELS: usize = 64;

/// `R` of `-> R` in [`closure_return`]'s output, if it has one.
fn return_type(ret: &TokenStream) -> Option<TokenStream> {
    let mut tokens = ret.clone().into_iter();
    match (tokens.next(), tokens.next()) {
        (Some(TokenTree::Punct(dash)), Some(TokenTree::Punct(gt)))
            if dash.as_char() == '-' && gt.as_char() == '>' =>
        {
            Some(tokens.collect())
        }
        _ => None,
    }
}

/// A nested scope past [`DIRECT_LEVELS`]: `scope` gets a `&mut dyn FnMut`
/// that runs the level's closure once, so rustc instantiates `scope` once
/// for all of them, and the chain of closures is all that grows.
fn deep_scope(closure: TokenStream, ty: &TokenStream, open: Span) -> TokenStream {
    let once = Ident::new("__goscope_once", Span::mixed_site());
    let body = Ident::new("__GoscopeBody", Span::mixed_site());
    let f = Ident::new("__goscope_f", Span::mixed_site());
    let s = Ident::new("__goscope_s", Span::mixed_site());
    let run = Ident::new("__goscope_run", Span::mixed_site());
    quote_spanned! {open=>
        {
            let mut #f = #once(#closure);
            let #run: #body<'_, '_, #ty> = &mut |#s| match ::core::option::Option::take(&mut #f) {
                ::core::option::Option::Some(#f) => #f(#s),
                // `scope` calls its closure exactly once.
                ::core::option::Option::None => ::core::unreachable!(),
            };
            ::goscope::__private::scope(#run)
        }
    }
}

/// The items [`deep_scope`] names, at the top of the function's body: the
/// type of a scope's body behind a `&mut dyn FnMut`, and a function that
/// gives a level's closure the signature `scope` requires (rustc infers a
/// closure's signature only where it is passed to such a bound), ready to
/// be taken and called once.
fn deep_scope_items() -> TokenStream {
    let once = Ident::new("__goscope_once", Span::mixed_site());
    let body = Ident::new("__GoscopeBody", Span::mixed_site());
    quote! {
        type #body<'a, 'env, T> = &'a mut (dyn for<'s> ::core::ops::FnMut(
            &'s ::goscope::__private::Scope<'s, 'env>,
        ) -> T + 'a);
        fn #once<'env, F, T>(f: F) -> ::core::option::Option<F>
        where
            F: for<'s> ::core::ops::FnOnce(&'s ::goscope::__private::Scope<'s, 'env>) -> T,
        {
            ::core::option::Option::Some(f)
        }
    }
}

/// Moves a deferred call's guard into a nested scope, and gives the body
/// back the local that a `defer!(drop(x))` keeps usable.
fn carry(d: &TopDefer, shadowed: bool) -> TokenStream {
    let guard = &d.guard;
    match &d.dropped {
        // At the user's `x`, moved in under its own name: a goroutine that
        // borrows `x` in a nested scope, which the deferred drop would
        // outlive, is an error there.
        Some(x) if !shadowed => quote_spanned! {x.span()=>
            #[allow(unused_mut, unused_variables, clippy::redundant_locals)]
            let mut #x = #x;
        },
        // A shadowed `x` went to its guard's name (see [`stash_shadowed`]).
        _ => quote! {
            #[allow(unused_mut, clippy::redundant_locals)]
            let mut #guard = #guard;
        },
    }
}

/// Before a `let` that shadows `x` of a top-level `defer!(drop(x))`: `x`
/// moves to the guard's hidden name, so the nested scopes can still carry it
/// in and drop it before the join.
fn stash_shadowed(d: &TopDefer, x: &Ident) -> TokenStream {
    let guard = &d.guard;
    quote_spanned! {x.span()=>
        #[allow(unused_mut)]
        let mut #guard = #x;
    }
}

/// `-> R` for the generated closures, when `R` can be written there.
fn closure_return(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Default => quote!(-> ()),
        ReturnType::Type(arrow, ty) if nameable_in_closure(ty) => quote!(#arrow #ty),
        // `impl Trait` and elided lifetimes cannot be written on a closure;
        // inference still finds the type, but `return` then needs a value of
        // exactly that type.
        ReturnType::Type(..) => TokenStream::new(),
    }
}

fn nameable_in_closure(ty: &Type) -> bool {
    let mut ok = true;
    check_type(ty.to_token_stream(), &mut ok);
    ok
}

fn check_type(tokens: TokenStream, ok: &mut bool) {
    let mut prev_amp = false;
    for tt in tokens {
        match &tt {
            TokenTree::Ident(i) if i == "impl" => *ok = false,
            TokenTree::Punct(p) if p.as_char() == '\'' => {}
            TokenTree::Ident(i) if i == "_" => *ok = false,
            TokenTree::Group(g) => check_type(g.stream(), ok),
            _ => {}
        }
        if prev_amp && !matches!(&tt, TokenTree::Punct(p) if p.as_char() == '\'') {
            // `&T` without a lifetime.
            *ok = false;
        }
        prev_amp = matches!(&tt, TokenTree::Punct(p) if p.as_char() == '&');
    }
}

/// Rewrites `go!(..)` into `go!(@scoped __goscope_scope (..))`, everywhere in
/// the body except inside nested items, which are not in the scope.
struct RewriteGo<'a> {
    scope: &'a Ident,
}

impl VisitMut for RewriteGo<'_> {
    fn visit_item_mut(&mut self, _: &mut Item) {}

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let braces = matches!(mac.delimiter, syn::MacroDelimiter::Brace(_));
        if is_go_path(&mac.path) && !braces && is_static(&mac.tokens) {
            // `go!(static ..)` is detached, and so is every `go!` in it.
            return;
        }
        let tokens = std::mem::take(&mut mac.tokens);
        if is_go_path(&mac.path) {
            let mut group = Group::new(
                delimiter(&mac.delimiter),
                rewrite_tokens(tokens, self.scope),
            );
            // The user's brackets, so that `go!` can span its goroutine on
            // them.
            group.set_span(mac.delimiter.span().join());
            let scope = self.scope;
            // The outer delimiter stays the user's: `go! { .. }` needs no `;`.
            mac.tokens = quote!(@scoped #scope #group);
        } else {
            // Other macros' input is opaque; rewrite `go!` in it by tokens.
            mac.tokens = rewrite_tokens(tokens, self.scope);
        }
    }
}

fn delimiter(d: &syn::MacroDelimiter) -> Delimiter {
    match d {
        syn::MacroDelimiter::Paren(_) => Delimiter::Parenthesis,
        syn::MacroDelimiter::Brace(_) => Delimiter::Brace,
        syn::MacroDelimiter::Bracket(_) => Delimiter::Bracket,
    }
}

fn is_go_path(path: &syn::Path) -> bool {
    crate::call::path_is(path, &[&["go"], &["goscope", "go"]])
}

/// Token-level version of [`RewriteGo`] for macro inputs.
fn rewrite_tokens(tokens: TokenStream, scope: &Ident) -> TokenStream {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tts.len());
    let mut i = 0;
    while i < tts.len() {
        if let Some(end) = item_end(&tts, i) {
            // A nested item is not in the scope, as in `RewriteGo`.
            out.extend(tts[i..end].iter().cloned());
            i = end;
            continue;
        }
        match (&tts[i], tts.get(i + 1), tts.get(i + 2)) {
            (TokenTree::Ident(go), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g)))
                if go == "go" && bang.as_char() == '!' && is_static_group(g) =>
            {
                // `go!(static ..)` is detached, and so is every `go!` in it.
                out.extend(tts[i..i + 3].iter().cloned());
                i += 3;
            }
            (TokenTree::Ident(go), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g)))
                if go == "go" && bang.as_char() == '!' && !qualified_elsewhere(&tts[..i]) =>
            {
                let inner = Group::new(g.delimiter(), rewrite_tokens(g.stream(), scope));
                let mut inner_tt = TokenTree::Group(inner);
                inner_tt.set_span(g.span());
                let mut args = Group::new(g.delimiter(), quote!(@scoped #scope #inner_tt));
                args.set_span(g.span());
                out.push(tts[i].clone());
                out.push(tts[i + 1].clone());
                out.push(TokenTree::Group(args));
                i += 3;
            }
            (TokenTree::Group(g), ..) => {
                let mut group = Group::new(g.delimiter(), rewrite_tokens(g.stream(), scope));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
                i += 1;
            }
            (tt, ..) => {
                out.push(tt.clone());
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

/// If `tts[i..]` starts an item (`fn f`, `impl`, `mod m`, `trait T`,
/// `struct S`, `enum E`, `union U`, `const X:`, `static X:`,
/// `macro_rules! m`), the index just past it. `const fn` is found at its
/// `fn`; `const { .. }`, `*const T`, `fn(u8)` types, `'static` and
/// `go!(static ..)` are not items. Closures are not items either: they stay
/// in the scope.
fn item_end(tts: &[TokenTree], i: usize) -> Option<usize> {
    let TokenTree::Ident(keyword) = &tts[i] else {
        return None;
    };
    if i > 0 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == '\'') {
        return None; // a lifetime: `'static`
    }
    let ident_at = |j: usize| matches!(tts.get(j), Some(TokenTree::Ident(_)));
    let punct_at =
        |j: usize, c: char| matches!(tts.get(j), Some(TokenTree::Punct(p)) if p.as_char() == c);
    match keyword.to_string().as_str() {
        "fn" | "mod" | "trait" | "struct" | "enum" | "union" if ident_at(i + 1) => {
            Some(item_body_end(tts, i + 1))
        }
        "impl" => Some(item_body_end(tts, i + 1)),
        "const" | "static" => {
            let mut name = i + 1;
            if matches!(tts.get(name), Some(TokenTree::Ident(m)) if m == "mut") {
                name += 1;
            }
            let named = ident_at(name) && punct_at(name + 1, ':') && !punct_at(name + 2, ':');
            // `const X: T = ..;` ends at its `;`.
            named.then(|| {
                tts[name..]
                    .iter()
                    .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
                    .map_or(tts.len(), |at| name + at + 1)
            })
        }
        "macro_rules" if punct_at(i + 1, '!') && ident_at(i + 2) => {
            let end = (i + 4).min(tts.len());
            Some(if punct_at(end, ';') { end + 1 } else { end })
        }
        _ => None,
    }
}

/// Where an item that starts at `from` ends: just past its `{ .. }` body,
/// or its `;` (`struct S(u8);`, `mod m;`), not counting braces inside
/// generics (`Foo<{ N }>`).
fn item_body_end(tts: &[TokenTree], from: usize) -> usize {
    let mut angles = 0usize;
    for (j, tt) in tts.iter().enumerate().skip(from) {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '<' => angles += 1,
            TokenTree::Punct(p) if p.as_char() == '>' => {
                // `->` and `=>` are not closing brackets.
                let arrow = matches!(&tts[j - 1], TokenTree::Punct(q)
                    if (q.as_char() == '-' || q.as_char() == '=')
                        && q.spacing() == proc_macro2::Spacing::Joint);
                if !arrow {
                    angles = angles.saturating_sub(1);
                }
            }
            TokenTree::Punct(p) if p.as_char() == ';' && angles == 0 => return j + 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && angles == 0 => {
                return j + 1;
            }
            _ => {}
        }
    }
    tts.len()
}

/// `other::go!` is somebody else's macro.
fn qualified_elsewhere(before: &[TokenTree]) -> bool {
    match before {
        [
            ..,
            TokenTree::Ident(krate),
            TokenTree::Punct(c1),
            TokenTree::Punct(c2),
        ] if c1.as_char() == ':' && c2.as_char() == ':' => krate != "goscope",
        _ => false,
    }
}

/// Whether the tokens of a `go!` start with `static`: a detached goroutine.
/// (In `go! { static X: T = ..; .. }` it starts a static item.)
fn is_static(tokens: &TokenStream) -> bool {
    matches!(tokens.clone().into_iter().next(), Some(TokenTree::Ident(s)) if s == "static")
}

fn is_static_group(g: &Group) -> bool {
    g.delimiter() != Delimiter::Brace && is_static(&g.stream())
}

/// Whether `tokens` start a goroutine in the function's scope: a `go!` that
/// [`RewriteGo`] pointed at it (not one in a nested item, nor another
/// crate's `go!`).
fn spawns(tokens: TokenStream) -> bool {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    tts.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Ident(go) if go == "go" => match (tts.get(i + 1), tts.get(i + 2)) {
            (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(args)))
                if bang.as_char() == '!' =>
            {
                let mut args = args.stream().into_iter();
                matches!(
                    (args.next(), args.next()),
                    (Some(TokenTree::Punct(at)), Some(TokenTree::Ident(marker)))
                        if at.as_char() == '@' && marker == "scoped"
                )
            }
            _ => false,
        },
        TokenTree::Group(g) => spawns(g.stream()),
        _ => false,
    })
}
