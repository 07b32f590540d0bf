//! Java `.properties` files (possibly several `#---` documents), as Spring Boot reads them.
//!
//! Hand-written rather than the `java-properties` crate (2.0), which was tried against the
//! cases in `config/tests/files.rs`: it refuses a `\uD83D\uDE00` surrogate pair that Java
//! reads as one character, decodes raw UTF-8 as ISO-8859-1 unless told otherwise, sees `#---`
//! only as a comment (documents would still be split here), and brings `regex`,
//! `lazy_static` and `encoding_rs` for what is a hundred lines.

use super::Entry;

/// Parses `.properties` text: `key=value`, `key: value` or `key value`; `#`/`!` comments;
/// trailing-backslash continuations; Java escapes; `#---` separates documents (Spring Boot).
pub(in crate::config) fn parse_properties(text: &str) -> Result<Vec<Vec<Entry>>, String> {
    let mut documents = Vec::new();
    let mut current = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let line = line.trim_start();
        if line == "#---" || line == "!---" {
            documents.push(std::mem::take(&mut current));
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let mut logical = String::new();
        let mut piece = line;
        loop {
            let trailing = piece.len() - piece.trim_end_matches('\\').len();
            if trailing % 2 == 1 {
                logical.push_str(&piece[..piece.len() - 1]);
                match lines.next() {
                    Some((_, next)) => piece = next.trim_start(),
                    None => break,
                }
            } else {
                logical.push_str(piece);
                break;
            }
        }
        let entry =
            parse_property_line(&logical).map_err(|e| format!("line {}: {e}", index + 1))?;
        current.push(entry);
    }
    documents.push(current);
    Ok(documents)
}

/// Splits one logical `.properties` line into key and value, unescaping both.
fn parse_property_line(line: &str) -> Result<Entry, String> {
    let mut chars = line.chars().peekable();
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.push(unescape(&mut chars)?),
            '=' | ':' => break,
            c if c.is_whitespace() => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('=' | ':')) {
                    chars.next();
                }
                break;
            }
            c => key.push(c),
        }
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(unescape(&mut chars)?),
            c => value.push(c),
        }
    }
    let value = value.trim();
    Ok((key, (!value.is_empty()).then(|| value.to_string())))
}

/// The character after a backslash: `\t \n \r \f`, `\uXXXX` (surrogate pairs joined), or itself.
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    let Some(c) = chars.next() else {
        return Ok('\\');
    };
    Ok(match c {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'f' => '\u{c}',
        'u' => {
            let high = hex4(chars)?;
            if (0xD800..0xDC00).contains(&high) {
                let low = match (chars.next(), chars.next()) {
                    (Some('\\'), Some('u')) => hex4(chars)?,
                    _ => return Err("unpaired \\u surrogate".to_string()),
                };
                if !(0xDC00..0xE000).contains(&low) {
                    return Err("unpaired \\u surrogate".to_string());
                }
                let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                char::from_u32(combined).ok_or("invalid \\u escape")?
            } else {
                char::from_u32(high).ok_or("unpaired \\u surrogate")?
            }
        }
        other => other,
    })
}

/// Four hex digits of a `\u` escape.
fn hex4(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<u32, String> {
    let mut code = 0;
    for _ in 0..4 {
        let digit = chars.next().and_then(|c| c.to_digit(16)).ok_or("malformed \\uXXXX escape")?;
        code = code * 16 + digit;
    }
    Ok(code)
}
