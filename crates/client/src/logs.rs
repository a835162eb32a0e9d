//! Build logs travel as whole lines through a bounded channel: the backend produces them, the
//! caller (the napi glue) delivers them in order, with backpressure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, watch};

use crate::error::{ClientError, Result};

/// How far the consumer got: lines handled, and whether handling one failed.
#[derive(Debug, Clone, Copy, Default)]
struct Handled {
    lines: u64,
    failed: bool,
}

/// Shared by both ends: lines sent and lines handled, so the producer can wait until the
/// consumer has caught up ([`LogSink::delivered`]).
#[derive(Debug)]
struct Progress {
    sent: AtomicU64,
    handled: watch::Sender<Handled>,
}

impl Progress {
    fn record(&self, lines: u64, failed: bool) {
        self.handled.send_modify(|h| {
            h.lines += lines;
            h.failed |= failed;
        });
    }
}

/// Where a backend sends log lines. Cloneable; the stream ends when every clone is dropped.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<String>,
    progress: Arc<Progress>,
}

/// The receiving end of a [`LogSink`]: each line comes with a [`Receipt`] that the consumer
/// drops once it has handled the line (or marks failed).
pub struct LogStream {
    rx: mpsc::Receiver<String>,
    progress: Arc<Progress>,
}

/// One received line being handled. Dropping it records the line as handled; [`Receipt::fail`]
/// records that handling it failed (the consumer gave up), which cancels waiting producers.
pub struct Receipt {
    progress: Arc<Progress>,
    failed: bool,
}

impl Receipt {
    pub fn fail(mut self) {
        self.failed = true;
    }
}

impl Drop for Receipt {
    fn drop(&mut self) {
        self.progress.record(1, self.failed);
    }
}

impl LogStream {
    pub async fn recv(&mut self) -> Option<(String, Receipt)> {
        let line = self.rx.recv().await?;
        Some((line, Receipt { progress: self.progress.clone(), failed: false }))
    }
}

impl Drop for LogStream {
    /// Lines still buffered will never be handled: count them, so no producer waits for them.
    fn drop(&mut self) {
        self.rx.close();
        let mut dropped = 0;
        while self.rx.try_recv().is_ok() {
            dropped += 1;
        }
        if dropped > 0 {
            self.progress.record(dropped, false);
        }
    }
}

impl LogSink {
    /// A sink and its stream; `capacity` lines may be buffered before `send` waits.
    pub fn channel(capacity: usize) -> (LogSink, LogStream) {
        let (tx, rx) = mpsc::channel(capacity);
        let progress = Arc::new(Progress { sent: AtomicU64::new(0), handled: watch::channel(Handled::default()).0 });
        (LogSink { tx, progress: progress.clone() }, LogStream { rx, progress })
    }

    /// Sends one line. A receiver that went away is not an error for the producer: the
    /// operation that needs cancelling is cancelled by the caller dropping its future.
    pub async fn line(&self, line: impl Into<String>) {
        self.progress.sent.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(line.into()).await.is_err() {
            self.progress.sent.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Waits until the consumer has handled every line sent so far. Fails when it failed to
    /// handle one (e.g. a log callback threw): the operation should stop before it creates
    /// anything that would outlive it.
    pub async fn delivered(&self) -> Result<()> {
        let mut handled = self.progress.handled.subscribe();
        loop {
            let h = *handled.borrow_and_update();
            if h.failed {
                return Err(ClientError::generic("Cancelled: the log callback failed"));
            }
            if h.lines >= self.progress.sent.load(Ordering::SeqCst) {
                return Ok(());
            }
            // Never closed: this sink holds the sender (through `progress`).
            let _ = handled.changed().await;
        }
    }
}

/// Optional sink helper so call sites read `logs.line(..)` whether or not logs are wanted.
#[derive(Clone, Default)]
pub struct Logs(Option<LogSink>);

impl Logs {
    pub fn new(sink: Option<LogSink>) -> Self {
        Logs(sink)
    }
    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }
    pub async fn line(&self, line: impl Into<String>) {
        if let Some(s) = &self.0 {
            s.line(line).await;
        }
    }
    /// [`LogSink::delivered`]; immediate without a sink.
    pub async fn delivered(&self) -> Result<()> {
        match &self.0 {
            Some(s) => s.delivered().await,
            None => Ok(()),
        }
    }
}

/// Assembles whole lines out of arbitrary text fragments (Docker's build stream splits and
/// joins lines freely). ANSI colour sequences are removed.
#[derive(Default)]
pub struct LineAssembler {
    pending: String,
}

impl LineAssembler {
    /// Feeds a fragment; returns the lines it completed.
    pub fn push(&mut self, fragment: &str) -> Vec<String> {
        self.pending.push_str(&strip_ansi(fragment));
        let mut lines = Vec::new();
        while let Some(pos) = self.pending.find('\n') {
            let mut line: String = self.pending.drain(..=pos).collect();
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
            lines.push(line);
        }
        lines
    }

    /// The unterminated rest, if any (call once the stream ended).
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() { None } else { Some(std::mem::take(&mut self.pending)) }
    }
}

/// Removes ANSI CSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(s: &str) -> String {
    if !s.contains('\u{1b}') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivered_waits_for_receipts_and_fails_with_them() {
        let (sink, mut stream) = LogSink::channel(8);
        sink.line("a").await;
        sink.line("b").await;
        let (_, ra) = stream.recv().await.unwrap();
        drop(ra);
        let (_, rb) = stream.recv().await.unwrap();
        let waiting = tokio::spawn({
            let sink = sink.clone();
            async move { sink.delivered().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(rb);
        assert!(waiting.await.unwrap().is_ok());

        sink.line("c").await;
        sink.line("d").await;
        let (_, rc) = stream.recv().await.unwrap();
        rc.fail();
        assert!(sink.delivered().await.is_err());

        // A dropped stream counts its buffered lines, so nobody waits for them.
        let (sink, stream) = LogSink::channel(8);
        sink.line("x").await;
        drop(stream);
        assert!(sink.delivered().await.is_ok());
    }

    #[test]
    fn assembles_lines_across_fragments() {
        let mut a = LineAssembler::default();
        assert!(a.push("Step 5/11 : RUN x").is_empty());
        assert_eq!(a.push("\n"), ["Step 5/11 : RUN x"]);
        assert_eq!(a.push("a\nb\r\nc"), ["a", "b"]);
        assert_eq!(a.push("\u{1b}[91mto-stderr\n\u{1b}[0m"), ["cto-stderr"]);
        assert_eq!(a.finish(), None);
        a.push("tail");
        assert_eq!(a.finish().as_deref(), Some("tail"));
    }
}
