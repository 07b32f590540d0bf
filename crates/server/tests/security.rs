//! Authentication and authorization (`eureka.security.*`) on a real socket: the role matrix,
//! refused writes that change nothing, hashed passwords and their verification cache,
//! replication between two secured nodes, and the Rust client with credentials in its URL.

use std::time::Duration;

use eureka_client::InstanceStatus;
use eureka_model::json::encode_replication_list;
use eureka_model::replication::{ReplicationAction, ReplicationInstance, ReplicationList};
use eureka_server::config::ServerConfig;
use eureka_server::Clock;
use eureka_testkit::fixtures::{fast_client, java_json, loopback_instance};
use eureka_testkit::{eventually, TestServer};
use reqwest::{Method, StatusCode};

const APP: &str = "ORDERS";
const ID: &str = "w1";

/// The users of every test: (name, password, roles).
const USERS: &[(&str, &str, &str)] = &[
    ("reader", "rpw", "read"),
    ("writer", "wpw", "write"),
    ("other", "opw", "write"),
    ("admin", "apw", "admin"),
    ("peer", "ppw", "peer"),
];

fn config(extra: &[(&str, &str)]) -> ServerConfig {
    let users: Vec<(String, &str)> = USERS
        .iter()
        .flat_map(|(name, password, roles)| {
            [
                (format!("eureka.security.users.{name}.password"), *password),
                (format!("eureka.security.users.{name}.roles"), *roles),
            ]
        })
        .collect();
    let mut settings = vec![("eureka.security.enabled", "true")];
    settings.extend(users.iter().map(|(k, v)| (k.as_str(), *v)));
    settings.extend_from_slice(extra);
    eureka_testkit::fixtures::config(&settings)
}

async fn secured(extra: &[(&str, &str)]) -> TestServer {
    TestServer::start_with(config(extra), Clock::System).await
}

/// Who calls: no credentials, or a user and password.
#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    User(&'static str, &'static str),
}

async fn call(server: &TestServer, who: Who, method: Method, path: &str) -> reqwest::Response {
    send(server, who, method, path, |r| r).await
}

