//! Build logs travel as whole lines through a bounded channel: the backend produces them, the
//! caller (the napi glue) delivers them in order, with backpressure.

use tokio::sync::mpsc;

/// Where a backend sends log lines. Cloneable; the stream ends when every clone is dropped.
#[derive(Clone)]
pub struct LogSink(mpsc::Sender<String>);

/// The receiving end of a [`LogSink`].
pub type LogStream = mpsc::Receiver<String>;

impl LogSink {
    /// A sink and its stream; `capacity` lines may be buffered before `send` waits.
    pub fn channel(capacity: usize) -> (LogSink, LogStream) {
        let (tx, rx) = mpsc::channel(capacity);
        (LogSink(tx), rx)
    }

    /// Sends one line. A receiver that went away is not an error for the producer: the
    /// operation that needs cancelling is cancelled by the caller dropping its future.
    pub async fn line(&self, line: impl Into<String>) {
        let _ = self.0.send(line.into()).await;
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
