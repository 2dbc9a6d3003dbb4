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
//!
//! In `main` the nested levels call `main_scope(__goscope_scope, |..| ..)`
//! instead, naming the scope around them: when the body returns (at any
//! level) the program ends as in Go, with main's whole scope cancelled and
//! no wait for goroutines busy in other code.
//!
//! The work is in three parts: [`args`] reads the attribute's arguments,
//! [`rewrite`] points every `go!` of the body at the innermost scope, and
//! [`nest`] opens the nested scopes and carries the top-level defers.

mod args;
mod nest;
pub(crate) mod rewrite;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{Error, Item, ItemFn, Result, Stmt};

use args::{Args, parse_args};
use nest::{Step, closure_return, deep_scope_items, nest};
use rewrite::RewriteGo;

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
    let ret = closure_return(&f.sig.output);
    let span = f.block.brace_token.span.join();
    let block = std::mem::replace(&mut f.block, Box::new(syn::parse_quote!({})));
    let ScopedBody { items, body, deep } = scoped_body(*block, &scope, &ret, kind == Kind::Main);
    let entry = kind.entry();
    let config = match kind {
        Kind::Scoped => TokenStream::new(),
        Kind::Main | Kind::Test => {
            let Args {
                deadlock,
                leak_check,
                synctest,
            } = args;
            quote!(::goscope::__private::Config {
                deadlock: #deadlock,
                leak_check: #leak_check,
                synctest: #synctest,
            },)
        }
    };
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

/// A scope's body, lowered: what goes before the scope call, and what the
/// outermost scope's closure runs.
pub(crate) struct ScopedBody {
    /// The block's items, hoisted out of the scope closures: items are
    /// visible in the whole block wherever they are written.
    pub(crate) items: Vec<Stmt>,
    /// The statements, in nested scopes (see the module's docs).
    pub(crate) body: TokenStream,
    /// The items that scopes past the 64th level need, if any.
    pub(crate) deep: Option<TokenStream>,
}

/// Lowers `block` into the body of the scope named `scope`: every `go!` in
/// it spawns into the innermost scope, a `let` that a later `go!` may
/// borrow opens a nested one, and top-level `defer!`s run before the first
/// join. `ret` is the closures' `-> R` (or nothing, to infer it); `main`:
/// whether the nested levels are main's.
pub(crate) fn scoped_body(
    mut block: syn::Block,
    scope: &Ident,
    ret: &TokenStream,
    main: bool,
) -> ScopedBody {
    // Point every `go!` in the body at the innermost scope.
    let mut rewrite = RewriteGo { scope };
    rewrite.visit_block_mut(&mut block);

    let (items, stmts): (Vec<Stmt>, Vec<Stmt>) = block
        .stmts
        .into_iter()
        .partition(|s| matches!(s, Stmt::Item(_)));

    let mut defers = 0;
    let steps = stmts
        .into_iter()
        .map(|stmt| Step::new(stmt, &mut defers))
        .collect();
    let close = block.brace_token.span.close();
    let (body, deep) = nest(steps, scope, ret, close, main);
    ScopedBody {
        items,
        body,
        deep: deep.then(deep_scope_items),
    }
}
