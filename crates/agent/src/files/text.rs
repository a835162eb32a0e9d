//! `GET /files/find` (lines containing a literal text) and `POST /files/replace` (literal
//! replace-all), as the daemon does them: plain substrings, not regular expressions.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::Path;

use memchr::memmem;
use serde::Deserialize;
use serde_json::{Value, json};

/// Longest line `find` reads (the daemon's line scanner gives up on a file at a longer line).
const MAX_LINE: u64 = 64 * 1024;

pub fn find(root: &Path, pattern: &[u8]) -> Value {
    let finder = memmem::Finder::new(pattern);
    let mut matches = Vec::new();
    super::walk(root, &mut |path, md| {
        if md.file_type().is_file() {
            let _ = find_in_file(path, &finder, &mut matches);
        }
    });
    Value::Array(matches)
}

fn find_in_file(path: &Path, finder: &memmem::Finder, out: &mut Vec<Value>) -> io::Result<()> {
    let mut f = File::open(path)?;
    // Text files only: none of the first 512 bytes is NUL (empty files have no lines).
    let mut head = [0u8; 512];
    let n = f.read(&mut head)?;
    if n == 0 || head[..n].contains(&0) {
        return Ok(());
    }
    f.rewind()?;
    let mut r = BufReader::with_capacity(64 * 1024, f);
    let mut line = Vec::new();
    let mut no = 0u64;
    loop {
        line.clear();
        let got = (&mut r).take(MAX_LINE + 1).read_until(b'\n', &mut line)?;
        if got == 0 {
            return Ok(());
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        } else if got as u64 > MAX_LINE {
            return Ok(());
        }
        no += 1;
        if finder.find(&line).is_some() {
            out.push(json!({
                "file": path.to_string_lossy(),
                "line": no,
                "content": String::from_utf8_lossy(&line),
            }));
        }
    }
}

#[derive(Deserialize)]
pub struct ReplaceRequest {
    files: Vec<String>,
    pattern: String,
    #[serde(rename = "newValue")]
    new_value: Option<String>,
}

/// Files up to this size are replaced in memory; larger ones stream through a temporary file.
const IN_MEMORY: u64 = 16 << 20;

pub fn replace(req: ReplaceRequest) -> Value {
    let new = req.new_value.unwrap_or_default();
    let results: Vec<Value> = req
        .files
        .iter()
        .map(|file| match replace_in(Path::new(file), req.pattern.as_bytes(), new.as_bytes()) {
            Ok(()) => json!({ "file": file, "success": true }),
            Err(e) => json!({ "file": file, "success": false, "error": e }),
        })
        .collect();
    Value::Array(results)
}

fn replace_in(path: &Path, pattern: &[u8], new: &[u8]) -> Result<(), String> {
    let err = |op: &str, e: io::Error| super::os_error(op, path, &e);
    let md = std::fs::metadata(path).map_err(|e| err("open", e))?;
    if md.is_dir() {
        return Err(format!("read {}: is a directory", path.display()));
    }
    if md.len() <= IN_MEMORY || pattern.is_empty() {
        if md.len() > IN_MEMORY {
            return Err("an empty pattern is only supported for files up to 16 MiB".into());
        }
        let data = std::fs::read(path).map_err(|e| err("open", e))?;
        let out = replace_all(&data, pattern, new);
        // Rewritten in place (same inode, owner and mode), as the daemon's write does.
        return std::fs::write(path, out).map_err(|e| err("open", e));
    }
    // Large file: replace into a sibling temporary file, then copy it back in place.
    let tmp_path = path.with_file_name(format!(".{}.daytona-replace-{}", super::file_name(path), std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut tmp = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&tmp_path)?;
        let _ = std::fs::remove_file(&tmp_path);
        stream_replace(File::open(path)?, &mut tmp, pattern, new)?;
        tmp.rewind()?;
        let mut dst = std::fs::OpenOptions::new().write(true).truncate(true).open(path)?;
        io::copy(&mut tmp, &mut dst)?;
        dst.flush()
    })();
    let _ = std::fs::remove_file(&tmp_path);
    result.map_err(|e| err("write", e))
}

/// Every occurrence of `pattern` replaced; an empty pattern puts `new` before each character
/// and at the end (the daemon's semantics), invalid UTF-8 bytes counting as one character each.
fn replace_all(data: &[u8], pattern: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    if pattern.is_empty() {
        let mut i = 0;
        out.extend_from_slice(new);
        while i < data.len() {
            let step = match std::str::from_utf8(&data[i..(i + 4).min(data.len())]) {
                Ok(s) => s.chars().next().map_or(1, char::len_utf8),
                Err(e) if e.valid_up_to() > 0 => std::str::from_utf8(&data[i..i + e.valid_up_to()])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8),
                Err(_) => 1,
            };
            out.extend_from_slice(&data[i..i + step]);
            out.extend_from_slice(new);
            i += step;
        }
        return out;
    }
    let mut last = 0;
    for at in memmem::find_iter(data, pattern) {
        if at < last {
            continue;
        }
        out.extend_from_slice(&data[last..at]);
        out.extend_from_slice(new);
        last = at + pattern.len();
    }
    out.extend_from_slice(&data[last..]);
    out
}

/// Streaming replace-all: keeps at most `pattern.len() - 1` bytes between chunks.
fn stream_replace(mut src: impl Read, dst: &mut impl Write, pattern: &[u8], new: &[u8]) -> io::Result<()> {
    let finder = memmem::Finder::new(pattern);
    let mut buf: Vec<u8> = Vec::with_capacity(256 * 1024 + pattern.len());
    let mut chunk = vec![0u8; 256 * 1024];
    let mut out = io::BufWriter::with_capacity(256 * 1024, dst);
    loop {
        let n = src.read(&mut chunk)?;
        buf.extend_from_slice(&chunk[..n]);
        let mut last = 0;
        while let Some(at) = finder.find(&buf[last..]) {
            out.write_all(&buf[last..last + at])?;
            out.write_all(new)?;
            last += at + pattern.len();
        }
        if n == 0 {
            out.write_all(&buf[last..])?;
            return out.flush();
        }
        // Keep a tail that could be the start of a match split by the chunk boundary.
        let keep_from = buf.len().saturating_sub(pattern.len() - 1).max(last);
        out.write_all(&buf[last..keep_from])?;
        buf.drain(..keep_from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces() {
        assert_eq!(replace_all(b"aXbXX", b"X", b"yy"), b"ayybyyyy");
        assert_eq!(replace_all(b"aaa", b"aa", b"b"), b"ba");
        assert_eq!(replace_all("aé".as_bytes(), b"", b"-"), "-a-é-".as_bytes());
        let mut out = Vec::new();
        // One-byte reads split every match across chunk boundaries.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                let Some((&first, rest)) = self.0.split_first() else { return Ok(0) };
                b[0] = first;
                self.0 = rest;
                Ok(1)
            }
        }
        stream_replace(OneByte(b"xxabcabxabcc"), &mut out, b"abc", b"Z").unwrap();
        assert_eq!(out, b"xxZabxZc");
    }
}
