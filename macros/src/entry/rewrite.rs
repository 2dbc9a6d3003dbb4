//! The `go!` rewriter: every `go!` in a scope's body becomes
//! `go!(@scoped NAME (..))`, naming the scope it starts its goroutine in.
//! Shared by the scope attributes and `scope!`.

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};
use syn::Item;
use syn::visit_mut::VisitMut;

use crate::marker;

/// Rewrites `go!(..)` into `go!(@scoped __goscope_scope (..))`, everywhere in
/// the body except inside nested items, which are not in the scope, and
/// inside `scope! { .. }` blocks, whose goroutines are the block's.
pub(crate) struct RewriteGo<'a> {
    pub(crate) scope: &'a Ident,
}

impl VisitMut for RewriteGo<'_> {
    fn visit_item_mut(&mut self, _: &mut Item) {}

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let braces = matches!(mac.delimiter, syn::MacroDelimiter::Brace(_));
        if is_go_path(&mac.path) && !braces && is_static(&mac.tokens) {
            // `go!(static ..)` is detached, and so is every `go!` in it.
            return;
        }
        if is_scope_path(&mac.path) {
            // The block's `scope!` points its own `go!`s at its scope.
            return;
        }
        let tokens = std::mem::take(&mut mac.tokens);
        if is_go_path(&mac.path) {
            let mut group = Group::new(
                delimiter(&mac.delimiter),
                rewrite_tokens(tokens, self.scope),
            );
            // The user's brackets, so that `go!` can span its goroutine on
            // them.
            group.set_span(mac.delimiter.span().join());
            let scope = self.scope;
            // The outer delimiter stays the user's: `go! { .. }` needs no `;`.
            mac.tokens = marker::mark(marker::SCOPED, scope, &group);
        } else {
            // Other macros' input is opaque; rewrite `go!` in it by tokens.
            mac.tokens = rewrite_tokens(tokens, self.scope);
        }
    }
}

pub(super) fn delimiter(d: &syn::MacroDelimiter) -> Delimiter {
    match d {
        syn::MacroDelimiter::Paren(_) => Delimiter::Parenthesis,
        syn::MacroDelimiter::Brace(_) => Delimiter::Brace,
        syn::MacroDelimiter::Bracket(_) => Delimiter::Bracket,
    }
}

fn is_go_path(path: &syn::Path) -> bool {
    crate::tokens::path_is(path, &[&["go"], &["goscope", "go"]])
}

fn is_scope_path(path: &syn::Path) -> bool {
    crate::tokens::path_is(path, &[&["scope"], &["goscope", "scope"]])
}

