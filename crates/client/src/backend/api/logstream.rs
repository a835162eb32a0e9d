//! Build-log streaming (reference §3.3), done right: whole lines, the HTTP status checked, a
//! dropped stream reopened where it stopped (no line lost or repeated), the credential sent
//! only to trusted origins, and the end decided as the official SDK decides it (the stream
//! ends, or two consecutive 2-second silences while the build is terminal).
//!
//! Resuming: the log is an append-only byte sequence. After a drop the stream is reopened with
//! `Range: bytes=<offset>-`, where `<offset>` is the end of the last complete line delivered (a
//! half line received before the cut is discarded and read again whole). A `206` body starts at
//! `<offset>`; a server that ignores `Range` answers `200` from byte 0 and the first `<offset>`
//! bytes are skipped here; `416` means there is nothing past `<offset>` (the log is complete).
//! [`resume_request_header`] and [`LineCursor::begin`] are the whole strategy.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue, RANGE};

use super::errors;
use super::http::{Http, Request, origin_of};
use crate::error::{ClientError, ErrorKind, Result};
use crate::events::StepParser;
use crate::logs::{LINE_CONTINUES, Logs, MAX_LINE_BYTES, strip_ansi, utf8_cut};

/// Silence after which the build state is checked (the official `chunkTimeout`).
pub const IDLE: Duration = Duration::from_secs(2);
/// Consecutive failed (re)connections without any new line before giving up.
pub const MAX_FAILURES: u32 = 6;

/// The header that asks for the log from `offset` on (none at the start).
pub fn resume_request_header(offset: u64) -> Option<(HeaderName, HeaderValue)> {
    (offset > 0).then(|| (RANGE, HeaderValue::from_str(&format!("bytes={offset}-")).expect("ascii")))
}

/// `url` with `follow=true` added to its query.
pub fn follow_url(url: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { if base.ends_with('?') || base.ends_with('&') { "" } else { "&" } } else { "?" };
    let mut out = format!("{base}{sep}follow=true");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// What a (re)connection's status means for the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Read the body.
    Read,
    /// Nothing more to read: the log ended at the offset already consumed.
    Complete,
}

/// Turns the bytes of one or more connections into whole lines, remembering how far the
/// delivered lines reach. Linear in the bytes received: only new bytes are searched for line
/// ends, and a line longer than [`MAX_LINE_BYTES`] is delivered in pieces (each but the last
/// ending with [`LINE_CONTINUES`]), so at most that many bytes are ever held back.
#[derive(Default)]
pub struct LineCursor {
    /// Bytes up to the end of the last line (or piece of a long line) delivered.
    committed: u64,
    /// Bytes received after `committed` (an unfinished line, at most `MAX_LINE_BYTES`).
    pending: Vec<u8>,
    /// Bytes still to drop at the start of this connection's body (a `200` replay).
    skip: u64,
}

/// A line's text: lossy UTF-8, without ANSI colour sequences.
fn text_of(raw: &[u8]) -> String {
    strip_ansi(&String::from_utf8_lossy(raw))
}

impl LineCursor {
    pub fn offset(&self) -> u64 {
        self.committed
    }

    /// A response arrived for a request made at [`LineCursor::offset`].
    pub fn begin(&mut self, status: u16) -> Start {
        self.pending.clear();
        match status {
            416 => Start::Complete,
            206 => {
                self.skip = 0;
                Start::Read
            }
            _ => {
                self.skip = self.committed;
                Start::Read
            }
        }
    }

    /// Feeds body bytes; returns the lines they complete.
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<String> {
        if self.skip > 0 {
            let n = (self.skip as usize).min(bytes.len());
            bytes = &bytes[n..];
            self.skip -= n as u64;
        }
        let mut lines = Vec::new();
        while let Some(pos) = memchr::memchr(b'\n', bytes) {
            self.append(&bytes[..pos], &mut lines);
            let raw = std::mem::take(&mut self.pending);
            self.committed += raw.len() as u64 + 1;
            let mut line = text_of(&raw);
            if line.ends_with('\r') {
                line.pop();
            }
            lines.push(line);
            bytes = &bytes[pos + 1..];
        }
        self.append(bytes, &mut lines);
        lines
    }

