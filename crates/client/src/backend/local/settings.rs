//! The mutable settings of a local sandbox (labels set by `setLabels`, the auto-stop/archive/
//! delete intervals, resized resources) and its last toolbox activity. The engine cannot change
//! a container's labels, so they live in the sandbox's own file system, in
//! `/.daytona-native/state/` (created with the agent, before the container starts):
//!
//! - `settings.json`: written whole by the client through the engine's archive endpoint (works
//!   on running and stopped containers alike, needs nothing in the image), read back the same
//!   way by `get`/`list` from any process. A sandbox without it (made by an older version) is
//!   described by the labels it was created with.
//! - `activity`: touched by the agent on each toolbox request (at most every few seconds) and by
//!   `refreshActivity`; its modification time is `lastActivityAt`, and the agent stops the
//!   sandbox when it is older than `autoStopInterval` minutes.

use bollard::Docker;
use bollard::query_parameters::{DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::build::engine_error;
use crate::error::{ClientError, Result};
use crate::types::SandboxInfo;

/// The directory of the state files (beside the agent).
pub const STATE_DIR: &str = "/.daytona-native/state";
pub const SETTINGS_FILE: &str = "settings.json";
pub const ACTIVITY_FILE: &str = "activity";

/// What the state directory of a sandbox holds.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// `settings.json`, when present and readable.
    pub settings: Option<Map<String, Value>>,
    /// Modification time of `activity` (seconds since the epoch).
    pub activity: Option<u64>,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// An ISO 8601 UTC timestamp (`2026-01-02T03:04:05.000Z`, as the API writes them) of `secs`.
pub fn iso(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
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

/// Seconds since the epoch of an engine timestamp (`2026-01-02T03:04:05.123456789Z`); `None`
/// for the engine's "never" (`0001-01-01T00:00:00Z`) or anything unreadable.
pub fn epoch_of(ts: &str) -> Option<u64> {
    let b = ts.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    if y < 1970 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// What the intervals of a stopped sandbox call for now (`stopped_at`: when it stopped).
#[derive(Debug, PartialEq)]
pub enum Due {
    Nothing,
    Archive,
    Delete,
}

/// `autoDeleteInterval` (minutes after stopping; negative or unset: never) before
/// `autoArchiveInterval` (minutes after stopping; 0 means the maximum, 30 days; unset: never).
pub fn due(info: &SandboxInfo, stopped_at: u64, now: u64) -> Due {
    let stopped_for = now.saturating_sub(stopped_at) as f64;
    if let Some(d) = info.auto_delete_interval.filter(|d| *d >= 0.0) {
        if stopped_for >= d * 60.0 {
            return Due::Delete;
        }
    }
    if info.state == "stopped" {
        if let Some(a) = info.auto_archive_interval {
            let minutes = if a == 0.0 { 30.0 * 24.0 * 60.0 } else { a };
            if stopped_for >= minutes * 60.0 {
                return Due::Archive;
            }
        }
    }
    Due::Nothing
}

pub fn now() -> u64 {
    now_secs()
}

/// The archive that creates the state directory (writable by any user the sandbox runs as,
/// since the agent runs as that user) with `settings`.
pub fn state_archive(settings: &Map<String, Value>) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| ClientError::generic(format!("Packing the sandbox settings: {e}"));
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o1777);
    dir.set_size(0);
    dir.set_mtime(now_secs());
    tar.append_data(&mut dir, format!("{}/", STATE_DIR.trim_start_matches('/')), std::io::empty()).map_err(io)?;
    append_file(&mut tar, &format!("{}/{SETTINGS_FILE}", STATE_DIR.trim_start_matches('/')), Value::Object(settings.clone()).to_string().as_bytes())?;
    append_file(&mut tar, &format!("{}/{ACTIVITY_FILE}", STATE_DIR.trim_start_matches('/')), b"")?;
    tar.into_inner().map_err(io)
}

fn append_file(tar: &mut tar::Builder<Vec<u8>>, path: &str, content: &[u8]) -> Result<()> {
    let mut file = tar::Header::new_gnu();
    file.set_entry_type(tar::EntryType::Regular);
    file.set_mode(0o666);
    file.set_size(content.len() as u64);
    file.set_mtime(now_secs());
    tar.append_data(&mut file, path, content).map_err(|e| ClientError::generic(format!("Packing the sandbox settings: {e}")))
}

/// Reads the state directory of `container`; an older sandbox without one has an empty state.
pub async fn read(docker: &Docker, container: &str) -> Result<State> {
    let opts = DownloadFromContainerOptionsBuilder::new().path(STATE_DIR).build();
    let mut stream = docker.download_from_container(container, Some(opts));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                archive.extend_from_slice(&bytes);
                if archive.len() > 4 << 20 {
                    return Err(ClientError::generic(format!("The settings of sandbox container {container} are larger than 4 MiB")));
                }
            }
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(State::default()),
            Err(e) => return Err(engine_error("Reading the sandbox settings", e)),
        }
    }
    let mut state = State::default();
    let mut tar = tar::Archive::new(archive.as_slice());
    let Ok(entries) = tar.entries() else { return Ok(state) };
    for entry in entries.flatten() {
        let mut entry = entry;
        let name = entry.path().ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
        if name == SETTINGS_FILE {
            let mut text = String::new();
            if std::io::Read::read_to_string(&mut entry, &mut text).is_ok() {
                // A file being rewritten may be read half-written: then the labels stand.
                state.settings = serde_json::from_str::<Value>(&text).ok().and_then(|v| v.as_object().cloned());
            }
        } else if name == ACTIVITY_FILE {
            state.activity = entry.header().mtime().ok();
        }
    }
    Ok(state)
}

