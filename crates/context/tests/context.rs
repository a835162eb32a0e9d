mod common;

use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::*;
use daytona_context::{
    ContextError, ContextOptions, ContextSource, cache_key, plan_context, plan_contexts, tar_prefix,
};
use sha2::{Digest, Sha256};

const LONG_DIR: &str = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"; // 60
const LONG_FILE: &str =
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.txt"; // 76

fn make_tree(root: &Path) {
    write(root, "src/main.py", b"print(1)\n");
    write(root, "src/run.sh", b"#!/bin/sh\necho hi\n");
    chmod(root, "src/run.sh", 0o700);
    mkdir(root, "empty");
    write(root, "B/f", b"f");
    write(root, "_u", b"underscore");
    write(root, "a/g", b"");
    symlink(root, "link", "src/main.py");
    write(
        root,
        &format!("{LONG_DIR}/{LONG_FILE}"),
        b"long name content",
    );
    write(root, "z.txt", b"zzz");
}

const TREE_NAMES: [&str; 14] = [
    "app/",
    "app/B/",
    "app/B/f",
    "app/_u",
    "app/a/",
    "app/a/g",
    "LONGDIR/",
    "LONGFILE",
    "app/empty/",
    "app/link",
    "app/src/",
    "app/src/main.py",
    "app/src/run.sh",
    "app/z.txt",
];

fn expected_names() -> Vec<String> {
    TREE_NAMES
        .iter()
        .map(|n| match *n {
            "LONGDIR/" => format!("app/{LONG_DIR}/"),
            "LONGFILE" => format!("app/{LONG_DIR}/{LONG_FILE}"),
            other => other.to_string(),
        })
        .collect()
}

fn walk_all(root: &Path, f: &mut dyn FnMut(&Path)) {
    for e in fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        f(&p);
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            walk_all(&p, f);
        }
    }
}

#[test]
fn tar_format_names_modes_and_metadata() {
    let t = tempfile::tempdir().unwrap();
    make_tree(t.path());
    let plan = plan(t.path(), "app");
    assert_eq!(plan.entry_names(), expected_names());
    assert_eq!(plan.files, 7);
    let sizes = [9, 18, 1, 10, 0, 17, 3];
    assert_eq!(plan.bytes, sizes.iter().sum::<u64>(), "sum of file sizes");
    assert_eq!(plan.key.len(), 64);
    assert!(plan.key.bytes().all(|b| b.is_ascii_hexdigit()));

    let bytes = archive(&plan);
    assert_eq!(bytes.len() as u64, plan.archive_len().unwrap());
    let entries = read_tar(&bytes);
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    assert_eq!(names, expected_names());
    for e in &entries {
        assert_eq!(e.mtime, 0, "{}", e.name);
        assert_eq!((e.uid, e.gid), (0, 0), "{}", e.name);
        assert!(e.uname.is_empty() && e.gname.is_empty(), "{}", e.name);
        let want_mode = if e.name.ends_with('/') {
            assert_eq!(e.kind, tar::EntryType::Directory, "{}", e.name);
            0o755
        } else if e.name == "app/link" {
            assert_eq!(e.kind, tar::EntryType::Symlink);
            assert_eq!(e.link.as_deref(), Some("src/main.py"));
            0o777
        } else if e.name == "app/src/run.sh" {
            0o755
        } else {
            assert_eq!(e.kind, tar::EntryType::Regular, "{}", e.name);
            0o644
        };
        assert_eq!(e.mode, want_mode, "{}", e.name);
    }
    let by_name = |n: &str| entries.iter().find(|e| e.name == n).unwrap().clone();
    assert_eq!(by_name("app/src/main.py").data, b"print(1)\n");
    assert_eq!(
        by_name(&format!("app/{LONG_DIR}/{LONG_FILE}")).data,
        b"long name content"
    );
    assert_eq!(by_name("app/a/g").size, 0);
}

