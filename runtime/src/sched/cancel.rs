//! Scope cancellation: one token per scope, in a tree that follows the
//! nesting of scopes.
//!
//! A scope is cancelled when its owner or one of its goroutines panics.
//! Cancelling a token cancels every token below it (the scopes that its
//! goroutines, and its owner, opened inside it), never the one above: a
//! cancelled inner scope reaches its parent only as the panic its owner
//! resumes.
//!
//! A token only records the decision. Waking the goroutines that must see it
//! is the detector's business (it knows every goroutine thread and what each
//! waits on): see `park::wake_cancelled`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::lock;

/// What a goroutine (or a scope's owner) keeps of the scope it is in: the
/// scope itself, whose token it reads. A goroutine holds its scope's state
/// already (to count itself out of it), so sharing that `Arc` costs `go!`
/// no second reference count on another cache line.
pub(crate) trait Cancellable: Send + Sync {
    /// The scope's token.
    fn token(&self) -> &Arc<Token>;
}

/// The cancellation state of one scope.
#[derive(Debug, Default)]
pub(crate) struct Token {
    cancelled: AtomicBool,
    /// Tokens of scopes opened inside this one that are still open.
    children: Mutex<Vec<Weak<Token>>>,
}

/// The payload of the unwinding that ends a goroutine (or an owner) of a
/// cancelled scope. No panic message is printed for it, and a scope never
/// records it as a panic: the panic that caused the cancellation is the one
/// that resumes.
#[derive(Debug)]
pub(crate) struct Cancelled;

impl Token {
    /// A token for a scope opened inside `parent` (if any): cancelled with
    /// it, and born cancelled if it already is.
    pub(crate) fn child_of(parent: Option<&Arc<Token>>) -> Arc<Token> {
        let token = Arc::new(Token::default());
        if let Some(parent) = parent {
            let mut children = lock(&parent.children);
            // Under the parent's lock: `cancel` sets the flag before taking
            // it, so either it sees this child or this sees the flag.
            if parent.is_cancelled() {
                token.cancelled.store(true, Ordering::SeqCst);
            } else {
                children.retain(|c| c.strong_count() > 0);
                children.push(Arc::downgrade(&token));
            }
        }
        token
    }

    /// Whether the scope has been cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Cancels the scope and every scope inside it. Returns false if it was
    /// already cancelled.
    pub(crate) fn cancel(&self) -> bool {
        if self.cancelled.swap(true, Ordering::SeqCst) {
            return false;
        }
        let children = std::mem::take(&mut *lock(&self.children));
        for child in children.iter().filter_map(Weak::upgrade) {
            child.cancel();
        }
        true
    }
}
