//! Lowering `select!` onto `goscope::__private::select`.
//!
//! ```text
//! select! { v = <-rx => a, tx <- x => b, default => c }
//! ```
//! becomes
//! ```text
//! {
//!     let __goscope_ch0 = &(rx);                      // operands, in source order
//!     let __goscope_ch1 = &(tx);
//!     let __goscope_val1 = send_value(sender(__goscope_ch1), x);
//!     let mut __goscope_arm0 = RecvArm::new(receiver(__goscope_ch0));
//!     let mut __goscope_arm1 = SendArm::new(sender(__goscope_ch1), __goscope_val1);
//!     let __goscope_chosen = select(&mut [&mut __goscope_arm0, &mut __goscope_arm1], true);
//!     match __goscope_chosen {
//!         Some(0) => { let v = __goscope_arm0.take(); a }
//!         Some(1) => { b }
//!         _ => { c }
//!     }
//! }
//! ```
//! Arm bodies are inlined in a `match`, so `break`, `continue`, `return` and
//! `?` act on the enclosing code.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Error, Expr, Pat, PatIdent};

use super::parse::{Case, Select, takes_anything};

pub(crate) fn expand(select: &Select) -> TokenStream {
    let errors = select.errors.clone();
    if select.arms.is_empty() {
        return match errors {
            // Nothing to select on: the errors are the whole `select!`, the
            // last one as its value, which has any type, so the code around
            // sees no second error.
            Some(errors) => {
                let errors = errors_as_value(errors);
                quote!({ #errors })
            }
            // `select! {}`: Go's `select {}`, blocking forever, of type `!`.
            // The call has the `select!`'s span: reports name its line.
            None => quote!(::goscope::__private::select_no_cases()),
        };
    }
    let mut lowering = Lowering::default();
    for arm in &select.arms {
        lowering.add(&arm.case, &arm.body);
    }
    lowering.finish(errors.map(|e| e.to_compile_error()))
}

/// A `select!` being lowered, arm by arm.
#[derive(Default)]
struct Lowering<'a> {
    /// The channel operands and send values, evaluated in source order.
    operands: TokenStream,
    /// The arms handed to `select`, declared after all the operands.
    arms: TokenStream,
    /// Each arm's binding, by operation index (`default` takes no slot).
    ops: Vec<Ident>,
    /// For each operation: its index, what the chosen arm does with its
    /// operation (bind the value, or release the arm), and its body.
    chosen: Vec<(usize, TokenStream, &'a Expr)>,
    default: Option<&'a Expr>,
}

impl<'a> Lowering<'a> {
    fn add(&mut self, case: &'a Case, body: &'a Expr) {
        // Operations are numbered densely: `default` takes no slot.
        let i = self.ops.len();
        match case {
            Case::Recv { pat, chan } => self.recv(i, pat.as_ref(), chan, body),
            Case::Send { chan, value } => self.send(i, chan, value, body),
            Case::Default { .. } => self.default = Some(body),
        }
    }

    /// `pat = <-chan => body` (or `<-chan => body`).
    fn recv(&mut self, i: usize, pat: Option<&Pat>, chan: &Expr, body: &'a Expr) {
        let span = chan.span();
        let (ch, op) = (operand(i, span), ident("arm", i));
        self.operands.extend(quote_spanned! {span=>
            let #ch = &(#chan);
        });
        let receiver = quote_spanned!(span=> ::goscope::__private::RecvOperand::receiver(#ch));
        let (arm, bind) = match pat {
            None => (
                quote_spanned!(span=> ::goscope::__private::RecvArm::new(#receiver)),
                quote!(::goscope::__private::release(#op);),
            ),
            Some(pat) if takes_anything(pat) => (
                quote_spanned!(span=> ::goscope::__private::RecvArm::new(#receiver)),
                quote!(let #pat = #op.take();),
            ),
            Some(pat) => refutable(pat, &op, receiver, span),
        };
        self.arms.extend(quote_spanned! {span=>
            let mut #op = #arm;
        });
        self.chosen.push((i, bind, body));
        self.ops.push(op);
    }

    /// `chan <- value => body`.
    fn send(&mut self, i: usize, chan: &Expr, value: &Expr, body: &'a Expr) {
        let span = chan.span();
        let (ch, op, val) = (operand(i, span), ident("arm", i), ident("val", i));
        self.operands.extend(quote_spanned! {span=>
            let #ch = &(#chan);
        });
        let sender = quote_spanned!(span=> ::goscope::__private::SendOperand::sender(#ch));
        self.operands.extend(quote_spanned! {value.span()=>
            let #val = ::goscope::__private::send_value(#sender, #value);
        });
        self.arms.extend(quote_spanned! {span=>
            let mut #op = ::goscope::__private::SendArm::new(#sender, #val);
        });
        self.chosen
            .push((i, quote!(::goscope::__private::release(#op);), body));
        self.ops.push(op);
    }

    /// Before a body runs, every arm is consumed (the chosen one taken, the
    /// others dropped): their borrows of the channels end and unsent values
    /// are dropped, so a body may reassign or drop a channel (Go's `ch =
    /// nil`, `close(ch)`). This releases all but `chosen`.
    fn release_others(&self, chosen: Option<usize>) -> Option<TokenStream> {
        let rest: Vec<_> = (self.ops.iter().enumerate())
            .filter(|(j, _)| Some(*j) != chosen)
            .map(|(_, op)| op)
            .collect();
        (!rest.is_empty()).then(|| quote!(::goscope::__private::release((#(#rest,)*));))
    }

    /// The `match` arms on the chosen operation's index.
    fn branches(&self) -> TokenStream {
        let mut branches = TokenStream::new();
        for (i, consume, body) in &self.chosen {
            let others = self.release_others(Some(*i));
            branches.extend(quote! {
                ::core::option::Option::Some(#i) => { #consume #others #body }
            });
        }
        branches.extend(match self.default {
            Some(body) => {
                let all = self.release_others(None);
                quote!(_ => { #all #body })
            }
            None => quote!(_ => ::core::unreachable!("select! chose an arm that does not exist")),
        });
        branches
    }

    fn finish(self, errors: Option<TokenStream>) -> TokenStream {
        let branches = self.branches();
        let Lowering {
            operands,
            arms,
            ops,
            default,
            ..
        } = self;
        let has_default = default.is_some();
        let chosen = format_ident!("__goscope_chosen", span = Span::mixed_site());
        // The errors come first: a `select!` whose arms all diverge must not
        // make them "unreachable".
        quote! {{
            #errors
            #operands
            #arms
            let #chosen = ::goscope::__private::select(
                &mut [#(&mut #ops as &mut dyn ::goscope::__private::Arm<'_>),*],
                #has_default,
            );
            #[allow(unreachable_code)]
            match #chosen {
                #branches
            }
        }}
    }
}

/// A binding the macro makes: `__goscope_arm0`, `__goscope_val1`.
fn ident(name: &str, i: usize) -> Ident {
    format_ident!("__goscope_{}{}", name, i, span = Span::mixed_site())
}

/// The binding of a channel operand takes the operand's own span (and so
/// call-site hygiene): rustc shows any span made by the macro at the whole
/// `select!`, and an operand that is not a channel must be underlined where
/// it is written, once. (Arm bodies share the block, but
/// `__goscope_`-prefixed names are never the user's.)
fn operand(i: usize, at: Span) -> Ident {
    format_ident!("__goscope_ch{}", i, span = at)
}

/// A receive arm with a refutable pattern: the arm, and the binding in the
/// chosen body. The pattern tests each value received; the arm completes
/// only with a value that matches, so the `else` never runs.
fn refutable(
    pat: &Pat,
    op: &Ident,
    receiver: TokenStream,
    span: Span,
) -> (TokenStream, TokenStream) {
    let test = pattern_test(pat);
    // `let` takes a top-level or-pattern only in parentheses.
    let pat = match pat {
        Pat::Or(_) => quote!((#pat)),
        _ => quote!(#pat),
    };
    let arm = quote_spanned!(span=> ::goscope::__private::RecvArm::matching(#receiver, #test));
    let bind = quote! {
        #[allow(irrefutable_let_patterns)]
        let #pat = #op.take() else {
            ::core::unreachable!("select!: a received value that does not match its arm's pattern")
        };
    };
    (arm, bind)
}

/// `compile_error!{..}` for each error, the last written `compile_error!(..)`
/// as the block's value rather than as a statement.
fn errors_as_value(errors: Error) -> TokenStream {
    let mut out: Vec<TokenTree> = errors.to_compile_error().into_iter().collect();
    if let Some(TokenTree::Group(last)) = out.last_mut() {
        let mut parens = Group::new(Delimiter::Parenthesis, last.stream());
        parens.set_span(last.span());
        *last = parens;
    }
    out.into_iter().collect()
}

/// `|received: &Option<T>| matches!(received, pat)`, for a refutable
/// receive pattern. A pattern with bindings is matched through the
/// reference, so its bindings (unused here) borrow; `mut` and `ref` on them,
/// which the binding in the arm's body keeps, are dropped here. A pattern
/// without bindings is matched on the value itself, in place (nothing is
/// moved), so that a constant of type `Option<T>` works too (`STOP = <-rx`):
/// a constant pattern does not see through references.
fn pattern_test(pat: &Pat) -> TokenStream {
    let mut test = pat.clone();
    let mut strip = StripBindingModes { binds: false };
    strip.visit_pat_mut(&mut test);
    let received = format_ident!("__goscope_received", span = Span::mixed_site());
    let scrutinee = match strip.binds {
        true => quote!(#received),
        false => quote!(*#received),
    };
    quote_spanned! {pat.span()=>
        |#received: &_| match #scrutinee {
            #[allow(unused_variables)]
            #test => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// Drops `mut` and `ref` from a pattern's bindings, noting whether it binds
/// a name at all: `v`, `mut v`, `ref v`, `v @ ..`. A capitalised name alone
/// is taken for a constant or a variant (`None`, `STOP`).
struct StripBindingModes {
    binds: bool,
}

impl VisitMut for StripBindingModes {
    fn visit_pat_ident_mut(&mut self, pat: &mut PatIdent) {
        let name = pat.ident.to_string();
        self.binds |= pat.by_ref.is_some()
            || pat.mutability.is_some()
            || pat.subpat.is_some()
            || name.starts_with(|c: char| c == '_' || c.is_lowercase());
        pat.by_ref = None;
        pat.mutability = None;
        visit_mut::visit_pat_ident_mut(self, pat);
    }
}
