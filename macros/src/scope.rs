//! `scope! { .. }`: a block that is a scope of its own.
//!
//! ```text
//! scope! {
//!     let a = ..;
//!     go!(f(&a, &outer));
//!     tail
//! }
//! ```
//! becomes the body of a `#[goscope::scoped]` function, run in place:
//! ```text
//! ::goscope::__private::scope(|__goscope_scope| {
//!     let a = ..;
//!     ::goscope::__private::scope(|__goscope_scope| {
//!         go!(@scoped __goscope_scope (f(&a, &outer)));
//!         tail
//!     })
//! })
//! ```
//! so its goroutines may borrow what lives outside the block and the
//! block's own top-level locals, its top-level `defer!`s run before it
//! waits, and its value is the tail's. The block runs in closures: a
//! `return`, `?`, `break` or `continue` that would leave it is an error,
//! spanned on that token (the block must wait for its goroutines first).

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::quote;
use syn::parse::Parser;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Error, Expr, Label, Lifetime, token};

use crate::entry::rewrite::RewriteGo;
use crate::entry::{ScopedBody, scoped_body};
use crate::tokens::{self, last_span};

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let close = last_span(&input);
    let stmts = match Block::parse_within.parse2(input) {
        Ok(stmts) => stmts,
        Err(err) => {
            // The error is the block's value: it has any type, so the code
            // around sees no second error.
            let err = err.to_compile_error();
            return quote!({ #err });
        }
    };
    let mut escapes = Escapes::default();
    for stmt in &stmts {
        escapes.visit_stmt_mut(&mut stmt.clone());
    }
    let mut block = Block {
        brace_token: token::Brace(close),
        stmts,
    };
    let scope = Ident::new("__goscope_scope", Span::mixed_site());
    if let Some(errors) = escapes.errors {
        // The block as a plain block, its goroutines in a scope that is
        // never opened (the program does not build): `return` and `break`
        // then type-check as written, and the error above is the only one.
        let errors = errors.to_compile_error();
        RewriteGo { scope: &scope }.visit_block_mut(&mut block);
        let stmts = block.stmts;
        return quote!({
            #errors
            let #scope = ::goscope::__private::unreachable_scope();
            #(#stmts)*
        });
    }
    let ScopedBody { items, body, deep } = scoped_body(block, &scope, &TokenStream::new(), false);
    quote!({
        #(#items)*
        #deep
        ::goscope::__private::scope(|#scope| { #body })
    })
}

const WAITS: &str = "the block waits for its goroutines before it ends";

/// Finds the control flow that would leave the block: `return`, `?`, and a
/// `break` or `continue` of a loop outside it. Closures, async blocks and
/// items have their own; `go!`, `defer!` and `scope!` bodies are checked by
/// their own expansion (or run as closures).
#[derive(Default)]
struct Escapes {
    errors: Option<Error>,
    /// The loops and labelled blocks around the current point, inside the
    /// block: their labels, and whether each is a loop.
    around: Vec<(Option<Lifetime>, bool)>,
}

impl Escapes {
    fn error(&mut self, err: Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(err),
            None => self.errors = Some(err),
        }
    }

    /// Whether a `break` or `continue` with `label` stays inside the block:
    /// without a label it acts on the innermost loop (a labelled block is
    /// not one), with one on what bears it.
    fn stays(&self, label: Option<&Lifetime>) -> bool {
        match label {
            None => self.around.iter().any(|(_, is_loop)| *is_loop),
            Some(label) => self.around.iter().any(|(l, _)| l.as_ref() == Some(label)),
        }
    }

    fn inside(&mut self, label: Option<&Label>, is_loop: bool, f: impl FnOnce(&mut Self)) {
        self.around.push((label.map(|l| l.name.clone()), is_loop));
        f(self);
        self.around.pop();
    }

    /// A macro's input: `select!` arms and comma-separated expressions
    /// (`println!`, `vec!`, `assert!`) are checked as Rust; other input by
    /// its tokens.
    fn visit_tokens(&mut self, mac: &syn::Macro) {
        if let Some(exprs) = crate::select::expressions(&mac.path, mac.tokens.clone()) {
            for mut expr in exprs {
                self.visit_expr_mut(&mut expr);
            }
            return;
        }
        let parsed = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated
            .parse2(mac.tokens.clone());
        match parsed {
            Ok(exprs) => {
                for mut expr in exprs {
                    self.visit_expr_mut(&mut expr);
                }
            }
            Err(_) => self.scan(mac.tokens.clone()),
        }
    }

    /// Token-level check for macro input that is not Rust: a `return` or a
    /// `?` in it (a closure there has the benefit of the doubt: its `|`
    /// ends the scan of its group).
    fn scan(&mut self, tokens: TokenStream) {
        for tt in tokens {
            match &tt {
                TokenTree::Punct(p) if p.as_char() == '|' => return,
                TokenTree::Punct(p) if p.as_char() == '?' => self.error(try_error(tt.span())),
                TokenTree::Ident(i) if i == "return" => self.error(return_error(i.span())),
                TokenTree::Group(g) => self.scan(g.stream()),
                _ => {}
            }
        }
    }
}

fn return_error(span: Span) -> Error {
    Error::new(
        span,
        format!(
            "`return` cannot leave scope!: {WAITS}\nhelp: make the value the block's value, and return after it: `let v = scope! {{ .. }}; return v;`"
        ),
    )
}

fn try_error(span: Span) -> Error {
    Error::new(
        span,
        format!(
            "`?` cannot leave scope!: {WAITS}\nhelp: make the result the block's value, and apply `?` after it: `let v = scope! {{ ..; Ok(v) }}?;`"
        ),
    )
}

impl VisitMut for Escapes {
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}

    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}

    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}

    fn visit_expr_const_mut(&mut self, _: &mut syn::ExprConst) {}

    fn visit_expr_return_mut(&mut self, ret: &mut syn::ExprReturn) {
        self.error(return_error(ret.return_token.span));
        visit_mut::visit_expr_return_mut(self, ret);
    }

    fn visit_expr_try_mut(&mut self, expr: &mut syn::ExprTry) {
        self.error(try_error(expr.question_token.span));
        visit_mut::visit_expr_try_mut(self, expr);
    }

    fn visit_expr_break_mut(&mut self, expr: &mut syn::ExprBreak) {
        if !self.stays(expr.label.as_ref()) {
            self.error(Error::new(
                expr.break_token.span,
                format!(
                    "`break` cannot leave scope!: {WAITS}\nhelp: make the block's value say whether to break, and break after it: `if scope! {{ .. }} {{ break; }}`"
                ),
            ));
        }
        visit_mut::visit_expr_break_mut(self, expr);
    }

    fn visit_expr_continue_mut(&mut self, expr: &mut syn::ExprContinue) {
        if !self.stays(expr.label.as_ref()) {
            self.error(Error::new(
                expr.continue_token.span,
                format!(
                    "`continue` cannot leave scope!: {WAITS}\nhelp: make the block's value say whether to continue, and continue after it: `if scope! {{ .. }} {{ continue; }}`"
                ),
            ));
        }
        visit_mut::visit_expr_continue_mut(self, expr);
    }

    fn visit_expr_loop_mut(&mut self, expr: &mut syn::ExprLoop) {
        let label = expr.label.clone();
        self.inside(label.as_ref(), true, |s| {
            visit_mut::visit_expr_loop_mut(s, expr)
        });
    }

    fn visit_expr_while_mut(&mut self, expr: &mut syn::ExprWhile) {
        let label = expr.label.clone();
        self.inside(label.as_ref(), true, |s| {
            visit_mut::visit_expr_while_mut(s, expr)
        });
    }

    fn visit_expr_for_loop_mut(&mut self, expr: &mut syn::ExprForLoop) {
        let label = expr.label.clone();
        self.inside(label.as_ref(), true, |s| {
            visit_mut::visit_expr_for_loop_mut(s, expr)
        });
    }

    fn visit_expr_block_mut(&mut self, expr: &mut syn::ExprBlock) {
        let label = expr.label.clone();
        self.inside(label.as_ref(), false, |s| {
            visit_mut::visit_expr_block_mut(s, expr)
        });
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let own = tokens::path_is(
            &mac.path,
            &[
                &["go"],
                &["goscope", "go"],
                &["defer"],
                &["goscope", "defer"],
                &["scope"],
                &["goscope", "scope"],
            ],
        );
        if !own {
            self.visit_tokens(mac);
        }
    }
}
