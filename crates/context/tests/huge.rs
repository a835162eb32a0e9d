//! A context with a 3 GiB (sparse) file streams through a bounded buffer: memory stays flat.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;

struct Tracking;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

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

const SIZE: u64 = 3 << 30;
const LIMIT: usize = 32 << 20;

#[test]
fn three_gib_file_streams_with_flat_memory() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "small.txt", b"small");
    let f = std::fs::File::create(t.path().join("big.bin")).unwrap();
    f.set_len(SIZE).unwrap();
    drop(f);

    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t0 = std::time::Instant::now();
    let p = plan(t.path(), "data");
    eprintln!("plan {:?}", t0.elapsed());
    assert_eq!(p.bytes, SIZE + 5);
    let after_plan = PEAK.load(Ordering::Relaxed);
    assert!(
        after_plan - base < LIMIT,
        "planning allocated {} bytes at peak",
        after_plan - base
    );

    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = p
        .write_archive(Counting {
            inner: io::sink(),
            n: 0,
        })
        .unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    eprintln!("archive {:?}", t0.elapsed());
    assert!(peak < LIMIT, "archiving allocated {peak} bytes at peak");
    // dir header + big header + 3 GiB + small header + 1 padded block + end-of-archive blocks
    assert_eq!(out.n, 512 + 512 + SIZE + 512 + 512 + 1024);
    assert_eq!(out.n, p.archive_len().unwrap());
}
