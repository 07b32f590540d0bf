//! The client side of `GET watch`: an open change stream, read event by event.

use std::collections::VecDeque;
use std::time::Duration;

use crate::sse::{SseEvent, SseParser};
use crate::transport::TransportError;

/// The media type of a change stream.
pub const EVENT_STREAM: &str = "text/event-stream";
/// The header that resumes a stream after an event.
pub const LAST_EVENT_ID: &str = "Last-Event-ID";
/// A stream silent for this long is taken as dead (the server sends a comment every 15 s).
pub const IDLE_LIMIT: Duration = Duration::from_secs(45);
/// The longest line accepted: a snapshot of the whole registry is one line.
const MAX_LINE: usize = 256 << 20;

/// An open change stream.
#[derive(Debug)]
pub struct WatchStream {
    response: reqwest::Response,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
}

impl WatchStream {
    pub(crate) fn new(response: reqwest::Response) -> Self {
        WatchStream { response, parser: SseParser::new(MAX_LINE), ready: VecDeque::new() }
    }

    /// The next event; `Ok(None)` when the server ended the stream.
    pub async fn next(&mut self) -> Result<Option<SseEvent>, TransportError> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Ok(Some(e));
            }
            let chunk = tokio::time::timeout(IDLE_LIMIT, self.response.chunk())
                .await
                .map_err(|_| TransportError::Timeout)?
                .map_err(|e| TransportError::Io(e.to_string()))?;
            let Some(chunk) = chunk else { return Ok(None) };
            let events = self.parser.push(&chunk).map_err(|e| TransportError::Io(e.to_string()))?;
            self.ready.extend(events);
        }
    }
}
