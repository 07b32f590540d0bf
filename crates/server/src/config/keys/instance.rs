//! `eureka.instance.*` and `spring.application.name`: this server's own instance record, as
//! `status` shows it.

use crate::config::check::{any, non_empty, positive_secs};
use crate::config::kinds::{BOOL, SECONDS, TEXT};

use super::Spring::Same;
use super::{bind, Apply, Binding, Group, Shown};

/// The fallback for the instance app name.
pub(in crate::config) const SPRING_APPLICATION_NAME_KEY: &str = "spring.application.name";

pub(super) const GROUP: Group = Group {
    title: "This server's own instance",
    rows: &[
        Binding {
            key: "eureka.instance.appname",
            apply: Apply::Scalar(|b, raw| {
                if let Some(raw) = raw {
                    b.config.instance.appname = raw.to_string();
                    b.appname_set = true;
                }
                Ok(())
            }),
            check: |c| non_empty(&c.instance.appname),
            show: |c| Shown::Value(c.instance.appname.clone()),
            ty: TEXT.ty,
            spring: Same,
            doc: "Our app name (upper-cased on the wire); when unset, \
                  `spring.application.name`.",
        },
        Binding {
            key: SPRING_APPLICATION_NAME_KEY,
            apply: Apply::Scalar(|b, raw| {
                if let Some(raw) = raw {
                    b.spring_application_name = Some(raw.to_string());
                }
                Ok(())
            }),
            check: |_| Ok(()),
            show: |_| Shown::AsWritten,
            ty: TEXT.ty,
            spring: Same,
            doc: "The app name when `eureka.instance.appname` is not set.",
        },
        bind!("eureka.instance.hostname" => optional instance.hostname: TEXT, any; Same,
            "The host name we advertise; unset: the machine's host name."),
        bind!("eureka.instance.instance-id" => optional instance.instance_id: TEXT, any; Same,
            "Our instance id; unset: `host:appname:port`."),
        bind!("eureka.instance.prefer-ip-address" => instance.prefer_ip_address: BOOL, any;
            Same,
            "Advertise the IP address as the host name."),
        bind!("eureka.instance.ip-address" => optional instance.ip_address: TEXT, any; Same,
            "The IP address we advertise; unset: 127.0.0.1."),
        bind!("eureka.instance.lease-renewal-interval-in-seconds"
            => instance.lease_renewal_interval: SECONDS, positive_secs; Same,
            "Our heartbeat period. Accepted and checked, not used yet: this server does not \
             register itself with its peers."),
        bind!("eureka.instance.lease-expiration-duration-in-seconds"
            => instance.lease_expiration_duration: SECONDS, positive_secs; Same,
            "Our lease duration (a warning when not longer than the renewal interval). \
             Accepted and checked, not used yet."),
        Binding {
            key: "eureka.instance.metadata-map.*",
            apply: Apply::Map(|b, key, raw| {
                // A metadata value may legitimately be empty; Spring binds it as "".
                b.config.instance.metadata.insert(key, raw.unwrap_or_default().to_string());
                Ok(())
            }),
            check: |_| Ok(()),
            show: |c| {
                let entries = c.instance.metadata.iter();
                Shown::Entries(entries.map(|(k, v)| (k.clone(), v.clone())).collect())
            },
            ty: TEXT.ty,
            spring: Same,
            doc: "Our metadata, one key each; keys keep their case.",
        },
    ],
};
