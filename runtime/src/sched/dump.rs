//! Go's goroutine dump: what a deadlock report (and `SIGQUIT`) prints.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::sched::park::{self, GInfo, Slot};

/// Go's goroutine dump, for the goroutines that `select` picks.
pub(crate) fn describe(select: impl Fn(&GInfo) -> bool) -> String {
    let slots: Vec<Arc<Slot>> = park::slots();
    let mut entries = Vec::new();
    for slot in &slots {
        let current = slot.lock();
        let Some(c) = current.as_ref() else { continue };
        // A guest (a thread goscope did not start, owning a scope) is not a
        // goroutine, unless it runs a synctest bubble: then it is one of the
        // bubble's, and its report names it.
        if slot.is_guest && c.info.bubble == 0 {
            continue;
        }
        if !select(&c.info) {
            continue;
        }
        let mut entry = String::new();
        let state = c
            .blocked
            .as_ref()
            .map_or_else(|| "running".to_string(), |b| b.what.to_string());
        let _ = writeln!(entry, "goroutine {} [{state}]:", c.info.id);
        if let Some(b) = &c.blocked {
            let _ = writeln!(entry, "\t{}", b.site);
        }
        match c.info.go_site {
            Some(site) => {
                let _ = writeln!(entry, "created by go! in goroutine {}", c.info.parent);
                let _ = writeln!(entry, "\t{site}");
            }
            None => {
                let _ = writeln!(
                    entry,
                    "{}",
                    if slot.is_guest {
                        "synctest::run, on a thread goscope did not start"
                    } else if slot.is_main {
                        "main goroutine"
                    } else {
                        "test goroutine"
                    }
                );
            }
        }
        entries.push((c.info.id, entry));
    }
    entries.sort_by_key(|(id, _)| *id);
    entries
        .into_iter()
        .map(|(_, e)| e)
        .collect::<Vec<_>>()
        .join("\n")
}
