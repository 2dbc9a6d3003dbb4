//! `defer!`: Go's `defer`, at the exit of the enclosing block.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::{Block, Error, Expr, Result};

use crate::call::{self, Capture};
use crate::marker;
use crate::tokens::{self, first_span, last_span};

const EXPECTED: &str = "expression in defer! must be a function call, a macro call or a block";

/// A parsed `defer!`: what runs now, and the deferred call.
struct Defer {
    now: TokenStream,
    later: TokenStream,
    /// Where the deferred code starts and ends: the `defer` call spans it,
    /// so an error about what it returns underlines all of it.
    span: Span,
    close: Span,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let (guard, input, braces) = match marker::split(marker::GUARD, &input) {
        Some((guard, group)) => {
            let braces = group.delimiter() == Delimiter::Brace;
            (guard, group.stream(), braces)
        }
        None => {
            let braces = tokens::invoked_with_braces(&input);
            let guard = syn::Ident::new("__goscope_defer", Span::mixed_site());
            (guard, input, braces)
        }
    };
    // `defer!` must bind a guard in the enclosing block, so it expands to
    // statements. Used as a value (`let g = defer!(..)`), rustc parses the
    // expansion as one expression: the leading `();` makes that expression
    // `()` and rustc's only error "macro expansion ignores `;`", with its
    // note that `defer!` "is likely invalid in expression context".
    let lead = quote!(();); // statement position: a no-op
    if let Some(name) = dropped_local(&input) {
        // Go's `defer close(ch)` / `defer mu.Unlock()`: `defer!(drop(x))`.
        // Evaluating `x` now would move it, and the block could no longer
        // use it. Instead `x` moves into a new binding of the same name and
        // type, declared here: locals drop in reverse order of declaration,
        // so it drops when the block exits, in turn with the deferred calls
        // around it, and stays usable until then. The new binding is
        // `mut`, so `*guard += 1` works whether or not the first was. (At
        // the top level of a scoped function the attribute carries it into
        // the nested scopes, under the guard's name once a later `let`
        // shadows `x`.)
        let _ = guard;
        return quote_spanned! {name.span()=>
            #lead
            #[allow(unused_mut, unused_variables)]
            let mut #name = #name;
        };
    }
    match parse(input, braces) {
        Ok(Defer {
            now,
            later,
            span,
            close,
        }) => {
            // A plain closure: it runs in this frame, so it borrows what it
            // names and moves only the values evaluated now.
            let mut closure = Group::new(Delimiter::Parenthesis, quote_spanned!(span=> || #later));
            closure.set_span(close);
            let allow = call::allow_lints();
            quote_spanned! {span=>
                #lead
                #now
                #allow
                let #guard = ::goscope::__private::defer #closure;
            }
        }
        Err(err) => {
            let err = err.to_compile_error();
            quote!(#lead #err)
        }
    }
}

/// `drop(x)` (or `mem::drop(x)`) of a plain local `x`: the name.
pub(crate) fn dropped_local(input: &TokenStream) -> Option<syn::Ident> {
    let Ok(Expr::Call(call)) = syn::parse2::<Expr>(input.clone()) else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let is_drop = tokens::path_is(
        &func.path,
        &[
            &["drop"],
            &["mem", "drop"],
            &["std", "mem", "drop"],
            &["core", "mem", "drop"],
        ],
    );
    let args: Vec<&Expr> = call.args.iter().collect();
    match (is_drop, &args[..]) {
        (true, [Expr::Path(arg)]) if arg.qself.is_none() => arg.path.get_ident().cloned(),
        _ => None,
    }
}

/// Splits the input into what runs now and the deferred call.
fn parse(input: TokenStream, braces: bool) -> Result<Defer> {
    if braces {
        let (span, close) = (first_span(&input), last_span(&input));
        let stmts = Block::parse_within.parse2(input)?;
        let mut block = Group::new(Delimiter::Brace, quote!(#(#stmts)*));
        block.set_span(close);
        return Ok(Defer {
            now: TokenStream::new(),
            later: quote_spanned!(span=> #block),
            span,
            close,
        });
    }
    parse_expr_form.parse2(input)
}

fn parse_expr_form(input: ParseStream<'_>) -> Result<Defer> {
    if input.is_empty() {
        return Err(Error::new(
            Span::call_site(),
            "defer! needs a call to defer: write `defer!(f(x))`, `defer!(println!(..))` or `defer! { ... }`",
        ));
    }
    let expr: Expr = input.parse()?;
    if !input.is_empty() {
        let help = if input.peek(syn::Token![,]) {
            "defer each call with its own `defer!(..)`, or put them in a block: `defer! { ... }`"
        } else {
            "defer! takes one call or block"
        };
        let rest: TokenStream = input.parse()?;
        return Err(Error::new_spanned(
            rest,
            format!("unexpected tokens after the deferred call\nhelp: {help}"),
        ));
    }
    let later = expr.to_token_stream();
    let (span, close) = (first_span(&later), last_span(&later));
    let whole = |now: TokenStream| Defer {
        now,
        later: later.clone(),
        span,
        close,
    };
    match &expr {
        Expr::Call(c) => Ok(lowered(call::lower_call(c, Capture::Inferred))),
        Expr::MethodCall(c) => Ok(lowered(call::lower_method_call(c, Capture::Inferred))),
        // Go evaluates a deferred call's arguments now; a macro's cannot be
        // taken apart, so it runs whole at exit.
        Expr::Macro(_) => Ok(whole(TokenStream::new())),
        Expr::Block(b) if b.label.is_none() => Ok(whole(TokenStream::new())),
        Expr::Closure(_) => Err(Error::new_spanned(
            &expr,
            format!(
                "{EXPECTED}\nhelp: a closure here would be created and dropped, never called; write its body as a block: `defer! {{ ... }}`"
            ),
        )),
        Expr::Path(_) => Err(Error::new_spanned(
            &expr,
            format!(
                "{EXPECTED}\nhelp: to defer a call to `{0}`, call it: `defer!({0}())`",
                text(&expr)
            ),
        )),
        _ => Err(Error::new_spanned(
            &expr,
            format!(
                "{EXPECTED}\nhelp: to run other code at exit, put it in a block: `defer! {{ {}; }}`",
                text(&expr)
            ),
        )),
    }
}

fn lowered(call: call::Lowered) -> Defer {
    Defer {
        now: call.now,
        later: call.later,
        span: call.open,
        close: call.close,
    }
}

/// How the user wrote `expr`, the whole input of the `defer!`, for a
/// suggestion.
fn text(expr: &Expr) -> String {
    tokens::input_text().unwrap_or_else(|| expr.to_token_stream().to_string())
}
