//! `eureka-bench-listener --port P` or `--count N`: checked instances for the health-check
//! benchmark, in a process of their own so that `kill -9` ends them as it ends a real service.
//! Binds one port (or N free loopback ports), prints `ports P1,P2,…` once listening, and
//! answers every HTTP request `200 {"status":"UP"}` on keep-alive connections.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"status\":\"UP\"}";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (fixed, count) = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["--port", p] => (p.parse::<u16>().ok(), 1),
        ["--count", n] => (None, n.parse::<usize>().unwrap_or(0)),
        _ => (None, 0),
    };
    if count == 0 {
        eprintln!("usage: eureka-bench-listener --port PORT | --count N");
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let runtime = runtime.unwrap_or_else(|e| {
        eprintln!("eureka-bench-listener: {e}");
        std::process::exit(1)
    });
    runtime.block_on(async move {
        let mut ports = Vec::with_capacity(count);
        let mut listeners = Vec::with_capacity(count);
        for _ in 0..count {
            let listener = match TcpListener::bind(("127.0.0.1", fixed.unwrap_or(0))).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("eureka-bench-listener: bind: {e}");
                    std::process::exit(1)
                }
            };
            ports.push(listener.local_addr().map_or(0, |a| a.port()).to_string());
            listeners.push(listener);
        }
        println!("ports {}", ports.join(","));
        let mut tasks = tokio::task::JoinSet::new();
        for listener in listeners {
            tasks.spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream));
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
}

async fn serve(mut stream: TcpStream) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..end);
        if stream.write_all(ANSWER).await.is_err() {
            return;
        }
    }
}
