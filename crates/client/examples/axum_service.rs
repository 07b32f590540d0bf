//! A web service that registers itself with Eureka, finds another service by name and calls it.
//!
//! With a registry running (`cargo run -p eureka-server`), start two services that know each
//! other only by name:
//!
//! ```sh
//! cargo run -p eureka-client --example axum_service -- pong 8082 ping &
//! cargo run -p eureka-client --example axum_service -- ping 8081 pong &
//! curl http://127.0.0.1:8081/call      # ping looks "pong" up in its local registry and calls it
//! ```
//!
//! Arguments: `APP PORT [TARGET_APP]`; the registry is `$EUREKA_URL` or
//! `http://localhost:8761/eureka/`. Ctrl-C stops the server and cancels the lease.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use eureka_client::{base_url, Chooser, DiscoveryClient, Instance, Strategy, DEFAULT_SERVICE_URL};

struct App {
    name: String,
    target: Option<Chooser>,
    http: reqwest::Client,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "hello".into());
    let port: u16 = args.next().map_or(Ok(8080), |p| p.parse())?;
    let target = args.next();
    let registry = std::env::var("EUREKA_URL").unwrap_or_else(|_| DEFAULT_SERVICE_URL.into());

    // Bind first: register only once the port really serves.
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    let client = DiscoveryClient::builder(&registry)
        .register(Instance::new(&name, port).metadata("example", "axum_service"))
        .registry_fetch_interval(Duration::from_secs(5))
        .start()
        .await?;
    println!("{name} serving on :{port}, registered with {registry}: {}", client.is_registered());

    let state = Arc::new(App {
        name,
        target: target.map(|t| client.chooser(&t, Strategy::RoundRobin)),
        http: reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?,
    });
    let app = Router::new().route("/", get(hello)).route("/call", get(call)).with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    client.shutdown().await;
    Ok(())
}

async fn hello(State(app): State<Arc<App>>) -> String {
    format!("hello from {}\n", app.name)
}

/// Calls the target service on an instance chosen from the local registry copy.
async fn call(State(app): State<Arc<App>>) -> (StatusCode, String) {
    let Some(chooser) = &app.target else {
        return (StatusCode::NOT_FOUND, "no target service configured\n".into());
    };
    let Some(instance) = chooser.choose() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no instance of the target is UP\n".into());
    };
    let url = format!("{}/", base_url(&instance));
    match app.http.get(&url).send().await {
        Ok(resp) => {
            let body = resp.text().await.unwrap_or_default();
            (StatusCode::OK, format!("{} called {url} ({}): {body}", app.name, instance.id()))
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("calling {url} failed: {e}\n")),
    }
}
