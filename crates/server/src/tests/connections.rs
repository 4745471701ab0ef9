//! The server over real TCP on 127.0.0.1: silent and idle connections are closed after the
//! header timeout, the connection cap closes one too many, and event streams outlive the
//! timeout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::*;
use crate::ConnectionLimits;

/// How long a test waits at most for something that should happen far sooner.
const PATIENCE: Duration = Duration::from_secs(20);

/// A header timeout short enough to wait for in a test.
const QUICK: ConnectionLimits = ConnectionLimits {
    header_timeout: Duration::from_millis(300),
    max_connections: 8,
};

/// Serves `w` on a free port with `limits` until the test ends.
async fn serve(w: &World, limits: ConnectionLimits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(crate::serve_with(
        listener,
        w.app.clone(),
        limits,
        std::future::pending(),
    ));
    addr
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    // Only a bound on a failing test: each read here expects the server to act sooner.
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Everything the server sends until it closes the connection (a reset counts as closed);
/// panics if it is still open after [`PATIENCE`].
async fn read_until_closed(mut stream: TcpStream) -> String {
    tokio::task::spawn_blocking(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("the server kept the connection open: {e}"),
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    })
    .await
    .unwrap()
}

/// Reads from `stream` until what came contains `needle`.
async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut stream = stream.try_clone().unwrap();
    let needle = needle.to_string();
    tokio::task::spawn_blocking(move || {
        let mut got = String::new();
        let mut buf = [0u8; 4096];
        while !got.contains(&needle) {
            let n = stream.read(&mut buf).expect("more from the server");
            assert!(n > 0, "closed before '{needle}': {got}");
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        got
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_idle_connections_are_closed_after_the_header_timeout() {
    let w = world();
    let addr = serve(&w, QUICK).await;
    let silent = connect(addr);
    assert_eq!(read_until_closed(silent).await, "", "closed unanswered");

    // A kept-alive connection, idle after its answer, is closed the same way.
    let mut idle = connect(addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let answered = read_until_closed(idle).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_over_the_cap_is_closed_and_served_again_once_one_ends() {
    let w = world();
    let addr = serve(
        &w,
        ConnectionLimits {
            header_timeout: PATIENCE * 2,
            max_connections: 2,
        },
    )
    .await;
    let first = connect(addr);
    let _second = connect(addr);
    // Accepted in order, so the first two hold the slots.
    assert_eq!(read_until_closed(connect(addr)).await, "", "over the cap");
    drop(first);
    // The server frees the slot when it sees the first connection close; until then a new
    // connection may still be closed, so try again (a bounded number of times).
    let served = tokio::time::timeout(PATIENCE, async {
        loop {
            let mut next = connect(addr);
            // Writing to a connection the server already closed may fail; reading says so.
            let _ = next.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            let answer = read_until_closed(next).await;
            if !answer.is_empty() {
                break answer;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("served again once a connection ended");
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_outlives_the_header_timeout() {
    let w = world();
    let addr = serve(&w, QUICK).await;
    let sam = w.login("sample", "sam").await;
    let maria = w.login("sample", "maria").await;
    let mut events = connect(addr);
    write!(
        events,
        "GET /api/v1/studies/sample/events HTTP/1.1\r\nHost: test\r\nCookie: {}\r\n\r\n",
        sam.cookie.clone().unwrap()
    )
    .unwrap();
    read_until(&mut events, "event: ready").await;
    // A silent connection opened now is closed after the timeout: by then the stream has
    // lived longer than it.
    read_until_closed(connect(addr)).await;
    let source = w.first_source(&maria, "p04-kowalczyk.txt").await;
    let code = w.code_id(&maria, "pushing").await;
    let r = w
        .call(
            &maria,
            Method::POST,
            "/codings",
            Some(json!({"source": source["id"], "code": code, "start": 10, "end": 20})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    read_until(&mut events, "event: coding").await;
}