#[test]
fn same_tree_elsewhere_after_touch_and_chown_is_identical() {
    let t1 = tempfile::tempdir().unwrap();
    let t2 = tempfile::tempdir().unwrap();
    let r1 = t1.path().join("one/project");
    let r2 = t2.path().join("somewhere/else/entirely");
    make_tree(&r1);
    make_tree(&r2);
    let p1 = plan(&r1, "app");
    let p2 = plan(&r2, "app");
    assert_eq!(p1.key, p2.key);
    let a1 = archive(&p1);
    assert_eq!(a1, archive(&p2));

    // Relative source paths resolve against the process cwd and give the same result.
    let cwd = std::env::current_dir().unwrap();
    let rel = pathdiff(&r1, &cwd);
    let p_rel = plan(&rel, "app");
    assert_eq!(p_rel.key, p1.key);

    // touch everything (files and directories) to another time, and chown everything.
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_234_567_890);
    walk_all(&r2, &mut |p| {
        if !fs::symlink_metadata(p).unwrap().file_type().is_symlink() {
            File::open(p).unwrap().set_modified(when).unwrap();
        }
        std::os::unix::fs::lchown(p, Some(1234), Some(1234)).unwrap();
    });
    std::os::unix::fs::lchown(&r2, Some(4321), Some(4321)).unwrap();
    let p2b = plan(&r2, "app");
    assert_eq!(p2b.key, p1.key);
    assert_eq!(archive(&p2b), a1);
}

/// `target` relative to `base` using `..` segments (both absolute).
fn pathdiff(target: &Path, base: &Path) -> std::path::PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

#[test]
fn tar_prefix_cases() {
    for (input, want) in [
        ("", ""),
        (".", ""),
        ("/", ""),
        ("./", ""),
        ("../x", "x"),
        ("../../x/../y", "y"),
        ("/t/a.txt", "t/a.txt"),
        ("./src/", "src"),
        ("src", "src"),
        ("a//b/./c/", "a/b/c"),
        ("~/x", "~/x"),
    ] {
        assert_eq!(tar_prefix(input), want, "tar_prefix({input:?})");
    }
}

#[test]
fn context_placement_in_the_archive() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "ctx/a.txt", b"a");
    write(t.path(), "ctx/sub/b.txt", b"b");
    write(t.path(), "file.txt", b"content");

    // A file is stored at exactly the prefix, with no parent directory entries.
    let p = plan(&t.path().join("file.txt"), "/deep/down/f.txt");
    assert_eq!(p.tar_prefix, "deep/down/f.txt");
    assert_eq!(p.archive_path, "/deep/down/f.txt");
    let entries = read_tar(&archive(&p));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, "deep/down/f.txt");
    assert_eq!(entries[0].data, b"content");
    assert_eq!((p.files, p.bytes), (1, 7));

    // A directory: its own entry, then children below it; never the prefix's parents.
    let p = plan(&t.path().join("ctx"), "../x/y");
    assert_eq!(
        tar_names(&archive(&p)),
        ["x/y/", "x/y/a.txt", "x/y/sub/", "x/y/sub/b.txt"]
    );

    // A directory at the root: children at top level, no "./" entry.
    for root in ["", ".", "/", "./"] {
        let p = plan(&t.path().join("ctx"), root);
        assert_eq!(
            tar_names(&archive(&p)),
            ["a.txt", "sub/", "sub/b.txt"],
            "archive path {root:?}"
        );
    }

    // The key depends on where the context goes, not on where it comes from.
    let k1 = key(&t.path().join("ctx"), "one");
    let k2 = key(&t.path().join("ctx"), "./one/");
    let k3 = key(&t.path().join("ctx"), "two");
    assert_eq!(k1, k2);
    assert_ne!(k1, k3);

    // A file cannot be the archive root.
    let err = plan_context(
        &ContextSource::new(t.path().join("file.txt"), "."),
        &ContextOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ContextError::FileAtRoot { .. }), "{err:?}");
}

#[test]
fn append_to_merges_contexts_into_one_build_archive() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "one/a.txt", b"a");
    write(t.path(), "two.txt", b"two");
    let p1 = plan(&t.path().join("one"), "one");
    let p2 = plan(&t.path().join("two.txt"), "x/two.txt");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    b.append_data(&mut h, "Dockerfile", &b"FROM"[..]).unwrap();
    let start = b.get_ref().len() as u64;
    p1.append_to(&mut b).unwrap();
    assert_eq!(b.get_ref().len() as u64 - start, p1.appended_len().unwrap());
    p2.append_to(&mut b).unwrap();
    let bytes = b.into_inner().unwrap();
    assert_eq!(
        tar_names(&bytes),
        ["Dockerfile", "one/", "one/a.txt", "x/two.txt"]
    );
}

#[test]
fn framing_does_not_collide() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "x/a", b"bc");
    write(t.path(), "y/ab", b"c");
    assert_ne!(
        key(&t.path().join("x"), "ctx"),
        key(&t.path().join("y"), "ctx")
    );
    // Path/content boundary inside a file context: archive path "a" + "bc" vs "ab" + "c".
    write(t.path(), "f1", b"bc");
    write(t.path(), "f2", b"c");
    assert_ne!(
        key(&t.path().join("f1"), "a"),
        key(&t.path().join("f2"), "ab")
    );
    // A file and a symlink whose target equals the file content.
    write(t.path(), "p/n", b"target");
    symlink(t.path(), "q/n", "target");
    assert_ne!(key(&t.path().join("p"), "c"), key(&t.path().join("q"), "c"));
    // An empty file versus an empty directory of the same name.
    write(t.path(), "r/e", b"");
    mkdir(t.path(), "s/e");
    assert_ne!(key(&t.path().join("r"), "c"), key(&t.path().join("s"), "c"));
}

