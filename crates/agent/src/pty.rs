//! PTY sessions: a shell on a pseudo-terminal (opened with rustix, no libutil), made session
//! leader with the terminal as its controlling tty; clients attach over WebSocket.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, Weak};

use base64::Engine;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::http::{ApiError, Ws};

pub const EXIT_CONTROL_PROTOCOL: &str = "X-Daytona-Pty-Exit-Control";
pub const ENVS_PROTOCOL_PREFIX: &str = "X-Daytona-Pty-Envs~";

pub struct Pty {
    id: String,
    cwd: String,
    envs: HashMap<String, String>,
    size: Mutex<(u16, u16)>,
    created_at: String,
    master: Arc<AsyncFd<OwnedFd>>,
    pid: i32,
    clients: Mutex<Clients>,
    exit: watch::Sender<Option<i32>>,
}

/// Attached clients, and what the terminal printed while none was attached (bounded), so a
/// client connecting right after creation still sees the first prompt.
#[derive(Default)]
struct Clients {
    senders: Vec<mpsc::Sender<Bytes>>,
    backlog: Vec<u8>,
}

const BACKLOG_LIMIT: usize = 64 * 1024;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PtyCreateReq {
    pub id: Option<String>,
    pub cwd: Option<String>,
    pub envs: Option<HashMap<String, String>>,
    pub cols: Option<u16>,
    pub rows: Option<u16>,
}

#[derive(Deserialize)]
pub struct ResizeReq {
    cols: Option<i64>,
    rows: Option<i64>,
}

impl Pty {
    pub fn info(&self) -> Value {
        let (cols, rows) = *self.size.lock().unwrap();
        json!({
            "id": self.id,
            "cwd": self.cwd,
            "envs": self.envs,
            "cols": cols,
            "rows": rows,
            "createdAt": self.created_at,
            "active": self.exit.borrow().is_none(),
            "lazyStart": false,
        })
    }

    fn set_size(&self, cols: u16, rows: u16) -> std::io::Result<()> {
        rustix::termios::tcsetwinsize(
            self.master.get_ref(),
            rustix::termios::Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 },
        )?;
        *self.size.lock().unwrap() = (cols, rows);
        Ok(())
    }

    /// Kills every process of the terminal's session (interactive shells put jobs in their own
    /// process groups, so the shell's group alone is not enough).
    fn kill(&self) {
        for pid in crate::session::procs_where(3, self.pid) {
            if let Some(p) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            }
        }
        if let Some(pid) = rustix::process::Pid::from_raw(self.pid) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }

    async fn broadcast(&self, data: Bytes) {
        let clients = {
            let mut c = self.clients.lock().unwrap();
            if c.senders.is_empty() {
                c.backlog.extend_from_slice(&data);
                let excess = c.backlog.len().saturating_sub(BACKLOG_LIMIT);
                c.backlog.drain(..excess);
                return;
            }
            c.senders.clone()
        };
        let mut dead = false;
        for c in clients {
            // Backpressure: a slow client slows the terminal rather than losing output.
            dead |= c.send(data.clone()).await.is_err();
        }
        if dead {
            self.clients.lock().unwrap().senders.retain(|c| !c.is_closed());
        }
    }
}

async fn write_all(fd: &AsyncFd<OwnedFd>, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        let mut guard = fd.writable().await?;
        match guard.try_io(|f| rustix::io::write(f.get_ref(), data).map_err(std::io::Error::from)) {
            Ok(Ok(n)) => data = &data[n..],
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => {}
        }
    }
    Ok(())
}

#[derive(Default)]
pub struct Ptys {
    map: Mutex<HashMap<String, Arc<Pty>>>,
}

fn valid_size(v: Option<i64>, default: u16) -> Result<u16, ApiError> {
    match v {
        None => Ok(default),
        Some(n) if (1..=1000).contains(&n) => Ok(n as u16),
        Some(_) => Err(ApiError::bad_request("cols and rows must be between 1 and 1000")),
    }
}

impl Ptys {
    pub fn get(&self, id: &str) -> Result<Arc<Pty>, ApiError> {
        self.map.lock().unwrap().get(id).cloned().ok_or_else(|| ApiError::not_found(format!("PTY session {id} not found")))
    }

