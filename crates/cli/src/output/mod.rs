//! What the commands print: aligned tables for people (coloured on a terminal), and for
//! scripts the model's own encoders, so that `--output json|xml` is byte for byte what a
//! Eureka server sends (`yaml` is the same document as YAML).
//!
//! - [`registry`]: `apps`, `app`, `instance`, `problems` and `watch` lines.
//! - [`cluster`]: `cluster`, one row per server and one per peer link.
//!
//! Colour goes through `anstream`: escape codes are written only to a terminal, and never
//! when `NO_COLOR` is set (`CLICOLOR_FORCE=1` forces them, e.g. into `less -R`).

pub mod cluster;
pub mod registry;

use std::io::Write;

use anstyle::{AnsiColor, Style};
use eureka_client::InstanceStatus;

use crate::error::CliError;

pub use registry::*;

/// Writes to standard output (escape codes stripped unless it is a colour terminal), turning
/// a closed pipe into a quiet exit.
pub fn stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = anstream::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| CliError::from_stdout(&e))
}

/// A document followed by a newline, as a shell prompt wants.
pub fn document(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(b'\n');
    bytes
}

/// A JSON document as YAML (the same fields and values, for people who read YAML better).
pub fn yaml(json: &[u8]) -> Result<Vec<u8>, CliError> {
    let value: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| CliError::internal(format!("cannot re-read a JSON document: {e}")))?;
    serde_norway::to_string(&value)
        .map(String::into_bytes)
        .map_err(|e| CliError::internal(format!("cannot write YAML: {e}")))
}

/// The colour of a status: green UP, red DOWN, yellow OUT_OF_SERVICE, cyan STARTING.
pub fn status_style(status: InstanceStatus) -> Style {
    let color = match status {
        InstanceStatus::Up => AnsiColor::Green,
        InstanceStatus::Down => AnsiColor::Red,
        InstanceStatus::OutOfService => AnsiColor::Yellow,
        InstanceStatus::Starting => AnsiColor::Cyan,
        InstanceStatus::Unknown => return Style::new().dimmed(),
    };
    Style::new().fg_color(Some(color.into()))
}

/// Red, for what is wrong (unreachable, expired, refused).
pub fn bad() -> Style {
    Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
}

/// Yellow, for what needs a look (self-preservation, a queue building up).
pub fn warn() -> Style {
    Style::new().fg_color(Some(AnsiColor::Yellow.into()))
}

/// Green, for what is fine.
pub fn good() -> Style {
    Style::new().fg_color(Some(AnsiColor::Green.into()))
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// One table cell: its text (what widths are measured on) and its colour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// The text.
    pub text: String,
    /// How it is drawn on a colour terminal.
    pub style: Style,
}

impl Cell {
    /// A coloured cell.
    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        Cell { text: text.into(), style }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell { text, style: Style::new() }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::from(text.to_string())
    }
}

/// A table with aligned columns separated by two spaces, widths measured in characters.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Option<Vec<String>>,
    align: Vec<Align>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with a header row; `align` gives each column's alignment.
    pub fn new(header: &[&str], align: &[Align]) -> Self {
        Table {
            header: Some(header.iter().map(|h| h.to_string()).collect()),
            align: align.to_vec(),
            rows: Vec::new(),
        }
    }

    /// A table without a header (a key/value view).
    pub fn headless(align: &[Align]) -> Self {
        Table { header: None, align: align.to_vec(), rows: Vec::new() }
    }

    /// Leaves the header row out (`--no-headers`).
    pub fn without_header(mut self, without: bool) -> Self {
        if without {
            self.header = None;
        }
        self
    }

    /// Adds a row of plain cells; missing cells are empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.into_iter().map(Cell::from).collect());
    }

    /// Adds a row of cells that may be coloured.
    pub fn cells(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, no trailing spaces; coloured cells carry escape
    /// codes ([`stdout`] removes them where colour is not wanted).
    pub fn render(&self) -> String {
        let header: Option<Vec<Cell>> =
            self.header.as_ref().map(|h| h.iter().map(|t| Cell::from(t.as_str())).collect());
        let lines: Vec<&Vec<Cell>> = header.iter().chain(&self.rows).collect();
        let columns = lines.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &lines {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.text.chars().count());
            }
        }
        let mut out = String::new();
        let empty = Cell::default();
        for row in lines {
            let mut line = String::new();
            let mut pending = 0;
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).unwrap_or(&empty);
                let pad = width - cell.text.chars().count();
                let (before, after) = match self.align.get(i).copied().unwrap_or(Align::Left) {
                    Align::Left => (0, pad),
                    Align::Right => (pad, 0),
                };
                if i > 0 {
                    pending += 2;
                }
                pending += before;
                if !cell.text.is_empty() {
                    // Spaces are written only before text that follows, so no line ends in them.
                    line.extend(std::iter::repeat_n(' ', pending));
                    pending = 0;
                    line.push_str(&format!("{}{}{:#}", cell.style, cell.text, cell.style));
                }
                pending += after;
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_characters_and_lines_have_no_trailing_spaces() {
        let mut t = Table::new(&["NAME", "N", "NOTE"], &[Align::Left, Align::Right, Align::Left]);
        t.row(vec!["zürich".into(), "7".into(), String::new()]);
        t.row(vec!["a".into(), "1234".into(), "x".into()]);
        assert_eq!(
            t.render(),
            "NAME       N  NOTE\n\
             zürich     7\n\
             a       1234  x\n"
        );
        let mut kv = Table::headless(&[Align::Left, Align::Left]);
        kv.row(vec!["Key".into(), "v".into()]);
        kv.row(vec!["Longer key".into(), "w".into()]);
        assert_eq!(kv.render(), "Key         v\nLonger key  w\n");
        assert_eq!(Table::headless(&[]).render(), "");
    }

    #[test]
    fn colour_does_not_change_the_widths_and_headers_can_go() {
        let mut t = Table::new(&["ID", "STATUS", "N"], &[Align::Left, Align::Left, Align::Right]);
        t.cells(vec![
            "a".into(),
            Cell::styled("DOWN", status_style(InstanceStatus::Down)),
            "1".into(),
        ]);
        t.cells(vec![
            "bb".into(),
            Cell::styled("UP", status_style(InstanceStatus::Up)),
            "22".into(),
        ]);
        let text = t.render();
        let plain: String = anstream::adapter::strip_str(&text).to_string();
        assert_eq!(plain, "ID  STATUS   N\na   DOWN     1\nbb  UP      22\n");
        assert!(text.contains("\u{1b}[31mDOWN\u{1b}[0m"), "{text:?}");
        let t = t.without_header(true);
        assert_eq!(
            anstream::adapter::strip_str(&t.render()).to_string(),
            "a   DOWN   1\nbb  UP    22\n"
        );
    }

    #[test]
    fn yaml_is_the_same_document() {
        let yaml = String::from_utf8(yaml(br#"{"a":{"b":[1,"x"]}}"#).unwrap()).unwrap();
        assert_eq!(yaml, "a:\n  b:\n  - 1\n  - x\n");
    }
}
