//! Parsing `select!` arms: `v = <-rx => ...`, `<-rx => ...`,
//! `tx <- v => ...`, `default => ...`.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::{Error, Expr, Pat, Token};

const EXPECTED_CASE: &str = "expected `v = <-rx`, `<-rx`, `tx <- v` or `default`";

/// A `select!` whose valid arms are kept and whose errors are collected.
pub(crate) struct Select {
    pub(crate) arms: Vec<Arm>,
    pub(crate) errors: Option<Error>,
}

pub(crate) struct Arm {
    pub(crate) case: Case,
    pub(crate) body: Expr,
}

pub(crate) enum Case {
    /// `<-rx` or `pat = <-rx`.
    Recv { pat: Option<Pat>, chan: Expr },
    /// `tx <- value`.
    Send { chan: Expr, value: Expr },
    /// `default`.
    Default,
}

impl Select {
    pub(crate) fn from_tokens(input: TokenStream) -> Select {
        let mut select = Select {
            arms: Vec::new(),
            errors: None,
        };
        let parsed = (|stream: ParseStream<'_>| {
            select.parse_arms(stream);
            Ok(())
        })
        .parse2(input);
        if let Err(err) = parsed {
            select.error(err);
        }
        if select.arms.is_empty() && select.errors.is_none() {
            select.error(Error::new(
                Span::call_site(),
                "select! needs at least one arm: `v = <-rx => ...`, `<-rx => ...`, `tx <- v => ...` or `default => ...`",
            ));
        }
        select
    }

    fn error(&mut self, err: Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(err),
            None => self.errors = Some(err),
        }
    }

    fn parse_arms(&mut self, input: ParseStream<'_>) {
        let mut default_seen = false;
        while !input.is_empty() {
            match parse_arm(input) {
                Ok(arm) => {
                    if let Case::Default = arm.case {
                        if default_seen {
                            continue;
                        }
                        default_seen = true;
                    }
                    self.arms.push(arm);
                }
                Err(ArmError::Recoverable(err)) => self.error(err),
                Err(ArmError::Fatal(err)) => {
                    self.error(err);
                    return;
                }
            }
        }
    }
}

enum ArmError {
    /// The arm was skipped; parsing goes on with the next one.
    Recoverable(Error),
    /// The rest of the input cannot be split into arms.
    Fatal(Error),
}

impl From<Error> for ArmError {
    fn from(err: Error) -> Self {
        ArmError::Fatal(err)
    }
}

fn parse_arm(input: ParseStream<'_>) -> Result<Arm, ArmError> {
    // The case: every token up to `=>`. Go's arrows do not parse as Rust
    // expressions (`tx <- v` is `tx < -v`), so the case is split by hand.
    let mut header = Vec::new();
    loop {
        if input.peek(Token![=>]) {
            break;
        }
        if input.is_empty() || input.peek(Token![,]) {
            let err = missing_arrow(&header);
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
            return Err(ArmError::Recoverable(err));
        }
        let tt: TokenTree = input.parse()?;
        // `<-rx { ... }`: a block right after a complete case is a body
        // whose `=>` is missing.
        if let TokenTree::Group(g) = &tt {
            if g.delimiter() == Delimiter::Brace
                && header.len() >= 2
                && !ends_with_operator(&header)
            {
                let err = missing_arrow(&header);
                let _ = input.parse::<Option<Token![,]>>()?;
                return Err(ArmError::Recoverable(err));
            }
        }
        header.push(tt);
    }
    let arrow: Token![=>] = input.parse()?;
    let body = parse_body(input)?;
    let case = parse_case(&header, arrow.spans[0]).map_err(ArmError::Recoverable)?;
    Ok(Arm { case, body })
}