/// Token-level version of [`RewriteGo`] for macro inputs.
fn rewrite_tokens(tokens: TokenStream, scope: &Ident) -> TokenStream {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tts.len());
    let mut i = 0;
    while i < tts.len() {
        if let Some(end) = item_end(&tts, i) {
            // A nested item is not in the scope, as in `RewriteGo`.
            out.extend(tts[i..end].iter().cloned());
            i = end;
            continue;
        }
        match (&tts[i], tts.get(i + 1), tts.get(i + 2)) {
            (TokenTree::Ident(go), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g)))
                if go == "go" && bang.as_char() == '!' && is_static_group(g) =>
            {
                // `go!(static ..)` is detached, and so is every `go!` in it.
                out.extend(tts[i..i + 3].iter().cloned());
                i += 3;
            }
            (TokenTree::Ident(name), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(_)))
                if name == "scope" && bang.as_char() == '!' && !qualified_elsewhere(&tts[..i]) =>
            {
                // A `scope! { .. }` block points its own `go!`s at its scope.
                out.extend(tts[i..i + 3].iter().cloned());
                i += 3;
            }
            (TokenTree::Ident(go), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g)))
                if go == "go" && bang.as_char() == '!' && !qualified_elsewhere(&tts[..i]) =>
            {
                let mut inner = Group::new(g.delimiter(), rewrite_tokens(g.stream(), scope));
                inner.set_span(g.span());
                let mut args =
                    Group::new(g.delimiter(), marker::mark(marker::SCOPED, scope, &inner));
                args.set_span(g.span());
                out.push(tts[i].clone());
                out.push(tts[i + 1].clone());
                out.push(TokenTree::Group(args));
                i += 3;
            }
            (TokenTree::Group(g), ..) => {
                let mut group = Group::new(g.delimiter(), rewrite_tokens(g.stream(), scope));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
                i += 1;
            }
            (tt, ..) => {
                out.push(tt.clone());
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

/// If `tts[i..]` starts an item (`fn f`, `impl`, `mod m`, `trait T`,
/// `struct S`, `enum E`, `union U`, `const X:`, `static X:`,
/// `macro_rules! m`), the index just past it. `const fn` is found at its
/// `fn`; `const { .. }`, `*const T`, `fn(u8)` types, `'static` and
/// `go!(static ..)` are not items. Closures are not items either: they stay
/// in the scope.
fn item_end(tts: &[TokenTree], i: usize) -> Option<usize> {
    let TokenTree::Ident(keyword) = &tts[i] else {
        return None;
    };
    if i > 0 && matches!(&tts[i - 1], TokenTree::Punct(p) if p.as_char() == '\'') {
        return None; // a lifetime: `'static`
    }
    let ident_at = |j: usize| matches!(tts.get(j), Some(TokenTree::Ident(_)));
    let punct_at =
        |j: usize, c: char| matches!(tts.get(j), Some(TokenTree::Punct(p)) if p.as_char() == c);
    match keyword.to_string().as_str() {
        "fn" | "mod" | "trait" | "struct" | "enum" | "union" if ident_at(i + 1) => {
            Some(item_body_end(tts, i + 1))
        }
        "impl" => Some(item_body_end(tts, i + 1)),
        "const" | "static" => {
            let mut name = i + 1;
            if matches!(tts.get(name), Some(TokenTree::Ident(m)) if m == "mut") {
                name += 1;
            }
            let named = ident_at(name) && punct_at(name + 1, ':') && !punct_at(name + 2, ':');
            // `const X: T = ..;` ends at its `;`.
            named.then(|| {
                tts[name..]
                    .iter()
                    .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
                    .map_or(tts.len(), |at| name + at + 1)
            })
        }
        "macro_rules" if punct_at(i + 1, '!') && ident_at(i + 2) => {
            let end = (i + 4).min(tts.len());
            Some(if punct_at(end, ';') { end + 1 } else { end })
        }
        _ => None,
    }
}

/// Where an item that starts at `from` ends: just past its `{ .. }` body,
/// or its `;` (`struct S(u8);`, `mod m;`), not counting braces inside
/// generics (`Foo<{ N }>`).
fn item_body_end(tts: &[TokenTree], from: usize) -> usize {
    let mut angles = 0usize;
    for (j, tt) in tts.iter().enumerate().skip(from) {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '<' => angles += 1,
            TokenTree::Punct(p) if p.as_char() == '>' => {
                // `->` and `=>` are not closing brackets.
                let arrow = matches!(&tts[j - 1], TokenTree::Punct(q)
                    if (q.as_char() == '-' || q.as_char() == '=')
                        && q.spacing() == proc_macro2::Spacing::Joint);
                if !arrow {
                    angles = angles.saturating_sub(1);
                }
            }
            TokenTree::Punct(p) if p.as_char() == ';' && angles == 0 => return j + 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && angles == 0 => {
                return j + 1;
            }
            _ => {}
        }
    }
    tts.len()
}

/// `other::go!` is somebody else's macro.
fn qualified_elsewhere(before: &[TokenTree]) -> bool {
    match before {
        [
            ..,
            TokenTree::Ident(krate),
            TokenTree::Punct(c1),
            TokenTree::Punct(c2),
        ] if c1.as_char() == ':' && c2.as_char() == ':' => krate != "goscope",
        _ => false,
    }
}

/// Whether the tokens of a `go!` start with `static`: a detached goroutine.
/// (In `go! { static X: T = ..; .. }` it starts a static item.)
fn is_static(tokens: &TokenStream) -> bool {
    matches!(tokens.clone().into_iter().next(), Some(TokenTree::Ident(s)) if s == "static")
}

fn is_static_group(g: &Group) -> bool {
    g.delimiter() != Delimiter::Brace && is_static(&g.stream())
}

/// Whether `tokens` start a goroutine in the function's scope: a `go!` that
/// [`RewriteGo`] pointed at it (not one in a nested item, nor another
/// crate's `go!`).
pub(crate) fn spawns(tokens: TokenStream) -> bool {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    tts.iter().enumerate().any(|(i, tt)| match tt {
        TokenTree::Ident(go) if go == "go" => match (tts.get(i + 1), tts.get(i + 2)) {
            (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(args)))
                if bang.as_char() == '!' =>
            {
                marker::starts_with(marker::SCOPED, &args.stream())
            }
            _ => false,
        },
        TokenTree::Group(g) => spawns(g.stream()),
        _ => false,
    })
}