/// Writes `settings` as the sandbox's `settings.json`.
pub async fn write(docker: &Docker, container: &str, settings: &Map<String, Value>) -> Result<()> {
    let mut tar = tar::Builder::new(Vec::new());
    append_file(&mut tar, SETTINGS_FILE, Value::Object(settings.clone()).to_string().as_bytes())?;
    let archive = tar.into_inner().map_err(|e| ClientError::generic(format!("Packing the sandbox settings: {e}")))?;
    upload(docker, container, archive).await
}

/// Marks the sandbox as active now (`refreshActivity`).
pub async fn touch_activity(docker: &Docker, container: &str) -> Result<()> {
    let mut tar = tar::Builder::new(Vec::new());
    append_file(&mut tar, ACTIVITY_FILE, b"")?;
    let archive = tar.into_inner().map_err(|e| ClientError::generic(format!("Packing the sandbox activity: {e}")))?;
    upload(docker, container, archive).await
}

async fn upload(docker: &Docker, container: &str, archive: Vec<u8>) -> Result<()> {
    let opts = UploadToContainerOptionsBuilder::new().path(STATE_DIR).build();
    match docker.upload_to_container(container, Some(opts), bollard::body_full(Bytes::from(archive))).await {
        Ok(()) => Ok(()),
        // A sandbox made before settings could change has no state directory.
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Err(ClientError::generic(format!(
            "Sandbox container {container} has no settings directory ({STATE_DIR}): it was created by an older daytona-native. Recreate it to change its settings."
        ))),
        Err(e) => Err(engine_error("Writing the sandbox settings", e)),
    }
}