    /// Adds bytes without a newline to the unfinished line; past [`MAX_LINE_BYTES`] its first
    /// part is delivered (cut where no UTF-8 sequence is split) with the continuation marker.
    fn append(&mut self, mut bytes: &[u8], lines: &mut Vec<String>) {
        while self.pending.len() + bytes.len() > MAX_LINE_BYTES {
            let room = MAX_LINE_BYTES - self.pending.len();
            self.pending.extend_from_slice(&bytes[..room]);
            bytes = &bytes[room..];
            let cut = match utf8_cut(&self.pending, MAX_LINE_BYTES) {
                0 => MAX_LINE_BYTES,
                c => c,
            };
            let rest = self.pending.split_off(cut);
            let piece = std::mem::replace(&mut self.pending, rest);
            self.committed += piece.len() as u64;
            let mut line = text_of(&piece);
            line.push_str(LINE_CONTINUES);
            lines.push(line);
        }
        self.pending.extend_from_slice(bytes);
    }

    /// The connection broke: the unfinished line is dropped (it is read again whole).
    pub fn dropped(&mut self) {
        self.pending.clear();
        self.skip = 0;
    }

    /// The stream really ended: an unterminated last line is still a line.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let raw = std::mem::take(&mut self.pending);
        self.committed += raw.len() as u64;
        Some(text_of(&raw))
    }
}

enum Outcome {
    /// The log is complete (the stream ended and the build is over, or it stayed silent while
    /// the build was over).
    Done,
    /// The connection broke or ended too early; open it again.
    Reconnect(ClientError),
}

/// Streams `url` into `logs` until the build is over. `terminal` tells whether it is. Each line
/// goes through `steps`, which turns the builder's step lines into step events (the server's
/// log is the classic builder's output); the caller ends the build with `steps` once it knows
/// how it ended.
pub async fn follow<F, Fut>(http: &Http, url: &str, logs: &Logs, steps: &mut StepParser, mut terminal: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let url = follow_url(url);
    let trusted = http.is_trusted(&url);
    let origin = origin_of(&url).unwrap_or_else(|| "the build-logs URL".into());
    let mut cursor = LineCursor::default();
    let mut failures = 0u32;
    loop {
        let offset_before = cursor.offset();
        let outcome = connect_and_read(http, &url, trusted, &origin, logs, steps, &mut cursor, &mut terminal).await?;
        match outcome {
            Outcome::Done => {
                if let Some(last) = cursor.finish() {
                    line(logs, steps, http.scrub(&last)).await;
                }
                return Ok(());
            }
            Outcome::Reconnect(err) => {
                if cursor.offset() > offset_before {
                    failures = 0;
                }
                failures += 1;
                if failures >= MAX_FAILURES {
                    let mut e = err;
                    e.message = format!("The build log stream from {origin} failed {failures} times in a row: {}", e.message);
                    return Err(e);
                }
                tokio::time::sleep(Duration::from_millis(200 * u64::from(failures - 1))).await;
            }
        }
    }
}

