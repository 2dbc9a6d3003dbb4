//! Token utilities shared by the macros: where tokens start and end, how
//! the user wrote an invocation, and which path a macro was called by.

use proc_macro2::{Span, TokenStream, TokenTree};

/// Whether the user put braces around a macro's input (`go! { .. }`, a
/// block) rather than parentheses (`go!(f(x))`, a call). Proc macros do not
/// receive the brackets, so this reads the invocation's source text. Where
/// there is none (rust-analyzer, tokens made by another macro), it goes by
/// the input: one expression is the call form, anything else a block.
pub(crate) fn invoked_with_braces(input: &proc_macro2::TokenStream) -> bool {
    let from_source = source_text().and_then(|text| {
        let bang = text.find('!')?;
        let open = text[bang + 1..].trim_start().chars().next()?;
        Some(open == '{')
    });
    from_source.unwrap_or_else(|| syn::parse2::<syn::Expr>(input.clone()).is_err())
}

/// The macro's input as the user wrote it (`f(x)` in `go!(f(x))`), for
/// suggestions that quote it back.
pub(crate) fn input_text() -> Option<String> {
    let text = source_text()?;
    let bang = text.find('!')?;
    let inner = text[bang + 1..].trim();
    let mut chars = inner.chars();
    chars.next()?;
    chars.next_back()?;
    Some(chars.as_str().trim().to_owned())
}

/// The invocation's source text, when the compiler has it. `None` outside a
/// macro expansion (the crate's unit tests call the expansions directly).
fn source_text() -> Option<String> {
    if !proc_macro::is_available() {
        return None;
    }
    proc_macro::Span::call_site().source_text()
}

/// Where `tokens` start, for spans; the call site if there are none.
pub(crate) fn first_span(tokens: &TokenStream) -> Span {
    match tokens.clone().into_iter().next() {
        Some(TokenTree::Group(g)) => g.span_open(),
        Some(tt) => tt.span(),
        None => Span::call_site(),
    }
}

/// Where `tokens` end, for spans; the call site if there are none.
pub(crate) fn last_span(tokens: &TokenStream) -> Span {
    match tokens.clone().into_iter().last() {
        Some(TokenTree::Group(g)) => g.span_close(),
        Some(tt) => tt.span(),
        None => Span::call_site(),
    }
}

/// Whether `path` is one of `spellings` (`&["goscope", "go"]` for `goscope::go`),
/// ignoring a leading `::`.
pub(crate) fn path_is(path: &syn::Path, spellings: &[&[&str]]) -> bool {
    spellings.iter().any(|spelling| {
        path.segments.len() == spelling.len()
            && path
                .segments
                .iter()
                .zip(*spelling)
                .all(|(s, name)| s.ident == name)
    })
}
