//! Runs the real agent binary on a unique abstract socket and talks HTTP/WebSocket to it.
#![allow(dead_code)]

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

pub const BIN: &str = env!("CARGO_BIN_EXE_daytona-native-agent");

pub struct Agent {
    pub socket: String,
    child: Child,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Agent {
    pub async fn start(entrypoint: &[&str]) -> Agent {
        let socket = format!(
            "daytona-agent-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        // An empty home: interactive shells (PTY) would otherwise run this machine's ~/.bashrc
        // (here, a pyenv hook that waits up to a minute for a lock when the shell exits).
        let home = std::env::temp_dir().join(format!("daytona-agent-test-home-{}", std::process::id()));
        std::fs::create_dir_all(&home).expect("test home");
        let mut cmd = Command::new(BIN);
        cmd.arg("serve").env("DAYTONA_AGENT_SOCKET", &socket).env("HOME", &home).stdin(Stdio::null());
        if !entrypoint.is_empty() {
            cmd.arg("--").args(entrypoint);
        }
        let child = cmd.spawn().expect("spawn agent");
        let agent = Agent { socket, child };
        // Wait until it listens (the process may take a moment to bind).
        for _ in 0..500 {
            if agent.connect().await.is_ok() {
                return agent;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("agent did not start listening");
    }

    pub async fn connect(&self) -> std::io::Result<UnixStream> {
        let addr = SocketAddr::from_abstract_name(self.socket.as_bytes())?;
        let s = std::os::unix::net::UnixStream::connect_addr(&addr)?;
        s.set_nonblocking(true)?;
        UnixStream::from_std(s)
    }

    /// One request on a fresh connection; returns status and body bytes.
    pub async fn raw(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Vec<u8>) {
        let mut s = self.connect().await.expect("connect");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        parse_response(&out)
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, bytes) = self.raw(method, path, body.as_ref()).await;
        let v = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("json body") };
        (status, v)
    }

    pub async fn ws(&self, path: &str, protocols: &[&str]) -> (WebSocketStream<UnixStream>, Option<String>) {
        let s = self.connect().await.unwrap();
        let mut req = format!("ws://agent{path}").into_client_request().unwrap();
        if !protocols.is_empty() {
            req.headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(&protocols.join(", ")).unwrap());
        }
        let (ws, resp) = tokio_tungstenite::client_async(req, s).await.expect("websocket handshake");
        let proto = resp
            .headers()
            .get("Sec-WebSocket-Protocol")
            .map(|v| v.to_str().unwrap().to_string());
        (ws, proto)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.child.wait();
    }
}

pub fn parse_response(out: &[u8]) -> (u16, Vec<u8>) {
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = String::from_utf8_lossy(&out[..split]);
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, out[split + 4..].to_vec())
}

/// Splits a marker-multiplexed log (0x01×3 stdout, 0x02×3 stderr).
pub fn demux(data: &[u8]) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut cur = 0u8;
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(&[1, 1, 1]) {
            cur = 1;
            i += 3;
        } else if data[i..].starts_with(&[2, 2, 2]) {
            cur = 2;
            i += 3;
        } else {
            match cur {
                1 => out.push(data[i]),
                2 => err.push(data[i]),
                _ => {}
            }
            i += 1;
        }
    }
    (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}