async fn send(
    server: &TestServer,
    who: Who,
    method: Method,
    path: &str,
    edit: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> reqwest::Response {
    let url = format!("http://{}{path}", server.addr);
    let req = reqwest::Client::new().request(method, url).header("Accept", "application/json");
    let req = match who {
        Who::Anonymous => req,
        Who::User(user, password) => req.basic_auth(user, Some(password)),
    };
    edit(req).timeout(Duration::from_secs(10)).send().await.expect("request answered")
}

/// Registers `ID` as `writer`, so it owns it.
async fn register_owned(server: &TestServer) {
    let resp = send(server, Who::User("writer", "wpw"), Method::POST, "/eureka/apps/ORDERS", |r| {
        r.header("Content-Type", "application/json").body(java_json(APP, ID, 8080))
    })
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

/// What a refused request must leave as it was: the registry version (every visible change
/// advances it) and the instance with its live lease timestamps.
fn fingerprint(server: &TestServer) -> (u64, Option<std::sync::Arc<eureka_model::InstanceInfo>>) {
    (server.state.registry.version(), server.state.registry.get_instance(APP, ID))
}

fn batch_body() -> Vec<u8> {
    encode_replication_list(&ReplicationList {
        replication_list: vec![ReplicationInstance {
            app_name: APP.to_string(),
            id: ID.to_string(),
            last_dirty_timestamp: None,
            overridden_status: None,
            status: Some(InstanceStatus::OutOfService),
            instance_info: None,
            action: ReplicationAction::StatusUpdate,
            health_check: None,
        }],
    })
}

/// One request of the matrix: (label, method, path, is a write, extra headers/body).
type Step = (&'static str, Method, &'static str, bool);

const STEPS: &[Step] = &[
    ("GET apps", Method::GET, "/eureka/apps", false),
    ("GET delta", Method::GET, "/eureka/apps/delta", false),
    ("GET instance", Method::GET, "/eureka/apps/ORDERS/w1", false),
    ("GET watch", Method::GET, "/eureka/watch", false),
    ("GET console json", Method::GET, "/api/console", false),
    ("GET console page", Method::GET, "/", false),
    ("GET statusoverrides", Method::GET, "/serverinfo/statusoverrides", false),
    ("GET metrics", Method::GET, "/metrics", false),
    ("GET health", Method::GET, "/health", false),
    ("register", Method::POST, "/eureka/apps/ORDERS", true),
    ("renew", Method::PUT, "/eureka/apps/ORDERS/w1", true),
    ("metadata", Method::PUT, "/eureka/apps/ORDERS/w1/metadata?k=v", true),
    ("status override", Method::PUT, "/eureka/apps/ORDERS/w1/status?value=OUT_OF_SERVICE", true),
    ("delete override", Method::DELETE, "/eureka/apps/ORDERS/w1/status?value=UP", true),
    ("drain", Method::POST, "/eureka/apps/ORDERS/w1/drain?wait=0", true),
    ("replicated renew", Method::PUT, "/eureka/apps/ORDERS/w1", true),
    ("peer batch", Method::POST, "/eureka/peerreplication/batch/", true),
    ("cancel", Method::DELETE, "/eureka/apps/ORDERS/w1", true),
];

async fn run_step(server: &TestServer, who: Who, step: &Step) -> reqwest::Response {
    let (label, method, path, _) = step;
    send(server, who, method.clone(), path, |r| match *label {
        "register" => r.header("Content-Type", "application/json").body(java_json(APP, ID, 8080)),
        "replicated renew" => r.header("x-netflix-discovery-replication", "true"),
        "peer batch" => r.header("Content-Type", "application/json").body(batch_body()),
        _ => r,
    })
    .await
}

#[tokio::test]
async fn every_endpoint_class_answers_each_caller_as_its_roles_allow() {
    const R: u16 = 200;
    let unauthenticated =
        [401, 401, 401, 401, 401, 401, 401, R, R, 401, 401, 401, 401, 401, 401, 401, 401, 401];
    let reads_only = [R, R, R, R, R, R, R, R, R, 403, 403, 403, 403, 403, 403, 403, 403, 403];
    let matrix: [(&str, Who, [u16; 18]); 7] = [
        ("anonymous", Who::Anonymous, unauthenticated),
        ("wrong password", Who::User("writer", "not-it"), unauthenticated),
        ("read", Who::User("reader", "rpw"), reads_only),
        (
            "write (owner)",
            Who::User("writer", "wpw"),
            [R, R, R, R, R, R, R, R, R, 204, R, R, 403, 403, 403, 403, 403, R],
        ),
        ("other write user", Who::User("other", "opw"), reads_only),
        (
            "admin",
            Who::User("admin", "apw"),
            [R, R, R, R, R, R, R, R, R, 204, R, R, R, R, R, R, R, R],
        ),
        (
            "peer",
            Who::User("peer", "ppw"),
            [R, R, R, R, R, R, R, R, R, 403, 403, 403, 403, 403, 403, R, R, 403],
        ),
    ];
    for (caller, who, expected) in matrix {
        let server = secured(&[]).await;
        register_owned(&server).await;
        for (step, want) in STEPS.iter().zip(expected) {
            let before = fingerprint(&server);
            let resp = run_step(&server, who, step).await;
            let status = resp.status().as_u16();
            let challenge = resp.headers().get("www-authenticate").cloned();
            // Only refusals are read: a watch answered 200 is a stream that never ends.
            let body =
                if status >= 400 { resp.text().await.unwrap_or_default() } else { String::new() };
            assert_eq!(status, want, "{caller}: {} answered {status}: {body}", step.0);
            match status {
                401 => {
                    assert_eq!(
                        challenge.as_ref().and_then(|v| v.to_str().ok()),
                        Some(r#"Basic realm="eureka", charset="UTF-8""#),
                        "{caller}: {}",
                        step.0
                    );
                    assert!(
                        body.contains("authentication required")
                            || body.contains("invalid credentials"),
                        "{caller}: {}: {body}",
                        step.0
                    );
                }
                403 => assert!(
                    body.contains("lacks role") || body.contains("belongs to another user"),
                    "{caller}: {}: {body}",
                    step.0
                ),
                _ => {}
            }
            if status >= 400 && step.3 {
                assert_eq!(
                    fingerprint(&server),
                    before,
                    "{caller}: refused {} changed the registry",
                    step.0
                );
            }
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn refusals_say_what_is_wrong_without_telling_users_from_passwords() {
    let server = secured(&[]).await;
    let missing =
        call(&server, Who::Anonymous, Method::GET, "/eureka/apps").await.text().await.unwrap();
    assert!(missing.contains("authentication required"), "{missing}");
    let unknown_user = call(&server, Who::User("nobody", "wpw"), Method::GET, "/eureka/apps").await;
    let wrong_password = call(&server, Who::User("writer", "x"), Method::GET, "/eureka/apps").await;
    let (a, b) = (unknown_user.text().await.unwrap(), wrong_password.text().await.unwrap());
    assert_eq!(a, b, "an unknown user and a wrong password read the same");
    assert!(a.contains("invalid credentials"), "{a}");
    let forbidden = call(
        &server,
        Who::User("writer", "wpw"),
        Method::PUT,
        "/eureka/apps/ORDERS/w1/status?value=UP",
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(forbidden.contains("lacks role 'admin'"), "{forbidden}");

    let scrape = server.scrape().await;
    let rejected =
        |reason: &str| scrape.sum("eureka_rejected_requests_total", &[("reason", reason)]);
    assert_eq!(rejected("unauthenticated"), 3.0);
    assert_eq!(rejected("forbidden"), 1.0);
    let refused_fetches = scrape.sum(
        "eureka_http_request_duration_seconds_count",
        &[("route", "/eureka/apps"), ("status", "401")],
    );
    assert_eq!(refused_fetches, 3.0, "401s are labelled by their route");
    server.stop().await;
}

#[tokio::test]
async fn anonymous_read_lets_reads_through_but_not_writes() {
    let server = secured(&[("eureka.security.anonymous-read", "true")]).await;
    register_owned(&server).await;
    assert_eq!(call(&server, Who::Anonymous, Method::GET, "/eureka/apps").await.status(), 200);
    assert_eq!(call(&server, Who::Anonymous, Method::GET, "/").await.status(), 200);
    let before = fingerprint(&server);
    let cancel = call(&server, Who::Anonymous, Method::DELETE, "/eureka/apps/ORDERS/w1").await;
    assert_eq!(cancel.status(), 401);
    assert!(cancel.headers().contains_key("www-authenticate"), "the console's browser prompts");
    assert_eq!(fingerprint(&server), before);
    server.stop().await;
}

#[tokio::test]
async fn protect_metrics_puts_the_scrape_behind_read() {
    let server = secured(&[("eureka.security.protect-metrics", "true")]).await;
    assert_eq!(call(&server, Who::Anonymous, Method::GET, "/metrics").await.status(), 401);
    assert_eq!(call(&server, Who::Anonymous, Method::GET, "/health/ready").await.status(), 200);
    assert_eq!(
        call(&server, Who::User("reader", "rpw"), Method::GET, "/metrics").await.status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn a_peer_user_cannot_fake_ownership_and_write_users_cannot_claim_replication() {
    let server = secured(&[]).await;
    register_owned(&server).await;
    let before = fingerprint(&server);
    // A write user marking its call as replicated would bypass ownership: refused.
    let resp =
        send(&server, Who::User("other", "opw"), Method::DELETE, "/eureka/apps/ORDERS/w1", |r| {
            r.header("x-netflix-discovery-replication", "true")
        })
        .await;
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("lacks role 'peer'"));
    assert_eq!(fingerprint(&server), before);
    server.stop().await;
}

#[tokio::test]
async fn bcrypt_and_argon2_passwords_verify_once_then_come_from_the_cache() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let bcrypt_hash = bcrypt::hash("bcrypt-pw", 4).expect("bcrypt");
    let params = argon2::Params::new(1024, 1, 1, None).expect("params");
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
    let argon2_hash = argon2.hash_password(b"argon2-pw", &salt).expect("argon2").to_string();
    let server = secured(&[
        ("eureka.security.users.b.password", &format!("{{bcrypt}}{bcrypt_hash}")),
        ("eureka.security.users.b.roles", "write"),
        ("eureka.security.users.a.password", &argon2_hash),
        ("eureka.security.users.a.roles", "write"),
    ])
    .await;
    for round in 0..3 {
        for (user, password, id) in [("b", "bcrypt-pw", "b1"), ("a", "argon2-pw", "a1")] {
            let resp = send(
                &server,
                Who::User(user, password),
                Method::POST,
                "/eureka/apps/ORDERS",
                |r| r.header("Content-Type", "application/json").body(java_json(APP, id, 8080)),
            )
            .await;
            assert_eq!(resp.status(), 204, "{user} round {round}");
            let renew = call(
                &server,
                Who::User(user, password),
                Method::PUT,
                &format!("/eureka/apps/ORDERS/{id}"),
            )
            .await;
            assert_eq!(renew.status(), 200, "{user} round {round}");
        }
    }
    assert_eq!(server.state.auth.slow_checks(), 2, "one slow check per user, then the cache");
    assert_eq!(server.state.registry.owner(APP, "a1").as_deref(), Some("a"));
    for (user, id) in [("b", "b1"), ("a", "a1")] {
        let wrong = call(
            &server,
            Who::User(user, "wrong"),
            Method::DELETE,
            &format!("/eureka/apps/ORDERS/{id}"),
        )
        .await;
        assert_eq!(wrong.status(), 401, "{user}");
    }
    assert_eq!(server.state.auth.slow_checks(), 4, "a wrong password is checked, never cached");
    assert!(server.state.registry.get_instance(APP, "a1").is_some());
    server.stop().await;
}

/// Two secured nodes: `a` names `b` with credentials in its URL, `b` names `a` bare and
/// replicates with `eureka.server.peer-username`/`peer-password`.
async fn secured_pair(a_password_for_b: &str) -> (TestServer, TestServer) {
    let (la, lb) = (TestServer::listener().await, TestServer::listener().await);
    let (pa, pb) = (la.local_addr().unwrap().port(), lb.local_addr().unwrap().port());
    let a_peer = format!("http://peer:{a_password_for_b}@127.0.0.1:{pb}/eureka/");
    let b_peer = format!("http://127.0.0.1:{pa}/eureka/");
    // b starts first and holds an instance, so a's start-up copy must authenticate too.
    let b_config = config(&[
        ("eureka.client.service-url.defaultZone", &b_peer),
        ("eureka.server.peer-username", "peer"),
        ("eureka.server.peer-password", "ppw"),
    ]);
    let b = TestServer::start_on(lb, b_config, Clock::System).await;
    let resp = send(&b, Who::User("writer", "wpw"), Method::POST, "/eureka/apps/BILLING", |r| {
        r.header("Content-Type", "application/json").body(java_json("BILLING", "b-before-a", 9090))
    })
    .await;
    assert_eq!(resp.status(), 204);
    let a_config = config(&[("eureka.client.service-url.defaultZone", &a_peer)]);
    let a = TestServer::start_on(la, a_config, Clock::System).await;
    (a, b)
}

#[tokio::test]
async fn secured_nodes_replicate_with_their_configured_peer_credentials() {
    let (a, b) = secured_pair("ppw").await;
    eventually("a's start-up copy from b", async || a.state.replication.is_synced()).await;
    assert_eq!(a.state.replication.synced_count(), 1, "the start-up copy authenticated");
    assert!(a.state.registry.find_instance("b-before-a").is_some());

    register_owned(&a).await;
    eventually("a's registration on b", async || b.state.registry.get_instance(APP, ID).is_some())
        .await;
    let resp = send(&b, Who::User("writer", "wpw"), Method::POST, "/eureka/apps/BILLING", |r| {
        r.header("Content-Type", "application/json").body(java_json("BILLING", "b2", 9091))
    })
    .await;
    assert_eq!(resp.status(), 204);
    eventually("b's registration on a", async || a.state.registry.find_instance("b2").is_some())
        .await;
    // Learned from a peer, the instance has no owner on b until a client write claims it.
    assert_eq!(b.state.registry.owner(APP, ID), None);
    assert_eq!(a.state.registry.owner(APP, ID).as_deref(), Some("writer"));
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn wrong_peer_credentials_are_refused_and_reported() {
    let (a, b) = secured_pair("not-the-password").await;
    eventually("a's start-up sync gives up", async || a.state.replication.is_synced()).await;
    assert_eq!(a.state.replication.synced_count(), 0, "b refused the start-up copy");
    register_owned(&a).await;
    eventually("a sees b refuse its credentials", async || {
        a.state.replication.views()[0].health.auth_refused
    })
    .await;
    let view = &a.state.replication.views()[0];
    let last_error = view.health.last_error.as_ref().map(|(_, e)| e.clone()).unwrap_or_default();
    assert!(last_error.contains("401"), "{last_error}");
    assert!(b.state.registry.get_instance(APP, ID).is_none(), "nothing replicated");
    let scrape = a.scrape().await;
    assert_eq!(scrape.sum("eureka_peer_auth_refused", &[]), 1.0);
    let status: serde_json::Value =
        call(&a, Who::User("reader", "rpw"), Method::GET, "/eureka/status")
            .await
            .json()
            .await
            .expect("status JSON");
    let peer = &status.to_string();
    assert!(peer.contains("\"authRefused\":true"), "{peer}");
    assert!(!peer.contains("not-the-password"), "credentials never shown");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_rust_client_registers_renews_and_cancels_with_credentials_in_its_url() {
    let server = secured(&[]).await;
    let url = format!("http://writer:wpw@{}/eureka/", server.addr);
    let client = fast_client(&url)
        .register(loopback_instance("orders", 8080))
        .start()
        .await
        .expect("starts");
    let id = "127.0.0.1:orders:8080";
    assert_eq!(server.state.registry.owner(APP, id).as_deref(), Some("writer"));
    let renewals = || server.scrape();
    eventually("two renewals", async || {
        renewals().await.sum("eureka_renewals_total", &[("origin", "client")]) >= 2.0
    })
    .await;
    eventually("the client's registry copy", async || client.instances("orders").len() == 1).await;
    client.shutdown().await;
    assert!(server.state.registry.get_instance(APP, id).is_none(), "cancelled on shutdown");

    let refused = fast_client(&format!("http://writer:wrong@{}/eureka/", server.addr))
        .register(loopback_instance("orders", 8081))
        .start()
        .await
        .expect("starts; registration is retried in the background");
    assert!(!refused.is_registered(), "wrong credentials: registration refused");
    assert!(server.state.registry.get_instance(APP, "127.0.0.1:orders:8081").is_none());
    refused.shutdown().await;
    server.stop().await;
}

/// Issue 19: with security on, an operator's action names its user (and reason) in the
/// console's events; the instance's history names the user that registered it.
#[tokio::test]
async fn operator_actions_record_the_authenticated_user_and_the_reason() {
    let server = secured(&[]).await;
    register_owned(&server).await;
    let path = format!("/eureka/apps/{APP}/{ID}/status?value=OUT_OF_SERVICE&reason=disk%20full");
    let resp = call(&server, Who::User("admin", "apw"), Method::PUT, &path).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let path = format!("/api/console/instance?app={APP}&id={ID}");
    let detail: serde_json::Value =
        call(&server, Who::User("reader", "rpw"), Method::GET, &path).await.json().await.unwrap();
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history[0]["kind"], "OVERRIDE_SET");
    assert_eq!(
        (&history[0]["user"], &history[0]["reason"]),
        (&serde_json::json!("admin"), &serde_json::json!("disk full"))
    );
    assert_eq!(
        (&history[1]["kind"], &history[1]["user"]),
        (&serde_json::json!("REGISTERED"), &serde_json::json!("writer"))
    );
    assert_eq!(detail["owner"], "writer");
}