/// The sandbox as its settings file and activity say, over what its creation labels said.
pub fn apply(info: &mut SandboxInfo, state: &State) {
    if let Some(s) = &state.settings {
        if let Some(Value::Array(pairs)) = s.get("labels") {
            info.labels = pairs.iter().filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string()))).collect();
        }
        let num = |k: &str| s.get(k).and_then(Value::as_f64);
        if s.contains_key("autoStopInterval") {
            info.auto_stop_interval = num("autoStopInterval");
        }
        if s.contains_key("autoArchiveInterval") {
            info.auto_archive_interval = num("autoArchiveInterval");
        }
        if s.contains_key("autoDeleteInterval") {
            info.auto_delete_interval = num("autoDeleteInterval");
        }
        if let Some(v) = s.get("autoPauseInterval") {
            info.extra.insert("autoPauseInterval".into(), v.clone());
        }
        for (k, field) in [("cpu", &mut info.cpu), ("memory", &mut info.memory), ("disk", &mut info.disk)] {
            if let Some(v) = num(k) {
                *field = v;
            }
        }
        // Archived (`archive()`): reported so while the container is not running.
        if s.get("archived") == Some(&Value::Bool(true)) {
            info.extra.insert("archived".into(), Value::Bool(true));
            if info.state == "stopped" {
                info.state = "archived".into();
                info.extra.insert("desiredState".into(), Value::String("archived".into()));
            }
        }
        if let Some(at) = s.get("updatedAt").and_then(Value::as_str) {
            if info.updated_at.as_deref().is_none_or(|u| u < at) {
                info.updated_at = Some(at.to_string());
            }
        }
    }
    if let Some(t) = state.activity.filter(|t| *t > 0) {
        info.extra.insert("lastActivityAt".into(), Value::String(iso(t)));
    }
}

/// The settings a sandbox has now, as `settings.json` holds them (from its info).
pub fn settings_of(info: &SandboxInfo) -> Map<String, Value> {
    let mut m = Map::new();
    let labels: Vec<Value> = info.labels.iter().map(|(k, v)| Value::Array(vec![Value::String(k.clone()), Value::String(v.clone())])).collect();
    m.insert("labels".into(), Value::Array(labels));
    let num = |v: Option<f64>| v.and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null);
    m.insert("autoStopInterval".into(), num(info.auto_stop_interval));
    m.insert("autoArchiveInterval".into(), num(info.auto_archive_interval));
    m.insert("autoDeleteInterval".into(), num(info.auto_delete_interval));
    m.insert("autoPauseInterval".into(), info.extra.get("autoPauseInterval").cloned().unwrap_or(Value::Null));
    m.insert("cpu".into(), num(Some(info.cpu)));
    m.insert("memory".into(), num(Some(info.memory)));
    m.insert("disk".into(), num(Some(info.disk)));
    if info.extra.get("archived") == Some(&Value::Bool(true)) {
        m.insert("archived".into(), Value::Bool(true));
    }
    m.insert("updatedAt".into(), Value::String(iso(now_secs())));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_timestamps_and_due_intervals() {
        assert_eq!(epoch_of("2000-02-29T00:00:00.123456789Z"), Some(951_782_400));
        assert_eq!(epoch_of("2027-01-01T01:04:05Z"), Some(1_798_765_445));
        assert_eq!(epoch_of("0001-01-01T00:00:00Z"), None);
        let stopped = SandboxInfo { state: "stopped".into(), auto_archive_interval: Some(10.0), auto_delete_interval: Some(-1.0), ..Default::default() };
        assert_eq!(due(&stopped, 1000, 1000 + 599), Due::Nothing);
        assert_eq!(due(&stopped, 1000, 1000 + 600), Due::Archive);
        let deleting = SandboxInfo { auto_delete_interval: Some(0.0), ..stopped.clone() };
        assert_eq!(due(&deleting, 1000, 1000), Due::Delete);
        let archived = SandboxInfo { state: "archived".into(), ..stopped };
        assert_eq!(due(&archived, 1000, 1_000_000), Due::Nothing);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(1_798_765_445), "2027-01-01T01:04:05.000Z");
    }

    #[test]
    fn settings_round_trip_over_creation_labels() {
        let mut info = SandboxInfo { labels: vec![("a".into(), "1".into())], auto_stop_interval: Some(15.0), cpu: 1.0, ..Default::default() };
        let mut changed = info.clone();
        changed.labels = vec![("b".into(), "2".into()), ("a".into(), "3".into())];
        changed.auto_stop_interval = Some(0.0);
        changed.cpu = 2.0;
        let state = State { settings: Some(settings_of(&changed)), activity: Some(951_782_400) };
        apply(&mut info, &state);
        assert_eq!(info.labels, changed.labels);
        assert_eq!((info.auto_stop_interval, info.cpu), (Some(0.0), 2.0));
        assert_eq!(info.extra.get("lastActivityAt"), Some(&Value::String("2000-02-29T00:00:00.000Z".into())));
    }
}
