//! The sandbox's activity and its auto-stop. The client keeps the sandbox's settings in
//! `<agent dir>/state/settings.json` and this agent touches `<agent dir>/state/activity` on each
//! toolbox request (at most every few seconds; `refreshActivity` touches it from outside). When
//! the file is older than the settings' `autoStopInterval` minutes (not 0, not absent), the agent
//! ends as on SIGTERM: tini, PID 1, then exits and the engine reports the sandbox stopped. No
//! process outside the sandbox has to stay alive for that.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Touches closer together than this are skipped.
const TOUCH_EVERY_SECS: u64 = 5;
/// How often the idle time is compared with the interval.
const CHECK_EVERY: Duration = Duration::from_secs(5);

static LAST_TOUCH: AtomicU64 = AtomicU64::new(0);
static WORK_DIR: OnceLock<String> = OnceLock::new();

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn state_dir() -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join("state"))
}

/// Remembers the directory the agent started in: the sandbox's working directory (the image's
/// WORKDIR; `/` without one).
pub fn remember_work_dir() {
    let dir = std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into());
    let _ = WORK_DIR.set(dir);
}

/// `GET /work-dir`: the WORKDIR, else (none, or `/`) the user's home directory, as the Daytona
/// daemon reports it.
pub fn work_dir() -> String {
    match WORK_DIR.get().map(String::as_str) {
        Some(dir) if dir != "/" && !dir.is_empty() => dir.to_string(),
        _ => home_dir(),
    }
}

/// `GET /user-home-dir`: `$HOME` (the engine sets it from the image's passwd file), else `/`.
pub fn home_dir() -> String {
    std::env::var("HOME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "/".into())
}

/// A toolbox request arrived: the sandbox is in use now.
pub fn touch() {
    let now = now_secs();
    let last = LAST_TOUCH.load(Ordering::Relaxed);
    if now.saturating_sub(last) < TOUCH_EVERY_SECS || LAST_TOUCH.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err() {
        return;
    }
    // Rewritten rather than given a time: setting an explicit modification time needs to own
    // the file (the engine placed it as root; the agent may run as the image's user), a write
    // needs only write permission.
    if let Some(dir) = state_dir() {
        let _ = std::fs::write(dir.join("activity"), format!("{now}\n"));
    }
}

/// Minutes of `autoStopInterval` in the settings, when auto-stop is on.
fn auto_stop_minutes(dir: &std::path::Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join("settings.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("autoStopInterval").and_then(serde_json::Value::as_f64).filter(|m| *m > 0.0)
}

/// Resolves when the sandbox has been idle longer than its `autoStopInterval`; never where
/// there is no state directory (an agent run outside a sandbox).
pub async fn idle_past_auto_stop() {
    let started = SystemTime::now();
    let Some(dir) = state_dir().filter(|d| d.is_dir()) else { return std::future::pending().await };
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let Some(minutes) = auto_stop_minutes(&dir) else { continue };
        let last = std::fs::metadata(dir.join("activity")).and_then(|m| m.modified()).unwrap_or(started).max(started);
        let idle = SystemTime::now().duration_since(last).unwrap_or_default();
        if idle.as_secs_f64() > minutes * 60.0 {
            return;
        }
    }
}

/// `GET /port/{port}/tunnel` (an agent extension for preview links on the local engine): a
/// WebSocket whose binary messages are the bytes of a TCP connection to `127.0.0.1:{port}` in the
/// sandbox (its loopback exists under every network mode, `none` included). The connection ends
/// when either side closes.
pub async fn tunnel(ws: crate::http::Ws, port: u16) {
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut tx, mut rx) = ws.split();
    let tcp = match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Message::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Error,
                reason: format!("nothing answers on port {port} in the sandbox: {e}").into(),
            })))
            .await;
            return;
        }
    };
    let (mut read, mut write) = tcp.into_split();
    let up = async {
        while let Some(Ok(msg)) = rx.next().await {
            match msg {
                Message::Binary(b) => {
                    if write.write_all(&b).await.is_err() {
                        break;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
            touch();
        }
        let _ = write.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(Message::Binary(buf[..n].to_vec().into())).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Message::Close(None)).await;
    };
    tokio::join!(up, down);
}
