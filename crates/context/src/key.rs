//! Content digests and context keys.
//!
//! Key = SHA-256 over, in order:
//! * the version tag `daytona-context/v1`, length-framed;
//! * the tar prefix, length-framed;
//! * for each entry in walk order: a kind byte (`d`, `f`, `l`), the relative path length-framed,
//!   the normalised mode (u32 LE), the size (u64 LE), then for files the 32-byte SHA-256 of the
//!   content and for symlinks the length-framed target.
//!
//! "Length-framed" = u64 LE byte length followed by the bytes.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::ContextError;
use crate::walk::{Entry, FileIdent, Kind, os_bytes};

const VERSION: &[u8] = b"daytona-context/v1";

/// Files up to this size are read in one go; larger ones stream through a buffer of this size.
pub(crate) const READ_CHUNK: usize = 1 << 20;

/// Files larger than this are read by a helper thread while the current one hashes.
const PREFETCH_ABOVE: u64 = 8 << 20;
const PREFETCH_BUFFERS: usize = 4;

fn frame(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub(crate) fn context_key(prefix: &str, entries: &[Entry]) -> String {
    let mut h = Sha256::new();
    frame(&mut h, VERSION);
    frame(&mut h, prefix.as_bytes());
    for e in entries {
        let tag: u8 = match e.kind {
            Kind::Dir => b'd',
            Kind::File { .. } => b'f',
            Kind::Symlink { .. } => b'l',
        };
        h.update([tag]);
        frame(&mut h, &os_bytes(&e.rel));
        h.update(e.mode.to_le_bytes());
        h.update(e.size.to_le_bytes());
        match &e.kind {
            Kind::Dir => {}
            Kind::File { digest, .. } => h.update(digest),
            Kind::Symlink { target } => frame(&mut h, &os_bytes(target.as_os_str())),
        }
    }
    hex(&h.finalize())
}

/// Fills in the content digest of every file entry, in parallel.
pub(crate) fn hash_files(entries: &mut [Entry]) -> Result<(), ContextError> {
    entries.par_iter_mut().try_for_each(|e| {
        let size = e.size;
        if let Kind::File { digest, ident } = &mut e.kind {
            *digest = hash_file(&e.fs_path, size, *ident)?;
        }
        Ok(())
    })
}

/// Opens a file the walk saw as a regular file, without following a symlink and without
/// blocking: a file swapped for a FIFO (or a device) since would otherwise block `open` (or
/// `read`) forever, and one swapped for a link could point anywhere. Callers check the type
/// of what was opened (fstat) before reading.
#[cfg(unix)]
pub(crate) fn open_regular(path: &Path) -> io::Result<File> {
    open_nonblocking(path, libc::O_NOFOLLOW)
}

/// Opens `path` for reading with `O_NONBLOCK` (plus `extra` flags), then clears `O_NONBLOCK`.
#[cfg(unix)]
pub(crate) fn open_nonblocking(path: &Path, extra: i32) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | extra)
        .open(path)?;
    // Regular files ignore O_NONBLOCK, but clear it anyway so reads behave as documented.
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

