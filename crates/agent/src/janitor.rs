//! `daytona-native-agent janitor`: applies `autoArchiveInterval` and `autoDeleteInterval` to the
//! stopped sandboxes of the local engine while no process of this package runs. A stopped
//! container runs nothing (its own agent cannot do it), so one container per engine, made from
//! the same one-file image as the reaper and named [`NAME`], does: every period
//! (`DAYTONA_JANITOR_PERIOD_SECS`, default [`DEFAULT_PERIOD`]) it lists the sandboxes, reads the
//! settings of each from its file system (`/.daytona-native/state/settings.json`, through the
//! engine's archive endpoint, which works on stopped containers) and
//!
//! - removes a sandbox stopped for at least `autoDeleteInterval` minutes (0: at once; negative or
//!   unset: never), with the image of a fork;
//! - marks a sandbox stopped for at least `autoArchiveInterval` minutes (0: 30 days; unset: never)
//!   archived in that file, as the client's `archive()` of a stopped sandbox does.
//!
//! It watches the sandboxes that have either interval (running ones too: they may stop by their
//! own auto-stop) and leaves when none is left. Clients start it (idempotently, by its name) when
//! a sandbox gets such an interval or stops with one. Leaving does not race with them: it first
//! gives its name up (renames itself), then looks once more; a client that wrote an interval
//! before that finds it in the last look, one that comes later finds the name free and starts a
//! new janitor. The container has AutoRemove. Every Engine request is bounded
//! ([`crate::reaper::REQUEST_TIMEOUT`]).

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::reaper::{list, path_escape, query_escape, request, send};

/// The janitor container's name (one per engine).
pub const NAME: &str = "daytona-native-janitor";
const DEFAULT_PERIOD: Duration = Duration::from_secs(20);
/// Labels of `crates/client/src/backend/local/labels.rs`.
const MANAGED_LABEL: &str = "io.daytona-native.managed";
const SANDBOX_ID_LABEL: &str = "io.daytona-native.sandbox.id";
const SETTINGS_LABEL: &str = "io.daytona-native.sandbox.settings";
const FORK_IMAGE_LABEL: &str = "io.daytona-native.fork-image";
const STATE_DIR: &str = "/.daytona-native/state";
const SETTINGS_FILE: &str = "settings.json";
/// `autoArchiveInterval` 0: the maximum, 30 days (in minutes).
const MAX_ARCHIVE_MINUTES: f64 = 30.0 * 24.0 * 60.0;
/// The engine unreachable this many sweeps in a row: give up (a client starts a new one).
const MAX_FAILED_SWEEPS: u32 = 30;

