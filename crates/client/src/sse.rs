//! A server-sent events parser, incremental and bounded: feed it chunks as they arrive,
//! take whole events out. Enough of the SSE format for `GET watch`: `id`, `event`, `data`
//! (several lines joined by `\n`), comments; `retry` is ignored.
//!
//! Hand-written rather than `eventsource-stream` (what `reqwest-eventsource` uses) because
//! that crate buffers a line without limit: a server that never sends a newline would grow
//! the client's memory until it dies. Here the caller sets the bound (a snapshot is one line),
//! and the parser is a push API over byte chunks, not a `Stream` adapter over the response.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `id` field, if the event had one.
    pub id: Option<String>,
    /// The `event` field (`message` when absent).
    pub event: String,
    /// The `data` lines, joined by `\n`.
    pub data: String,
}

/// The stream sent a line longer than the parser's limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server-sent event line longer than {0} bytes")]
pub struct LineTooLong(pub usize);

/// Accumulates chunks into events.
#[derive(Debug)]
pub struct SseParser {
    limit: usize,
    line: Vec<u8>,
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    /// A parser that refuses lines longer than `limit` bytes (a snapshot is one line).
    pub fn new(limit: usize) -> Self {
        SseParser { limit, line: Vec::new(), id: None, event: None, data: None }
    }

    /// Feeds a chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, LineTooLong> {
        let mut out = Vec::new();
        for &b in chunk {
            if b != b'\n' {
                if self.line.len() >= self.limit {
                    return Err(LineTooLong(self.limit));
                }
                self.line.push(b);
                continue;
            }
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            let line = std::mem::take(&mut self.line);
            self.field(&line, &mut out);
        }
        Ok(out)
    }

    fn field(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(SseEvent {
                    id: self.id.take(),
                    event: self.event.take().unwrap_or_else(|| "message".to_string()),
                    data,
                });
            }
            self.id = None;
            self.event = None;
            return;
        }
        if line[0] == b':' {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let (name, value) = match text.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (text.as_ref(), ""),
        };
        match name {
            "id" => self.id = Some(value.to_string()),
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_comments_are_skipped() {
        let mut p = SseParser::new(1024);
        assert!(p.push(b":keep-alive\n\nid: 7\nevent: cha").unwrap().is_empty());
        let events = p.push(b"nge\ndata: {\"a\":1}\r\ndata: x\n\n").unwrap();
        assert_eq!(
            events,
            vec![SseEvent {
                id: Some("7".into()),
                event: "change".into(),
                data: "{\"a\":1}\nx".into()
            }]
        );
    }

    #[test]
    fn overlong_lines_are_refused() {
        let mut p = SseParser::new(4);
        assert_eq!(p.push(b"data: 12345"), Err(LineTooLong(4)));
    }
}