#[test]
fn rename_chmod_retarget_and_empty_dir_change_the_key() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "file.txt", b"hello");
    symlink(r, "link", "file.txt");
    let base = key(r, "c");
    assert_eq!(base, key(r, "c"), "stable");

    fs::rename(r.join("file.txt"), r.join("renamed.txt")).unwrap();
    let renamed = key(r, "c");
    assert_ne!(renamed, base);
    fs::rename(r.join("renamed.txt"), r.join("file.txt")).unwrap();
    assert_eq!(key(r, "c"), base);

    chmod(r, "file.txt", 0o755);
    let chmodded = key(r, "c");
    assert_ne!(chmodded, base);
    chmod(r, "file.txt", 0o600); // no exec bit: normalises back to 0644
    assert_eq!(key(r, "c"), base);

    fs::remove_file(r.join("link")).unwrap();
    symlink(r, "link", "elsewhere.txt");
    let retargeted = key(r, "c");
    assert_ne!(retargeted, base);
    fs::remove_file(r.join("link")).unwrap();
    symlink(r, "link", "file.txt");
    assert_eq!(key(r, "c"), base);

    mkdir(r, "empty");
    let with_empty = key(r, "c");
    assert_ne!(with_empty, base);
    fs::remove_dir(r.join("empty")).unwrap();

    fs::write(r.join("file.txt"), b"hellp").unwrap();
    let edited = key(r, "c");
    assert_ne!(edited, base);

    let all = [base, renamed, chmodded, retargeted, with_empty, edited];
    for i in 0..all.len() {
        for j in i + 1..all.len() {
            assert_ne!(all[i], all[j]);
        }
    }
}

#[test]
fn symlinks_are_stored_as_links_never_followed() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    write(t.path(), "outside/secret.txt", b"TOPSECRET-OUTSIDE");
    write(&ctx, "ok.txt", b"ok");
    symlink(&ctx, "passwd", "/etc/passwd");
    symlink(&ctx, "escape", "../outside/secret.txt");
    symlink(&ctx, "outdir", "../outside");
    symlink(&ctx, "dangling", "does-not-exist");
    symlink(&ctx, "b/loop", ".");
    let long_target = format!("{}/end", "t".repeat(150));
    symlink(&ctx, "long", &long_target);
    let p = plan(&ctx, "app");
    assert_eq!(p.files, 1);
    let bytes = archive(&p);
    assert_eq!(bytes.len() as u64, p.archive_len().unwrap());
    let entries = read_tar(&bytes);
    let links: Vec<(String, Option<String>)> = entries
        .iter()
        .filter(|e| e.kind == tar::EntryType::Symlink)
        .map(|e| (e.name.clone(), e.link.clone()))
        .collect();
    assert_eq!(
        links,
        [
            ("app/b/loop".to_string(), Some(".".to_string())),
            (
                "app/dangling".to_string(),
                Some("does-not-exist".to_string())
            ),
            (
                "app/escape".to_string(),
                Some("../outside/secret.txt".to_string())
            ),
            ("app/long".to_string(), Some(long_target.clone())),
            ("app/outdir".to_string(), Some("../outside".to_string())),
            ("app/passwd".to_string(), Some("/etc/passwd".to_string())),
        ]
    );
    assert!(!contains(&bytes, b"TOPSECRET-OUTSIDE"));
    let passwd = fs::read("/etc/passwd").unwrap();
    assert!(!contains(&bytes, &passwd[..passwd.len().min(24)]));
    for e in &entries {
        if e.kind == tar::EntryType::Symlink {
            assert_eq!((e.size, e.mode), (0, 0o777));
        }
    }

    // A symlink given as the context itself is also stored as a link (hash and tar agree).
    let p = plan(&ctx.join("escape"), "/etc/secret.txt");
    assert_eq!((p.files, p.bytes), (0, 0));
    let bytes = archive(&p);
    assert!(!contains(&bytes, b"TOPSECRET-OUTSIDE"));
    let entries = read_tar(&bytes);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, "etc/secret.txt");
    assert_eq!(entries[0].kind, tar::EntryType::Symlink);
    // Its key follows the link text, not the target's content.
    let before = p.key;
    fs::write(t.path().join("outside/secret.txt"), b"changed").unwrap();
    assert_eq!(plan(&ctx.join("escape"), "/etc/secret.txt").key, before);
}

