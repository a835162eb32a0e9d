//! The session log stream's framing: the daemon writes a command's output as one byte stream in
//! which `01 01 01` switches to stdout and `02 02 02` to stderr. Markers may be split across
//! WebSocket frames and UTF-8 sequences across frames and markers, so both are decoded
//! incrementally: memory stays at the two bytes of a possible partial marker plus at most three
//! bytes of a partial UTF-8 sequence per stream.

use super::Output;

const STDOUT_MARK: u8 = 0x01;
const STDERR_MARK: u8 = 0x02;
const MARK_LEN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// `TextDecoder('utf-8')` with `{stream: true}`: invalid sequences become U+FFFD, an
/// incomplete sequence at the end of a chunk waits for the next one.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

/// The length a sequence starting with `b` must have (1 for a byte that cannot start one).
fn sequence_len(b: u8) -> usize {
    match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

impl Utf8Stream {
    /// Decodes `bytes` after what was pending; keeps an incomplete trailing sequence.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(bytes);
        // Hold back a trailing sequence that is a valid prefix but not complete yet.
        let keep = incomplete_tail(&buf);
        self.pending = buf.split_off(buf.len() - keep);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// The end of the stream: an incomplete sequence becomes U+FFFD.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        String::from_utf8_lossy(&rest).into_owned()
    }
}

/// How many trailing bytes of `buf` are the start of a UTF-8 sequence still waiting for bytes.
fn incomplete_tail(buf: &[u8]) -> usize {
    // A sequence is at most 4 bytes: look at the last 3 for its lead byte.
    for back in 1..=buf.len().min(3) {
        let b = buf[buf.len() - back];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte: the lead is further back
        }
        let need = sequence_len(b);
        if need <= back {
            return 0;
        }
        // Everything after the lead must be a continuation byte that keeps the sequence
        // valid (from_utf8 tells: an error "needing more input" means a valid prefix).
        let tail = &buf[buf.len() - back..];
        return match std::str::from_utf8(tail) {
            Err(e) if e.error_len().is_none() => back,
            _ => 0,
        };
    }
    0
}

/// Splits the labelled stream into stdout and stderr text.
#[derive(Debug, Default)]
pub struct Demuxer {
    current: Option<Stream>,
    /// Trailing bytes that may be the start of a marker (at most 2, all equal to 1 or 2).
    held: Vec<u8>,
    stdout: Utf8Stream,
    stderr: Utf8Stream,
}

impl Demuxer {
    pub fn new() -> Demuxer {
        Demuxer::default()
    }

