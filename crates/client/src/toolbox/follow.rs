//! Following a session command's (or the entrypoint's) output over the toolbox's
//! `.../logs?follow=true` WebSocket, demultiplexed into [`Output`] chunks on a bounded channel.
//!
//! A dropped connection is resumed. What the protocol allows: the toolbox has no offset
//! parameter, but each connection replays the command's log from its first byte (the log is
//! an append-only file) and then tails it until the command ends, when it closes normally. So
//! a reconnect skips as many raw bytes as were already received and continues: nothing is lost
//! or repeated as long as the log is append-only. A normal close (1000, or no status) is the
//! end of the command; anything else (no close frame, a reset, 1001/1006/1011-1014) reconnects.

use futures_util::StreamExt;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use tokio_tungstenite::tungstenite::Message;

use super::{Demuxer, OutputSender, Toolbox};
use crate::backend::OperationContext;
use crate::error::{ClientError, Result};

/// What `new URL()` escapes in a path (the WHATWG path percent-encode set) — the official SDK
/// puts ids into WebSocket URLs unencoded and `ws` parses them with `URL`. `?` and `#` are
/// escaped too: left raw they would end the path.
const URL_PATH: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

pub(super) fn raw_segment(s: &str) -> String {
    utf8_percent_encode(s, URL_PATH).to_string()
}

/// Reconnection attempts in a row that bring no new byte before following gives up.
const MAX_RECONNECTS: u32 = 5;

/// How one connection ended.
enum End {
    /// The command ended (normal close).
    Done,
    /// The consumer went away.
    Abandoned,
    /// The connection dropped: reconnect.
    Dropped(ClientError),
}

/// Whether a failed (re)connection is worth another try: no answer at all, or a server error.
fn retryable(e: &ClientError) -> bool {
    e.status_code.is_none_or(|s| s >= 500)
}

pub(super) async fn follow(tb: &Toolbox, path: &str, out: OutputSender) -> Result<()> {
    let mut demux = Demuxer::new();
    // Raw log bytes received so far (what a reconnection skips of the replay).
    let mut received: u64 = 0;
    let mut attempts = 0u32;
    loop {
        let socket = match tb.transport().websocket(&OperationContext::new(), path, &[]).await {
            Ok(s) => s,
            Err(e) => {
                if attempts == 0 || !retryable(&e) || attempts >= MAX_RECONNECTS {
                    return Err(e);
                }
                attempts += 1;
                backoff(attempts).await;
                continue;
            }
        };
        let before = received;
        let end = read(socket, &mut demux, &mut received, &out).await;
        match end {
            End::Done => break,
            End::Abandoned => return Ok(()),
            End::Dropped(e) => {
                if received > before {
                    attempts = 0;
                }
                if attempts >= MAX_RECONNECTS {
                    return Err(e);
                }
                attempts += 1;
                if attempts > 1 {
                    backoff(attempts).await;
                }
            }
        }
    }
    for o in demux.finish() {
        if out.send(o).await.is_err() {
            break;
        }
    }
    Ok(())
}

async fn backoff(attempt: u32) {
    let ms = 100u64 << attempt.min(5);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Reads one connection to its end; `received` counts the log's raw bytes across connections.
async fn read(mut socket: super::ToolboxSocket, demux: &mut Demuxer, received: &mut u64, out: &OutputSender) -> End {
    // This connection replays the log from its start: skip what earlier ones delivered.
    let mut skip = *received;
    loop {
        let bytes = match socket.next().await {
            Some(Ok(Message::Binary(b))) => b,
            Some(Ok(Message::Text(t))) => bytes::Bytes::from(t),
            Some(Ok(Message::Close(frame))) => {
                let code = frame.as_ref().map(|f| u16::from(f.code));
                return match code {
                    None | Some(1000) => End::Done,
                    Some(c) => End::Dropped(ClientError::new(crate::error::ErrorKind::Connection, format!("The log stream closed with code {c}"))),
                };
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return End::Dropped(ClientError::new(crate::error::ErrorKind::Connection, e.to_string())),
            None => return End::Dropped(ClientError::new(crate::error::ErrorKind::Connection, "The log stream ended without a close frame")),
        };
        let mut data = &bytes[..];
        if skip > 0 {
            let n = (skip.min(data.len() as u64)) as usize;
            skip -= n as u64;
            data = &data[n..];
        }
        if data.is_empty() {
            continue;
        }
        *received += data.len() as u64;
        for o in demux.feed(data) {
            if out.send(o).await.is_err() {
                return End::Abandoned;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ids_as_url_parses_them() {
        assert_eq!(raw_segment("cmd-1_a.b"), "cmd-1_a.b");
        assert_eq!(raw_segment("a b?c#d/é"), "a%20b%3Fc%23d/%C3%A9");
    }
}