#[test]
fn fifos_and_sockets_are_skipped() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "a.txt", b"a");
    let status = std::process::Command::new("mkfifo")
        .arg(r.join("fifo"))
        .status()
        .unwrap();
    assert!(status.success());
    let _sock = std::os::unix::net::UnixListener::bind(r.join("sock")).unwrap();
    write(r, "z.txt", b"z");
    let p = plan(r, "c");
    assert_eq!(p.entry_names(), ["c/", "c/a.txt", "c/z.txt"]);
    assert_eq!(tar_names(&archive(&p)), ["c/", "c/a.txt", "c/z.txt"]);

    fs::remove_file(r.join("fifo")).unwrap();
    drop(_sock);
    fs::remove_file(r.join("sock")).unwrap();
    assert_eq!(
        plan(r, "c").key,
        p.key,
        "special files do not affect the key"
    );
}

#[test]
fn non_utf8_names_are_stored_byte_for_byte() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let t = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"caf\xe9.txt");
    fs::write(t.path().join(name), b"latin-1 name").unwrap();
    let p = plan(t.path(), "c");
    let bytes = archive(&p);
    let mut ar = tar::Archive::new(&bytes[..]);
    let names: Vec<Vec<u8>> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path_bytes().into_owned())
        .collect();
    assert_eq!(names, [b"c/".to_vec(), b"c/caf\xe9.txt".to_vec()]);
}

#[test]
fn missing_context_is_not_found_with_the_path_as_given() {
    let err = plan_context(
        &ContextSource::new("no/such/dir-for-daytona-context", "x"),
        &ContextOptions::default(),
    )
    .unwrap_err();
    match err {
        ContextError::NotFound { path } => {
            assert_eq!(path, Path::new("no/such/dir-for-daytona-context"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn modified_file_between_plan_and_archive_is_detected() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "a.txt", b"first version");
    write(r, "b.txt", b"stable");

    // Same size, modification time restored: only the streamed digest can tell.
    let p = plan(r, "c");
    let mtime = fs::metadata(r.join("a.txt")).unwrap().modified().unwrap();
    fs::write(r.join("a.txt"), b"other version").unwrap();
    File::options()
        .write(true)
        .open(r.join("a.txt"))
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let err = p.write_archive(Vec::new()).unwrap_err();
    assert!(
        matches!(&err, ContextError::Changed { path } if path.ends_with("a.txt")),
        "{err:?}"
    );

    // Different size: detected before anything of the file is written.
    let p = plan(r, "c");
    fs::write(r.join("a.txt"), b"longer version of it").unwrap();
    let err = p.write_archive(Vec::new()).unwrap_err();
    assert!(matches!(err, ContextError::Changed { .. }), "{err:?}");

    // Deleted.
    let p = plan(r, "c");
    fs::remove_file(r.join("a.txt")).unwrap();
    let err = p.write_archive(Vec::new()).unwrap_err();
    assert!(matches!(err, ContextError::Changed { .. }), "{err:?}");

    // Replaced by a symlink to a file of the same size.
    write(r, "a.txt", b"123456");
    write(r, "other.txt", b"abcdef");
    let p = plan(r, "c");
    fs::remove_file(r.join("a.txt")).unwrap();
    symlink(r, "a.txt", "other.txt");
    let err = p.write_archive(Vec::new()).unwrap_err();
    assert!(matches!(err, ContextError::Changed { .. }), "{err:?}");

    // Untouched: fine, and the archive still matches a fresh plan.
    let p = plan(r, "c");
    let bytes = archive(&p);
    assert_eq!(bytes, archive(&plan(r, "c")));
}

#[test]
fn warnings_for_size_and_suspicious_directories() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "app.js", b"x");
    write(r, "node_modules/left-pad/index.js", &[b'a'; 2048]);
    write(r, "node_modules/left-pad/node_modules/dep/index.js", b"dep");
    write(r, ".git/HEAD", b"ref: refs/heads/main\n");
    write(r, "pkg/__pycache__/mod.cpython-312.pyc", b"pyc");
    write(r, "pkg/mod.py", b"");

    let p = plan(r, "");
    assert_eq!(p.warnings.len(), 3, "{:#?}", p.warnings);
    assert!(p.warnings[0].contains(".git/") && p.warnings[0].contains("21 B"));
    assert!(p.warnings[1].contains("node_modules/") && p.warnings[1].contains("2.0 KiB"));
    assert!(p.warnings[2].contains("pkg/__pycache__/"));
    for w in &p.warnings {
        assert!(w.contains(&r.display().to_string()), "{w}");
    }

    // Ignored directories are not warned about.
    write(r, ".dockerignore", b"node_modules\n.git\n");
    let p = plan(r, "");
    assert_eq!(p.warnings.len(), 1, "{:#?}", p.warnings);
    assert!(p.warnings[0].contains("__pycache__"));

    // Size threshold.
    let opts = ContextOptions {
        warn_bytes: 100,
        ..ContextOptions::default()
    };
    let p = plan_context(&ContextSource::new(r.join("node_modules"), "nm"), &opts).unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("MiB; consider a .dockerignore") && w.starts_with("context ")),
        "{:#?}",
        p.warnings
    );
    // The context root's own name is not a warning; a nested node_modules is.
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("left-pad/node_modules/"))
    );

    let small = tempfile::tempdir().unwrap();
    write(small.path(), "a.txt", b"a");
    assert!(plan(small.path(), "x").warnings.is_empty());
}

