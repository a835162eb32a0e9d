//! The /files routes against the real agent binary: each route, its errors, symlinks,
//! multipart answers and requests, and a large streamed upload/download through `relay`.
mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use common::Agent;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

static N: AtomicU32 = AtomicU32::new(0);

impl Scratch {
    fn new() -> Scratch {
        let d = std::env::temp_dir().join(format!(
            "daytona-agent-files-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
    fn p(&self, rel: &str) -> String {
        self.0.join(rel).to_string_lossy().into_owned()
    }
    fn write(&self, rel: &str, data: &[u8]) -> String {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One request with any body and headers; returns status, lower-cased head and the de-chunked body.
async fn send(
    agent: &Agent,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = agent.connect().await.unwrap();
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = out[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

async fn get(agent: &Agent, target: &str) -> (u16, Value) {
    agent.call("GET", target, None).await
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn list_and_info_follow_links_and_report_the_daemon_fields() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    d.write("a.txt", b"hello");
    d.write("sub/inner.txt", b"x");
    std::os::unix::fs::symlink(d.p("a.txt"), d.p("link")).unwrap();
    std::os::unix::fs::symlink(d.p("sub"), d.p("dirlink")).unwrap();
    std::os::unix::fs::symlink(d.p("nowhere"), d.p("dangling")).unwrap();

    let (st, list) = get(&agent, &format!("/files?path={}", enc(&d.p("")))).await;
    assert_eq!(st, 200);
    // Name order; the dangling link cannot be stat'ed and is left out, as the daemon does.
    assert_eq!(names(&list), ["a.txt", "dirlink", "link", "sub"]);
    let a = &list[0];
    assert_eq!(a["size"], 5);
    assert_eq!(a["isDir"], false);
    assert_eq!(a["mode"], "-rw-r--r--");
    assert_eq!(a["permissions"], "0644");
    assert_eq!(a["path"], d.p("a.txt"));
    let md = std::fs::metadata(d.p("a.txt")).unwrap();
    assert_eq!(a["owner"], md.uid().to_string());
    assert_eq!(a["group"], md.gid().to_string());
    assert!(a["modifiedAt"].as_str().unwrap().ends_with('Z'));
    assert!(a["modTime"].as_str().unwrap().ends_with("+0000 UTC"));
    // Links are described by their targets.
    assert_eq!(list[1]["isDir"], true);
    assert_eq!(list[2]["size"], 5);

    let (st, deep) = get(&agent, &format!("/files?path={}&depth=2", enc(&d.p("")))).await;
    assert_eq!(st, 200);
    let paths: Vec<&str> = deep.as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&d.p("sub/inner.txt").as_str()), "{paths:?}");
    // Not through the link to the directory.
    assert!(!paths.iter().any(|p| p.contains("dirlink/")), "{paths:?}");

    let (st, e) = get(&agent, &format!("/files?path={}&depth=0", enc(&d.p("")))).await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = get(&agent, &format!("/files?path={}", enc(&d.p("missing")))).await;
    assert_eq!(st, 404);
    assert_eq!(e["code"], "NOT_FOUND");
    assert_eq!(e["path"], "/files");
    let (st, _) = get(&agent, &format!("/files?path={}", enc(&d.p("a.txt")))).await;
    assert_eq!(st, 400);

    let (st, info) = get(&agent, &format!("/files/info?path={}", enc(&d.p("sub")))).await;
    assert_eq!(st, 200);
    assert_eq!(info["name"], "sub");
    assert_eq!(info["isDir"], true);
    assert!(info["mode"].as_str().unwrap().starts_with('d'));
    let (st, info) = get(&agent, &format!("/files/info?path={}", enc(&d.p("link")))).await;
    assert_eq!((st, info["name"].as_str(), info["size"].as_u64()), (200, Some("link"), Some(5)));
    let (st, e) = get(&agent, &format!("/files/info?path={}", enc(&d.p("dangling")))).await;
    assert_eq!(st, 404);
    assert_eq!(e["message"], format!("stat {}: no such file or directory", d.p("dangling")));
    let (st, e) = get(&agent, "/files/info").await;
    assert_eq!((st, e["message"].as_str()), (400, Some("path is required")));
}

#[tokio::test]
async fn folders_delete_and_move() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let nested = d.p("x/y/z");
    let (st, _) = agent.call("POST", &format!("/files/folder?path={}&mode=0700", enc(&nested)), None).await;
    assert_eq!(st, 201);
    assert_eq!(std::fs::metadata(&nested).unwrap().permissions().mode() & 0o777, 0o700);
    // Existing directory: fine again.
    let (st, _) = agent.call("POST", &format!("/files/folder?path={}", enc(&nested)), None).await;
    assert_eq!(st, 201);
    let (st, e) = agent.call("POST", &format!("/files/folder?path={}&mode=rwx", enc(&d.p("m"))), None).await;
    assert_eq!((st, e["message"].as_str()), (400, Some("invalid mode format")));
    let f = d.write("file", b"1");
    let (st, _) = agent.call("POST", &format!("/files/folder?path={}", enc(&f)), None).await;
    assert_eq!(st, 400);

    // Delete: a directory needs `recursive`.
    let (st, e) = agent.call("DELETE", &format!("/files?path={}", enc(&d.p("x"))), None).await;
    assert_eq!((st, e["message"].as_str()), (400, Some("cannot delete directory without recursive flag")));
    let (st, _) = agent.call("DELETE", &format!("/files?path={}&recursive=true", enc(&d.p("x"))), None).await;
    assert_eq!(st, 204);
    assert!(!Path::new(&d.p("x")).exists());
    let (st, _) = agent.call("DELETE", &format!("/files?path={}", enc(&d.p("x"))), None).await;
    assert_eq!(st, 404);
    // A link to a directory is removed itself, never what it points to.
    d.write("keep/k", b"k");
    std::os::unix::fs::symlink(d.p("keep"), d.p("keeplink")).unwrap();
    let (st, _) = agent.call("DELETE", &format!("/files?path={}&recursive=true", enc(&d.p("keeplink"))), None).await;
    assert_eq!(st, 204);
    assert!(std::fs::symlink_metadata(d.p("keeplink")).is_err());
    assert!(Path::new(&d.p("keep/k")).exists());
    let (st, _) = agent.call("DELETE", &format!("/files?path={}", enc(&f)), None).await;
    assert_eq!(st, 204);

    // Move.
    let a = d.write("a", b"A");
    let (st, _) =
        agent.call("POST", &format!("/files/move?source={}&destination={}", enc(&a), enc(&d.p("b"))), None).await;
    assert_eq!(st, 200);
    assert_eq!(std::fs::read(d.p("b")).unwrap(), b"A");
    d.write("c", b"C");
    let (st, e) = agent
        .call("POST", &format!("/files/move?source={}&destination={}", enc(&d.p("b")), enc(&d.p("c"))), None)
        .await;
    assert_eq!(
        (st, e["code"].as_str(), e["message"].as_str()),
        (409, Some("CONFLICT"), Some("destination already exists"))
    );
    let (st, _) = agent
        .call("POST", &format!("/files/move?source={}&destination={}", enc(&d.p("nope")), enc(&d.p("d"))), None)
        .await;
    assert_eq!(st, 404);
    let (st, _) = agent
        .call("POST", &format!("/files/move?source={}&destination={}", enc(&d.p("b")), enc(&d.p("no/dir/d"))), None)
        .await;
    assert_eq!(st, 404);
    let (st, e) = agent.call("POST", &format!("/files/move?source={}", enc(&d.p("b"))), None).await;
    assert_eq!((st, e["message"].as_str()), (400, Some("source and destination paths are required")));
    // `..` is resolved by the agent, inside the sandbox.
    let (st, _) = agent
        .call("POST", &format!("/files/move?source={}&destination={}", enc(&d.p("sub/../b")), enc(&d.p("e"))), None)
        .await;
    assert_eq!(st, 200);
    assert!(Path::new(&d.p("e")).exists());
}

/// This user's name and primary group name, from the files the agent reads.
fn my_names() -> Option<(String, String)> {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let field = |file: &str, id: u32| -> Option<String> {
        std::fs::read_to_string(file).ok()?.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2)? == &id.to_string().as_str()).then(|| f[0].to_string())
        })
    };
    Some((field("/etc/passwd", uid)?, field("/etc/group", gid)?))
}

