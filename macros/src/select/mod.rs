//! `select!`: Go's `select` statement, with Go's arrows.

mod expand;
mod parse;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let select = parse::Select::from_tokens(input);
    let mut out = expand::expand(&select);
    // Errors go alongside the expansion of the valid arms, so one bad arm
    // yields its own error and nothing else, and the other arms still
    // type-check (and complete in an IDE).
    if let Some(err) = select.errors {
        out.extend(err.to_compile_error());
    }
    out
}
