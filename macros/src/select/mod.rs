//! `select!`: Go's `select` statement, with Go's arrows.

mod expand;
mod parse;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    // Errors are expanded along with the valid arms, so one bad arm yields
    // its own error and nothing else, and the other arms still type-check
    // (and complete in an IDE).
    expand::expand(&parse::Select::from_tokens(input))
}
