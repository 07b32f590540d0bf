//! Durations as people type and read them (`500ms`, `30s`, `2m`), and wall-clock times as
//! RFC 3339 (humantime's formatter) and as "12s ago".
//!
//! Parsing and display stay hand-written on purpose: humantime's `parse_duration` also takes
//! `3d`, `1sec`, `10 s` and `1h 30m`, and its `format_duration` writes `1m 30s` where a
//! round trip through [`parse`] needs `90s`; "12s ago" is deliberately coarse (one unit).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `<digits><unit>` with unit `ms`, `s`, `m` or `h`. A unit is required: a bare `30`
/// is ambiguous between the seconds people mean and the milliseconds Eureka's keys use.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let wrong = || format!("'{text}' is not a duration: expected e.g. 500ms, 30s, 2m or 1h");
    if digits.is_empty() {
        return Err(wrong());
    }
    let n: u64 = digits.parse().map_err(|_| wrong())?;
    let ms_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(wrong()),
    };
    n.checked_mul(ms_per_unit).map(Duration::from_millis).ok_or_else(wrong)
}

/// [`parse`], refusing zero: a zero timeout or polling interval is never what was meant.
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse(text)? {
        d if d.is_zero() => Err(format!("'{}' must be more than zero", text.trim())),
        d => Ok(d),
    }
}

/// The shortest exact form in the units [`parse`] reads: `500ms`, `30s`, `2m`, `1500ms`.
pub fn display(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".to_string(),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1_000) => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
    }
}

/// Milliseconds since the epoch, the unit of every Eureka timestamp.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// How long before `now` the epoch-ms time `then` was, coarsely: `12s ago`, `5m ago`,
/// `3h ago`, `2d ago`; `never` for 0 (Eureka's "not set"). Clock skew between this machine
/// and the server can put `then` in the future, which reads as `just now`.
pub fn ago(then: u64, now: u64) -> String {
    if then == 0 {
        return "never".to_string();
    }
    let secs = now.saturating_sub(then) / 1_000;
    match secs {
        0 => "just now".to_string(),
        1..=119 => format!("{secs}s ago"),
        120..=7_199 => format!("{}m ago", secs / 60),
        7_200..=172_799 => format!("{}h ago", secs / 3_600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// An epoch-ms time as RFC 3339 in UTC with second precision, `2025-01-31T23:59:59Z`; a time
/// past the year 9999 (a garbled timestamp) as its raw milliseconds.
pub fn rfc3339(ms: u64) -> String {
    use std::fmt::Write;
    let time = UNIX_EPOCH + Duration::from_secs(ms / 1_000);
    let mut out = String::new();
    // humantime's Display refuses years past 9999 with an error, which `to_string` would
    // turn into a panic.
    match write!(out, "{}", humantime::format_rfc3339_seconds(time)) {
        Ok(()) => out,
        Err(_) => format!("{ms} ms after the epoch"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_people_type() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse(" 2m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_what_it_cannot_read_with_an_example() {
        for bad in ["", "30", "s", "1.5s", "-1s", "10 s", "3d", "1sec", "99999999999999999999h"] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("expected e.g. 500ms"), "{bad}: {err}");
        }
        assert!(parse_positive("0ms").unwrap_err().contains("more than zero"));
        assert_eq!(parse_positive("1ms"), Ok(Duration::from_millis(1)));
    }

    #[test]
    fn display_round_trips_through_parse() {
        for text in ["500ms", "1500ms", "30s", "2m", "90s", "1h", "0s"] {
            assert_eq!(display(parse(text).unwrap()), text);
        }
        assert_eq!(display(Duration::from_secs(120)), "2m");
    }

    #[test]
    fn ago_is_coarse_and_never_negative() {
        let now = 1_700_000_000_000;
        assert_eq!(ago(0, now), "never");
        assert_eq!(ago(now + 5_000, now), "just now");
        assert_eq!(ago(now - 999, now), "just now");
        assert_eq!(ago(now - 12_000, now), "12s ago");
        assert_eq!(ago(now - 119_000, now), "119s ago");
        assert_eq!(ago(now - 300_000, now), "5m ago");
        assert_eq!(ago(now - 3 * 3_600_000, now), "3h ago");
        assert_eq!(ago(now - 3 * 86_400_000, now), "3d ago");
    }

    #[test]
    fn rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_107_542_399_000), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799_000), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), format!("{} ms after the epoch", u64::MAX));
    }
}