#[tokio::test]
async fn permissions_by_mode_and_by_names() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let f = d.write("f", b"1");
    let (st, _) = agent.call("POST", &format!("/files/permissions?path={}&mode=0640", enc(&f)), None).await;
    assert_eq!(st, 200);
    assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o640);
    let (st, e) = agent.call("POST", &format!("/files/permissions?path={}&mode=9", enc(&f)), None).await;
    assert_eq!((st, e["message"].as_str()), (400, Some("invalid mode format")));
    let (st, _) = agent.call("POST", &format!("/files/permissions?path={}&mode=0644", enc(&d.p("gone"))), None).await;
    assert_eq!(st, 404);
    let (st, e) = agent.call("POST", &format!("/files/permissions?path={}&owner=no-such-user-x", enc(&f)), None).await;
    assert_eq!((st, e["message"].as_str()), (400, Some("user not found")));
    let (st, e) = agent.call("POST", &format!("/files/permissions?path={}&group=no-such-group-x", enc(&f)), None).await;
    assert_eq!((st, e["message"].as_str()), (400, Some("group not found")));
    if let Some((user, group)) = my_names() {
        // Giving a file to oneself by name works for any user.
        let (st, e) =
            agent.call("POST", &format!("/files/permissions?path={}&owner={user}&group={group}", enc(&f)), None).await;
        assert_eq!(st, 200, "{e}");
        let md = std::fs::metadata(&f).unwrap();
        assert_eq!(md.uid(), rustix::process::getuid().as_raw());
    }
    let uid = rustix::process::getuid().as_raw();
    let (st, _) = agent.call("POST", &format!("/files/permissions?path={}&owner={uid}", enc(&f)), None).await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn search_names_and_find_text() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    d.write("a.txt", b"one needle\ntwo\r\nneedle three\n");
    d.write("b.md", b"needle");
    d.write("sub/c.txt", b"no match here\nthe needle again");
    d.write("bin.txt", b"needle\0binary");
    d.write("empty.txt", b"");
    std::os::unix::fs::symlink(d.p("sub"), d.p("link.txt")).unwrap();

    let (st, r) = get(&agent, &format!("/files/search?path={}&pattern={}", enc(&d.p("")), enc("*.txt"))).await;
    assert_eq!(st, 200);
    let want: Vec<String> = ["a.txt", "bin.txt", "empty.txt", "link.txt", "sub/c.txt"].iter().map(|f| d.p(f)).collect();
    assert_eq!(r["files"], json!(want));
    let (_, r) = get(&agent, &format!("/files/search?path={}&pattern={}", enc(&d.p("")), enc("[ab].*"))).await;
    assert_eq!(r["files"], json!([d.p("a.txt"), d.p("b.md")]));
    let (st, r) = get(&agent, &format!("/files/search?path={}&pattern=x", enc(&d.p("missing")))).await;
    assert_eq!((st, r["files"].clone()), (200, json!([])));
    let (st, e) = get(&agent, &format!("/files/search?path={}", enc(&d.p("")))).await;
    assert_eq!((st, e["message"].as_str()), (400, Some("path and pattern are required")));

    let (st, m) = get(&agent, &format!("/files/find?path={}&pattern=needle", enc(&d.p("")))).await;
    assert_eq!(st, 200);
    // Binary files are skipped, links not followed, CR LF endings trimmed.
    assert_eq!(
        m,
        json!([
            {"file": d.p("a.txt"), "line": 1, "content": "one needle"},
            {"file": d.p("a.txt"), "line": 3, "content": "needle three"},
            {"file": d.p("b.md"), "line": 1, "content": "needle"},
            {"file": d.p("sub/c.txt"), "line": 2, "content": "the needle again"},
        ])
    );
    // Literal text, not a regular expression.
    let (_, m) = get(&agent, &format!("/files/find?path={}&pattern={}", enc(&d.p("")), enc("ne.dle"))).await;
    assert_eq!(m, json!([]));
    let (st, _) = get(&agent, "/files/find?pattern=x").await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn replace_in_files_reports_each_file() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let a = d.write("a", b"foo bar foo");
    let b = d.write("b", b"nothing");
    std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o600)).unwrap();
    let missing = d.p("missing");
    let (st, r) = agent
        .call("POST", "/files/replace", Some(json!({"files": [a, b, missing], "pattern": "foo", "newValue": "qux"})))
        .await;
    assert_eq!(st, 200);
    assert_eq!(r[0], json!({"file": a, "success": true}));
    assert_eq!(r[1], json!({"file": b, "success": true}));
    assert_eq!(r[2]["success"], false);
    assert_eq!(r[2]["error"], format!("open {missing}: no such file or directory"));
    assert_eq!(std::fs::read(&a).unwrap(), b"qux bar qux");
    // Rewritten in place: mode kept.
    assert_eq!(std::fs::metadata(&b).unwrap().permissions().mode() & 0o777, 0o600);

    // A file beyond the in-memory size streams through a temporary file; matches may straddle
    // read chunks.
    let big = d.p("big");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        for _ in 0..(20 << 20) / 10 {
            f.write_all(b"abcdeXYZw\n").unwrap();
        }
    }
    let (st, r) =
        agent.call("POST", "/files/replace", Some(json!({"files": [big], "pattern": "XYZ", "newValue": ""}))).await;
    assert_eq!((st, r[0]["success"].clone()), (200, json!(true)), "{r}");
    assert_eq!(std::fs::metadata(&big).unwrap().len(), (20 << 20) / 10 * 7);
    let head = std::fs::read(&big).unwrap();
    assert!(head.chunks(7).all(|c| c == b"abcdew\n"));

    let (st, _) = agent.call("POST", "/files/replace", Some(json!({"pattern": "x"}))).await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn download_one_file() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let f = d.write("dir/r\u{e9}sum\u{e9} \"x\".bin", b"\x00\x01data");
    let (st, head, body) = send(&agent, "GET", &format!("/files/download?path={}", enc(&f)), &[], b"").await;
    assert_eq!(st, 200);
    assert_eq!(body, b"\x00\x01data");
    assert!(head.contains("content-type: application/octet-stream"), "{head}");
    assert!(head.contains("content-length: 6"), "{head}");
    assert!(head.contains("filename*=utf-8''r%c3%a9sum%c3%a9%20%22x%22.bin"), "{head}");
    let (st, _, body) = send(&agent, "GET", &format!("/files/download?path={}", enc(&d.p("dir"))), &[], b"").await;
    let e: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((st, e["message"].as_str()), (400, Some("path must be a file")));
    let (st, _, _) = send(&agent, "GET", &format!("/files/download?path={}", enc(&d.p("none"))), &[], b"").await;
    assert_eq!(st, 404);
    // Files whose size says nothing about their content (/proc) are sent to their end.
    let (st, head, body) = send(&agent, "GET", "/files/download?path=/proc/self/status", &[], b"").await;
    assert_eq!(st, 200);
    assert!(!head.contains("content-length"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("VmHWM"));
}