    pub fn list(&self) -> Value {
        let map = self.map.lock().unwrap();
        let mut all: Vec<&Arc<Pty>> = map.values().collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        json!({ "sessions": all.into_iter().map(|p| p.info()).collect::<Vec<_>>() })
    }

    pub fn delete(&self, id: &str) -> Result<Value, ApiError> {
        let p = self.map.lock().unwrap().remove(id).ok_or_else(|| ApiError::not_found(format!("PTY session {id} not found")))?;
        p.kill();
        Ok(json!({ "message": format!("PTY session {id} terminated") }))
    }

    pub fn kill_all(&self) {
        for (_, p) in self.map.lock().unwrap().drain() {
            p.kill();
        }
    }

    pub fn resize(&self, id: &str, req: ResizeReq) -> Result<Value, ApiError> {
        let p = self.get(id)?;
        if req.cols.is_none() || req.rows.is_none() {
            return Err(ApiError::bad_request("cols and rows are required"));
        }
        let cols = valid_size(req.cols, 80)?;
        let rows = valid_size(req.rows, 24)?;
        if p.exit.borrow().is_some() {
            return Err(ApiError::gone(format!("PTY session {id} has exited")));
        }
        p.set_size(cols, rows).map_err(|e| ApiError::internal(format!("failed to resize PTY: {e}")))?;
        Ok(p.info())
    }

    /// Opens a terminal pair, starts `shell` on it and a task copying its output to clients.
    pub fn create(self: &Arc<Self>, shell: &str, req: PtyCreateReq) -> Result<Arc<Pty>, ApiError> {
        let id = req.id.filter(|s| !s.is_empty()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if self.map.lock().unwrap().contains_key(&id) {
            return Err(ApiError::conflict(format!("PTY session with ID {id} already exists")));
        }
        let cols = valid_size(req.cols.map(i64::from), 80)?;
        let rows = valid_size(req.rows.map(i64::from), 24)?;
        let internal = |e: std::io::Error| ApiError::internal(format!("failed to create PTY session: {e}"));
        let cwd = match req.cwd.filter(|c| !c.is_empty()) {
            Some(c) => c,
            None => std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into()),
        };
        let envs = req.envs.unwrap_or_default();

        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).map_err(|e| internal(e.into()))?;
        grantpt(&master).map_err(|e| internal(e.into()))?;
        unlockpt(&master).map_err(|e| internal(e.into()))?;
        let name = ptsname(&master, Vec::new()).map_err(|e| internal(e.into()))?;
        let slave = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| internal(e.into()))?;
        rustix::termios::tcsetwinsize(&master, rustix::termios::Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 })
            .map_err(|e| internal(e.into()))?;

        let mut cmd = crate::env::command(shell);
        cmd.stdin(std::process::Stdio::from(slave.try_clone().map_err(internal)?))
            .stdout(std::process::Stdio::from(slave.try_clone().map_err(internal)?))
            .stderr(std::process::Stdio::from(slave))
            .env("TERM", "xterm-256color")
            .envs(&envs)
            .current_dir(&cwd);
        // SAFETY: only async-signal-safe syscalls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(rustix::stdio::stdin())?;
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(internal)?;
        drop(cmd);
        rustix::fs::fcntl_setfl(&master, rustix::fs::fcntl_getfl(&master).map_err(|e| internal(e.into()))? | rustix::fs::OFlags::NONBLOCK)
            .map_err(|e| internal(e.into()))?;
        // SAFETY: an OwnedFd keeps the same open descriptor for as long as the AsyncFd owns it.
        let master = Arc::new(unsafe { AsyncFd::register(master) }.map_err(|e| internal(e.into_parts().1))?);
        let pty = Arc::new(Pty {
            id: id.clone(),
            cwd,
            envs,
            size: Mutex::new((cols, rows)),
            created_at: crate::http::rfc3339_now(),
            master: master.clone(),
            pid: child.id().unwrap_or(0) as i32,
            clients: Mutex::new(Clients::default()),
            exit: watch::Sender::new(None),
        });
        self.map.lock().unwrap().insert(id.clone(), pty.clone());
        let weak_self: Weak<Ptys> = Arc::downgrade(self);
        let p = pty.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            let mut status = None;
            // Until the shell exits (a background job may keep the terminal open after it).
            while status.is_none() {
                let n = tokio::select! {
                    st = child.wait() => { status = Some(st); continue; }
                    r = master.readable() => {
                        let Ok(mut guard) = r else { break };
                        match guard.try_io(|f| rustix::io::read(f.get_ref(), &mut buf).map_err(std::io::Error::from)) {
                            Ok(Ok(0)) => break,
                            Ok(Ok(n)) => n,
                            Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                            // EIO: the last process holding the terminal has exited.
                            Ok(Err(_)) => break,
                            Err(_would_block) => continue,
                        }
                    }
                };
                p.broadcast(Bytes::copy_from_slice(&buf[..n])).await;
            }
            // What the shell wrote before exiting is still in the terminal buffer.
            while let Ok(n) = rustix::io::read(master.get_ref(), &mut buf) {
                if n == 0 {
                    break;
                }
                p.broadcast(Bytes::copy_from_slice(&buf[..n])).await;
            }
            let status = match status {
                Some(st) => st,
                None => child.wait().await,
            };
            use std::os::unix::process::ExitStatusExt;
            let code = status.map(|st| st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))).unwrap_or(-1);
            p.exit.send_replace(Some(code));
            if let Some(ptys) = weak_self.upgrade() {
                let mut map = ptys.map.lock().unwrap();
                if map.get(&p.id).is_some_and(|q| Arc::ptr_eq(q, &p)) {
                    map.remove(&p.id);
                }
            }
        });
        Ok(pty)
    }
}

