//! Per-command output records: a log file on disk holding stdout and stderr chunks, each
//! preceded by the toolbox's 3-byte stream marker, plus the exit code once known.
//! Memory stays bounded: output goes straight to disk and followers read it back in chunks.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Mutex;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::http::Ws;

pub const STDOUT_MARK: [u8; 3] = [1, 1, 1];
pub const STDERR_MARK: [u8; 3] = [2, 2, 2];

#[derive(Clone, Copy, Default)]
pub struct Progress {
    pub exit_code: Option<i32>,
    /// Bumped on every append so followers wake up.
    pub writes: u64,
}

pub struct CommandRecord {
    pub id: String,
    pub command: String,
    pub dir: PathBuf,
    log: Mutex<Option<std::fs::File>>,
    progress: watch::Sender<Progress>,
    pub suppress_echo: bool,
    /// Write end of the command's stdin FIFO (async commands only).
    pub input: tokio::sync::Mutex<Option<tokio::net::unix::pipe::Sender>>,
    /// Also copy output to the agent's own stdout/stderr (the entrypoint: `docker logs`).
    pub tee: std::sync::atomic::AtomicBool,
}

impl CommandRecord {
    pub fn create(id: String, command: String, dir: PathBuf, suppress_echo: bool) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("log"))?;
        Ok(Self {
            id,
            command,
            dir,
            log: Mutex::new(Some(log)),
            progress: watch::Sender::new(Progress::default()),
            suppress_echo,
            input: tokio::sync::Mutex::new(None),
            tee: false.into(),
        })
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("log")
    }

    pub fn append(&self, mark: &[u8; 3], data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if let Some(f) = self.log.lock().unwrap().as_mut() {
            let mut buf = Vec::with_capacity(data.len() + 3);
            buf.extend_from_slice(mark);
            buf.extend_from_slice(data);
            let _ = f.write_all(&buf);
        }
        self.progress.send_modify(|p| p.writes += 1);
        if self.tee.load(std::sync::atomic::Ordering::Relaxed) {
            if mark == &STDERR_MARK {
                let _ = std::io::stderr().write_all(data);
            } else {
                let _ = std::io::stdout().write_all(data);
            }
        }
    }

    pub fn exit_code(&self) -> Option<i32> {
        self.progress.borrow().exit_code
    }

    pub fn finish(&self, code: i32) {
        self.progress.send_if_modified(|p| {
            if p.exit_code.is_some() {
                return false;
            }
            p.exit_code = Some(code);
            true
        });
    }

    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Waits until the command has an exit code.
    pub async fn wait(&self) -> i32 {
        let mut rx = self.subscribe();
        loop {
            if let Some(c) = rx.borrow_and_update().exit_code {
                return c;
            }
            if rx.changed().await.is_err() {
                return -1;
            }
        }
    }

    pub fn read_log(&self) -> Vec<u8> {
        std::fs::read(self.log_path()).unwrap_or_default()
    }

    /// `{output, stdout, stderr}` as the toolbox returns it (output keeps the markers).
    pub fn logs_json(&self) -> Value {
        let raw = self.read_log();
        let (out, err) = demux(&raw);
        json!({
            "output": String::from_utf8_lossy(&raw),
            "stdout": String::from_utf8_lossy(&out),
            "stderr": String::from_utf8_lossy(&err),
        })
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "command": self.command });
        if let Some(c) = self.exit_code() {
            v["exitCode"] = json!(c);
        }
        v
    }
}

/// Splits a marked log into stdout and stderr bytes.
pub fn demux(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut cur: Option<bool> = None; // Some(true) = stdout
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(&STDOUT_MARK) {
            cur = Some(true);
            i += 3;
            continue;
        }
        if data[i..].starts_with(&STDERR_MARK) {
            cur = Some(false);
            i += 3;
            continue;
        }
        // Copy up to the next possible marker in one go.
        let next = data[i + 1..].iter().position(|&b| b == 1 || b == 2).map_or(data.len(), |p| i + 1 + p);
        match cur {
            Some(true) => out.extend_from_slice(&data[i..next]),
            Some(false) => err.extend_from_slice(&data[i..next]),
            None => {}
        }
        i = next;
    }
    (out, err)
}

