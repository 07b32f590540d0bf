//! `logging.*`: how log lines are written.

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the fields of the current spans (request id, peer, task).
    Json,
}
