//! Parsing `select!` arms: `v = <-rx => ...`, `Some(v) = <-rx => ...`,
//! `<-rx => ...`, `tx <- v => ...`, `default => ...`.
//!
//! Parsing never gives up on the whole `select!`: a bad arm is reported and
//! skipped (or, when only its punctuation is wrong, kept), and parsing goes
//! on with the next arm, so every bad arm is reported at once and the good
//! ones are still expanded and type-checked.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};
use syn::{Error, Expr, Pat, Token, token};

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
    Default { span: Span },
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
        select
    }

    fn error(&mut self, err: Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(err),
            None => self.errors = Some(err),
        }
    }

    /// Parses every arm, consuming the whole input.
    fn parse_arms(&mut self, input: ParseStream<'_>) {
        let mut default_seen = false;
        while !input.is_empty() {
            let mut errors = Vec::new();
            let arm = match parse_arm(input, &mut errors) {
                Ok(arm) => arm,
                Err(fatal) => {
                    // The rest cannot be split into arms: drop it.
                    errors.push(fatal);
                    let _ = input.parse::<TokenStream>();
                    None
                }
            };
            errors.into_iter().for_each(|err| self.error(err));
            let Some(arm) = arm else { continue };
            if let Case::Default { span } = arm.case {
                if default_seen {
                    // Go: "multiple defaults in select". The first stays.
                    self.error(Error::new(
                        span,
                        "multiple defaults in select!\nhelp: a select! has at most one `default` arm: remove this one",
                    ));
                    continue;
                }
                default_seen = true;
            }
            self.arms.push(arm);
        }
    }
}

