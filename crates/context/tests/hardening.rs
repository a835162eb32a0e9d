//! Issue 8 items 1, 8 and 14 at the level of this crate: special files swapped in during
//! planning, linked context roots, and COPY sources that reach outside their context.

mod common;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::{symlink, write};
use daytona_context::{ContextError, ContextOptions, ContextSource, RootLink, plan_context};

fn mkfifo(p: &Path) {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", p.display());
}

/// Runs `f` on a thread. A call blocked on `fifo` (the bug) is released by opening the FIFO for
/// writing and reported as a failure; the guard is generous and never reached by correct code.
fn without_blocking_on<T: Send + 'static>(fifo: &Path, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(v) => v,
        Err(_) => {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(fifo);
            panic!("blocked opening or reading the FIFO {}", fifo.display());
        }
    }
}

#[test]
fn file_swapped_for_a_fifo_after_planning_is_a_change_not_a_hang() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    write(&ctx, "a.txt", b"a");
    write(&ctx, "b.txt", b"b");
    let plan = plan_context(&ContextSource::new(&ctx, "ctx"), &ContextOptions::default()).unwrap();
    let fifo = ctx.join("b.txt");
    fs::remove_file(&fifo).unwrap();
    mkfifo(&fifo);
    let result = without_blocking_on(&fifo, move || plan.write_archive(Vec::new()).map(|_| ()));
    match result {
        Err(ContextError::Changed { path }) => assert_eq!(path, fifo),
        other => panic!("expected Changed for {}, got {other:?}", fifo.display()),
    }
}

#[test]
fn file_swapped_for_a_symlink_is_not_opened_through_it() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    write(&ctx, "a.txt", b"same");
    // a host file of the same size whose identity a reader following the link would fstat
    write(t.path(), "host.txt", b"HOST");
    let plan = plan_context(&ContextSource::new(&ctx, "ctx"), &ContextOptions::default()).unwrap();
    fs::remove_file(ctx.join("a.txt")).unwrap();
    symlink(&ctx, "a.txt", t.path().join("host.txt").to_str().unwrap());
    let err = plan.write_archive(Vec::new()).unwrap_err();
    assert!(matches!(err, ContextError::Changed { .. }), "{err:?}");
}

#[test]
fn fifo_named_dockerignore_does_not_block_planning() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    write(&ctx, "a.txt", b"a");
    let fifo = ctx.join(".dockerignore");
    mkfifo(&fifo);
    let src = ContextSource::new(&ctx, "ctx");
    let plan = without_blocking_on(&fifo, move || plan_context(&src, &ContextOptions::default())).unwrap();
    assert_eq!(plan.files, 1);
}

fn plan_follow(path: &Path) -> daytona_context::ContextPlan {
    plan_context(&ContextSource::new(path, "app").with_root(RootLink::Follow), &ContextOptions::default()).unwrap()
}

#[test]
fn linked_context_root_is_followed_and_nested_links_stay_links() {
    let t = tempfile::tempdir().unwrap();
    let real = t.path().join("real");
    write(&real, "x.txt", b"x");
    symlink(&real, "nested", "/etc");
    symlink(t.path(), "dirlink", "real");
    symlink(t.path(), "filelink", "real/x.txt");
    let dir = plan_follow(&t.path().join("dirlink"));
    assert_eq!(dir.entry_names(), ["app/", "app/nested", "app/x.txt"]);
    assert_eq!(dir.files, 1);
    assert_eq!(dir.source_path, t.path().join("dirlink"), "the path as given is kept");
    let file = plan_follow(&t.path().join("filelink"));
    assert_eq!((file.entry_names(), file.files, file.bytes), (vec!["app".to_string()], 1, 1));
    // the tar holds a regular file with the target's content
    let tar = file.write_archive(Vec::new()).unwrap();
    let mut archive = tar::Archive::new(&tar[..]);
    let entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.header().entry_type(), tar::EntryType::Regular);
}

fn within(path: PathBuf, boundary: &Path) -> Result<daytona_context::ContextPlan, ContextError> {
    plan_context(
        &ContextSource::new(path, "x").with_root(RootLink::Within(boundary.to_path_buf())),
        &ContextOptions::default(),
    )
}

#[test]
fn copy_sources_never_read_outside_their_context() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    write(t.path(), "outside/secret.txt", b"secret");
    write(&ctx, "a.txt", b"a");
    write(&ctx, "src/main.py", b"m");
    symlink(&ctx, "out-dirlink", "../outside");
    symlink(&ctx, "out-link", "../outside/secret.txt");
    symlink(&ctx, "in-link", "a.txt");
    symlink(&ctx, "in-dirlink", "src");
    // through a linked directory that leads out: rejected, naming where it leads
    match within(ctx.join("out-dirlink/secret.txt"), &ctx) {
        Err(e @ ContextError::OutsideContext { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("out-dirlink/secret.txt") && msg.contains("outside/secret.txt") && msg.contains("outside the build context"), "{msg}");
        }
        other => panic!("expected OutsideContext, got {other:?}"),
    }
    assert!(matches!(within(ctx.join("out-dirlink/missing"), &ctx), Err(ContextError::OutsideContext { .. })));
    // a last component pointing out is archived as the link, its target is not read
    let p = within(ctx.join("out-link"), &ctx).unwrap();
    assert_eq!((p.files, p.bytes), (0, 0));
    let p = within(ctx.join("out-dirlink"), &ctx).unwrap();
    assert_eq!(p.entry_names(), ["x"]);
    // links inside the context are followed, as Docker follows a COPY source
    assert_eq!(within(ctx.join("in-link"), &ctx).unwrap().bytes, 1);
    assert_eq!(within(ctx.join("in-dirlink"), &ctx).unwrap().entry_names(), ["x/", "x/main.py"]);
    // the context directory itself through a link
    symlink(t.path(), "ctxlink", "ctx");
    assert!(within(t.path().join("ctxlink"), &t.path().join("ctxlink")).unwrap().files >= 2);
    assert!(matches!(within(ctx.join("nope"), &ctx), Err(ContextError::NotFound { .. })));
}

#[test]
fn dockerignore_linked_outside_the_context_is_not_read() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    write(&ctx, "a.txt", b"a");
    write(t.path(), "host-ignore", b"[\n");
    symlink(&ctx, ".dockerignore", "../host-ignore");
    let err = plan_context(&ContextSource::new(&ctx, "ctx"), &ContextOptions::default()).unwrap_err();
    assert!(matches!(err, ContextError::OutsideContext { .. }), "{err:?}");
}