async fn connect_and_read<F, Fut>(
    http: &Http,
    url: &str,
    trusted: bool,
    origin: &str,
    logs: &Logs,
    steps: &mut StepParser,
    cursor: &mut LineCursor,
    terminal: &mut F,
) -> Result<Outcome>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let mut req = Request::new(Method::GET, url.to_string());
    req.accept = "*/*";
    req.any_status = true;
    // The stream is open as long as the build runs; the caller's deadline bounds it.
    req.deadline = super::http::Deadline::Ms(0.0);
    if let Some(h) = resume_request_header(cursor.offset()) {
        req.extra_headers.push(h);
    }
    let resp = match http.send_streaming(&req).await {
        Ok(r) => r,
        Err(e) if e.kind == ErrorKind::Connection => return Ok(Outcome::Reconnect(e)),
        Err(e) => return Err(e),
    };
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) && status != 416 {
        let e = http.error_from_response(resp).await;
        if matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
            return Ok(Outcome::Reconnect(e));
        }
        if !trusted && matches!(status, 401 | 403) {
            return Err(ClientError::new(
                e.kind,
                format!(
                    "The build logs at {origin} asked for credentials ({status}); daytona-native sends the API key only to the \
                     Daytona API ({}) and its toolbox proxies, never to other hosts",
                    http.api_origin()
                ),
            ));
        }
        let mut e = e;
        e.message = format!("Streaming the build logs failed: {}", e.message);
        return Err(e);
    }
    if cursor.begin(status) == Start::Complete {
        return Ok(Outcome::Done);
    }
    let mut body = resp.bytes_stream();
    let mut streak = 0u32;
    loop {
        let next = tokio::time::timeout(IDLE, body.next()).await;
        match next {
            Ok(Some(Ok(chunk))) => {
                deliver(http, logs, steps, cursor, &chunk).await;
                streak = 0;
            }
            Ok(Some(Err(e))) => {
                cursor.dropped();
                let (_, err) = http.transport_error(&e, None);
                return Ok(Outcome::Reconnect(err));
            }
            Ok(None) => {
                // A clean end. Over once the build is; if it is not (yet), look again briefly
                // (a poll loop may not have seen the final state), then reopen.
                for _ in 0..4 {
                    if terminal().await? {
                        return Ok(Outcome::Done);
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                cursor.dropped();
                return Ok(Outcome::Reconnect(errors::connection_error("the build log stream ended before the build did")));
            }
            Err(_idle) => {
                if terminal().await? {
                    streak += 1;
                    if streak >= 2 {
                        return Ok(Outcome::Done);
                    }
                } else {
                    streak = 0;
                }
            }
        }
    }
}

async fn deliver(http: &Http, logs: &Logs, steps: &mut StepParser, cursor: &mut LineCursor, chunk: &Bytes) {
    for l in cursor.push(chunk) {
        line(logs, steps, http.scrub(&l)).await;
    }
}

/// One line: the step events it implies (arrival time is the only clock the client has), then
/// the line with its step.
async fn line(logs: &Logs, steps: &mut StepParser, line: String) {
    let (events, step) = steps.line(&line, std::time::Instant::now());
    for e in events {
        logs.event(e).await;
    }
    logs.step_line(line, step).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "Step 1/4 : FROM python\n ---> 3f2a\nCollecting requests (grüße ✓)\nStep 3/4\nSuccessfully built\n";

    fn lines_of(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    /// Delivers LOG through connections cut at `cuts` (byte positions of the whole log),
    /// reconnecting with the given status each time.
    fn replay(cuts: &[usize], resume_status: u16, chunk: usize) -> Vec<String> {
        let bytes = LOG.as_bytes();
        let mut cursor = LineCursor::default();
        let mut out = Vec::new();
        let mut start_status = 200;
        let mut cut_iter = cuts.iter().copied().chain(std::iter::once(bytes.len()));
        let mut end = cut_iter.next().unwrap();
        loop {
            assert_eq!(cursor.begin(start_status), Start::Read);
            let from = if start_status == 206 { cursor.offset() as usize } else { 0 };
            for piece in bytes[from..end].chunks(chunk) {
                out.extend(cursor.push(piece));
            }
            if end == bytes.len() {
                out.extend(cursor.finish());
                return out;
            }
            cursor.dropped();
            start_status = resume_status;
            end = cut_iter.next().unwrap();
        }
    }

    #[test]
    fn whole_lines_across_reconnects() {
        let expected = lines_of(LOG);
        // UTF-8 sequences split between chunks and connections.
        let umlaut = LOG.find('ü').unwrap() + 1;
        for status in [206, 200] {
            for chunk in [1, 3, 7, 64] {
                assert_eq!(replay(&[], status, chunk), expected);
                assert_eq!(replay(&[5, umlaut, umlaut + 9, 60], status, chunk), expected, "status {status} chunk {chunk}");
                // A cut exactly at a line end, and two cuts without progress in between.
                let nl = LOG.find('\n').unwrap() + 1;
                assert_eq!(replay(&[nl, nl, nl + 2], status, chunk), expected);
            }
        }
    }

    #[test]
    fn offsets_and_starts() {
        let mut c = LineCursor::default();
        assert_eq!(resume_request_header(c.offset()), None);
        assert_eq!(c.push(b"ab\ncd"), ["ab"]);
        assert_eq!(c.offset(), 3);
        c.dropped();
        assert_eq!(resume_request_header(c.offset()).unwrap().1, "bytes=3-");
        assert_eq!(c.begin(416), Start::Complete);
        assert_eq!(c.finish(), None);
        let mut c = LineCursor::default();
        c.push(b"x\r\n\x1b[31mred\x1b[0m\nlast");
        assert_eq!(c.finish().as_deref(), Some("last"));
        let mut c = LineCursor::default();
        assert_eq!(c.push(b"x\r\n\x1b[31mred\x1b[0m\n"), ["x", "red"]);
    }

    #[test]
    fn long_lines_are_pieces_and_resume_exactly() {
        // A 300 KiB line (2-byte characters, so cuts fall inside sequences), then a short one.
        let long = "é".repeat(150 * 1024);
        let log = format!("{long}\nshort\n");
        let bytes = log.as_bytes();
        let mut c = LineCursor::default();
        let mut out = Vec::new();
        // Cut the connection in the middle of the long line, after some pieces went out.
        let cut = 200 * 1024 + 1;
        for chunk in bytes[..cut].chunks(10_000) {
            out.extend(c.push(chunk));
        }
        c.dropped();
        assert_eq!(c.offset() % 2, 0, "pieces end on character boundaries");
        assert!(c.offset() > 0 && c.offset() <= cut as u64);
        assert_eq!(c.begin(206), Start::Read);
        for chunk in bytes[c.offset() as usize..].chunks(9_999) {
            out.extend(c.push(chunk));
        }
        assert_eq!(c.finish(), None);
        assert_eq!(out.last().map(String::as_str), Some("short"));
        let pieces = &out[..out.len() - 1];
        assert!(pieces.len() >= 5);
        let mut joined = String::new();
        for (i, p) in pieces.iter().enumerate() {
            assert!(p.len() <= MAX_LINE_BYTES + LINE_CONTINUES.len());
            match p.strip_suffix(LINE_CONTINUES) {
                Some(head) => joined.push_str(head),
                None => {
                    assert_eq!(i, pieces.len() - 1, "only the last piece has no marker");
                    joined.push_str(p);
                }
            }
        }
        assert_eq!(joined, long);
        assert_eq!(c.offset(), bytes.len() as u64);
    }

    #[test]
    fn an_endless_line_is_linear() {
        let mut c = LineCursor::default();
        let chunk = vec![b'x'; 16 * 1024];
        let mut n = 0;
        for _ in 0..(256 * 1024 * 1024 / chunk.len()) {
            n += c.push(&chunk).len();
        }
        assert_eq!(n, 256 * 1024 * 1024 / MAX_LINE_BYTES - 1);
        assert!(c.pending.len() <= MAX_LINE_BYTES);
    }

    #[test]
    fn follow_parameter() {
        assert_eq!(follow_url("http://h/logs/1"), "http://h/logs/1?follow=true");
        assert_eq!(follow_url("http://h/logs/1?sig=abc"), "http://h/logs/1?sig=abc&follow=true");
        assert_eq!(follow_url("http://h/l?"), "http://h/l?follow=true");
    }
}
