//! The markers the scope attributes put in front of a macro's tokens, to
//! hand `go!` and `defer!` what they arranged: `go!(@scoped NAME (..))`
//! names the scope to spawn into, `defer!(@guard NAME (..))` the guard of a
//! top-level deferred call. Each marker is spelled once, here; the user's
//! brackets are kept in the group after the name.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::quote;

/// `go!(@scoped __goscope_scope (..))`: a goroutine of the innermost scope.
pub(crate) const SCOPED: &str = "scoped";

/// `defer!(@guard __goscope_defer0 (..))`: a top-level `defer!` whose guard
/// (or, for `defer!(drop(x))`, the owner of `x`) the attribute moves into
/// the nested scopes it opens after this point, so the deferred call runs
/// before the function waits for its goroutines.
pub(crate) const GUARD: &str = "guard";

/// `@marker name group`.
pub(crate) fn mark(marker: &str, name: &Ident, group: &Group) -> TokenStream {
    let marker = Ident::new(marker, Span::call_site());
    quote!(@#marker #name #group)
}

/// Recognises input that is exactly `@marker NAME GROUP`, where `NAME` is
/// an identifier that can name a binding (not a keyword: only the
/// attributes write markers, and `@guard fn { .. }` is not theirs).
pub(crate) fn split(marker: &str, input: &TokenStream) -> Option<(Ident, Group)> {
    let tokens: Vec<TokenTree> = input.clone().into_iter().collect();
    match &tokens[..] {
        [
            TokenTree::Punct(at),
            TokenTree::Ident(found),
            TokenTree::Ident(name),
            TokenTree::Group(group),
        ] if at.as_char() == '@' && found == marker && is_binding(name) => {
            Some((name.clone(), group.clone()))
        }
        _ => None,
    }
}

/// Whether `tokens` start with `@marker`.
pub(crate) fn starts_with(marker: &str, tokens: &TokenStream) -> bool {
    let mut tokens = tokens.clone().into_iter();
    matches!(
        (tokens.next(), tokens.next()),
        (Some(TokenTree::Punct(at)), Some(TokenTree::Ident(found)))
            if at.as_char() == '@' && found == marker
    )
}

/// Whether `name` can name a binding: an identifier, not a keyword.
fn is_binding(name: &Ident) -> bool {
    syn::parse2::<Ident>(TokenTree::Ident(name.clone()).into()).is_ok()
}