/// Envs passed as `X-Daytona-Pty-Envs~<base64url JSON object>` subprotocol by create-connect.
pub fn envs_from_protocols(protocols: &[String]) -> Option<HashMap<String, String>> {
    let b64 = protocols.iter().find_map(|p| p.strip_prefix(ENVS_PROTOCOL_PREFIX))?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&raw).ok()
}

/// The subprotocol to answer with: the exit-control one if offered (clients such as `ws`
/// refuse an upgrade that picks none of the offered ones).
pub fn choose_protocol(protocols: &[String]) -> Option<String> {
    protocols
        .iter()
        .find(|p| p.as_str() == EXIT_CONTROL_PROTOCOL)
        .or_else(|| protocols.first())
        .cloned()
}

/// Serves one attached client: terminal output as binary frames, its frames as input.
pub async fn attach(pty: Arc<Pty>, ws: Ws, exit_control: bool) {
    let (mut tx, mut rx) = ws.split();
    let (dtx, mut drx) = mpsc::channel::<Bytes>(64);
    let backlog = {
        let mut c = pty.clients.lock().unwrap();
        c.senders.push(dtx);
        std::mem::take(&mut c.backlog)
    };
    let mut exit = pty.exit.subscribe();
    let connected = json!({ "type": "control", "status": "connected" }).to_string();
    if tx.send(Message::text(connected)).await.is_err() {
        return;
    }
    if !backlog.is_empty() && tx.send(Message::binary(backlog)).await.is_err() {
        return;
    }
    let code = loop {
        if let Some(code) = *exit.borrow_and_update() {
            break code;
        }
        tokio::select! {
            Some(d) = drx.recv() => if tx.send(Message::binary(d)).await.is_err() { return },
            m = rx.next() => match m {
                Some(Ok(Message::Binary(b))) => { let _ = write_all(&pty.master, &b).await; }
                Some(Ok(Message::Text(t))) => { let _ = write_all(&pty.master, t.as_bytes()).await; }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
            r = exit.changed() => if r.is_err() { return },
        }
    };
    // All output was queued before the exit was published.
    while let Ok(d) = drx.try_recv() {
        if tx.send(Message::binary(d)).await.is_err() {
            return;
        }
    }
    if exit_control {
        let msg = json!({ "type": "control", "status": "exited", "exitCode": code }).to_string();
        let _ = tx.send(Message::text(msg)).await;
    }
    let reason = json!({ "exitCode": code }).to_string();
    let _ = tx.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: reason.into() }))).await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(Ok(m)) = rx.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
}