pub fn main(args: &[String]) -> ExitCode {
    if !args.is_empty() {
        eprintln!("usage: daytona-native-agent janitor (period: DAYTONA_JANITOR_PERIOD_SECS)");
        return ExitCode::from(2);
    }
    let period = std::env::var("DAYTONA_JANITOR_PERIOD_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.1)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_PERIOD);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("janitor: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    ExitCode::from(rt.block_on(run(period)))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

async fn run(period: Duration) -> u8 {
    let mut failed = 0;
    let mut last_said = String::new();
    loop {
        match sweep(now_secs()).await {
            Ok(watched) if watched.is_empty() => match leave().await {
                Leave::Left => {
                    println!("janitor: no sandbox to watch; leaving");
                    return 0;
                }
                Leave::Stay => {}
            },
            Ok(watched) => {
                failed = 0;
                let said = format!("janitor: watching {}", watched.join(","));
                if said != last_said {
                    println!("{said}");
                    last_said = said;
                }
            }
            Err(e) => {
                eprintln!("janitor: {e}");
                failed += 1;
                if failed >= MAX_FAILED_SWEEPS {
                    return 1;
                }
            }
        }
        tokio::time::sleep(period).await;
    }
}

enum Leave {
    Left,
    Stay,
}

/// Gives the name up, looks once more, and either leaves or takes the name back (when a client
/// started another janitor meanwhile, that one watches: this one leaves anyway).
async fn leave() -> Leave {
    let Some(me) = own_id().await else { return Leave::Left };
    let short: String = me.chars().take(12).collect();
    let renamed = request(Method::POST, &format!("/containers/{me}/rename?name={NAME}-leaving-{short}")).await;
    if !matches!(renamed, Ok((s, _)) if s.is_success()) {
        // Cannot give the name up: stay rather than leave a window where no janitor watches.
        return Leave::Stay;
    }
    match sweep(now_secs()).await {
        Ok(watched) if watched.is_empty() => Leave::Left,
        // Something to watch after all (or the engine did not answer): take the name back.
        _ => match request(Method::POST, &format!("/containers/{me}/rename?name={NAME}")).await {
            Ok((s, _)) if s.is_success() => Leave::Stay,
            // 409: a client started another janitor, which watches.
            _ => Leave::Left,
        },
    }
}

/// This container's id (its hostname is the id's first 12 characters unless set otherwise).
async fn own_id() -> Option<String> {
    let host = std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty())?;
    let (status, body) = request(Method::GET, &format!("/containers/{}/json", path_escape(&host))).await.ok()?;
    if !status.is_success() {
        return None;
    }
    serde_json::from_slice::<Value>(&body).ok()?.get("Id")?.as_str().map(str::to_string)
}

/// What one sandbox's settings call for.
#[derive(Debug, Default, Clone, PartialEq)]
struct Intervals {
    archive: Option<f64>,
    delete: Option<f64>,
    archived: bool,
    /// Whether the sandbox has a state directory (one made by an older version has none: it
    /// cannot be marked archived).
    has_state: bool,
}

impl Intervals {
    fn from_settings(s: &Map<String, Value>, has_state: bool) -> Intervals {
        let num = |k: &str| s.get(k).and_then(Value::as_f64);
        Intervals { archive: num("autoArchiveInterval"), delete: num("autoDeleteInterval"), archived: s.get("archived") == Some(&Value::Bool(true)), has_state }
    }

    fn deletes(&self) -> bool {
        self.delete.is_some_and(|d| d >= 0.0)
    }

    fn archives(&self) -> bool {
        self.has_state && !self.archived && self.archive.is_some_and(|a| a >= 0.0)
    }

    fn watched(&self) -> bool {
        self.deletes() || self.archives()
    }
}

#[derive(Debug, PartialEq)]
enum Due {
    Nothing,
    Archive,
    Delete,
}

/// The client's `settings::due`: delete first; archive only a cleanly stopped sandbox.
fn due(iv: &Intervals, stopped_for: u64, errored: bool) -> Due {
    let stopped_for = stopped_for as f64;
    if let Some(d) = iv.delete.filter(|d| *d >= 0.0)
        && stopped_for >= d * 60.0
    {
        return Due::Delete;
    }
    if !errored && iv.archives() {
        let a = iv.archive.unwrap_or_default();
        let minutes = if a == 0.0 { MAX_ARCHIVE_MINUTES } else { a };
        if stopped_for >= minutes * 60.0 {
            return Due::Archive;
        }
    }
    Due::Nothing
}

/// One pass: applies what is due and returns the ids of the sandboxes still watched.
async fn sweep(now: u64) -> Result<Vec<String>, String> {
    let filter = format!("{{\"label\":[\"{MANAGED_LABEL}=true\",\"{SANDBOX_ID_LABEL}\"]}}");
    let containers = list(&format!("/containers/json?all=1&filters={}", query_escape(&filter))).await.map_err(|e| format!("listing sandboxes: {e}"))?;
    let mut watched = Vec::new();
    for c in containers {
        let Some(id) = c.get("Id").and_then(Value::as_str) else { continue };
        let labels = c.get("Labels").cloned().unwrap_or(Value::Null);
        let sandbox = labels.get(SANDBOX_ID_LABEL).and_then(Value::as_str).unwrap_or(id).to_string();
        let iv = match read_settings(id).await {
            Ok(Some(s)) => Intervals::from_settings(&s, true),
            // No state directory: the intervals it was created with.
            Ok(None) => {
                let created = labels.get(SETTINGS_LABEL).and_then(Value::as_str).and_then(|s| serde_json::from_str::<Value>(s).ok());
                Intervals::from_settings(created.as_ref().and_then(Value::as_object).unwrap_or(&Map::new()), false)
            }
            Err(e) => {
                // Unreadable now (removed meanwhile, an engine hiccup): looked at again next time.
                eprintln!("janitor: reading the settings of sandbox {sandbox}: {e}");
                watched.push(sandbox);
                continue;
            }
        };
        if !iv.watched() {
            continue;
        }
        let state = c.get("State").and_then(Value::as_str).unwrap_or_default();
        if state != "exited" && state != "dead" {
            watched.push(sandbox);
            continue;
        }
        let (finished, errored, image) = match inspect(id).await {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("janitor: inspecting sandbox {sandbox}: {e}");
                watched.push(sandbox);
                continue;
            }
        };
        let Some(stopped_at) = finished else {
            watched.push(sandbox);
            continue;
        };
        match due(&iv, now.saturating_sub(stopped_at), errored || state == "dead") {
            Due::Delete => {
                if let Err(e) = remove(id).await {
                    eprintln!("janitor: removing sandbox {sandbox} after its autoDeleteInterval: {e}");
                    watched.push(sandbox);
                    continue;
                }
                println!("janitor: removed sandbox {sandbox} (stopped {} s, autoDeleteInterval {} min)", now.saturating_sub(stopped_at), iv.delete.unwrap_or_default());
                if labels.get(FORK_IMAGE_LABEL).and_then(Value::as_str) == Some("true")
                    && let Some(image) = image
                {
                    // A fork's own image goes with it; in use elsewhere (409) it stays.
                    let _ = request(Method::DELETE, &format!("/images/{}", path_escape(&image))).await;
                }
            }
            Due::Archive => {
                match mark_archived(id, now).await {
                    Ok(()) => println!("janitor: archived sandbox {sandbox} (stopped {} s, autoArchiveInterval {} min)", now.saturating_sub(stopped_at), iv.archive.unwrap_or_default()),
                    Err(e) => eprintln!("janitor: archiving sandbox {sandbox}: {e}"),
                }
                if iv.deletes() {
                    watched.push(sandbox);
                }
            }
            Due::Nothing => watched.push(sandbox),
        }
    }
    Ok(watched)
}

