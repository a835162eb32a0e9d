//! `daytona-native-agent`: the in-sandbox toolbox agent.
//!
//! `serve [-- CMD...]` serves the toolbox process API on an abstract unix socket and runs CMD as
//! the entrypoint session; `relay` copies stdin/stdout to and from that socket so a client can
//! reach the agent through `docker exec -i` (no network inside the sandbox needed). `reap` and
//! `janitor` run in containers of their own with the engine's socket (`reaper.rs`, `janitor.rs`).

mod env;
mod files;
mod http;
mod interpreter;
mod janitor;
mod keepalive;
mod logs;
mod pty;
mod reaper;
mod run;
mod server;
mod session;

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::process::ExitCode;

/// Abstract socket name, overridable so tests (and several agents on one host) do not collide.
fn socket_addr() -> std::io::Result<SocketAddr> {
    let name = std::env::var("DAYTONA_AGENT_SOCKET").unwrap_or_else(|_| "daytona-native-agent".into());
    SocketAddr::from_abstract_name(name.as_bytes())
}

fn usage() -> ExitCode {
    eprintln!("usage: daytona-native-agent serve [-- CMD...] | relay | reap --session ID | janitor");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(sub) = args.first() else { return usage() };
    if sub == "reap" {
        return reaper::main(&args[1..]);
    }
    if sub == "janitor" {
        return janitor::main(&args[1..]);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("daytona-native-agent: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match sub.as_str() {
        "serve" => {
            let entry: Vec<String> = match args.get(1).map(String::as_str) {
                None => Vec::new(),
                Some("--") => args[2..].to_vec(),
                Some(_) => return usage(),
            };
            rt.block_on(server::serve(entry))
        }
        "relay" => rt.block_on(relay()),
        _ => return usage(),
    };
    match result {
        Ok(()) => {
            // Blocking stdin reads may still hold a runtime thread; do not wait for them.
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("daytona-native-agent: {e}");
            std::process::exit(1)
        }
    }
}

/// Relay copy buffer: big reads and writes keep a file transfer to few system calls and few
/// frames on the docker exec stream (reads still return as soon as any data is there).
const RELAY_BUF: usize = 256 * 1024;

/// Connects to the agent (retrying while it starts) and pipes stdin→socket, socket→stdout.
async fn relay() -> std::io::Result<()> {
    let addr = socket_addr()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let std_stream = loop {
        match std::os::unix::net::UnixStream::connect_addr(&addr) {
            Ok(s) => break s,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => return Err(std::io::Error::new(e.kind(), format!("connect to agent: {e}"))),
        }
    };
    std_stream.set_nonblocking(true)?;
    let stream = tokio::net::UnixStream::from_std(std_stream)?;
    let (rd, mut wr) = stream.into_split();
    let up = tokio::spawn(async move {
        let mut stdin = tokio::io::BufReader::with_capacity(RELAY_BUF, tokio::io::stdin());
        let _ = tokio::io::copy_buf(&mut stdin, &mut wr).await;
        // Half-close so the agent sees the end of the request stream.
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut wr).await;
    });
    let mut stdout = tokio::io::stdout();
    let mut rd = tokio::io::BufReader::with_capacity(RELAY_BUF, rd);
    let res = tokio::io::copy_buf(&mut rd, &mut stdout).await;
    let _ = tokio::io::AsyncWriteExt::flush(&mut stdout).await;
    // Nothing more can arrive from the agent; the stdin side cannot matter any more.
    up.abort();
    res.map(|_| ())
}