/// Splits a multipart body into (headers, data) parts at each `CRLF--boundary` delimiter.
fn parts(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delim = format!("\r\n--{boundary}");
    let mut text = b"\r\n".to_vec();
    text.extend_from_slice(body);
    let find = |h: &[u8], n: &[u8]| h.windows(n.len()).position(|w| w == n);
    let mut out = Vec::new();
    let mut rest: &[u8] = &text[find(&text, delim.as_bytes()).unwrap() + delim.len()..];
    loop {
        if rest.starts_with(b"--") {
            assert_eq!(rest, b"--\r\n");
            return out;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after the delimiter");
        let next = find(rest, delim.as_bytes()).expect("closing delimiter");
        let part = &rest[..next];
        let sep = find(part, b"\r\n\r\n").unwrap();
        out.push((String::from_utf8_lossy(&part[..sep]).into_owned(), part[sep + 4..].to_vec()));
        rest = &rest[next + delim.len()..];
    }
}

#[tokio::test]
async fn bulk_download_has_file_and_error_parts() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let a = d.write("a.json", b"{\"a\":1}");
    let b = d.write("b.bin", b"\r\n--DAYTONA-FILE-BOUNDAR\r\n");
    let missing = d.p("missing");
    let dir = d.p("");
    let body = json!({"paths": [a, missing, b, dir, ""]}).to_string();
    let (st, head, body) =
        send(&agent, "POST", "/files/bulk-download", &[("Content-Type", "application/json")], body.as_bytes()).await;
    assert_eq!(st, 200);
    assert!(head.contains("content-type: multipart/form-data; boundary=daytona-file-boundary"), "{head}");
    let ps = parts(&body, "DAYTONA-FILE-BOUNDARY");
    assert_eq!(ps.len(), 5);
    assert!(
        ps[0].0.contains(&format!("Content-Disposition: form-data; name=\"file\"; filename=\"{a}\"")),
        "{}",
        ps[0].0
    );
    assert!(ps[0].0.contains("Content-Type: application/json"));
    assert!(ps[0].0.contains("Content-Length: 7"));
    assert_eq!(ps[0].1, b"{\"a\":1}");
    assert!(ps[1].0.contains("name=\"error\""), "{}", ps[1].0);
    let e: Value = serde_json::from_slice(&ps[1].1).unwrap();
    assert_eq!(e["statusCode"], 404);
    assert_eq!(e["code"], "FILE_NOT_FOUND");
    assert_eq!(e["message"], format!("file not found: {missing}"));
    assert_eq!(e["path"], missing);
    assert_eq!(ps[2].1, b"\r\n--DAYTONA-FILE-BOUNDAR\r\n");
    let e: Value = serde_json::from_slice(&ps[3].1).unwrap();
    assert_eq!((e["statusCode"].as_u64(), e["code"].as_str()), (Some(400), Some("INVALID_FILE_PATH")));
    let e: Value = serde_json::from_slice(&ps[4].1).unwrap();
    assert_eq!(e["message"], "invalid file path: path is empty");

    let (st, _, body) = send(&agent, "POST", "/files/bulk-download", &[], br#"{"paths": []}"#).await;
    let e: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(st, 400);
    assert_eq!(e["error"], "request body must be {\"paths\": [ ... ]} and non-empty");
}

fn form(boundary: &str, fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, filename, data) in fields {
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(f) = filename {
            b.extend_from_slice(format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream").as_bytes());
        }
        b.extend_from_slice(b"\r\n\r\n");
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

#[tokio::test]
async fn bulk_upload_writes_each_part_and_reports_errors() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let (p0, p1) = (d.p("new/deep/one.txt"), d.p("two.bin"));
    let body = form(
        "XyZ",
        &[
            ("files[0].path", None, p0.as_bytes()),
            ("files[0].file", Some("one.txt"), b"first"),
            ("files[1].path", None, p1.as_bytes()),
            ("files[1].file", Some("two.bin"), b"\x00second\r\n--Xy"),
        ],
    );
    let ct = [("Content-Type", "multipart/form-data; boundary=XyZ")];
    let (st, _, r) = send(&agent, "POST", "/files/bulk-upload", &ct, &body).await;
    let r: Value = serde_json::from_slice(&r).unwrap();
    assert_eq!(st, 200, "{r}");
    assert_eq!(r, json!({"files": [{"path": p0, "bytes": 5}, {"path": p1, "bytes": 13}]}));
    assert_eq!(std::fs::read(&p0).unwrap(), b"first");
    assert_eq!(std::fs::read(&p1).unwrap(), b"\x00second\r\n--Xy");

    // A file without its path, an empty path, and a destination that cannot be created.
    std::fs::write(d.p("plain"), b"").unwrap();
    let bad = d.p("plain/sub/x");
    let body = form(
        "B",
        &[
            ("files[0].file", Some("a"), b"a"),
            ("files[1].path", None, b"  "),
            ("files[2].path", None, bad.as_bytes()),
            ("files[2].file", Some("x"), b"x"),
        ],
    );
    let (st, _, r) =
        send(&agent, "POST", "/files/bulk-upload", &[("Content-Type", "multipart/form-data; boundary=B")], &body).await;
    let r: Value = serde_json::from_slice(&r).unwrap();
    assert_eq!(st, 400);
    let errs = r["errors"].as_array().unwrap();
    assert_eq!(errs[0], "file[0]: missing .path metadata");
    assert_eq!(errs[1], "path[1]: empty path");
    assert!(errs[2].as_str().unwrap().starts_with(&format!("{bad}: mkdir")), "{r}");
    assert_eq!(r["files"], Value::Null);

    let (st, _, r) = send(&agent, "POST", "/files/bulk-upload", &[("Content-Type", "application/json")], b"{}").await;
    assert_eq!(st, 400);
    assert_eq!(serde_json::from_slice::<Value>(&r).unwrap(), json!({"errors": ["invalid multipart form"]}));
}

#[tokio::test]
async fn upload_v2_takes_raw_or_multipart_bodies() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let p = d.p("v2/raw.bin");
    let (st, _, r) = send(
        &agent,
        "POST",
        &format!("/files/upload-v2?path={}", enc(&p)),
        &[("Content-Type", "application/octet-stream")],
        b"raw!",
    )
    .await;
    assert_eq!(st, 200);
    let r: Value = serde_json::from_slice(&r).unwrap();
    assert_eq!((r["name"].as_str(), r["path"].as_str()), (Some("raw.bin"), Some(p.as_str())));
    assert_eq!(std::fs::read(&p).unwrap(), b"raw!");
    let body = form("Q", &[("file", Some("f"), b"multi")]);
    let (st, _, _) = send(
        &agent,
        "POST",
        &format!("/files/upload-v2?path={}", enc(&p)),
        &[("Content-Type", "multipart/form-data; boundary=Q")],
        &body,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(std::fs::read(&p).unwrap(), b"multi");
    let (st, _, _) = send(&agent, "POST", "/files/upload-v2", &[], b"x").await;
    assert_eq!(st, 400);
}

// ---- large transfers through `relay`, streamed on both sides

/// Deterministic content: block `i` (64 KiB) holds `i` then bytes derived from it.
fn block(i: u64, buf: &mut [u8]) {
    buf.fill((i % 251) as u8);
    buf[..8].copy_from_slice(&i.to_le_bytes());
}

fn relay(agent: &Agent) -> tokio::process::Child {
    tokio::process::Command::new(common::BIN)
        .arg("relay")
        .env("DAYTONA_AGENT_SOCKET", &agent.socket)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Peak resident set (VmHWM) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn large_file_streams_up_and_down_through_relay_in_bounded_memory() {
    const BLOCK: usize = 64 * 1024;
    let mib: u64 = std::env::var("AGENT_FILES_LARGE_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    let blocks = mib * 1024 * 1024 / BLOCK as u64;
    let size = blocks * BLOCK as u64;
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let dest = d.p("big.bin");

    // Upload: multipart body generated block by block.
    let pre = format!(
        "--B\r\nContent-Disposition: form-data; name=\"files[0].path\"\r\n\r\n{dest}\r\n--B\r\nContent-Disposition: form-data; name=\"files[0].file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let post = "\r\n--B--\r\n";
    let len = pre.len() as u64 + size + post.len() as u64;
    let mut child = relay(&agent);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = tokio::spawn(async move {
        let head = format!(
            "POST /files/bulk-upload HTTP/1.1\r\nHost: agent\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {len}\r\n\r\n"
        );
        stdin.write_all(head.as_bytes()).await.unwrap();
        stdin.write_all(pre.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; BLOCK];
        for i in 0..blocks {
            block(i, &mut buf);
            stdin.write_all(&buf).await.unwrap();
        }
        stdin.write_all(post.as_bytes()).await.unwrap();
        stdin.shutdown().await.unwrap();
    });
    let mut resp = Vec::new();
    stdout.read_to_end(&mut resp).await.unwrap();
    writer.await.unwrap();
    let (st, body) = common::parse_response(&resp);
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["files"][0]["bytes"], size);
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    let after_upload = peak_rss_kib(agent.pid());

    // Download: read and check block by block without keeping it.
    let mut child = relay(&agent);
    let mut stdin = child.stdin.take().unwrap();
    let req = format!("GET /files/download?path={} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n", enc(&dest));
    stdin.write_all(req.as_bytes()).await.unwrap();
    stdin.shutdown().await.unwrap();
    let mut r = tokio::io::BufReader::with_capacity(BLOCK, child.stdout.take().unwrap());
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(r.read_u8().await.unwrap());
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains(&format!("content-length: {size}")), "{head}");
    let (mut got, mut want) = (vec![0u8; BLOCK], vec![0u8; BLOCK]);
    for i in 0..blocks {
        r.read_exact(&mut got).await.unwrap();
        block(i, &mut want);
        assert!(got == want, "block {i} differs");
    }
    assert_eq!(r.read(&mut got).await.unwrap(), 0, "bytes past the end");
    let peak = peak_rss_kib(agent.pid());
    eprintln!("agent peak RSS: {after_upload} KiB after a {mib} MiB upload, {peak} KiB after its download");
    // Bounded by buffers, not by the file: far below the file's size.
    assert!(peak < 64 * 1024, "agent peak RSS {peak} KiB for a {mib} MiB file");
}

#[tokio::test]
async fn a_cut_off_upload_leaves_no_file() {
    let agent = Agent::start(&[]).await;
    let d = Scratch::new();
    let dest = d.p("partial.bin");
    let mut s = agent.connect().await.unwrap();
    let head = format!(
        "POST /files/upload-v2?path={} HTTP/1.1\r\nHost: agent\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n",
        enc(&dest)
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&vec![7u8; 1 << 20]).await.unwrap();
    // Wait until the agent has started writing, then go away mid-body.
    while std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    drop(s);
    while Path::new(&dest).exists() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The agent still serves.
    let (st, _) = get(&agent, &format!("/files/info?path={}", enc(&d.p("")))).await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn move_across_file_systems_copies_then_removes() {
    let d = Scratch::new();
    let shm = Path::new("/dev/shm");
    let other_fs = std::fs::metadata(shm).is_ok_and(|m| m.dev() != std::fs::metadata(&d.0).unwrap().dev());
    if !other_fs || std::fs::metadata(shm).unwrap().permissions().readonly() {
        eprintln!("skipped: /dev/shm is not another writable file system here");
        return;
    }
    let agent = Agent::start(&[]).await;
    d.write("tree/sub/f", b"data");
    std::fs::set_permissions(d.p("tree/sub"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::symlink("sub", d.p("tree/link")).unwrap();
    let dst = shm.join(format!("daytona-agent-files-move-{}", std::process::id()));
    let dst_s = dst.to_string_lossy().into_owned();
    let (st, r) = agent
        .call("POST", &format!("/files/move?source={}&destination={}", enc(&d.p("tree")), enc(&dst_s)), None)
        .await;
    let moved =
        (std::fs::read(dst.join("sub/f")), std::fs::read_link(dst.join("link")), std::fs::metadata(dst.join("sub")));
    let _ = std::fs::remove_dir_all(&dst);
    assert_eq!(st, 200, "{r}");
    assert!(!Path::new(&d.p("tree")).exists());
    assert_eq!(moved.0.unwrap(), b"data");
    // Links stay links; modes are kept.
    assert_eq!(moved.1.unwrap(), Path::new("sub"));
    assert_eq!(moved.2.unwrap().permissions().mode() & 0o777, 0o750);
}
