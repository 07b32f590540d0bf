//! `eureka-bench-hyper`: the ceiling no registry can beat. A bare hyper server answering the
//! Eureka paths of the benchmark with fixed, pre-built bytes: `POST /eureka/apps/{app}` 204,
//! `PUT /eureka/apps/{app}/{id}` 200, `GET /eureka/apps` and `GET /eureka/apps/delta` the gzip
//! JSON captured from our server.
//!
//! `eureka-bench-hyper --port P --apps FILE --delta FILE`

use std::convert::Infallible;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A bare hyper server answering the benchmark's Eureka paths with fixed bytes.
#[derive(Debug, Parser)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// Body of `GET /eureka/apps` (gzip JSON).
    #[arg(long)]
    apps: std::path::PathBuf,
    /// Body of `GET /eureka/apps/delta` (gzip JSON).
    #[arg(long)]
    delta: std::path::PathBuf,
}

struct Bodies {
    apps: Bytes,
    delta: Bytes,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bodies = Arc::new(Bodies {
        apps: std::fs::read(&args.apps).with_context(|| args.apps.display().to_string())?.into(),
        delta: std::fs::read(&args.delta).with_context(|| args.delta.display().to_string())?.into(),
    });
    // One thread: the server gets one core, and a single-threaded runtime is the cheapest way
    // to use it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| answer(bodies.clone(), req));
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    })
}

async fn answer(
    bodies: Arc<Bodies>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let method = req.method().clone();
    // Read the body, as any server must before answering on a keep-alive connection.
    let _ = req.into_body().collect().await;
    let (status, body) = match (method, path.as_str()) {
        (Method::GET, "/eureka/apps") => (StatusCode::OK, Some(bodies.apps.clone())),
        (Method::GET, "/eureka/apps/delta") => (StatusCode::OK, Some(bodies.delta.clone())),
        (Method::POST, _) => (StatusCode::NO_CONTENT, None),
        (Method::PUT, _) | (Method::DELETE, _) => (StatusCode::OK, None),
        _ => (StatusCode::NOT_FOUND, None),
    };
    let mut response = Response::builder().status(status);
    if body.is_some() {
        response =
            response.header(CONTENT_TYPE, "application/json").header(CONTENT_ENCODING, "gzip");
    }
    Ok(response.body(Full::new(body.unwrap_or_default())).expect("valid response"))
}
