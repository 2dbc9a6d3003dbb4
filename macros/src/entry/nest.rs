//! The nesting of scopes in a scoped function's body, and the top-level
//! `defer!`s carried into them (see the module above for the shape).

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{ReturnType, Stmt, Type};

use super::rewrite::{delimiter, spawns};
use crate::marker;

/// One top-level statement of the body, and what the nesting needs to know
/// about it.
pub(super) struct Step {
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
    pub(super) fn new(mut stmt: Stmt, defers: &mut usize) -> Step {
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
    mac.tokens = marker::mark(marker::GUARD, &guard, &group);
    TopDefer { guard, dropped }
}

fn is_defer_path(path: &syn::Path) -> bool {
    crate::tokens::path_is(path, &[&["defer"], &["goscope", "defer"]])
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
pub(super) fn nest(
    steps: Vec<Step>,
    scope: &Ident,
    ret: &TokenStream,
    close: Span,
    main: bool,
) -> (TokenStream, bool) {
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
                deep_scope(closure, &ty, open, |run| open_scope(main, scope, run, open))
            }
            None => open_scope(main, scope, closure, open),
        };
    }
    let stmts = outermost.stmts;
    (quote!(#(#stmts)* #inner), deep)
}

/// The call that opens a nested scope inside the one named `outer`:
/// `scope(f)`, or in `main`'s body `main_scope(outer, f)`, which ends the
/// program when the body returns instead of waiting for every goroutine.
fn open_scope(main: bool, outer: &Ident, f: TokenStream, open: Span) -> TokenStream {
    match main {
        true => quote_spanned!(open=> ::goscope::__private::main_scope(#outer, #f)),
        false => quote_spanned!(open=> ::goscope::__private::scope(#f)),
    }
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
fn deep_scope(
    closure: TokenStream,
    ty: &TokenStream,
    open: Span,
    open_scope: impl FnOnce(TokenStream) -> TokenStream,
) -> TokenStream {
    let once = Ident::new("__goscope_once", Span::mixed_site());
    let body = Ident::new("__GoscopeBody", Span::mixed_site());
    let f = Ident::new("__goscope_f", Span::mixed_site());
    let s = Ident::new("__goscope_s", Span::mixed_site());
    let run = Ident::new("__goscope_run", Span::mixed_site());
    let call = open_scope(quote!(#run));
    quote_spanned! {open=>
        {
            let mut #f = #once(#closure);
            let #run: #body<'_, '_, #ty> = &mut |#s| match ::core::option::Option::take(&mut #f) {
                ::core::option::Option::Some(#f) => #f(#s),
                // `scope` calls its closure exactly once.
                ::core::option::Option::None => ::core::unreachable!(),
            };
            #call
        }
    }
}

/// The items [`deep_scope`] names, at the top of the function's body: the
/// type of a scope's body behind a `&mut dyn FnMut`, and a function that
/// gives a level's closure the signature `scope` requires (rustc infers a
/// closure's signature only where it is passed to such a bound), ready to
/// be taken and called once.
pub(super) fn deep_scope_items() -> TokenStream {
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
pub(super) fn closure_return(output: &ReturnType) -> TokenStream {
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
