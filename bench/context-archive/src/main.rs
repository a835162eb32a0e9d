//! Benchmark driver for `daytona-context`, used by `bench/context.js`.
//!
//! ```text
//! context-archive key     <source> <archive-path>         plan only (walk + hash + key)
//! context-archive archive <source> <archive-path> [out]   plan, then the tar to `out`
//!                                                         (default /dev/null)
//! context-archive drop-cache <dir>                        posix_fadvise(DONTNEED) on every
//!                                                         regular file below <dir>
//! ```
//!
//! Prints one JSON object on stdout with the phase times in milliseconds. The thread count
//! follows `RAYON_NUM_THREADS` (default: one per core), as in the addon.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use daytona_context::{ContextOptions, ContextSource, plan_context};

/// Counts what passes through to the real writer, to check the archive's length.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn max_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we pass.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut ru) == 0 { ru.ru_maxrss } else { -1 }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn options() -> ContextOptions {
    ContextOptions {
        warn_bytes: u64::MAX,
        ..ContextOptions::default()
    }
}

fn run(args: &[String]) -> Result<String, String> {
    match args {
        [mode, src, archive_path, rest @ ..] if mode == "key" || mode == "archive" => {
            let source = ContextSource::new(src, archive_path.as_str());
            let t0 = Instant::now();
            let plan = plan_context(&source, &options()).map_err(|e| e.to_string())?;
            let plan_ms = ms(t0);
            let mut archive = String::new();
            if mode == "archive" {
                let out = rest.first().map(String::as_str).unwrap_or("/dev/null");
                let expected = plan.archive_len().map_err(|e| e.to_string())?;
                let t1 = Instant::now();
                let file = File::create(out).map_err(|e| format!("{out}: {e}"))?;
                let w = Counting {
                    inner: BufWriter::with_capacity(1 << 20, file),
                    n: 0,
                };
                let mut w = plan.write_archive(w).map_err(|e| e.to_string())?;
                w.flush().map_err(|e| e.to_string())?;
                let archive_ms = ms(t1);
                if w.n != expected {
                    return Err(format!("archive is {} bytes, archive_len() said {expected}", w.n));
                }
                archive = format!(r#","archive_ms":{archive_ms:.3},"archive_bytes":{}"#, w.n);
            }
            Ok(format!(
                r#"{{"mode":"{mode}","plan_ms":{plan_ms:.3}{archive},"total_ms":{:.3},"files":{},"bytes":{},"key":"{}","max_rss_kib":{}}}"#,
                ms(t0),
                plan.files,
                plan.bytes,
                plan.key,
                max_rss_kib()
            ))
        }
        [mode, dir] if mode == "drop-cache" => {
            let t0 = Instant::now();
            let mut files = 0u64;
            drop_cache(Path::new(dir), &mut files).map_err(|e| e.to_string())?;
            Ok(format!(r#"{{"mode":"drop-cache","files":{files},"ms":{:.3}}}"#, ms(t0)))
        }
        _ => Err("usage: context-archive key|archive <source> <archive-path> [out] | drop-cache <dir>".into()),
    }
}

/// Asks the kernel to evict every regular file below `dir` from the page cache.
fn drop_cache(dir: &Path, files: &mut u64) -> io::Result<()> {
    for item in fs::read_dir(dir)? {
        let item = item?;
        let ft = item.file_type()?;
        if ft.is_dir() {
            drop_cache(&item.path(), files)?;
        } else if ft.is_file() {
            let f = File::open(item.path())?;
            use std::os::fd::AsRawFd;
            // SAFETY: plain syscall on a descriptor we own.
            let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            *files += 1;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("context-archive: {e}");
            ExitCode::FAILURE
        }
    }
}
