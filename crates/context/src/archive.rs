//! Deterministic tar output: GNU headers, mtime 0, uid/gid 0, no owner names, normalised modes,
//! GNU long-name records for long paths; file contents re-read, streamed and verified.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tar::{Builder, EntryType, Header};

use crate::error::ContextError;
use crate::key::{READ_CHUNK, check_unchanged, open_checked};
use crate::walk::{Entry, FileIdent, Kind, os_bytes, os_from_bytes};

const BLOCK: u64 = 512;

/// Name of an entry inside the archive: `prefix/rel` (or either alone), with a trailing `/` for
/// directories. `None` for the root directory of a context stored at the archive root.
pub(crate) fn archive_name(prefix: &str, e: &Entry) -> Option<Vec<u8>> {
    let rel = os_bytes(&e.rel);
    let mut name = Vec::with_capacity(prefix.len() + 1 + rel.len() + 1);
    name.extend_from_slice(prefix.as_bytes());
    if !prefix.is_empty() && !rel.is_empty() {
        name.push(b'/');
    }
    name.extend_from_slice(&rel);
    if name.is_empty() {
        return None;
    }
    if e.is_dir() {
        name.push(b'/');
    }
    Some(name)
}

fn check_name(name: &[u8]) -> Result<(), ContextError> {
    let bad = name.first() == Some(&b'/')
        || name.contains(&0)
        || name
            .split(|&b| b == b'/')
            .any(|seg| seg == b".." || seg == b".");
    if bad {
        return Err(ContextError::Escape {
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    Ok(())
}

fn header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    // Empty names always fit; these cannot fail.
    let _ = h.set_username("");
    let _ = h.set_groupname("");
    h
}

pub(crate) fn append_entries<W: Write>(
    builder: &mut Builder<W>,
    prefix: &str,
    entries: &[Entry],
) -> Result<(), ContextError> {
    each_entry(builder, prefix, entries, |builder, name, e| match &e.kind {
        Kind::File { digest, ident } => append_file(builder, name, e, digest, *ident),
        _ => unreachable!("each_entry hands over regular files only"),
    })
}

/// Writes the headers of directories and symlinks itself and hands each regular file to
/// `file`, so the archive and its size computation share one naming and header logic.
fn each_entry<W: Write>(
    builder: &mut Builder<W>,
    prefix: &str,
    entries: &[Entry],
    mut file: impl FnMut(&mut Builder<W>, &Path, &Entry) -> Result<(), ContextError>,
) -> Result<(), ContextError> {
    builder.sparse(false);
    builder.follow_symlinks(false);
    for e in entries {
        let Some(name) = archive_name(prefix, e) else {
            continue;
        };
        check_name(&name)?;
        let name = PathBuf::from(os_from_bytes(name));
        match &e.kind {
            Kind::Dir => {
                let mut h = header(EntryType::Directory, e.mode, 0);
                builder.append_data(&mut h, &name, io::empty())?;
            }
            Kind::Symlink { target } => {
                let mut h = header(EntryType::Symlink, e.mode, 0);
                builder.append_link(&mut h, &name, target)?;
            }
            Kind::File { .. } => file(builder, &name, e)?,
        }
    }
    Ok(())
}

fn append_file<W: Write>(
    builder: &mut Builder<W>,
    name: &Path,
    e: &Entry,
    digest: &[u8; 32],
    ident: FileIdent,
) -> Result<(), ContextError> {
    let path = &e.fs_path;
    let file = open_checked(path, e.size, ident)?;
    let mut reader = VerifyingReader {
        inner: BufReader::with_capacity(READ_CHUNK.min(e.size.max(1) as usize), file),
        remaining: e.size,
        hasher: Sha256::new(),
        failure: None,
    };
    let mut h = header(EntryType::Regular, e.mode, e.size);
    let result = builder.append_data(&mut h, name, &mut reader);
    match (result, reader.failure.take()) {
        (_, Some(Failure::Short)) => {
            return Err(ContextError::Changed { path: path.clone() });
        }
        (_, Some(Failure::Read(err))) => return Err(ContextError::unreadable(path, err)),
        (Err(err), None) => return Err(ContextError::Io(err)),
        (Ok(()), None) => {}
    }
    // The file must not have grown, its content must hash to the plan's digest, and it must
    // still be the same unmodified file.
    let mut probe = [0u8; 1];
    let grew = loop {
        match reader.inner.read(&mut probe) {
            Ok(n) => break n > 0,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ContextError::unreadable(path, err)),
        }
    };
    let got: [u8; 32] = reader.hasher.finalize().into();
    if grew || &got != digest {
        return Err(ContextError::Changed { path: path.clone() });
    }
    check_unchanged(reader.inner.get_ref(), path, e.size, ident)
}

enum Failure {
    Short,
    Read(io::Error),
}

/// Yields exactly `remaining` bytes of the file, hashing them; records why it stopped early.
struct VerifyingReader {
    inner: BufReader<File>,
    remaining: u64,
    hasher: Sha256,
    failure: Option<Failure>,
}

impl Read for VerifyingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Err(err),
            Err(err) => {
                let kind = err.kind();
                self.failure = Some(Failure::Read(err));
                return Err(io::Error::new(kind, "context file read failed"));
            }
        };
        if n == 0 {
            self.failure = Some(Failure::Short);
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "context file shrank while archiving",
            ));
        }
        self.hasher.update(&buf[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn padded(len: u64) -> u64 {
    len.div_ceil(BLOCK) * BLOCK
}

/// Counts bytes and discards them.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Exact number of bytes `append_entries` writes for these entries, computed by running the same
/// header logic (long-name records included) into a counter, without reading any file.
pub(crate) fn appended_len(prefix: &str, entries: &[Entry]) -> Result<u64, ContextError> {
    let mut builder = Builder::new(Counter(0));
    let mut contents = 0;
    each_entry(&mut builder, prefix, entries, |builder, name, e| {
        let mut h = header(EntryType::Regular, e.mode, 0);
        builder.append_data(&mut h, name, io::empty())?;
        contents += padded(e.size);
        Ok(())
    })?;
    Ok(builder.get_ref().0 + contents)
}

/// Archive names of the entries, in order (lossy UTF-8), for logs and tests.
pub(crate) fn names(prefix: &str, entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .filter_map(|e| archive_name(prefix, e))
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .collect()
}
