//! `defer!`: Go's `defer`, at the exit of the enclosing block.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Block, Error, Expr, Result};

use crate::call;

const EXPECTED: &str = "expression in defer! must be a function call, a macro call or a block";

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match parse(input) {
        Ok((now, later, span)) => {
            let guard = syn::Ident::new("__gofer_defer", Span::mixed_site());
            // A plain closure: it runs in this frame, so it borrows what it
            // names and moves only the values evaluated now.
            quote_spanned! {span=>
                #now
                let #guard = ::gofer::__private::defer(|| #later);
            }
        }
        Err(err) => err.to_compile_error(),
    }
}

/// Splits the input into what runs now and the deferred call.
fn parse(input: TokenStream) -> Result<(TokenStream, TokenStream, Span)> {
    if call::invoked_with_braces() == Some(true) {
        let stmts = Block::parse_within.parse2(input.clone())?;
        let span = input.span();
        return Ok((
            TokenStream::new(),
            quote_spanned!(span=> { #(#stmts)* }),
            span,
        ));
    }
    parse_expr_form.parse2(input)
}

fn parse_expr_form(input: ParseStream<'_>) -> Result<(TokenStream, TokenStream, Span)> {
    if input.is_empty() {
        return Err(Error::new(
            Span::call_site(),
            "defer! needs a call to defer: write `defer!(f(x))`, `defer!(println!(..))` or `defer! { ... }`",
        ));
    }
    let expr: Expr = input.parse()?;
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        return Err(Error::new_spanned(
            rest,
            "unexpected tokens after the deferred call: defer! takes one call or block",
        ));
    }
    let span = expr.span();
    match &expr {
        Expr::Call(c) => {
            let lowered = call::lower_call(c);
            Ok((lowered.now, lowered.later, span))
        }
        Expr::MethodCall(c) => {
            let lowered = call::lower_method_call(c);
            Ok((lowered.now, lowered.later, span))
        }
        // Go evaluates a deferred call's arguments now; a macro's cannot be
        // taken apart, so it runs whole at exit.
        Expr::Macro(_) => Ok((TokenStream::new(), quote!(#expr), span)),
        Expr::Block(b) if b.label.is_none() => Ok((TokenStream::new(), quote!(#expr), span)),
        Expr::Closure(_) => Err(Error::new_spanned(
            &expr,
            format!(
                "{EXPECTED}\nhelp: a closure here would be created and dropped, never called; write its body as a block: `defer! {{ ... }}`"
            ),
        )),
        _ => Err(Error::new_spanned(&expr, EXPECTED)),
    }
}
