//! Which text format a scrape gets: Prometheus' classic text format 0.0.4 unless the request's
//! `Accept` prefers OpenMetrics (as Prometheus itself does), so `curl`, older scrapers and
//! agents that only read 0.0.4 are answered in the format they expect.
//!
//! `prometheus-client` writes OpenMetrics only; [`to_prometheus_text`] rewrites its output
//! into 0.0.4 (the samples are the same; the metadata lines and the end marker differ).

/// The OpenMetrics media type.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Prometheus' classic text format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A scrape's answer format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// `text/plain; version=0.0.4`: the default.
    PrometheusText,
    /// `application/openmetrics-text; version=1.0.0`, when `Accept` prefers it.
    OpenMetrics,
}

impl Exposition {
    /// The format an `Accept` header value asks for: OpenMetrics only when it is listed with
    /// a quality above zero and at least that of `text/plain` (and of `*/*` when neither is
    /// listed); everything else, including no header, gets Prometheus text.
    pub fn negotiate(accept: Option<&str>) -> Exposition {
        let Some(accept) = accept else { return Exposition::PrometheusText };
        let (mut openmetrics, mut text) = (None::<f32>, None::<f32>);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let slot = match media.as_str() {
                "application/openmetrics-text" => &mut openmetrics,
                "text/plain" | "text/*" | "*/*" => &mut text,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |had| had.max(q)));
        }
        match openmetrics {
            Some(q) if q > 0.0 && q >= text.unwrap_or(0.0) => Exposition::OpenMetrics,
            _ => Exposition::PrometheusText,
        }
    }

    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::PrometheusText => PROMETHEUS_TEXT,
            Exposition::OpenMetrics => OPENMETRICS,
        }
    }
}

/// Rewrites an OpenMetrics exposition as Prometheus text 0.0.4: no `# EOF` and no `# UNIT`
/// lines; a counter family `x` is described as `x_total` (its samples' name), an info family
/// `x` as the gauge `x_info`, `unknown` as `untyped`. Sample lines are the same in both.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // A family's HELP line comes before its TYPE line, which says how to rename it.
    let mut help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            if let Some((name, text)) = help.take() {
                push_help(&mut out, name, text);
            }
            help = Some(rest.split_once(' ').unwrap_or((rest, "")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (renamed, kind) = match kind {
                "counter" if !name.ends_with("_total") => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "unknown" => (name.to_string(), "untyped"),
                "gaugehistogram" | "stateset" => (name.to_string(), "untyped"),
                other => (name.to_string(), other),
            };
            if let Some((help_name, text)) = help.take() {
                push_help(&mut out, if help_name == name { &renamed } else { help_name }, text);
            }
            out.push_str("# TYPE ");
            out.push_str(&renamed);
            out.push(' ');
            out.push_str(kind);
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if let Some((name, text)) = help {
        push_help(&mut out, name, text);
    }
    out
}

fn push_help(out: &mut String, name: &str, text: &str) {
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    out.push_str(text);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_unless_openmetrics_is_preferred() {
        use Exposition::*;
        assert_eq!(Exposition::negotiate(None), PrometheusText);
        assert_eq!(Exposition::negotiate(Some("*/*")), PrometheusText);
        assert_eq!(Exposition::negotiate(Some("text/plain;version=0.0.4")), PrometheusText);
        // What Prometheus 2.x/3.x sends by default.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                          version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Exposition::negotiate(Some(prometheus)), OpenMetrics);
        assert_eq!(
            Exposition::negotiate(Some(
                "text/plain;version=0.0.4,application/openmetrics-text;q=0.5"
            )),
            PrometheusText
        );
        assert_eq!(Exposition::negotiate(Some("application/openmetrics-text;q=0")), PrometheusText);
        assert_eq!(Exposition::negotiate(Some("application/openmetrics-text")), OpenMetrics);
    }

    #[test]
    fn openmetrics_is_rewritten_into_the_classic_format() {
        let om = "\
# HELP eureka_renewals Renewals answered 200.
# TYPE eureka_renewals counter
eureka_renewals_total{origin=\"client\"} 3
# HELP eureka_http_request_duration_seconds Duration.
# TYPE eureka_http_request_duration_seconds histogram
# UNIT eureka_http_request_duration_seconds seconds
eureka_http_request_duration_seconds_bucket{le=\"+Inf\"} 1
eureka_http_request_duration_seconds_sum 0.5
eureka_http_request_duration_seconds_count 1
# HELP eureka_build The running version.
# TYPE eureka_build info
eureka_build_info{version=\"0.1.0\"} 1
# HELP eureka_ready Readiness.
# TYPE eureka_ready gauge
eureka_ready 1
# EOF
";
        let text = to_prometheus_text(om);
        assert_eq!(
            text,
            "\
# HELP eureka_renewals_total Renewals answered 200.
# TYPE eureka_renewals_total counter
eureka_renewals_total{origin=\"client\"} 3
# HELP eureka_http_request_duration_seconds Duration.
# TYPE eureka_http_request_duration_seconds histogram
eureka_http_request_duration_seconds_bucket{le=\"+Inf\"} 1
eureka_http_request_duration_seconds_sum 0.5
eureka_http_request_duration_seconds_count 1
# HELP eureka_build_info The running version.
# TYPE eureka_build_info gauge
eureka_build_info{version=\"0.1.0\"} 1
# HELP eureka_ready Readiness.
# TYPE eureka_ready gauge
eureka_ready 1
"
        );
    }
}
