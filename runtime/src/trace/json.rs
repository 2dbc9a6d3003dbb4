//! The trace file: Chrome Trace Event JSON (the "JSON Object Format", with
//! `traceEvents`), as Perfetto, `chrome://tracing` and speedscope read it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::Name;
use super::buffer::{Event, Kind};

const HEADER: &str = "{\"traceEvents\":[\n";

fn footer() -> String {
    format!(
        "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{{\"producer\":\"goscope {}\"}}}}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Writes the trace of `events` to `path`, replacing it whole (through a
/// temporary file beside it, so a reader never sees half a trace).
pub(crate) fn write_file(
    path: &Path,
    names: &[(u64, Name)],
    events: Vec<Event>,
    limit: usize,
) -> io::Result<()> {
    let text = render(std::process::id(), names, events, limit);
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".tmp");
    match std::fs::File::create(&tmp) {
        Ok(mut file) => {
            file.write_all(text.as_bytes())?;
            drop(file);
            std::fs::rename(&tmp, path)
        }
        // A directory we may not write in, a path like /dev/stdout: write
        // the file itself.
        Err(_) => std::fs::write(path, text),
    }
}

/// The trace as text, at most `limit` bytes (unless the metadata alone is
/// longer): when the events do not fit, the oldest are left out.
pub(crate) fn render(
    pid: u32,
    names: &[(u64, Name)],
    mut events: Vec<Event>,
    limit: usize,
) -> String {
    events.sort_by_key(|e| e.ts);
    let mut body = String::new();
    // Where each event's text ends in `body`.
    let mut ends = Vec::with_capacity(events.len());
    for event in &events {
        if !body.is_empty() {
            body.push_str(",\n");
        }
        event_json(&mut body, pid, event);
        ends.push(body.len());
    }
    let footer = footer();
    // Room for the metadata of every goroutine: more than what is written
    // for those left in.
    let all: BTreeSet<u64> = names.iter().map(|(gid, _)| *gid).collect();
    let room = limit.saturating_sub(HEADER.len() + footer.len() + metadata(pid, names, &all).len());
    // The first event kept: the oldest whose text, with all after it, fits.
    let first = if body.len() <= room {
        0
    } else {
        ends.iter()
            .position(|&end| body.len() - end <= room)
            .map_or(events.len(), |i| i + 1)
    };
    let kept_body = match first {
        0 => &body[..],
        n if n >= events.len() => "",
        // Past the ",\n" after the last event left out.
        n => &body[ends[n - 1] + 2..],
    };
    let kept: BTreeSet<u64> = events[first..].iter().map(|e| e.gid).collect();
    let mut out = String::with_capacity(limit.min(body.len() + 4096));
    out.push_str(HEADER);
    let meta = metadata(pid, names, &kept);
    out.push_str(&meta);
    if !kept_body.is_empty() {
        out.push_str(",\n");
        out.push_str(kept_body);
    }
    out.push_str(&footer);
    out
}

/// The process's name, and each goroutine's track name and order, for the
/// goroutines in `gids`.
fn metadata(pid: u32, names: &[(u64, Name)], gids: &BTreeSet<u64>) -> String {
    let mut out = String::new();
    let program = std::env::args()
        .next()
        .map(|a| {
            Path::new(&a)
                .file_name()
                .map_or(a.clone(), |f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let _ = write!(
        out,
        "{{\"ph\":\"M\",\"pid\":{pid},\"name\":\"process_name\",\"args\":{{\"name\":"
    );
    string(&mut out, &format!("goscope {program}"));
    out.push_str("}}");
    for (gid, name) in names {
        if !gids.contains(gid) {
            continue;
        }
        let track = match name {
            Name::Main => format!("goroutine {gid} (main)"),
            Name::Test(Some(test)) => format!("goroutine {gid} (test {test})"),
            Name::Test(None) => format!("goroutine {gid} (test)"),
            Name::Go(site) => format!("goroutine {gid} ({}:{})", site.file(), site.line()),
        };
        let _ = write!(
            out,
            ",\n{{\"ph\":\"M\",\"pid\":{pid},\"tid\":{gid},\"name\":\"thread_name\",\"args\":{{\"name\":"
        );
        string(&mut out, &track);
        let _ = write!(
            out,
            "}}}},\n{{\"ph\":\"M\",\"pid\":{pid},\"tid\":{gid},\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{gid}}}}}"
        );
    }
    out
}

/// Microseconds, to the nanosecond.
fn micros(out: &mut String, ns: u64) {
    let _ = write!(out, "{}.{:03}", ns / 1000, ns % 1000);
}

fn event_json(out: &mut String, pid: u32, event: &Event) {
    let gid = event.gid;
    let head = |out: &mut String, ph: &str| {
        let _ = write!(out, "{{\"ph\":\"{ph}\",\"pid\":{pid},\"tid\":{gid},\"ts\":");
        micros(out, event.ts);
    };
    match &event.kind {
        Kind::Start { flow } => {
            head(out, "B");
            let _ = write!(out, ",\"cat\":\"goroutine\",\"name\":\"goroutine {gid}\"");
            if *flow != 0 {
                let _ = write!(out, ",\"bind_id\":{flow},\"flow_in\":true");
            }
            out.push('}');
        }
        Kind::End => {
            head(out, "E");
            // Named as its `B`, which speedscope matches.
            let _ = write!(out, ",\"cat\":\"goroutine\",\"name\":\"goroutine {gid}\"}}");
        }
        Kind::WaitBegin { what, site } | Kind::WaitEnd { what, site } => {
            let begin = matches!(event.kind, Kind::WaitBegin { .. });
            head(out, if begin { "B" } else { "E" });
            out.push_str(",\"cat\":\"blocked\",\"name\":");
            string(out, &format!("{what} {}:{}", site.file(), site.line()));
            out.push('}');
        }
        Kind::Send { flow } => {
            head(out, "X");
            let _ = write!(
                out,
                ",\"dur\":0,\"cat\":\"chan\",\"name\":\"chan send\",\"bind_id\":{flow},\"flow_out\":true}}"
            );
        }
        Kind::Receive { flow } => {
            head(out, "X");
            let _ = write!(
                out,
                ",\"dur\":0,\"cat\":\"chan\",\"name\":\"chan receive\",\"bind_id\":{flow},\"flow_in\":true}}"
            );
        }
        Kind::Go { site, flow } => {
            head(out, "X");
            out.push_str(",\"dur\":0,\"cat\":\"go\",\"name\":");
            string(out, &format!("go {}:{}", site.file(), site.line()));
            let _ = write!(out, ",\"bind_id\":{flow},\"flow_out\":true}}");
        }
        Kind::Instant(mark) => {
            let (name, text) = (&mark.name, &mark.text);
            if gid == 0 {
                // The process's: a deadlock report, a SIGQUIT dump.
                let _ = write!(out, "{{\"ph\":\"i\",\"s\":\"p\",\"pid\":{pid},\"ts\":");
                micros(out, event.ts);
            } else {
                head(out, "i");
                out.push_str(",\"s\":\"t\"");
            }
            out.push_str(",\"cat\":\"goscope\",\"name\":");
            string(out, name);
            if let Some(text) = text {
                let key = if *name == "panic" {
                    "message"
                } else {
                    "report"
                };
                let _ = write!(out, ",\"args\":{{\"{key}\":");
                string(out, text);
                out.push('}');
            }
            out.push('}');
        }
    }
}

/// `s` as a JSON string.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ts: u64, gid: u64) -> Event {
        Event {
            ts,
            gid,
            kind: Kind::Send { flow: 2 * ts + 1 },
        }
    }

    #[test]
    fn a_trace_over_the_limit_keeps_its_last_events() {
        let names = vec![(1, Name::Main), (2, Name::Main)];
        // Recorded out of order, as threads' buffers are.
        let events: Vec<Event> = (0..1000).rev().map(|ts| event(ts, 1 + ts % 2)).collect();
        let whole = render(7, &names, events.clone(), usize::MAX);
        assert!(whole.contains("\"ts\":0.000,"));
        let limit = whole.len() / 3;
        let cut = render(7, &names, events, limit);
        assert!(cut.len() <= limit, "{} > {limit}", cut.len());
        assert!(
            cut.len() > limit - 200,
            "{} is far below {limit}",
            cut.len()
        );
        // The newest event is in, the oldest out, and what is in is a
        // run up to the end.
        assert!(cut.contains("\"ts\":0.999,"));
        assert!(!cut.contains("\"ts\":0.000,"));
        let kept: Vec<u64> = cut
            .match_indices("\"bind_id\":")
            .map(|(i, m)| {
                let rest = &cut[i + m.len()..];
                rest[..rest.find(',').unwrap()].parse::<u64>().unwrap() / 2
            })
            .collect();
        let first = kept[0];
        assert_eq!(kept, (first..1000).collect::<Vec<_>>());
        assert!(cut.ends_with("}}\n"));
        assert!(cut.contains("goroutine 1 (main)") && cut.contains("goroutine 2 (main)"));
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a \"b\" \\ c\nd\u{1}");
        assert_eq!(out, r#""a \"b\" \\ c\nd\u0001""#);
    }
}