/// ELOOP from an `O_NOFOLLOW` open: the path is now a symlink.
#[cfg(unix)]
fn now_a_symlink(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn now_a_symlink(_e: &io::Error) -> bool {
    false
}

#[cfg(not(unix))]
pub(crate) fn open_regular(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Opens a planned file and checks it is still the same regular file with the same size and
/// modification time as when it was walked. A file whose type changed since (a FIFO, a device,
/// a symlink) is [`ContextError::Changed`], like any other change under us: the plan recorded a
/// regular file, so skipping it (as the walk skips specials it finds) would make the archive
/// disagree with the key.
pub(crate) fn open_checked(path: &Path, size: u64, ident: FileIdent) -> Result<File, ContextError> {
    let file = open_regular(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound || now_a_symlink(&e) {
            ContextError::Changed {
                path: path.to_path_buf(),
            }
        } else {
            ContextError::unreadable(path, e)
        }
    })?;
    check_unchanged(&file, path, size, ident)?;
    Ok(file)
}

pub(crate) fn check_unchanged(
    file: &File,
    path: &Path,
    size: u64,
    ident: FileIdent,
) -> Result<(), ContextError> {
    let md = file
        .metadata()
        .map_err(|e| ContextError::unreadable(path, e))?;
    if !md.is_file() || md.len() != size || FileIdent::of(&md) != ident {
        return Err(ContextError::Changed {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn hash_file(path: &Path, size: u64, ident: FileIdent) -> Result<[u8; 32], ContextError> {
    let mut file = open_checked(path, size, ident)?;
    let mut h = Sha256::new();
    let unreadable = |e| ContextError::unreadable(path, e);
    let total: u64;
    if size <= READ_CHUNK as u64 {
        let mut buf = Vec::with_capacity(size as usize + 1);
        // One byte more than planned is enough to notice growth.
        (&mut file)
            .take(size + 1)
            .read_to_end(&mut buf)
            .map_err(unreadable)?;
        h.update(&buf);
        total = buf.len() as u64;
    } else if size <= PREFETCH_ABOVE {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut n_total = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(unreadable(e)),
            };
            h.update(&buf[..n]);
            n_total += n as u64;
            if n_total > size {
                break;
            }
        }
        total = n_total;
    } else {
        total = hash_prefetched(&mut file, &mut h, size).map_err(unreadable)?;
    }
    if total != size {
        return Err(ContextError::Changed {
            path: path.to_path_buf(),
        });
    }
    check_unchanged(&file, path, size, ident)?;
    Ok(h.finalize().into())
}

/// Hashes a large file with a reader thread filling buffers while this thread hashes, so disk
/// (or page-cache) time and hashing time overlap. At most `PREFETCH_BUFFERS` chunks are in
/// memory. Stops once more than `limit` bytes were seen. Returns the number of bytes hashed.
fn hash_prefetched(file: &mut File, h: &mut Sha256, limit: u64) -> io::Result<u64> {
    use std::sync::mpsc::sync_channel;
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<io::Result<(Vec<u8>, usize)>>(PREFETCH_BUFFERS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(PREFETCH_BUFFERS);
        for _ in 0..PREFETCH_BUFFERS {
            let _ = empty_tx.send(vec![0u8; READ_CHUNK]);
        }
        scope.spawn(move || {
            while let Ok(mut buf) = empty_rx.recv() {
                let msg = match read_full(file, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => Ok((buf, n)),
                    Err(e) => Err(e),
                };
                let stop = msg.is_err();
                if full_tx.send(msg).is_err() || stop {
                    break;
                }
            }
        });
        // Dropping `full_rx` and `empty_tx` on any return unblocks the reader before the join.
        let mut total = 0u64;
        for msg in full_rx {
            let (buf, n) = msg?;
            h.update(&buf[..n]);
            total += n as u64;
            if total > limit {
                break;
            }
            // Never blocks: the channel holds every buffer there is. Fails only once the reader
            // is done, and the buffers it already filled are still drained above.
            let _ = empty_tx.send(buf);
        }
        Ok(total)
    })
}

/// Reads until `buf` is full or end of file.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// `"daytona-" + hex(sha256(dockerfile bytes + each key of the sorted key list))`.
pub fn cache_key(dockerfile: &str, keys: &[String]) -> String {
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    h.update(dockerfile.as_bytes());
    for k in sorted {
        h.update(k.as_bytes());
    }
    format!("daytona-{}", hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::error::ContextError;

    /// Issue 8 item 8: a file swapped for a FIFO between the walk and the hashing pass of one
    /// planning run. Before the fix `hash_files` blocked in `open` forever.
    #[test]
    fn file_swapped_for_a_fifo_during_planning_is_a_change_not_a_hang() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("a.txt"), "a").unwrap();
        std::fs::write(t.path().join("f"), "file").unwrap();
        let mut entries = crate::walk::walk(t.path(), t.path(), false).unwrap();
        let fifo = t.path().join("f");
        std::fs::remove_file(&fifo).unwrap();
        let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(super::hash_files(&mut entries));
        });
        // A generous guard that turns the old hang into a failure; correct code answers at once.
        let result = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&fifo);
            panic!("hashing blocked on the FIFO {}", fifo.display())
        });
        assert!(matches!(result, Err(ContextError::Changed { ref path }) if *path == fifo), "{result:?}");
    }
}