#[test]
fn plan_contexts_keeps_order_and_matches_single_plans() {
    let t = tempfile::tempdir().unwrap();
    let mut srcs = Vec::new();
    for i in 0..8 {
        let d = t.path().join(format!("c{i}"));
        write(&d, "f.txt", format!("content {i}").as_bytes());
        srcs.push(ContextSource::new(&d, format!("dest/{i}")));
    }
    srcs.push(ContextSource::new(t.path().join("c3/f.txt"), "file"));
    let opts = ContextOptions::default();
    let plans = plan_contexts(&srcs, &opts).unwrap();
    assert_eq!(plans.len(), srcs.len());
    for (s, p) in srcs.iter().zip(&plans) {
        assert_eq!(p.source_path, s.source_path);
        assert_eq!(p.key, plan_context(s, &opts).unwrap().key);
    }
    srcs.insert(4, ContextSource::new(t.path().join("missing"), "m"));
    assert!(matches!(
        plan_contexts(&srcs, &opts),
        Err(ContextError::NotFound { .. })
    ));
}

#[test]
fn cache_key_sorts_context_keys() {
    let k1 = "a".repeat(64);
    let k2 = "b".repeat(64);
    let df = "FROM alpine\nCOPY . /app\n";
    let got = cache_key(df, &[k2.clone(), k1.clone()]);
    assert_eq!(got, cache_key(df, &[k1.clone(), k2.clone()]));
    let mut h = Sha256::new();
    h.update(df.as_bytes());
    h.update(k1.as_bytes());
    h.update(k2.as_bytes());
    let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(got, format!("daytona-{want}"));
    assert_ne!(got, cache_key("FROM alpine\n", &[k1, k2]));
    assert_eq!(cache_key(df, &[]).len(), "daytona-".len() + 64);
}

/// Permission denied must surface as `Unreadable` naming the path. Root reads everything, so when
/// running as root the check re-runs this test binary as `nobody` through `setpriv`.
#[test]
fn unreadable_files_and_directories() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    chmod(r, "", 0o755);
    write(r, "file-ctx/ok.txt", b"ok");
    write(r, "file-ctx/secret.txt", b"secret");
    chmod(r, "file-ctx/secret.txt", 0o000);
    write(r, "dir-ctx/locked/x", b"x");
    chmod(r, "dir-ctx/locked", 0o000);

    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        check_unreadable(r);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = match std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(["unreadable_child", "--exact", "--ignored", "--nocapture"])
        .env("DAYTONA_CONTEXT_UNREADABLE_DIR", r)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipping: setpriv unavailable ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "run by unreadable_files_and_directories as an unprivileged user"]
fn unreadable_child() {
    let Some(dir) = std::env::var_os("DAYTONA_CONTEXT_UNREADABLE_DIR") else {
        return;
    };
    check_unreadable(Path::new(&dir));
}

fn check_unreadable(r: &Path) {
    let opts = ContextOptions::default();
    let err = plan_context(&ContextSource::new(r.join("file-ctx"), "c"), &opts).unwrap_err();
    match err {
        ContextError::Unreadable { path, source } => {
            assert_eq!(path, r.join("file-ctx/secret.txt"));
            assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied);
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = plan_context(&ContextSource::new(r.join("dir-ctx"), "c"), &opts).unwrap_err();
    match err {
        ContextError::Unreadable { path, .. } => assert_eq!(path, r.join("dir-ctx/locked")),
        other => panic!("unexpected {other:?}"),
    }
}