    /// Feeds one frame; returns the text it completes, in order. Bytes before the first marker
    /// belong to no stream and are dropped, as the official SDK drops them.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Output> {
        let mut out = Vec::new();
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(chunk);
        let mut start = 0; // start of the payload not emitted yet
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            if b == STDOUT_MARK || b == STDERR_MARK {
                let run = data[i..].iter().take(MARK_LEN).take_while(|&&x| x == b).count();
                if run == MARK_LEN {
                    self.emit(&data[start..i], &mut out);
                    self.current = Some(if b == STDOUT_MARK { Stream::Stdout } else { Stream::Stderr });
                    i += MARK_LEN;
                    start = i;
                    continue;
                }
                if i + run == data.len() {
                    // A possible marker cut by the frame's end: wait for the next frame.
                    self.emit(&data[start..i], &mut out);
                    self.held = data[i..].to_vec();
                    return out;
                }
            }
            i += 1;
        }
        self.emit(&data[start..], &mut out);
        out
    }

    /// The end of the stream: held bytes are payload after all, partial UTF-8 is flushed.
    pub fn finish(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        let held = std::mem::take(&mut self.held);
        self.emit(&held, &mut out);
        let so = self.stdout.finish();
        if !so.is_empty() {
            out.push(Output::Stdout(so));
        }
        let se = self.stderr.finish();
        if !se.is_empty() {
            out.push(Output::Stderr(se));
        }
        out
    }

    fn emit(&mut self, payload: &[u8], out: &mut Vec<Output>) {
        if payload.is_empty() {
            return;
        }
        match self.current {
            Some(Stream::Stdout) => {
                let s = self.stdout.decode(payload);
                if !s.is_empty() {
                    out.push(Output::Stdout(s));
                }
            }
            Some(Stream::Stderr) => {
                let s = self.stderr.decode(payload);
                if !s.is_empty() {
                    out.push(Output::Stderr(s));
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joins adjacent chunks of one stream (chunking is not part of the contract).
    fn joined(v: Vec<Output>) -> Vec<Output> {
        let mut out: Vec<Output> = Vec::new();
        for o in v {
            match (out.last_mut(), o) {
                (Some(Output::Stdout(a)), Output::Stdout(b)) => a.push_str(&b),
                (Some(Output::Stderr(a)), Output::Stderr(b)) => a.push_str(&b),
                (_, o) => out.push(o),
            }
        }
        out
    }

    fn run(frames: &[&[u8]]) -> Vec<Output> {
        let mut d = Demuxer::new();
        let mut all = Vec::new();
        for f in frames {
            all.extend(d.feed(f));
        }
        all.extend(d.finish());
        joined(all)
    }

    fn so(s: &str) -> Output {
        Output::Stdout(s.into())
    }
    fn se(s: &str) -> Output {
        Output::Stderr(s.into())
    }

    #[test]
    fn markers_switch_streams() {
        assert_eq!(run(&[b"\x01\x01\x01out\n\x02\x02\x02err\n\x01\x01\x01more"]), vec![so("out\n"), se("err\n"), so("more")]);
    }

    #[test]
    fn unlabelled_bytes_are_dropped() {
        assert_eq!(run(&[b"junk\x01\x01\x01a"]), vec![so("a")]);
    }

    #[test]
    fn markers_split_at_every_position() {
        let whole: &[u8] = b"\x01\x01\x01hello \x02\x02\x02oops\x01\x01\x01 world\x02\x02\x02!";
        let expected = vec![so("hello "), se("oops"), so(" world"), se("!")];
        for cut in 0..=whole.len() {
            assert_eq!(run(&[&whole[..cut], &whole[cut..]]), expected, "cut at {cut}");
        }
        // One byte per frame.
        let frames: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(run(&frames), expected);
    }

    #[test]
    fn lone_control_bytes_are_payload() {
        assert_eq!(run(&[b"\x01\x01\x01a\x01b\x01\x01", b"c\x02"]), vec![so("a\x01b\x01\x01c\x02")]);
        // Four in a row: a marker, then one payload byte.
        assert_eq!(run(&[b"\x01\x01\x01\x01x"]), vec![so("\x01x")]);
    }

    #[test]
    fn utf8_split_across_frames_and_streams() {
        let text = "é✓😀";
        let mut whole = b"\x01\x01\x01".to_vec();
        whole.extend_from_slice(text.as_bytes());
        whole.extend_from_slice(b"\x02\x02\x02");
        whole.extend_from_slice(text.as_bytes());
        for cut in 0..=whole.len() {
            assert_eq!(run(&[&whole[..cut], &whole[cut..]]), vec![so(text), se(text)], "cut at {cut}");
        }
        // A sequence interrupted by the other stream resumes on its own stream.
        let e = "😀".as_bytes();
        let mut interleaved = b"\x01\x01\x01".to_vec();
        interleaved.extend_from_slice(&e[..2]);
        interleaved.extend_from_slice(b"\x02\x02\x02x\x01\x01\x01");
        interleaved.extend_from_slice(&e[2..]);
        assert_eq!(run(&[&interleaved]), vec![se("x"), so("😀")]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(run(&[b"\x01\x01\x01a\xffb"]), vec![so("a\u{FFFD}b")]);
        // Cut short at the end of the stream.
        assert_eq!(run(&[b"\x01\x01\x01a\xe2\x9c"]), vec![so("a\u{FFFD}")]);
    }
}
