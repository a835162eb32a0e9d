//! multipart/form-data both ways: the body of the toolbox's bulk upload, written as the
//! `form-data` package writes it, and an incremental parser for the bulk download's response
//! (parts are handed out as they arrive, so a large file can go straight to disk).

/// A boundary in the `form-data` package's style: 26 dashes and 24 random digits.
pub fn new_boundary() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    format!("--------------------------{:024}", n % 10u128.pow(24))
}

pub fn content_type_header(boundary: &str) -> String {
    format!("multipart/form-data; boundary={boundary}")
}

/// `"` and line breaks cannot appear inside a quoted header parameter; encode them as browsers do.
fn quote_param(s: &str) -> String {
    s.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

/// Everything before the file's bytes: the `files[0].path` field and the file part's header.
pub fn upload_head(boundary: &str, remote_path: &str, filename: &str, content_type: &str) -> Vec<u8> {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files[0].path\"\r\n\r\n{remote_path}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"files[0].file\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
        quote_param(filename)
    )
    .into_bytes()
}

/// Everything after the file's bytes.
pub fn upload_tail(boundary: &str) -> Vec<u8> {
    format!("\r\n--{boundary}--\r\n").into_bytes()
}

/// The content type the `form-data` package (mime-types) guesses for a file name; the default
/// is `application/octet-stream`.
pub fn guess_content_type(name: &str) -> &'static str {
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() || name.matches('.').count() > 1 => ext.to_ascii_lowercase(),
        _ => return "application/octet-stream",
    };
    match ext.as_str() {
        "txt" | "text" | "conf" | "log" | "ini" | "list" | "def" | "in" => "text/plain",
        "html" | "htm" | "shtml" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "md" | "markdown" => "text/markdown",
        "xml" => "application/xml",
        "yaml" | "yml" => "text/yaml",
        "js" | "mjs" => "application/javascript",
        "cjs" => "application/node",
        "json" | "map" => "application/json",
        "ts" => "video/mp2t",
        "mts" => "model/vnd.mts",
        "sh" => "application/x-sh",
        "toml" => "application/toml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "gif" => "image/gif",
        "svg" | "svgz" => "image/svg+xml",
        "webp" => "image/webp",
        "ico" => "image/vnd.microsoft.icon",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wave",
        "mp4" | "mp4v" | "mpg4" => "video/mp4",
        "exe" => "application/x-msdos-program",
        "dll" => "application/x-msdownload",
        _ => "application/octet-stream",
    }
}

/// The boundary of a `Content-Type` header (`/boundary="?([^";]+)"?/i`).
pub fn boundary_of(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    let i = lower.find("boundary=")?;
    let rest = &content_type[i + "boundary=".len()..];
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let end = rest.find(['"', ';']).unwrap_or(rest.len());
    let b = &rest[..end];
    if b.is_empty() { None } else { Some(b.to_string()) }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A part begins; `name` and `filename` come from its `Content-Disposition`.
    Part { name: Option<String>, filename: Option<String>, content_type: Option<String> },
    Data(Vec<u8>),
    End,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Looking for the first delimiter.
    Preamble,
    /// Just after a delimiter: `--` (the end) or a line break (a part follows).
    AfterDelimiter,
    Headers,
    Body,
    Done,
}

/// Incremental multipart parser.
pub struct Parser {
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: State,
}

