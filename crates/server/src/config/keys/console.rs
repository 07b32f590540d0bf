//! The console (`eureka.dashboard.*`), the names it and `status` show, and the log format.

use crate::config::check::any;
use crate::config::kinds::{BOOL, LOG_FORMAT, TEXT, URL_PATH};

use super::Spring::{Ours, Same};
use super::{bind, Group};

pub(super) const GROUP: Group = Group {
    title: "Console and logs",
    rows: &[
        bind!("eureka.dashboard.enabled" => dashboard_enabled: BOOL, any; Same,
            "Serve the console; `false`: its paths answer 404."),
        bind!("eureka.dashboard.path" => dashboard_path: URL_PATH, any; Same,
            "Where the console lives, e.g. `/console`; not under `/eureka`, `/health`, \
             `/actuator`, `/metrics` or `/serverinfo`."),
        bind!("eureka.environment" => environment: TEXT, any; Same,
            "The environment name shown by `status` and the console."),
        bind!("eureka.datacenter" => datacenter: TEXT, any; Same,
            "The data center name shown by the console."),
        bind!("logging.format" => log_format: LOG_FORMAT, any; Ours,
            "`json`: one JSON object per log line, with the fields of the enclosing spans \
             (request id, peer, task). Also `--log-format`."),
    ],
};
