//! The attribute's arguments: `deadlock = "off"`, `leak_check = "off"`,
//! `synctest`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Error, Meta, Result, Token};

use super::Kind;

/// The attribute's arguments.
pub(super) struct Args {
    /// `deadlock = "off"` turns the deadlock detector off for this program
    /// or test.
    pub(super) deadlock: bool,
    /// `leak_check = "off"` lets a test end with goroutines still running.
    pub(super) leak_check: bool,
    /// `synctest` runs a test's body in a synctest bubble (virtual time).
    pub(super) synctest: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            deadlock: true,
            leak_check: true,
            synctest: false,
        }
    }
}

pub(super) fn parse_args(kind: Kind, args: TokenStream) -> Result<Args> {
    let mut parsed = Args::default();
    if args.is_empty() {
        return Ok(parsed);
    }
    let accepted = match kind {
        Kind::Main => "`deadlock = \"off\"`",
        Kind::Test => "`deadlock = \"off\"`, `leak_check = \"off\"` or `synctest`",
        Kind::Scoped => {
            return Err(Error::new_spanned(
                args,
                "#[goscope::scoped] takes no arguments: its goroutines follow the program's settings",
            ));
        }
    };
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut errors: Option<Error> = None;
    for meta in metas {
        let result = (|| {
            if kind == Kind::Test && meta.path().is_ident("synctest") {
                let Meta::Path(_) = &meta else {
                    return Err(Error::new_spanned(
                        &meta,
                        "`synctest` takes no value: `#[goscope::test(synctest)]`",
                    ));
                };
                parsed.synctest = true;
                return Ok(());
            }
            let Meta::NameValue(nv) = &meta else {
                return Err(Error::new_spanned(&meta, format!("expected {accepted}")));
            };
            let slot = if nv.path.is_ident("deadlock") {
                &mut parsed.deadlock
            } else if nv.path.is_ident("leak_check") && kind == Kind::Test {
                &mut parsed.leak_check
            } else {
                return Err(Error::new_spanned(
                    &nv.path,
                    format!("unknown argument to {}: expected {accepted}", kind.attr()),
                ));
            };
            let name = nv.path.to_token_stream();
            let expected = format!("expected \"on\" or \"off\": `{name} = \"off\"`");
            *slot = match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => match s.value().as_str() {
                    "on" => true,
                    "off" => false,
                    _ => return Err(Error::new_spanned(s, expected)),
                },
                other => return Err(Error::new_spanned(other, expected)),
            };
            Ok(())
        })();
        if let Err(err) = result {
            match &mut errors {
                Some(errors) => errors.combine(err),
                None => errors = Some(err),
            }
        }
    }
    errors.map_or(Ok(parsed), Err)
}
