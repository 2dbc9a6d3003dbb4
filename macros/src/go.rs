//! `go!`: Go's `go` statement.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Block, Error, Expr, ExprClosure, Result, Stmt};

use crate::call::{self, Lowered};

/// The marker that the scope attributes put in front of a `go!`'s tokens:
/// `go!(@scoped __gofer_scope { ... })`, naming the scope to spawn into and
/// keeping the user's brackets.
const MARKER: &str = "scoped";

/// A parsed `go!` invocation.
struct Go {
    /// The scope to spawn into, or `None` for a detached goroutine.
    scope: Option<Ident>,
    body: Body,
}

enum Body {
    /// `go!(f(a))` or `go!(recv.method(a))`.
    Call(Lowered, Span),
    /// `go!(move || ...)`.
    Closure(ExprClosure),
    /// `go! { ... }`.
    Block(Vec<Stmt>, Span),
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match Go::from_tokens(input) {
        Ok(go) => go.expand(),
        Err(err) => err.to_compile_error(),
    }
}

impl Go {
    fn from_tokens(input: TokenStream) -> Result<Go> {
        let (scope, tokens, braces) = match split_marker(input.clone()) {
            Some((scope, group)) => (
                Some(scope),
                group.stream(),
                Some(group.delimiter() == Delimiter::Brace),
            ),
            None => (None, input, call::invoked_with_braces()),
        };
        let body = if braces == Some(true) {
            let stmts = Block::parse_within.parse2(tokens.clone())?;
            if stmts.is_empty() {
                return Err(empty_error());
            }
            Body::Block(stmts, tokens.span())
        } else {
            parse_expr_form.parse2(tokens)?
        };
        Ok(Go { scope, body })
    }

    fn expand(self) -> TokenStream {
        let spawn = |span: Span, f: TokenStream| match &self.scope {
            Some(scope) => quote_spanned!(span=> #scope.spawn(#f)),
            None => quote_spanned!(span=> ::gofer::__private::go_detached(#f)),
        };
        match &self.body {
            Body::Call(lowered, span) => {
                let now = &lowered.now;
                let later = &lowered.later;
                // Scoped: a plain closure, so a place receiver is borrowed in
                // the mode its method needs. Detached: `move`, so the
                // goroutine owns what it uses ('static).
                let closure = match self.scope {
                    Some(_) => quote_spanned!(*span=> || #later),
                    None => quote_spanned!(*span=> move || #later),
                };
                let spawn = spawn(*span, closure);
                quote!({ #now #spawn; })
            }
            Body::Closure(closure) => {
                let spawn = spawn(closure.span(), quote!(#closure));
                quote!({ #spawn; })
            }
            Body::Block(stmts, span) => {
                let spawn = spawn(*span, quote_spanned!(*span=> move || { #(#stmts)* }));
                quote!({ #spawn; })
            }
        }
    }
}

/// Recognises `@scoped IDENT GROUP`.
fn split_marker(input: TokenStream) -> Option<(Ident, proc_macro2::Group)> {
    let mut tokens = input.into_iter();
    match (
        tokens.next(),
        tokens.next(),
        tokens.next(),
        tokens.next(),
        tokens.next(),
    ) {
        (
            Some(TokenTree::Punct(at)),
            Some(TokenTree::Ident(marker)),
            Some(TokenTree::Ident(scope)),
            Some(TokenTree::Group(group)),
            None,
        ) if at.as_char() == '@' && marker == MARKER => Some((scope, group)),
        _ => None,
    }
}

const EXPECTED: &str = "expression in go! must be a function call, a closure or a block";

fn empty_error() -> Error {
    Error::new(
        Span::call_site(),
        "go! needs something to run: write `go!(f(x))`, `go!(move || ...)` or `go! { ... }`",
    )
}

/// Parses the parenthesised forms: a call, a method call or a closure.
fn parse_expr_form(input: ParseStream<'_>) -> Result<Body> {
    if input.is_empty() {
        return Err(empty_error());
    }
    if input.peek(syn::Ident)
        && input.peek2(syn::token::Paren)
        && input.fork().parse::<Ident>()? == "func"
    {
        return Err(go_func_habit(input));
    }
    let expr: Expr = input.parse()?;
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        return Err(Error::new_spanned(
            rest,
            "unexpected tokens after the goroutine's call: go! starts one call, closure or block",
        ));
    }
    match expr {
        Expr::Call(call) => {
            let span = call.span();
            Ok(Body::Call(call::lower_call(&call), span))
        }
        Expr::MethodCall(call) => {
            let span = call.span();
            Ok(Body::Call(call::lower_method_call(&call), span))
        }
        Expr::Closure(closure) => {
            if let Expr::Call(call) = &*closure.body {
                if matches!(&*call.func, Expr::Block(_)) && call.args.is_empty() {
                    return Err(Error::new_spanned(
                        &closure,
                        "this is Go's `go func() { ... }()`: in gofer, write the block directly, `go! { ... }`",
                    ));
                }
            }
            Ok(Body::Closure(closure))
        }
        Expr::Block(block) if block.label.is_none() => {
            let span = block.span();
            Ok(Body::Block(block.block.stmts, span))
        }
        Expr::Macro(mac) => Err(Error::new_spanned(
            &mac,
            format!(
                "{EXPECTED}\nhelp: to run a macro in a goroutine, put it in a block: `go! {{ {}; }}`",
                quote!(#mac)
            ),
        )),
        Expr::Async(_) => Err(Error::new_spanned(
            &expr,
            format!(
                "{EXPECTED}\nnote: gofer's goroutines are threads; run async code with an async runtime"
            ),
        )),
        other => Err(Error::new_spanned(other, EXPECTED)),
    }
}

/// `go!(func() { ... }())`, Go's anonymous function habit.
fn go_func_habit(input: ParseStream<'_>) -> Error {
    let rest: TokenStream = input.parse().unwrap_or_default();
    Error::new_spanned(
        rest,
        "this is Go's `go func() { ... }()`: in gofer, write the block directly, `go! { ... }`",
    )
}
