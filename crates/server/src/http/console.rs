//! A plain HTML page at `/` listing registered applications and instances.
//! (The live console is its own piece of work; this page needs no JavaScript.)

use axum::extract::State;
use axum::response::Html;
use eureka_model::InstanceStatus;

use super::status::{escape, status_document};
use crate::state::SharedState;

/// Renders the registry page from the current snapshot.
pub async fn page(State(state): State<SharedState>) -> Html<String> {
    let snap = state.registry.snapshot();
    let status = status_document(&state);
    let reg = &status["registry"];
    let mut html = String::with_capacity(4096);
    html.push_str(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Eureka registry</title><style>\
         body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}\
         table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}\
         th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}\
         .down{color:#b00020;font-weight:600}.warn{background:#fff3cd;padding:.6rem;border-radius:4px}\
         </style></head><body><h1>Eureka registry</h1>",
    );
    if reg["selfPreservationActive"].as_bool() == Some(true) {
        html.push_str(&format!(
            "<p class=\"warn\">Self-preservation is active: {} renewals in the last minute, \
             threshold {}. Expired instances are kept rather than evicted until renewals recover.</p>",
            reg["renewsLastMin"], reg["renewThreshold"]
        ));
    }
    html.push_str(&format!(
        "<p>Environment <b>{}</b> · uptime {} · {} applications, {} instances · \
         renews last minute {} (threshold {}) · registry version {}</p>",
        escape(status["generalStats"]["environment"].as_str().unwrap_or("")),
        escape(status["generalStats"]["server-uptime"].as_str().unwrap_or("")),
        reg["applications"],
        reg["instances"],
        reg["renewsLastMin"],
        reg["renewThreshold"],
        snap.version,
    ));
    html.push_str(
        "<h2>Instances currently registered</h2><table><thead><tr><th>Application</th>\
                   <th>Instance</th><th>Address</th><th>Status</th></tr></thead><tbody>",
    );
    if snap.apps.applications.is_empty() {
        html.push_str("<tr><td colspan=\"4\">No instances registered</td></tr>");
    }
    for app in &snap.apps.applications {
        for inst in &app.instances {
            let class = if inst.status == InstanceStatus::Up { "" } else { " class=\"down\"" };
            let id = escape(inst.id());
            let id_cell = match &inst.status_page_url {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    format!("<a href=\"{}\">{id}</a>", escape(url))
                }
                _ => id,
            };
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}:{}</td><td{class}>{}</td></tr>",
                escape(&app.name),
                id_cell,
                escape(&inst.host_name),
                inst.port.port,
                inst.status
            ));
        }
    }
    html.push_str("</tbody></table></body></html>");
    Html(html)
}