/// `(FinishedAt in seconds, whether the engine reports an error, image id)`; `None`: gone.
async fn inspect(id: &str) -> Result<Option<(Option<u64>, bool, Option<String>)>, String> {
    let (status, body) = request(Method::GET, &format!("/containers/{id}/json")).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(format!("{status} {}", String::from_utf8_lossy(&body)));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let state = v.get("State").cloned().unwrap_or(Value::Null);
    let finished = state.get("FinishedAt").and_then(Value::as_str).and_then(epoch_of);
    let errored = state.get("Error").and_then(Value::as_str).is_some_and(|e| !e.is_empty());
    Ok(Some((finished, errored, v.get("Image").and_then(Value::as_str).map(str::to_string))))
}

async fn remove(id: &str) -> Result<(), String> {
    match request(Method::DELETE, &format!("/containers/{id}?force=1&v=1")).await? {
        // 404: gone meanwhile; 409: the engine is already removing it.
        (s, _) if s.is_success() || s == StatusCode::NOT_FOUND || s == StatusCode::CONFLICT => Ok(()),
        (s, body) => Err(format!("{s} {}", String::from_utf8_lossy(&body))),
    }
}

/// `settings.json` of a container: `None` when it has no state directory.
async fn read_settings(id: &str) -> Result<Option<Map<String, Value>>, String> {
    let (status, body) = request(Method::GET, &format!("/containers/{id}/archive?path={}", query_escape(STATE_DIR))).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(format!("{status} {}", String::from_utf8_lossy(&body)));
    }
    // Half-written (a client rewriting it just now) or missing: empty settings, nothing done.
    Ok(Some(tar_file(&body, SETTINGS_FILE).and_then(|b| serde_json::from_slice::<Value>(b).ok()).and_then(|v| v.as_object().cloned()).unwrap_or_default()))
}

/// Marks the sandbox archived in its settings, as the client's `archive()` does; read again
/// right before writing so that what a client changed meanwhile stays.
async fn mark_archived(id: &str, now: u64) -> Result<(), String> {
    let mut settings = read_settings(id).await?.ok_or("no settings directory")?;
    settings.insert("archived".into(), Value::Bool(true));
    settings.insert("updatedAt".into(), Value::String(iso(now)));
    let archive = tar_of(SETTINGS_FILE, Value::Object(settings).to_string().as_bytes(), now);
    let path = format!("/containers/{id}/archive?path={}", query_escape(STATE_DIR));
    match send(Method::PUT, &path, Some(("application/x-tar", Bytes::from(archive)))).await? {
        (s, _) if s.is_success() => Ok(()),
        (s, body) => Err(format!("{s} {}", String::from_utf8_lossy(&body))),
    }
}