/// The arm's body, as in a `match`: an expression, then a comma unless the
/// body is a block or the last arm.
fn parse_body(input: ParseStream<'_>) -> syn::Result<Expr> {
    let body: Expr = input.parse()?;
    let block_like = matches!(
        body,
        Expr::Block(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Unsafe(_)
    );
    if input.is_empty() || input.parse::<Option<Token![,]>>()?.is_some() || block_like {
        Ok(body)
    } else {
        Err(input.error("expected `,` after the arm's body"))
    }
}

fn ends_with_operator(header: &[TokenTree]) -> bool {
    matches!(header.last(), Some(TokenTree::Punct(_)))
}

fn missing_arrow(header: &[TokenTree]) -> Error {
    if header.is_empty() {
        return Error::new(Span::call_site(), format!("{EXPECTED_CASE}, then `=>`"));
    }
    Error::new_spanned(
        tokens(header),
        "expected `=>` after the select case: `case => body`",
    )
}

fn tokens(tts: &[TokenTree]) -> TokenStream {
    tts.iter().cloned().collect()
}

fn is_punct(tt: Option<&TokenTree>, ch: char) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

/// Where Go's `<-` starts in `header`, if anywhere.
fn find_arrow(header: &[TokenTree]) -> Option<usize> {
    (0..header.len()).find(|&i| is_punct(header.get(i), '<') && is_punct(header.get(i + 1), '-'))
}

fn parse_case(header: &[TokenTree], arrow: Span) -> syn::Result<Case> {
    if header.is_empty() {
        return Err(Error::new(arrow, format!("{EXPECTED_CASE} before `=>`")));
    }
    if let [TokenTree::Ident(ident)] = header {
        if ident == "default" {
            return Ok(Case::Default);
        }
    }
    let Some(at) = find_arrow(header) else {
        return Err(Error::new_spanned(
            tokens(header),
            format!(
                "select case must be send or receive (possibly with assignment)\nhelp: {EXPECTED_CASE}"
            ),
        ));
    };
    let before = &header[..at];
    let operand = &header[at + 2..];
    let arrow_tokens = tokens(&header[at..at + 2]);
    if is_punct(before.last(), '=') {
        // `pat = <-rx`
        let lhs = &before[..before.len() - 1];
        let chan = parse_operand(
            operand,
            arrow_tokens,
            "a channel to receive from: `v = <-rx`",
        )?;
        if is_punct(lhs.last(), ':') {
            return Err(Error::new_spanned(
                tokens(&before[before.len() - 2..]),
                "`:=` is Go's: in select!, write `v = <-rx`",
            ));
        }
        let pat = parse_binding(lhs, &before[before.len() - 1])?;
        Ok(Case::Recv {
            pat: Some(pat),
            chan,
        })
    } else if before.is_empty() {
        // `<-rx`
        let chan = parse_operand(operand, arrow_tokens, "a channel to receive from: `<-rx`")?;
        Ok(Case::Recv { pat: None, chan })
    } else {
        // `tx <- value`
        let chan: Expr = syn::parse2(tokens(before))?;
        let value = parse_operand(operand, arrow_tokens, "a value to send: `tx <- v`")?;
        Ok(Case::Send { chan, value })
    }
}

fn parse_operand(operand: &[TokenTree], arrow: TokenStream, what: &str) -> syn::Result<Expr> {
    if operand.is_empty() {
        return Err(Error::new_spanned(arrow, format!("`<-` needs {what}")));
    }
    syn::parse2(tokens(operand))
}

/// The left of `= <-rx` must be a binding: it receives an `Option<T>`.
fn parse_binding(lhs: &[TokenTree], eq: &TokenTree) -> syn::Result<Pat> {
    if lhs.is_empty() {
        return Err(Error::new_spanned(
            eq,
            "expected a name to bind the received value to: `v = <-rx`",
        ));
    }
    if lhs.iter().any(|tt| is_punct(Some(tt), ',')) {
        return Err(Error::new_spanned(
            tokens(lhs),
            "Go's `v, ok := <-ch` is `v = <-ch` in gofer: `v` is an `Option<T>`, `None` once the channel is closed and drained",
        ));
    }
    let pat = Pat::parse_single.parse2(tokens(lhs))?;
    match &pat {
        Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => Ok(pat),
        Pat::Wild(_) => Ok(pat),
        _ => Err(Error::new_spanned(
            pat.to_token_stream(),
            "a receive binds an `Option<T>` to a name: write `v = <-rx` and match on `v` in the arm's body",
        )),
    }
}