impl Parser {
    pub fn new(boundary: &str) -> Parser {
        // The stream is read as if it started with a line break, so the first delimiter looks
        // like every other one.
        Parser { delimiter: format!("\r\n--{boundary}").into_bytes(), buf: b"\r\n".to_vec(), state: State::Preamble }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Feeds bytes; returns the events they completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, String> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        loop {
            match self.state {
                State::Done => {
                    self.buf.clear();
                    return Ok(events);
                }
                State::Preamble => match find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        self.buf.drain(..i + self.delimiter.len());
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        let keep = self.delimiter.len() - 1;
                        if self.buf.len() > keep {
                            self.buf.drain(..self.buf.len() - keep);
                        }
                        return Ok(events);
                    }
                },
                State::AfterDelimiter => {
                    if self.buf.len() < 2 {
                        return Ok(events);
                    }
                    if self.buf.starts_with(b"--") {
                        self.state = State::Done;
                        continue;
                    }
                    // Optional transport padding, then CRLF.
                    let Some(nl) = find(&self.buf, b"\r\n") else {
                        if self.buf.len() > 1024 {
                            return Err("malformed multipart delimiter line".into());
                        }
                        return Ok(events);
                    };
                    if !self.buf[..nl].iter().all(|b| *b == b' ' || *b == b'\t') {
                        return Err("malformed multipart delimiter line".into());
                    }
                    self.buf.drain(..nl + 2);
                    self.state = State::Headers;
                }
                State::Headers => {
                    // A part without headers starts with the blank line directly.
                    let (head_len, sep_len) = if self.buf.starts_with(b"\r\n") {
                        (0, 2)
                    } else {
                        match find(&self.buf, b"\r\n\r\n") {
                            Some(i) => (i, 4),
                            None => {
                                if self.buf.len() > 64 * 1024 {
                                    return Err("multipart part headers are too large".into());
                                }
                                return Ok(events);
                            }
                        }
                    };
                    let head = String::from_utf8_lossy(&self.buf[..head_len]).into_owned();
                    self.buf.drain(..head_len + sep_len);
                    events.push(part_event(&head));
                    self.state = State::Body;
                }
                State::Body => match find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        if i > 0 {
                            events.push(Event::Data(self.buf[..i].to_vec()));
                        }
                        events.push(Event::End);
                        self.buf.drain(..i + self.delimiter.len());
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        let keep = self.delimiter.len() - 1;
                        if self.buf.len() > keep {
                            let n = self.buf.len() - keep;
                            events.push(Event::Data(self.buf.drain(..n).collect()));
                        }
                        return Ok(events);
                    }
                },
            }
        }
    }

    /// Call at the end of the stream: a body that stops inside a part is an error.
    pub fn finish(&mut self) -> Result<(), String> {
        match self.state {
            State::Done => Ok(()),
            State::Preamble => Err("the response has no multipart parts".into()),
            _ => Err("the multipart response ended in the middle of a part".into()),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn part_event(head: &str) -> Event {
    let mut name = None;
    let mut filename = None;
    let mut filename_ext = None;
    let mut content_type = None;
    for line in head.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else { continue };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim();
        if k == "content-type" {
            content_type = Some(v.to_string());
        } else if k == "content-disposition" {
            for (pk, pv) in disposition_params(v) {
                match pk.as_str() {
                    "name" => name = Some(pv),
                    "filename" => filename = Some(pv),
                    "filename*" => filename_ext = decode_ext_value(&pv),
                    _ => {}
                }
            }
        }
    }
    Event::Part { name, filename: filename_ext.or(filename), content_type }
}

/// `form-data; name="a"; filename="b"` → [("name","a"), ("filename","b")]. Quoted strings may
/// contain `;` and backslash escapes.
fn disposition_params(v: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = v.chars().collect();
    let mut i = 0;
    // Skip the disposition type.
    while i < chars.len() && chars[i] != ';' {
        i += 1;
    }
    while i < chars.len() {
        i += 1; // ';'
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect::<String>().trim().to_ascii_lowercase();
        if i >= chars.len() || chars[i] == ';' {
            continue;
        }
        i += 1; // '='
        let mut value = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            i += 1; // closing quote
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
        } else {
            let s = i;
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
            value = chars[s..i].iter().collect::<String>().trim().to_string();
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

/// RFC 5987 `utf-8''percent%20encoded`.
fn decode_ext_value(v: &str) -> Option<String> {
    let (charset, rest) = v.split_once('\'')?;
    let (_, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(boundary: &str) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(format!("preamble\r\n--{boundary}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"/tmp/a b.txt\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.extend_from_slice(b"line1\r\nline2 --not-the-boundary\r\n");
        body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Disposition: form-data; name=\"error\"; filename=\"/missing\"\r\nContent-Type: application/json\r\n\r\n");
        body.extend_from_slice(br#"{"message":"file not found","statusCode":404,"code":"FILE_NOT_FOUND","source":"DAYTONA_DAEMON"}"#);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\nepilogue").as_bytes());
        body
    }

    fn collect(events: Vec<Event>) -> Vec<(Option<String>, Option<String>, Vec<u8>)> {
        let mut parts = Vec::new();
        for e in events {
            match e {
                Event::Part { name, filename, .. } => parts.push((name, filename, Vec::new())),
                Event::Data(d) => parts.last_mut().unwrap().2.extend(d),
                Event::End => {}
            }
        }
        parts
    }

    #[test]
    fn parses_in_any_chunking() {
        let boundary = "XyZ123";
        let body = sample(boundary);
        for chunk in [1usize, 2, 3, 7, 16, 1000] {
            let mut p = Parser::new(boundary);
            let mut events = Vec::new();
            for c in body.chunks(chunk) {
                events.extend(p.feed(c).unwrap());
            }
            p.finish().unwrap();
            let parts = collect(events);
            assert_eq!(parts.len(), 2, "chunk {chunk}");
            assert_eq!(parts[0].0.as_deref(), Some("file"));
            assert_eq!(parts[0].1.as_deref(), Some("/tmp/a b.txt"));
            assert_eq!(parts[0].2, b"line1\r\nline2 --not-the-boundary\r\n");
            assert_eq!(parts[1].0.as_deref(), Some("error"));
            assert!(String::from_utf8_lossy(&parts[1].2).contains("FILE_NOT_FOUND"));
        }
    }

    #[test]
    fn truncated_and_empty_bodies() {
        let mut p = Parser::new("b");
        p.feed(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nabc").unwrap();
        assert!(p.finish().is_err());
        let mut p = Parser::new("b");
        let ev = p.feed(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n\r\n--b--").unwrap();
        p.finish().unwrap();
        assert_eq!(collect(ev), [(Some("file".into()), Some("x".into()), vec![])]);
        let mut p = Parser::new("b");
        p.feed(b"nothing").unwrap();
        assert!(p.finish().is_err());
    }

    #[test]
    fn disposition_forms() {
        assert_eq!(
            part_event("Content-Disposition: form-data; name=file; filename=\"a\\\"b;c\""),
            Event::Part { name: Some("file".into()), filename: Some("a\"b;c".into()), content_type: None }
        );
        assert_eq!(
            part_event("content-disposition: form-data; name=\"file\"; filename*=UTF-8''%C3%A4.txt"),
            Event::Part { name: Some("file".into()), filename: Some("ä.txt".into()), content_type: None }
        );
    }

    #[test]
    fn boundary_and_upload_body() {
        assert_eq!(boundary_of("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary_of("multipart/form-data; BOUNDARY=\"a b\"; x=y").as_deref(), Some("a b"));
        assert_eq!(boundary_of("application/json"), None);
        let b = new_boundary();
        assert_eq!(b.len(), 50);
        assert!(b.starts_with("--------------------------"));
        let mut body = upload_head("B", "/home/x/data.csv", "data.csv", "text/csv");
        body.extend_from_slice(b"1,2\n");
        body.extend(upload_tail("B"));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--B\r\nContent-Disposition: form-data; name=\"files[0].path\"\r\n\r\n/home/x/data.csv\r\n--B\r\nContent-Disposition: form-data; name=\"files[0].file\"; filename=\"data.csv\"\r\nContent-Type: text/csv\r\n\r\n1,2\n\r\n--B--\r\n"
        );
        assert_eq!(guess_content_type("a.JSON"), "application/json");
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
        assert_eq!(guess_content_type(".bashrc"), "application/octet-stream");
        // Our own upload parses back.
        let mut p = Parser::new("B");
        let mut body = upload_head("B", "/p", "f", "application/octet-stream");
        body.extend(upload_tail("B"));
        let parts = collect(p.feed(&body).unwrap());
        p.finish().unwrap();
        assert_eq!(parts[0].2, b"/p");
        assert_eq!(parts[1].1.as_deref(), Some("f"));
    }
}
