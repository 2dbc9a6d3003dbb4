//! The trace file: Chrome Trace Event JSON (the "JSON Object Format", with
//! `traceEvents`), as Perfetto, `chrome://tracing` and speedscope read it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;
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
    let trace = Rendered::new(std::process::id(), names, events, limit);
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".tmp");
    match std::fs::File::create(&tmp) {
        Ok(file) => {
            trace.write(io::BufWriter::new(file))?;
            std::fs::rename(&tmp, path)
        }
        // A directory we may not write in, a path like /dev/stdout: write
        // the file itself.
        Err(_) => trace.write(io::BufWriter::new(std::fs::File::create(path)?)),
    }
}

/// A trace ready to write: at most `limit` bytes (unless the metadata alone
/// is longer); when the events do not fit, the oldest are left out.
pub(crate) struct Rendered {
    /// The header and the metadata events.
    head: String,
    /// Every event's text, in time order, separated by `",\n"`.
    body: String,
    /// Where in `body` the events kept begin.
    start: usize,
    footer: String,
}

impl Rendered {
    pub(crate) fn new(
        pid: u32,
        names: &[(u64, Name)],
        mut events: Vec<Event>,
        limit: usize,
    ) -> Self {
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
        // Room for the events: what the metadata of every goroutine leaves
        // (more than what is written for those kept), less the ",\n" after
        // the metadata.
        let all: BTreeSet<u64> = names.iter().map(|(gid, _)| *gid).collect();
        let room = limit
            .saturating_sub(HEADER.len() + footer.len() + metadata(pid, names, &all).len() + 2);
        // The first event kept: the oldest whose text, with all after it,
        // fits; `start` is past the ",\n" before it.
        let (first, start) = if body.len() <= room {
            (0, 0)
        } else {
            match ends.iter().position(|&end| body.len() - end - 2 <= room) {
                Some(i) => (i + 1, ends[i] + 2),
                None => (events.len(), body.len()),
            }
        };
        let kept: BTreeSet<u64> = events[first..].iter().map(|e| e.gid).collect();
        let mut head = String::from(HEADER);
        head.push_str(&metadata(pid, names, &kept));
        Rendered {
            head,
            body,
            start,
            footer,
        }
    }

    fn write(&self, mut out: impl io::Write) -> io::Result<()> {
        out.write_all(self.head.as_bytes())?;
        let body = &self.body[self.start..];
        if !body.is_empty() {
            out.write_all(b",\n")?;
            out.write_all(body.as_bytes())?;
        }
        out.write_all(self.footer.as_bytes())?;
        out.flush()
    }

    #[cfg(test)]
    fn text(&self) -> String {
        let mut out = Vec::new();
        self.write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }
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
        let whole = Rendered::new(7, &names, events.clone(), usize::MAX).text();
        assert!(whole.contains("\"ts\":0.000,"));
        let limit = whole.len() / 3;
        let cut = Rendered::new(7, &names, events, limit).text();
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
