//! Build logs travel as whole lines through a bounded channel, with the build's typed events
//! ([`BuildEvent`]) between them: the backend produces them, the caller (the napi glue)
//! delivers them in order, with backpressure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, watch};

use crate::error::{ClientError, Result};
use crate::events::BuildEvent;

/// What travels through a [`LogSink`]: a line of output (for the string log callback, and as a
/// `log` event with its step), or a build event.
#[derive(Debug, Clone, PartialEq)]
pub enum LogItem {
    Line { text: String, step: Option<u32> },
    Event(BuildEvent),
}

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

/// Where a backend sends log lines and build events. Cloneable; the stream ends when every
/// clone is dropped. Events are sent only to a sink made with `events` wanted.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<LogItem>,
    progress: Arc<Progress>,
    events: bool,
}

/// The receiving end of a [`LogSink`]: each line comes with a [`Receipt`] that the consumer
/// drops once it has handled the line (or marks failed).
pub struct LogStream {
    rx: mpsc::Receiver<LogItem>,
    progress: Arc<Progress>,
}

/// Received items being handled. Dropping it records them as handled; [`Receipt::fail`]
/// records that handling them failed (the consumer gave up), which cancels waiting producers.
pub struct Receipt {
    progress: Arc<Progress>,
    items: u64,
    failed: bool,
}

impl Receipt {
    pub fn fail(mut self) {
        self.failed = true;
    }
}

impl Drop for Receipt {
    fn drop(&mut self) {
        self.progress.record(self.items, self.failed);
    }
}

impl LogStream {
    pub async fn recv(&mut self) -> Option<(LogItem, Receipt)> {
        let item = self.rx.recv().await?;
        Some((item, Receipt { progress: self.progress.clone(), items: 1, failed: false }))
    }

