//! Lowering shared by `go!` and `defer!`: Go evaluates the function value
//! and the arguments of a `go`/`defer` call where the statement is written,
//! and runs the call later.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, ExprMethodCall};

/// A call split into what runs now and what runs later.
pub(crate) struct Lowered {
    /// `let` statements that evaluate the callee, receiver and arguments now.
    pub(crate) now: TokenStream,
    /// The call itself, naming the values evaluated in `now`; meant for the
    /// body of a non-`move` closure, which borrows place receivers in the
    /// mode the method needs and moves the pre-evaluated values.
    pub(crate) later: TokenStream,
}

/// Names for the temporaries of one lowering.
#[derive(Default)]
struct Temps {
    next: usize,
    now: TokenStream,
}

impl Temps {
    /// Evaluates `expr` now into a fresh temporary; returns the expression
    /// that moves it out later.
    fn eval_now(&mut self, expr: &Expr) -> TokenStream {
        let name = format_ident!(
            "__gofer_arg{}",
            self.next,
            span = Span::mixed_site().located_at(expr.span())
        );
        self.next += 1;
        self.now.extend(quote_spanned! {expr.span()=>
            let #name = ::gofer::__private::Arg(#expr);
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
pub(crate) fn lower_call(call: &ExprCall) -> Lowered {
    let mut temps = Temps::default();
    let func = match &*call.func {
        path @ Expr::Path(_) => quote!(#path),
        other => {
            let f = temps.eval_now(other);
            quote!((#f))
        }
    };
    let args: Vec<_> = call.args.iter().map(|a| temps.eval_now(a)).collect();
    Lowered {
        later: quote_spanned!(call.span()=> #func(#(#args),*)),
        now: temps.now,
    }
}

/// Lowers `recv.method(a, b)`: a receiver that is a place is borrowed, any
/// other receiver is evaluated now and moved; then the arguments.
pub(crate) fn lower_method_call(call: &ExprMethodCall) -> Lowered {
    let mut temps = Temps::default();
    let receiver = temps.place(&call.receiver);
    let args: Vec<_> = call.args.iter().map(|a| temps.eval_now(a)).collect();
    let dot = &call.dot_token;
    let method = &call.method;
    let turbofish = &call.turbofish;
    Lowered {
        later: quote_spanned!(call.span()=> #receiver #dot #method #turbofish(#(#args),*)),
        now: temps.now,
    }
}

/// Which brackets the user put around a macro's input. Proc macros do not
/// receive them, so this reads the invocation's source text.
pub(crate) fn invoked_with_braces() -> Option<bool> {
    let text = proc_macro::Span::call_site().source_text()?;
    let bang = text.find('!')?;
    let open = text[bang + 1..].trim_start().chars().next()?;
    Some(open == '{')
}