/// Reads what is available right now from a non-blocking fd, bypassing tokio's readiness cache
/// (used once the process has exited: everything it wrote is already in the pipe).
fn drain_now(fd: impl AsFd, rec: &CommandRecord, mark: &[u8; 3], buf: &mut [u8]) {
    let fd = fd.as_fd();
    loop {
        match rustix::io::read(fd, &mut *buf) {
            Ok(0) => break,
            Ok(n) => rec.append(mark, &buf[..n]),
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
    }
}

/// How the end of a command was learnt.
pub enum Exit {
    /// The command ended with this code; its streams may still be held open by children.
    Code(i32),
    /// Its shell went away: record the code and stop reading (nobody may ever open the FIFOs).
    Abandoned(i32),
}

/// Copies a command's stdout/stderr into its log until both end; records the exit code when it
/// arrives, after taking everything already written.
pub async fn pump<O, E>(rec: std::sync::Arc<CommandRecord>, mut out: O, mut err: E, exit: oneshot::Receiver<Exit>)
where
    O: AsyncRead + AsFd + Unpin,
    E: AsyncRead + AsFd + Unpin,
{
    let mut bo = vec![0u8; 32 * 1024];
    let mut be = vec![0u8; 32 * 1024];
    let (mut out_open, mut err_open, mut exited) = (true, true, false);
    let mut exit = exit;
    loop {
        tokio::select! {
            r = out.read(&mut bo), if out_open => match r {
                Ok(n) if n > 0 => rec.append(&STDOUT_MARK, &bo[..n]),
                _ => out_open = false,
            },
            r = err.read(&mut be), if err_open => match r {
                Ok(n) if n > 0 => rec.append(&STDERR_MARK, &be[..n]),
                _ => err_open = false,
            },
            e = &mut exit, if !exited => {
                exited = true;
                let (code, stop) = match e {
                    Ok(Exit::Code(c)) => (c, false),
                    Ok(Exit::Abandoned(c)) => (c, true),
                    Err(_) => (-1, true),
                };
                if out_open { drain_now(&out, &rec, &STDOUT_MARK, &mut bo); }
                if err_open { drain_now(&err, &rec, &STDERR_MARK, &mut be); }
                rec.finish(code);
                *rec.input.lock().await = None;
                if stop { break; }
            },
            else => break,
        }
    }
    // The log stays readable; nothing more will be appended.
    rec.log.lock().unwrap().take();
}

/// Streams a command's log over a WebSocket as binary frames (markers included, as
/// `stdDemuxStream` expects) and closes normally once the command has ended and all was sent.
pub async fn follow(rec: std::sync::Arc<CommandRecord>, ws: Ws, follow: bool) {
    let (mut tx, mut rx) = ws.split();
    let mut progress = rec.subscribe();
    let Ok(mut file) = std::fs::File::open(rec.log_path()) else {
        let _ = tx.send(Message::Close(None)).await;
        return;
    };
    let mut pos = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // Snapshot "ended" before reading so output appended before the end is never missed.
        let ended = progress.borrow_and_update().exit_code.is_some() || !follow;
        let n = file.seek(SeekFrom::Start(pos)).and_then(|_| file.read(&mut buf)).unwrap_or(0);
        if n > 0 {
            pos += n as u64;
            if tx.send(Message::binary(buf[..n].to_vec())).await.is_err() {
                return;
            }
            continue;
        }
        if ended {
            break;
        }
        tokio::select! {
            r = progress.changed() => if r.is_err() { break },
            m = rx.next() => match m {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
        }
    }
    let _ = tx
        .send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() })))
        .await;
    // Wait briefly for the client's close reply so the frame is flushed before we drop.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(Ok(m)) = rx.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demux_split() {
        let data = b"\x01\x01\x01out1\x02\x02\x02err\x01\x01\x01out2";
        let (o, e) = demux(data);
        assert_eq!(o, b"out1out2");
        assert_eq!(e, b"err");
    }
}
