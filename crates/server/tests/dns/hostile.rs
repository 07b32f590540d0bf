//! Hostile DNS packets: each is answered FORMERR (or the code its header earns) or dropped, no
//! task panics, and the server keeps answering over UDP and TCP.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_resolver::proto::op::{Message, ResponseCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::{dig, dns, instance, register, server};

/// Panics anywhere in this test binary since the hook was installed (the server's tasks run
/// in this process: a panicking query task would otherwise vanish silently).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
}

const FORMERR: u16 = 1;
const NOTIMP: u16 = 4;
const BADVERS: u16 = 16;

/// A header: id, flags word, then the four counts.
fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    for count in counts {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out
}

/// `orders.service.eureka. IN A` as question bytes.
fn question() -> Vec<u8> {
    let mut out = Vec::new();
    for label in ["orders", "service", "eureka"] {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.extend_from_slice(&[0, 0, 1, 0, 1]);
    out
}

fn packet(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// No answer at all.
    Dropped,
    /// An answer with this code and the query's id (compared as numbers: BADVERS and BADSIG
    /// share 16, and a decoder picks one name).
    Code(u16),
}

/// Sends `bytes` from a fresh socket and returns the answer, if one comes within `wait`.
async fn ask_udp(addr: std::net::SocketAddr, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(bytes, addr).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    match tokio::time::timeout(wait, socket.recv(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_packets_get_formerr_or_nothing_and_the_server_keeps_answering() {
    count_panics();
    let s = server(&[]).await;
    let addr = dns(&s);
    register(&s, &instance("ORDERS", "o-1", "10.0.0.1")).await;
    const RD: u16 = 0x0100;
    let q = question();
    let label63 = [&[63u8][..], &[b'x'; 63]].concat();
    let long_name = [label63.repeat(5).as_slice(), &[0, 0, 1, 0, 1]].concat();
    let mut edns1 = header(12, RD, [1, 0, 0, 1]);
    edns1.extend_from_slice(&q);
    // OPT: root name, type 41, payload 1232, extended rcode 0, version 1, flags 0, no data.
    edns1.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 1, 0, 0, 0, 0]);
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("empty datagram", vec![], Expect::Dropped),
        ("shorter than a header", vec![0xab; 5], Expect::Dropped),
        ("no question", header(1, RD, [0, 0, 0, 0]), Expect::Code(FORMERR)),
        ("a question count, no question", header(2, RD, [1, 0, 0, 0]), Expect::Code(FORMERR)),
        (
            "a name pointing at itself",
            packet(&[&header(3, RD, [1, 0, 0, 0]), &[0xc0, 12, 0, 1, 0, 1]]),
            Expect::Code(FORMERR),
        ),
        (
            "a compression loop through a label",
            packet(&[&header(4, RD, [1, 0, 0, 0]), &[1, b'a', 0xc0, 12, 0, 1, 0, 1]]),
            Expect::Code(FORMERR),
        ),
        (
            "a pointer forward, past the end",
            packet(&[&header(5, RD, [1, 0, 0, 0]), &[0xc0, 0xff, 0, 1, 0, 1]]),
            Expect::Code(FORMERR),
        ),
        (
            "a reserved label type",
            packet(&[&header(6, RD, [1, 0, 0, 0]), &[0x40, b'a', 0, 0, 1, 0, 1]]),
            Expect::Code(FORMERR),
        ),
        (
            "every count at 65535",
            packet(&[&header(7, RD, [u16::MAX; 4]), &q]),
            Expect::Code(FORMERR),
        ),
        ("two questions", packet(&[&header(8, RD, [2, 0, 0, 0]), &q, &q]), Expect::Code(FORMERR)),
        (
            "a name over 255 bytes",
            packet(&[&header(9, RD, [1, 0, 0, 0]), &long_name]),
            Expect::Code(FORMERR),
        ),
        (
            "a response, not a query",
            packet(&[&header(10, 0x8000, [1, 0, 0, 0]), &q]),
            Expect::Dropped,
        ),
        ("opcode STATUS", packet(&[&header(11, 2 << 11, [1, 0, 0, 0]), &q]), Expect::Code(NOTIMP)),
        ("EDNS version 1", edns1, Expect::Code(BADVERS)),
    ];
    for (what, bytes, expect) in &cases {
        let answer = ask_udp(addr, bytes, Duration::from_millis(400)).await;
        let got = match &answer {
            None => Expect::Dropped,
            Some(bytes) => {
                let message = Message::from_vec(bytes)
                    .unwrap_or_else(|e| panic!("{what}: the answer does not decode: {e}"));
                let asked = u16::from_be_bytes([bytes[0], bytes[1]]);
                assert_eq!(message.metadata.id, asked, "{what}: the answer keeps the id");
                Expect::Code(u16::from(message.metadata.response_code))
            }
        };
        assert_eq!(got, *expect, "{what}");
    }

    // Random and mutated packets, sent without waiting; only the server's survival counts.
    let mut rng = StdRng::seed_from_u64(21);
    let valid = packet(&[&header(0, RD, [1, 0, 0, 0]), &q]);
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for round in 0..3000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            let len = rng.gen_range(0..600);
            (0..len).map(|_| rng.gen()).collect()
        } else {
            let mut mutated = valid.clone();
            for _ in 0..rng.gen_range(1..6) {
                let at = rng.gen_range(0..mutated.len());
                mutated[at] = rng.gen();
            }
            mutated
        };
        let _ = socket.send_to(&bytes, addr).await;
        if round % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }

    // TCP: a length that never arrives, a short garbage message, a loop answered FORMERR on
    // the connection.
    let mut cut = TcpStream::connect(addr).await.unwrap();
    cut.write_all(&[0xff, 0xff, 1, 2, 3]).await.unwrap();
    drop(cut);
    let mut garbage = TcpStream::connect(addr).await.unwrap();
    garbage.write_all(&[0, 4, 9, 9, 9, 9]).await.unwrap();
    drop(garbage);
    let looped = packet(&[&header(77, RD, [1, 0, 0, 0]), &[0xc0, 12, 0, 1, 0, 1]]);
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(&(looped.len() as u16).to_be_bytes()).await.unwrap();
    conn.write_all(&looped).await.unwrap();
    let mut len = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut len)).await.unwrap().unwrap();
    let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
    conn.read_exact(&mut body).await.unwrap();
    let message = Message::from_vec(&body).unwrap();
    assert_eq!((message.metadata.id, message.metadata.response_code), (77, ResponseCode::FormErr));

    // Still serving, over both transports.
    let udp = dig::dig(addr, &["orders.service.eureka", "A"]).await;
    assert_eq!(udp.data("A"), vec!["10.0.0.1".to_string()], "{}", udp.text);
    let tcp = dig::dig(addr, &["+tcp", "orders.service.eureka", "A"]).await;
    assert_eq!(tcp.data("A"), vec!["10.0.0.1".to_string()], "{}", tcp.text);
    let formerr = s
        .scrape()
        .await
        .get("eureka_dns_queries_total", &[("type", "other"), ("rcode", "FORMERR")])
        .unwrap_or(0.0);
    assert!(formerr >= 1.0, "FORMERRs we answer are counted: {formerr}");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a task panicked (see the output)");
    s.stop().await;
}