    /// Waits for one item, then takes up to `max` in all of those already queued, in order,
    /// with one receipt for them all.
    pub async fn recv_batch(&mut self, max: usize) -> Option<(Vec<LogItem>, Receipt)> {
        let first = self.rx.recv().await?;
        let mut items = vec![first];
        while items.len() < max {
            match self.rx.try_recv() {
                Ok(item) => items.push(item),
                Err(_) => break,
            }
        }
        let n = items.len() as u64;
        Some((items, Receipt { progress: self.progress.clone(), items: n, failed: false }))
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
    /// A sink and its stream; `capacity` items may be buffered before `send` waits. Build
    /// events are sent only when `events` is true (someone listens to them).
    pub fn channel(capacity: usize, events: bool) -> (LogSink, LogStream) {
        let (tx, rx) = mpsc::channel(capacity);
        let progress = Arc::new(Progress { sent: AtomicU64::new(0), handled: watch::channel(Handled::default()).0 });
        (LogSink { tx, progress: progress.clone(), events }, LogStream { rx, progress })
    }

    /// Sends one item. A receiver that went away is not an error for the producer: the
    /// operation that needs cancelling is cancelled by the caller dropping its future.
    async fn send(&self, item: LogItem) {
        self.progress.sent.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(item).await.is_err() {
            self.progress.sent.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Sends one line that belongs to no build step.
    pub async fn line(&self, line: impl Into<String>) {
        self.send(LogItem::Line { text: line.into(), step: None }).await;
    }

    /// Sends one line of build output and the step it belongs to.
    pub async fn step_line(&self, line: impl Into<String>, step: Option<u32>) {
        self.send(LogItem::Line { text: line.into(), step }).await;
    }

    /// Sends a build event (nothing when the sink does not want events).
    pub async fn event(&self, event: BuildEvent) {
        if self.events {
            self.send(LogItem::Event(event)).await;
        }
    }

    pub fn wants_events(&self) -> bool {
        self.events
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

/// Optional sink helper so call sites read `logs.line(..)` / `logs.event(..)` whether or not
/// logs or events are wanted.
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
    /// A line of build output in `step` (see [`crate::events::StepParser`]).
    pub async fn step_line(&self, line: impl Into<String>, step: Option<u32>) {
        if let Some(s) = &self.0 {
            s.step_line(line, step).await;
        }
    }
    /// Does anyone listen to build events? (Work done only to report one can be skipped.)
    pub fn events_enabled(&self) -> bool {
        self.0.as_ref().is_some_and(LogSink::wants_events)
    }
    pub async fn event(&self, event: BuildEvent) {
        if let Some(s) = &self.0 {
            s.event(event).await;
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

/// The longest line delivered whole, in bytes (UTF-8). A longer line (e.g. a progress bar or a
/// binary blob without a newline) is delivered in pieces of at most this many bytes, each piece
/// but the last ending with [`LINE_CONTINUES`], so that neither memory nor the time per byte
/// grows with the length of a line.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Appended to every piece of a line longer than [`MAX_LINE_BYTES`] except its last.
pub const LINE_CONTINUES: &str = " [line longer than 64 KiB: continued on the next line]";

/// The largest `i <= limit` at which `bytes[..i]` does not end inside a UTF-8 sequence (the
/// bytes after `limit` are not known yet: a sequence that starts before `limit` and would end
/// after it is left out). At most 3 bytes are given back.
pub fn utf8_cut(bytes: &[u8], limit: usize) -> usize {
    let limit = limit.min(bytes.len());
    let floor = limit.saturating_sub(3);
    let mut start = limit;
    while start > floor {
        let b = bytes[start - 1];
        if b & 0xC0 != 0x80 {
            // `b` starts a sequence (or is ASCII / invalid): is the sequence complete?
            let len = match b {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if start - 1 + len > limit { start - 1 } else { limit };
        }
        start -= 1;
    }
    limit
}

/// Assembles whole lines out of arbitrary text fragments (Docker's build stream splits and
/// joins lines freely). ANSI colour sequences are removed. Linear in the input: every byte is
/// looked at a bounded number of times, and at most [`MAX_LINE_BYTES`] are held back.
#[derive(Default)]
pub struct LineAssembler {
    pending: String,
}

impl LineAssembler {
    /// Feeds a fragment; returns the lines it completed (a line longer than
    /// [`MAX_LINE_BYTES`] as several pieces, see [`LINE_CONTINUES`]).
    pub fn push(&mut self, fragment: &str) -> Vec<String> {
        let text = strip_ansi(fragment);
        let mut lines = Vec::new();
        let mut rest = text.as_str();
        while let Some(pos) = rest.find('\n') {
            self.append(&rest[..pos], &mut lines);
            let mut line = std::mem::take(&mut self.pending);
            if line.ends_with('\r') {
                line.pop();
            }
            lines.push(line);
            rest = &rest[pos + 1..];
        }
        self.append(rest, &mut lines);
        lines
    }

    /// Adds text without a newline to the unfinished line, cutting it into pieces when it
    /// passes [`MAX_LINE_BYTES`].
    fn append(&mut self, mut text: &str, lines: &mut Vec<String>) {
        while self.pending.len() + text.len() > MAX_LINE_BYTES {
            let room = MAX_LINE_BYTES - self.pending.len();
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.pending.push_str(&text[..cut]);
            text = &text[cut..];
            let mut piece = std::mem::take(&mut self.pending);
            piece.push_str(LINE_CONTINUES);
            lines.push(piece);
        }
        self.pending.push_str(text);
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
        let (sink, mut stream) = LogSink::channel(8, false);
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
        let (sink, stream) = LogSink::channel(8, false);
        sink.line("x").await;
        drop(stream);
        assert!(sink.delivered().await.is_ok());
    }

    #[tokio::test]
    async fn batches_keep_order_and_count_every_item() {
        let (sink, mut stream) = LogSink::channel(16, true);
        let quiet = LogSink::channel(16, false).0;
        quiet.event(BuildEvent::StepCached { index: 1 }).await;
        assert_eq!(quiet.progress.sent.load(Ordering::SeqCst), 0, "no events without a listener");
        sink.line("a").await;
        sink.event(BuildEvent::StepCached { index: 2 }).await;
        sink.step_line("b", Some(2)).await;
        let (items, receipt) = stream.recv_batch(2).await.unwrap();
        assert_eq!(items, [LogItem::Line { text: "a".into(), step: None }, LogItem::Event(BuildEvent::StepCached { index: 2 })]);
        let waiting = tokio::spawn({
            let sink = sink.clone();
            async move { sink.delivered().await }
        });
        drop(receipt);
        let (items, receipt) = stream.recv_batch(64).await.unwrap();
        assert_eq!(items, [LogItem::Line { text: "b".into(), step: Some(2) }]);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        receipt.fail();
        assert!(waiting.await.unwrap().is_err());
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

    #[test]
    fn long_lines_are_split_with_a_marker() {
        let mut a = LineAssembler::default();
        // 200 KiB of 3-byte characters without a newline, in odd fragments.
        let text = "✓".repeat(200 * 1024 / 3);
        let mut pieces = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let mut j = (i + 7777).min(text.len());
            while !text.is_char_boundary(j) {
                j += 1;
            }
            pieces.extend(a.push(&text[i..j]));
            i = j;
        }
        pieces.extend(a.push("end\r\nnext"));
        assert!(pieces.len() >= 4, "{}", pieces.len());
        let mut joined = String::new();
        for (n, p) in pieces.iter().enumerate() {
            if n + 1 < pieces.len() {
                assert!(p.len() <= MAX_LINE_BYTES + LINE_CONTINUES.len());
                joined.push_str(p.strip_suffix(LINE_CONTINUES).expect("marker"));
            } else {
                assert!(!p.ends_with(LINE_CONTINUES));
                joined.push_str(p);
            }
        }
        assert_eq!(joined, format!("{text}end"));
        assert_eq!(a.finish().as_deref(), Some("next"));
    }

    #[test]
    fn an_endless_line_is_linear() {
        // 64 MiB in 1-byte-heavy fragments: quadratic re-scanning would take minutes.
        let mut a = LineAssembler::default();
        let chunk = "x".repeat(4096);
        let mut n = 0usize;
        for _ in 0..(64 * 1024 * 1024 / 4096) {
            for l in a.push(&chunk) {
                assert_eq!(l.len(), MAX_LINE_BYTES + LINE_CONTINUES.len());
                n += 1;
            }
        }
        assert_eq!(n, 64 * 1024 * 1024 / MAX_LINE_BYTES - 1);
        assert_eq!(a.finish().map(|s| s.len()), Some(MAX_LINE_BYTES));
    }

    #[test]
    fn utf8_cuts() {
        let s = "a✓b".as_bytes(); // 61 e2 9c 93 62
        assert_eq!(utf8_cut(s, 5), 5);
        assert_eq!(utf8_cut(s, 4), 4);
        assert_eq!(utf8_cut(s, 3), 1);
        assert_eq!(utf8_cut(s, 2), 1);
        assert_eq!(utf8_cut(s, 1), 1);
        assert_eq!(utf8_cut(b"\xff\xff\xff\xff", 3), 3);
        assert_eq!(utf8_cut("é".as_bytes(), 1), 0);
    }
}