/// The content of the regular file named `name` (last path component) in a tar archive.
fn tar_file<'a>(archive: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let mut at = 0;
    while at + 512 <= archive.len() {
        let header = &archive[at..at + 512];
        if header.iter().all(|b| *b == 0) {
            return None;
        }
        let size = octal(&header[124..136])? as usize;
        let start = at + 512;
        let end = start.checked_add(size)?;
        let entry_name = std::str::from_utf8(&header[..100]).ok()?.trim_end_matches('\0');
        let kind = header[156];
        if (kind == b'0' || kind == 0) && entry_name.trim_end_matches('/').rsplit('/').next() == Some(name) {
            return archive.get(start..end);
        }
        at = start + size.div_ceil(512) * 512;
    }
    None
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A ustar archive of one regular file (mode 0666, root's), as the client writes settings.
fn tar_of(name: &str, content: &[u8], mtime: u64) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let mut field = |range: std::ops::Range<usize>, value: u64| {
        let width = range.len() - 1;
        let text = format!("{value:0width$o}\0");
        header[range].copy_from_slice(text.as_bytes());
    };
    field(100..108, 0o666);
    field(108..116, 0);
    field(116..124, 0);
    field(124..136, content.len() as u64);
    field(136..148, mtime);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(512 + content.len().div_ceil(512) * 512 + 1024, 0);
    out
}

/// Seconds since the epoch of an engine timestamp; `None` for "never" (`0001-01-01...`).
fn epoch_of(ts: &str) -> Option<u64> {
    let b = ts.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    if y < 1970 {
        return None;
    }
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// `2026-01-02T03:04:05.000Z` of `secs`, as the client writes `updatedAt`.
fn iso(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_due() {
        let iv = Intervals { archive: Some(10.0), delete: Some(-1.0), archived: false, has_state: true };
        assert!(iv.watched());
        assert_eq!(due(&iv, 599, false), Due::Nothing);
        assert_eq!(due(&iv, 600, false), Due::Archive);
        assert_eq!(due(&iv, 600, true), Due::Nothing, "a sandbox in error is not archived");
        let archived = Intervals { archived: true, ..iv.clone() };
        assert!(!archived.watched());
        let now = Intervals { delete: Some(0.0), ..archived.clone() };
        assert!(now.watched());
        assert_eq!(due(&now, 0, false), Due::Delete);
        let max = Intervals { archive: Some(0.0), delete: None, archived: false, has_state: true };
        assert_eq!(due(&max, 29 * 24 * 3600, false), Due::Nothing);
        assert_eq!(due(&max, 30 * 24 * 3600, false), Due::Archive);
        let old = Intervals { has_state: false, ..max };
        assert!(!old.watched(), "without a state directory it cannot be marked archived");
        assert!(!Intervals::default().watched());
    }

    #[test]
    fn settings_archive_round_trip() {
        let archive = tar_of(SETTINGS_FILE, br#"{"archived":true}"#, 1_798_765_445);
        assert_eq!(archive.len() % 512, 0);
        assert_eq!(tar_file(&archive, SETTINGS_FILE), Some(&br#"{"archived":true}"#[..]));
        assert_eq!(tar_file(&archive, "activity"), None);
        // The header checksum is what tar readers check.
        let stored = octal(&archive[148..156]).unwrap();
        let mut copy = archive[..512].to_vec();
        copy[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, copy.iter().map(|b| u64::from(*b)).sum::<u64>());
        assert_eq!(octal(&archive[136..148]), Some(1_798_765_445));
    }

    #[test]
    fn times() {
        assert_eq!(epoch_of("2027-01-01T01:04:05.123Z"), Some(1_798_765_445));
        assert_eq!(epoch_of("0001-01-01T00:00:00Z"), None);
        assert_eq!(iso(1_798_765_445), "2027-01-01T01:04:05.000Z");
    }
}
