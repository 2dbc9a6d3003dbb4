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

/// The expressions of a `select!` invocation (operands, send values and
/// arm bodies), for a check that looks inside it; `None` if `path` is not
/// `select!`.
pub(crate) fn expressions(path: &syn::Path, input: TokenStream) -> Option<Vec<syn::Expr>> {
    if !crate::tokens::path_is(path, &[&["select"], &["goscope", "select"]]) {
        return None;
    }
    let select = parse::Select::from_tokens(input);
    let mut exprs = Vec::new();
    for arm in select.arms {
        match arm.case {
            parse::Case::Recv { chan, .. } => exprs.push(chan),
            parse::Case::Send { chan, value } => exprs.extend([chan, value]),
            parse::Case::Default { .. } => {}
        }
        exprs.push(arm.body);
    }
    Some(exprs)
}
