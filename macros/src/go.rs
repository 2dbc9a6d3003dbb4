//! `go!`: Go's `go` statement.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::{Block, Error, Expr, ExprClosure, Stmt};

use crate::call::{self, Capture, Lowered};
use crate::marker;
use crate::tokens::{self, first_span, last_span};

/// A parsed `go!` invocation.
struct Go {
    /// The scope to spawn into, or `None` for a detached goroutine (outside
    /// the scope attributes, or `go!(static ..)`).
    scope: Option<Ident>,
    body: Body,
}

enum Body {
    /// `go!(f(a))` or `go!(recv.method(a))`.
    Call(Lowered),
    /// `go!(move || ...)`.
    Closure(ExprClosure),
    /// `go! { ... }`: the statements, and where they start and end.
    Block(Vec<Stmt>, Span, Span),
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match Go::from_tokens(input) {
        Ok(go) => go.expand(),
        Err(invalid) => invalid.expand(),
    }
}

impl Go {
    fn from_tokens(input: TokenStream) -> Result<Go, Invalid> {
        let (scope, marked) = match marker::split(marker::SCOPED, &input) {
            Some((scope, group)) => (Some(scope), Some(group)),
            None => (None, None),
        };
        let (tokens, braces) = match &marked {
            Some(group) => (group.stream(), group.delimiter() == Delimiter::Brace),
            None => {
                let braces = tokens::invoked_with_braces(&input);
                (input, braces)
            }
        };
        // `go!(static ..)`: detached, whatever the scope. (In braces,
        // `static` starts a static item of the block.)
        let (scope, tokens) = match split_static(&tokens) {
            Some((keyword, rest)) if !braces => {
                if rest.is_empty() {
                    return Err(Error::new(
                        keyword,
                        "go!(static ..) needs something to run: write `go!(static f(x))`, `go!(static move || ...)` or `go!(static { ... })`",
                    )
                    .into());
                }
                (None, rest)
            }
            _ => (scope, tokens),
        };
        let body = if braces {
            let (open, close) = match &marked {
                Some(group) => (group.span_open(), group.span_close()),
                None => (first_span(&tokens), last_span(&tokens)),
            };
            let stmts = Block::parse_within.parse2(tokens)?;
            if stmts.is_empty() {
                return Err(empty_error().into());
            }
            Body::Block(stmts, open, close)
        } else {
            let mut invalid = None;
            let capture = match scope {
                Some(_) => Capture::Params,
                None => Capture::Move,
            };
            let parsed = (|input: ParseStream<'_>| {
                parse_expr_form(input, capture).map_err(|err| {
                    // syn wants its own error back; keep the `Invalid` aside.
                    let error = err.error.clone();
                    invalid = Some(err);
                    error
                })
            })
            .parse2(tokens);
            match (parsed, invalid) {
                (Ok(body), _) => body,
                (Err(_), Some(invalid)) => return Err(invalid),
                (Err(err), None) => return Err(err.into()),
            }
        };
        Ok(Go { scope, body })
    }

    fn expand(self) -> TokenStream {
        // The spawn call spans exactly what the closure spans, the user's
        // `f(a)`, closure or block: a `Send`, lifetime or return-type error
        // about the goroutine then underlines that, once.
        let spawn = |open: Span, close: Span, f: TokenStream| match &self.scope {
            Some(scope) => {
                let mut scope = scope.clone();
                scope.set_span(scope.span().located_at(open));
                let mut args = Group::new(Delimiter::Parenthesis, quote!(#scope, #f));
                args.set_span(close);
                quote_spanned!(open=> ::goscope::__private::Scope::spawn #args)
            }
            None => {
                let mut args = Group::new(Delimiter::Parenthesis, f);
                args.set_span(close);
                quote_spanned!(open=> ::goscope::__private::go_detached #args)
            }
        };
        match &self.body {
            Body::Call(lowered) => {
                let (now, later) = (&lowered.now, &lowered.later);
                let (open, close) = (lowered.open, lowered.close);
                let allow = call::allow_lints();
                if self.scope.is_none() {
                    // Detached: `move`, so the goroutine owns what it uses
                    // ('static).
                    let spawn = spawn(open, close, quote_spanned!(open=> move || #later));
                    return quote!({
                        #now
                        #allow
                        #spawn;
                    });
                }
                // Scoped: a plain closure makes the call, so a place
                // receiver is borrowed in the mode its method needs; the
                // goroutine is a `move` closure that owns the arguments
                // and passes them in.
                let params = &lowered.params;
                let call = Ident::new("__goscope_call", Span::mixed_site().located_at(open));
                let mut args = Group::new(Delimiter::Parenthesis, quote!(#(#params),*));
                args.set_span(close);
                // In parentheses with the user's span: the closure's span
                // then joins the user's tokens only, so an error about the
                // goroutine underlines the call, not the whole `go!`.
                let mut callee = Group::new(Delimiter::Parenthesis, quote!(#call));
                callee.set_span(open);
                let spawn = spawn(open, close, quote_spanned!(open=> move || #callee #args));
                let make_call = quote_spanned!(open=> |#(#params),*| #later);
                quote!({
                    #now
                    #allow
                    // `mut`: a `&mut self` method makes it an `FnMut`.
                    #[allow(unused_mut)]
                    let mut #call = #make_call;
                    #allow
                    #spawn;
                })
            }
            Body::Closure(closure) => {
                let tokens = closure.to_token_stream();
                let spawn = spawn(first_span(&tokens), last_span(&tokens), tokens);
                quote!({ #spawn; })
            }
            Body::Block(stmts, open, close) => {
                let mut block = Group::new(Delimiter::Brace, quote!(#(#stmts)*));
                block.set_span(*close);
                let spawn = spawn(*open, *close, quote_spanned!(*open=> move || #block));
                // The block moves (copies) what it names. Go's closures share
                // variables instead, so `go! { counter += 1 }` would silently
                // count into the goroutine's own copy: make that an error
                // (rustc: "value captured by `counter` is never read").
                quote!({
                    #[deny(unused_assignments)]
                    #spawn;
                })
            }
        }
    }
}

/// `static` and the tokens after it, when `tokens` start with `static`.
fn split_static(tokens: &TokenStream) -> Option<(Span, TokenStream)> {
    let mut tokens = tokens.clone().into_iter();
    match tokens.next() {
        Some(TokenTree::Ident(keyword)) if keyword == "static" => {
            Some((keyword.span(), tokens.collect()))
        }
        _ => None,
    }
}

const EXPECTED: &str = "expression in go! must be a function call, a closure or a block";

/// A `go!` that cannot be expanded: its error, and the expression to keep in
/// the expansion so that the names it uses still count as used and an IDE
/// still completes inside it.
struct Invalid {
    error: Error,
    keep: Option<Box<Expr>>,
}

impl From<Error> for Invalid {
    fn from(error: Error) -> Self {
        Invalid { error, keep: None }
    }
}

impl Invalid {
    /// The error, plus the kept expression in a closure that is never
    /// called: it type-checks, borrows nothing for longer than the
    /// statement, and runs nothing.
    fn expand(self) -> TokenStream {
        let error = self.error.to_compile_error();
        match self.keep {
            Some(expr) => quote!({
                #error
                let _ = || {
                    let _ = &(#expr);
                };
            }),
            None => quote!({ #error }),
        }
    }
}

fn empty_error() -> Error {
    Error::new(
        Span::call_site(),
        "go! needs something to run: write `go!(f(x))`, `go!(move || ...)` or `go! { ... }`",
    )
}

/// Parses the parenthesised forms: a call, a method call or a closure.
fn parse_expr_form(input: ParseStream<'_>, capture: Capture) -> Result<Body, Invalid> {
    if input.is_empty() {
        return Err(empty_error().into());
    }
    if input.peek(syn::Ident)
        && input.peek2(syn::token::Paren)
        && input.fork().parse::<Ident>()? == "func"
    {
        return Err(go_func_habit(input).into());
    }
    let expr: Expr = input.parse()?;
    if !input.is_empty() {
        return Err(trailing_tokens(input).into());
    }
    let wrong = |help: Option<String>| {
        let message = match help {
            Some(help) => format!("{EXPECTED}\nhelp: {help}"),
            None => EXPECTED.to_owned(),
        };
        Invalid {
            error: Error::new_spanned(&expr, message),
            keep: Some(Box::new(expr.clone())),
        }
    };
    match expr {
        Expr::Call(call) => Ok(Body::Call(call::lower_call(&call, capture))),
        Expr::MethodCall(call) => Ok(Body::Call(call::lower_method_call(&call, capture))),
        Expr::Closure(closure) => {
            if let Expr::Call(call) = &*closure.body {
                if matches!(&*call.func, Expr::Block(_)) && call.args.is_empty() {
                    return Err(Error::new_spanned(&closure, GO_FUNC_HABIT).into());
                }
            }
            Ok(Body::Closure(closure))
        }
        Expr::Block(block) if block.label.is_none() => {
            let braces = block.block.brace_token.span;
            Ok(Body::Block(
                block.block.stmts,
                braces.open(),
                braces.close(),
            ))
        }
        Expr::Path(ref path) => {
            let name = text(path);
            Err(wrong(Some(format!(
                "to run `{name}` in a goroutine, call it: `go!({name}())`"
            ))))
        }
        Expr::Macro(ref mac) => Err(wrong(Some(format!(
            "to run a macro in a goroutine, put it in a block: `go! {{ {}; }}`",
            text(mac)
        )))),
        Expr::Async(_) => Err(wrong(Some(
            "goscope's goroutines are threads: remove `async`, or run async code on an async runtime"
                .to_owned(),
        ))),
        _ => Err(wrong(None)),
    }
}

/// How the user wrote `tokens`, the whole input of the `go!`, for a
/// suggestion.
fn text(tokens: &impl ToTokens) -> String {
    tokens::input_text().unwrap_or_else(|| tokens.to_token_stream().to_string())
}

const GO_FUNC_HABIT: &str =
    "this is Go's `go func() { ... }()`: in goscope, write the block directly, `go! { ... }`";

/// `go!(func() { ... }())`, Go's anonymous function habit.
fn go_func_habit(input: ParseStream<'_>) -> Error {
    let rest: TokenStream = input.parse().unwrap_or_default();
    Error::new_spanned(rest, GO_FUNC_HABIT)
}

/// `go!(f(), g())` or `go!(f() x)`.
fn trailing_tokens(input: ParseStream<'_>) -> Error {
    let help = if input.peek(syn::Token![,]) {
        "go! starts one goroutine: give each call its own `go!(..)`"
    } else {
        "go! takes one call, closure or block"
    };
    let rest: TokenStream = input.parse().unwrap_or_default();
    Error::new_spanned(
        rest,
        format!("unexpected tokens after the goroutine's call\nhelp: {help}"),
    )
}
