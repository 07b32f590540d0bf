//! `server.*` and the request body limit: where the server listens, its TLS, and what one
//! connection or request may cost.

use crate::config::check::{
    any, header_size, positive_count, positive_millis, reject, required_with,
};
use crate::config::kinds::{BOOL, CLIENT_AUTH, DATA_SIZE, DURATION, IP, PATH, PORT, USIZE};
use crate::config::settings::ClientAuth;

use super::Spring::{Ours, Renamed, Same};
use super::{bind, set_optional, show_optional, Apply, Binding, Group};

pub(super) const GROUP: Group = Group {
    title: "Listener, TLS and limits",
    rows: &[
        bind!("server.port" => port: PORT, any; Same,
            "The port to listen on (HTTP, or HTTPS with a certificate); 0 picks a free one. \
             Also `--port`."),
        bind!("server.address" => address: IP, any; Same,
            "The address to listen on; `0.0.0.0` is every IPv4 interface, `::` every \
             interface."),
        Binding {
            key: "server.ssl.enabled",
            apply: Apply::Scalar(|b, raw| set_optional(&mut b.config.ssl.enabled, raw, BOOL.parse)),
            check: |c| match (c.ssl.enabled, &c.ssl.certificate) {
                (Some(true), None) => reject(
                    "true".to_string(),
                    "false, or set server.ssl.certificate and server.ssl.certificate-private-key",
                ),
                _ => Ok(()),
            },
            show: |c| show_optional(&c.ssl.enabled, BOOL.show),
            ty: BOOL.ty,
            spring: Same,
            doc: "`false` keeps plain HTTP despite a certificate; `true` without \
                  `server.ssl.certificate` is refused. Unset: TLS when a certificate is set.",
        },
        bind!("server.ssl.certificate" => optional ssl.certificate: PATH, any; Same,
            "PEM file with the listener's certificate chain, leaf first: the port then speaks \
             TLS 1.2/1.3 and nothing else. Read once at start-up (restart to rotate)."),
        Binding {
            key: "server.ssl.certificate-private-key",
            apply: Apply::Scalar(|b, raw| {
                set_optional(&mut b.config.ssl.certificate_private_key, raw, PATH.parse)
            }),
            check: |c| {
                required_with(
                    &c.ssl.certificate_private_key,
                    &c.ssl.certificate,
                    "a PEM private key file: server.ssl.certificate needs its key",
                )
            },
            show: |c| show_optional(&c.ssl.certificate_private_key, PATH.show),
            ty: PATH.ty,
            spring: Same,
            doc: "PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1); \
                  required with a certificate.",
        },
        Binding {
            key: "server.ssl.trust-certificate",
            apply: Apply::Scalar(|b, raw| {
                set_optional(&mut b.config.ssl.trust_certificate, raw, PATH.parse)
            }),
            check: |c| match (c.ssl.client_auth, &c.ssl.trust_certificate) {
                (ClientAuth::Want | ClientAuth::Need, None) => reject(
                    String::new(),
                    "a PEM file of the CAs to verify client certificates with: \
                     server.ssl.client-auth is want or need",
                ),
                _ => Ok(()),
            },
            show: |c| show_optional(&c.ssl.trust_certificate, PATH.show),
            ty: PATH.ty,
            spring: Same,
            doc: "PEM bundle of the CAs that client certificates are verified against; \
                  required when `client-auth` is `want` or `need`.",
        },
        bind!("server.ssl.client-auth" => ssl.client_auth: CLIENT_AUTH, any; Same,
            "`want`: ask for a client certificate and verify it if sent; `need`: refuse the \
             handshake without a valid one (peers' mTLS; every client, probes included, then \
             needs a certificate)."),
        bind!("server.max-http-request-header-size"
            => limits.max_http_request_header_size: DATA_SIZE, header_size; Same,
            "The largest request line plus headers, 1KB to 16MB (`8KB`, `16KB` or bytes); \
             larger heads get 431 and the connection is closed."),
        bind!("server.max-connections" => limits.max_connections: USIZE, positive_count;
            Renamed("server.tomcat.max-connections"),
            "Open client connections; at the limit the server stops accepting (newcomers wait \
             in the kernel's backlog) until one closes."),
        bind!("server.connection-timeout" => limits.connection_timeout: DURATION, positive_millis;
            Renamed("server.tomcat.connection-timeout"),
            "Time for the TLS handshake and for each request head, from the connection's \
             opening or its previous answer, so also the keep-alive idle limit. Longer than \
             the 30 s clients keep idle connections pooled."),
        bind!("server.request-timeout" => limits.request_timeout: DURATION, positive_millis; Ours,
            "Time for a request's body to arrive once its head has; then 408 and the \
             connection is closed. Long polls, drains and `watch` streams have their own \
             `wait`."),
        bind!("eureka.server.max-request-body-bytes"
            => max_request_body_bytes: USIZE, positive_count; Ours,
            "The largest request body in bytes, also after gzip inflation; larger ones get \
             413."),
    ],
};