/// Parses one arm. Errors that leave the arm's extent known go to `errors`,
/// with the arm itself when its case and body are still usable; an `Err`
/// means the input cannot be split into arms from here on.
fn parse_arm(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Option<Arm>> {
    // The case: every token up to `=>`. Go's arrows do not parse as Rust
    // expressions (`tx <- v` is `tx < -v`), so the case is split by hand.
    let mut header = Vec::new();
    loop {
        if input.peek(Token![=>]) {
            break;
        }
        if input.is_empty() {
            errors.push(missing_arrow(&header));
            return Ok(None);
        }
        if input.peek(Token![,]) {
            if comma_in_case(input) {
                header.push(input.parse()?);
                continue;
            }
            // `v = <-rx, body,`: the `=>` is missing. When what follows
            // reads as the arm's body, keep the arm.
            input.parse::<Token![,]>()?;
            errors.push(missing_arrow(&header));
            if !body_follows(input) {
                return Ok(None);
            }
            let Some(body) = parse_body(input, None, errors)? else {
                return Ok(None);
            };
            return Ok(usable_case(&header, errors).map(|case| Arm { case, body }));
        }
        let tt: TokenTree = input.parse()?;
        // `<-rx { ... }`: a block right after a complete case is a body
        // whose `=>` is missing, unless the case goes on through the block
        // (`tx <- if c { 1 } else { 2 } =>`).
        if let TokenTree::Group(g) = &tt {
            if g.delimiter() == Delimiter::Brace
                && header.len() >= 2
                && !ends_with_operator(&header)
                && !case_continues(&header, &tt, input)
                && parse_case(&header, &mut Vec::new()).is_ok()
            {
                errors.push(missing_arrow(&header));
                let _ = input.parse::<Option<Token![,]>>()?;
                let body = match syn::parse2::<Expr>(tt.into_token_stream()) {
                    Ok(body) => body,
                    Err(err) => {
                        errors.push(err);
                        return Ok(None);
                    }
                };
                return Ok(usable_case(&header, errors).map(|case| Arm { case, body }));
            }
        }
        header.push(tt);
    }
    let arrow: Token![=>] = input.parse()?;
    if header.is_empty() {
        errors.push(Error::new(
            arrow.spans[0],
            format!("{EXPECTED_CASE} before `=>`"),
        ));
        skip_arm(input);
        return Ok(None);
    }
    let Some(body) = parse_body(input, Some(&arrow), errors)? else {
        return Ok(None);
    };
    Ok(usable_case(&header, errors).map(|case| Arm { case, body }))
}

/// The case, or `None` after reporting why it is unusable.
fn usable_case(header: &[TokenTree], errors: &mut Vec<Error>) -> Option<Case> {
    match parse_case(header, errors) {
        Ok(case) => Some(case),
        Err(err) => {
            errors.push(err);
            None
        }
    }
}

/// Whether `header`, then `block`, then the tokens ahead up to `=>`, make a
/// valid case: then the block is part of the case, not a body.
fn case_continues(header: &[TokenTree], block: &TokenTree, input: ParseStream<'_>) -> bool {
    let ahead = input.fork();
    let mut case = header.to_vec();
    case.push(block.clone());
    while !ahead.is_empty() && !ahead.peek(Token![,]) {
        if ahead.peek(Token![=>]) {
            return parse_case(&case, &mut Vec::new()).is_ok();
        }
        match ahead.parse::<TokenTree>() {
            Ok(tt) => case.push(tt),
            Err(_) => return false,
        }
    }
    false
}

/// Whether the `,` ahead belongs to the case: the tokens after it reach
/// `=>` before another `,`. So it does in Go's `v, ok = <-ch =>` and in a
/// sent closure `tx <- |a, b| a + b =>`; it does not in `v = <-rx, body,`
/// (a missing `=>`).
fn comma_in_case(input: ParseStream<'_>) -> bool {
    let ahead = input.fork();
    let _ = ahead.parse::<Token![,]>();
    reaches_arrow(&ahead)
}

/// Whether the tokens ahead reach `=>` before the next top-level `,`.
fn reaches_arrow(input: ParseStream<'_>) -> bool {
    let ahead = input.fork();
    while !ahead.is_empty() && !ahead.peek(Token![,]) {
        if ahead.peek(Token![=>]) {
            return true;
        }
        if ahead.parse::<TokenTree>().is_err() {
            return false;
        }
    }
    false
}

/// Whether tokens ahead, up to the next top-level `,`, are the body of an
/// arm whose `=>` is missing rather than the next arm.
fn body_follows(input: ParseStream<'_>) -> bool {
    !input.is_empty() && !reaches_arrow(input)
}

/// The arm's body, as in a `match`: an expression, then a comma unless the
/// body is a block or the last arm. A body that does not parse is reported
/// and skipped up to the next `,`, and the arm dropped (`None`).
fn parse_body(
    input: ParseStream<'_>,
    arrow: Option<&Token![=>]>,
    errors: &mut Vec<Error>,
) -> syn::Result<Option<Expr>> {
    if input.is_empty() || input.peek(Token![,]) {
        let message = "expected the arm's body after `=>`: an expression, or `{}` to do nothing";
        errors.push(match arrow {
            Some(arrow) => Error::new_spanned(arrow, message),
            None => input.error(message),
        });
        skip_arm(input);
        return Ok(None);
    }
    let ahead = input.fork();
    // As in a `match`, a body that starts block-like ends with the block:
    // `<-a => {} <-b => {}` is two arms, not `{} < -b`.
    let block_like = starts_block_like(&ahead);
    let parsed = if block_like {
        parse_block_like(&ahead)
    } else {
        ahead.parse::<Expr>()
    };
    let body = match parsed {
        Ok(body) => {
            input.advance_to(&ahead);
            body
        }
        Err(err) => {
            errors.push(err);
            skip_arm(input);
            return Ok(None);
        }
    };
    if !input.is_empty() && input.parse::<Option<Token![,]>>()?.is_none() && !block_like {
        // `a => x  b => y`: the next arm starts here.
        errors.push(input.error("expected `,` between select! arms"));
    }
    Ok(Some(body))
}

/// Whether an expression that ends with a block starts here: a block,
/// `if`, `match`, a loop or an `unsafe` block, possibly labeled.
fn starts_block_like(input: ParseStream<'_>) -> bool {
    let ahead = input.fork();
    if ahead.peek(syn::Lifetime) && ahead.peek2(Token![:]) {
        let _ = ahead.parse::<syn::Label>();
    }
    ahead.peek(token::Brace)
        || ahead.peek(Token![if])
        || ahead.peek(Token![match])
        || ahead.peek(Token![loop])
        || ahead.peek(Token![while])
        || ahead.peek(Token![for])
        || (ahead.peek(Token![unsafe]) && ahead.peek2(token::Brace))
}

/// Parses just the block-like expression that [`starts_block_like`] saw.
fn parse_block_like(input: ParseStream<'_>) -> syn::Result<Expr> {
    let ahead = input.fork();
    if ahead.peek(syn::Lifetime) && ahead.peek2(Token![:]) {
        ahead.parse::<syn::Label>()?;
    }
    Ok(if ahead.peek(token::Brace) {
        Expr::Block(input.parse()?)
    } else if ahead.peek(Token![if]) {
        Expr::If(input.parse()?)
    } else if ahead.peek(Token![match]) {
        Expr::Match(input.parse()?)
    } else if ahead.peek(Token![loop]) {
        Expr::Loop(input.parse()?)
    } else if ahead.peek(Token![while]) {
        Expr::While(input.parse()?)
    } else if ahead.peek(Token![for]) {
        Expr::ForLoop(input.parse()?)
    } else {
        Expr::Unsafe(input.parse()?)
    })
}

/// Skips the rest of a broken arm, up to and including the next `,`.
fn skip_arm(input: ParseStream<'_>) {
    while !input.is_empty() {
        if input.parse::<Option<Token![,]>>().ok().flatten().is_some() {
            return;
        }
        if input.parse::<TokenTree>().is_err() {
            return;
        }
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
        "expected `=>` after the select case: `v = <-rx => body`",
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

/// Parses a case. Mistakes that leave its meaning clear (Go's `case`
/// keyword, Go's `:=`) go to `errors` and the case is still returned.
fn parse_case(mut header: &[TokenTree], errors: &mut Vec<Error>) -> syn::Result<Case> {
    if let [TokenTree::Ident(case), rest @ ..] = header {
        // Go's `case v := <-ch:`. (`case <- v` stays a send on a channel
        // named `case`.)
        if case == "case" && !rest.is_empty() && find_arrow(rest) != Some(0) {
            errors.push(Error::new(
                case.span(),
                "`case` is Go's: a select! arm is `v = <-rx => ...`; remove `case`",
            ));
            header = rest;
        }
    }
    if let [TokenTree::Ident(ident)] = header {
        if ident == "default" {
            return Ok(Case::Default { span: ident.span() });
        }
    }
    let Some(at) = find_arrow(header) else {
        return Err(not_a_case(header));
    };
    let before = &header[..at];
    let operand = &header[at + 2..];
    let arrow_tokens = tokens(&header[at..at + 2]);
    if is_punct(before.last(), '=') {
        // `pat = <-rx`
        let mut lhs = &before[..before.len() - 1];
        let chan = parse_operand(
            operand,
            arrow_tokens,
            "a channel to receive from: `v = <-rx`",
        )?;
        if is_punct(lhs.last(), ':') {
            errors.push(Error::new_spanned(
                tokens(&before[before.len() - 2..]),
                "`:=` is Go's: in select!, write `v = <-rx`",
            ));
            lhs = &lhs[..lhs.len() - 1];
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
        let chan = parse_expr(before)?;
        let value = parse_operand(operand, arrow_tokens, "a value to send: `tx <- v`")?;
        Ok(Case::Send { chan, value })
    }
}

/// A case with no `<-`: Go's "select case must be send or receive", with
/// the goscope spelling of the operation the user wrote, if any.
fn not_a_case(header: &[TokenTree]) -> Error {
    let mut message =
        String::from("select case must be send or receive (possibly with assignment)");
    let help = match syn::parse2::<Expr>(tokens(header)) {
        Ok(Expr::MethodCall(call)) => {
            // Name the user's channel when it is a plain variable.
            let name = match &*call.receiver {
                Expr::Path(path) => path.path.get_ident().map(ToString::to_string),
                _ => None,
            };
            let rx = name.clone().unwrap_or_else(|| "rx".to_owned());
            let tx = name.unwrap_or_else(|| "tx".to_owned());
            match call.method.to_string().as_str() {
                "recv" | "try_recv" | "recv_timeout" => Some(format!(
                    "to receive in select!, write `v = <-{rx}` or `<-{rx}`"
                )),
                "send" | "try_send" | "send_timeout" => {
                    Some(format!("to send in select!, write `{tx} <- v`"))
                }
                _ => None,
            }
        }
        _ => None,
    };
    message.push_str("\nhelp: ");
    message.push_str(help.as_deref().unwrap_or(EXPECTED_CASE));
    Error::new_spanned(tokens(header), message)
}

fn parse_operand(operand: &[TokenTree], arrow: TokenStream, what: &str) -> syn::Result<Expr> {
    if operand.is_empty() {
        return Err(Error::new_spanned(arrow, format!("`<-` needs {what}")));
    }
    parse_expr(operand)
}

/// Parses part of a case as an expression. syn reports a truncated
/// expression at the end of the whole input, the `select!`'s closing brace;
/// such an error is moved onto the part.
fn parse_expr(tts: &[TokenTree]) -> syn::Result<Expr> {
    syn::parse2(tokens(tts)).map_err(|err| {
        let message = err.to_string();
        match message.strip_prefix("unexpected end of input") {
            Some(rest) => Error::new_spanned(tokens(tts), format!("incomplete expression{rest}")),
            None => err,
        }
    })
}

/// The left of `= <-rx`: a pattern over the received `Option<T>`, either a
/// binding (`v`, `_`) or a refutable pattern (`Some(v)`, `None`).
fn parse_binding(lhs: &[TokenTree], eq: &TokenTree) -> syn::Result<Pat> {
    if lhs.is_empty() {
        return Err(Error::new_spanned(
            eq,
            "expected a pattern to bind the received value to: `v = <-rx` or `Some(v) = <-rx`",
        ));
    }
    if lhs.iter().any(|tt| is_punct(Some(tt), ',')) {
        return Err(Error::new_spanned(
            tokens(lhs),
            "Go's `v, ok := <-ch` is `v = <-ch` in goscope: `v` is an `Option<T>`, `None` once the channel is closed and drained",
        ));
    }
    Pat::parse_multi_with_leading_vert
        .parse2(tokens(lhs))
        .map_err(|_| {
            Error::new_spanned(
                tokens(lhs),
                "expected a pattern for the received `Option<T>`: `v = <-rx`, `Some(v) = <-rx` or `None = <-rx`",
            )
        })
}

/// Whether a receive arm's pattern takes every `Option<T>` without a test:
/// `_`, or a plain binding (`v`, `mut v`, `ref v`). A capitalised name may
/// be a constant or a variant (`None`), so it is tested like any other
/// pattern. Such arms cost nothing over an arm with no pattern.
pub(crate) fn takes_anything(pat: &Pat) -> bool {
    match pat {
        Pat::Wild(_) => true,
        Pat::Ident(p) if p.subpat.is_none() => {
            p.by_ref.is_some()
                || p.mutability.is_some()
                || p.ident
                    .to_string()
                    .starts_with(|c: char| c == '_' || c.is_lowercase())
        }
        _ => false,
    }
}
