//! Lowering shared by `go!` and `defer!`: Go evaluates the function value
//! and the arguments of a `go`/`defer` call where the statement is written,
//! and runs the call later.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, ExprMethodCall, Token, token};

/// A call split into what runs now and what runs later.
pub(crate) struct Lowered {
    /// `let` statements that evaluate the callee, receiver and arguments now.
    pub(crate) now: TokenStream,
    /// The call itself, naming the values evaluated in `now`; meant for the
    /// body of a non-`move` closure, which borrows place receivers in the
    /// mode the method needs and moves the pre-evaluated values.
    pub(crate) later: TokenStream,
    /// Where the user's call starts (its first token) and ends (its
    /// closing parenthesis).
    pub(crate) open: Span,
    pub(crate) close: Span,
    /// With [`Capture::Params`]: the arguments evaluated now, which `later`
    /// takes as the parameters of the same names.
    pub(crate) params: Vec<Ident>,
}

/// How the closure that runs the call later takes what was evaluated now.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    /// A plain closure (`defer!`): it borrows place receivers in the mode
    /// their method needs, so each value evaluated now is wrapped in an
    /// `Arg`, which it captures by value even when the value is `Copy`.
    Inferred,
    /// A `move` closure (detached goroutines): it owns everything it
    /// names, so the values need no wrapper (nor does a `Send` error about
    /// one of them mention it).
    Move,
    /// A plain closure that takes the arguments as parameters ([`Lowered::
    /// params`]), called from a `move` closure that owns them (scoped
    /// goroutines): the plain one borrows place receivers in the mode their
    /// method needs, and the arguments need no wrapper, so a `Send` error
    /// about one names only its type. A callee or an index evaluated now
    /// is still wrapped: the call needs its type before the arguments'.
    Params,
}

/// Names for the temporaries of one lowering.
struct Temps {
    next: usize,
    now: TokenStream,
    capture: Capture,
    params: Vec<Ident>,
}

impl Temps {
    fn new(capture: Capture) -> Temps {
        Temps {
            next: 0,
            now: TokenStream::new(),
            capture,
            params: Vec::new(),
        }
    }

    /// Evaluates the argument `expr` now into a fresh temporary; returns
    /// the expression that moves it into the call later.
    fn argument(&mut self, expr: &Expr) -> TokenStream {
        if self.capture != Capture::Params {
            return self.eval_now(expr);
        }
        let name = self.temp(expr);
        self.now.extend(quote_spanned! {expr.span()=>
            let #name = #expr;
        });
        self.params.push(name.clone());
        quote!(#name)
    }

    fn temp(&mut self, expr: &Expr) -> Ident {
        let name = format_ident!(
            "__goscope_arg{}",
            self.next,
            span = Span::mixed_site().located_at(expr.span())
        );
        self.next += 1;
        name
    }

    /// Evaluates `expr` now into a fresh temporary; returns the expression
    /// that moves it out later.
    fn eval_now(&mut self, expr: &Expr) -> TokenStream {
        let name = self.temp(expr);
        if self.capture == Capture::Move {
            self.now.extend(quote_spanned! {expr.span()=>
                let #name = #expr;
            });
            return quote!(#name);
        }
        self.now.extend(quote_spanned! {expr.span()=>
            let #name = ::goscope::__private::Arg(#expr);
        });
        quote!(#name.take())
    }

    /// A receiver that is a place is used in place (the closure borrows it);
    /// the index expressions inside it are still evaluated now.
    fn place(&mut self, expr: &Expr) -> TokenStream {
        match expr {
            Expr::Path(_) => quote!(#expr),
            Expr::Field(field) => {
                let base = self.place(&field.base);
                let dot = &field.dot_token;
                let member = &field.member;
                quote!(#base #dot #member)
            }
            Expr::Index(index) => {
                let base = self.place(&index.expr);
                let at = self.eval_now(&index.index);
                quote!(#base [#at])
            }
            Expr::Paren(paren) => {
                let inner = self.place(&paren.expr);
                quote!((#inner))
            }
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => {
                let inner = self.place(&unary.expr);
                let star = &unary.op;
                quote!(#star #inner)
            }
            other => self.eval_now(other),
        }
    }
}

/// Lowers `f(a, b)`: a callee that is a path is named later (evaluating a
/// path has no effect); any other callee and every argument are evaluated
/// now, left to right.
pub(crate) fn lower_call(call: &ExprCall, capture: Capture) -> Lowered {
    let mut temps = Temps::new(capture);
    let func = match &*call.func {
        path @ Expr::Path(_) => quote!(#path),
        other => {
            let f = temps.eval_now(other);
            quote!((#f))
        }
    };
    let args = arguments(&mut temps, &call.args, call.paren_token);
    Lowered {
        later: quote_spanned!(call.span()=> #func #args),
        now: temps.now,
        open: call.span(),
        close: call.paren_token.span.close(),
        params: temps.params,
    }
}

/// Lowers `recv.method(a, b)`: a receiver that is a place is borrowed, any
/// other receiver is evaluated now and moved; then the arguments.
pub(crate) fn lower_method_call(call: &ExprMethodCall, capture: Capture) -> Lowered {
    let mut temps = Temps::new(capture);
    let receiver = temps.place(&call.receiver);
    let args = arguments(&mut temps, &call.args, call.paren_token);
    let dot = &call.dot_token;
    let method = &call.method;
    let turbofish = &call.turbofish;
    Lowered {
        later: quote_spanned!(call.span()=> #receiver #dot #method #turbofish #args),
        now: temps.now,
        open: call.span(),
        close: call.paren_token.span.close(),
        params: temps.params,
    }
}

/// Evaluates the arguments now, left to right, and returns the parenthesised
/// list that passes them later. The parentheses keep the user's span, so a
/// closure ending with them spans the whole call (an error about the
/// goroutine underlines `f(a, b)`, not just `f`), and rustc's suggestions
/// for a missing argument land inside them.
fn arguments(
    temps: &mut Temps,
    args: &Punctuated<Expr, Token![,]>,
    paren: token::Paren,
) -> TokenStream {
    let args: Vec<_> = args.iter().map(|a| temps.argument(a)).collect();
    let mut group = Group::new(Delimiter::Parenthesis, quote!(#(#args),*));
    group.set_span(paren.span.join());
    group.into_token_stream()
}

/// The lints that the call run later would trip as if the user had written
/// it: `|| f()` is not their closure, nor `f(__goscope_arg0.take())` their
/// unit argument. For the statement that holds the closure.
pub(crate) fn allow_lints() -> TokenStream {
    quote! {
        #[allow(
            clippy::redundant_closure,
            clippy::redundant_closure_for_method_calls,
            clippy::unit_arg
        )]
    }
}
