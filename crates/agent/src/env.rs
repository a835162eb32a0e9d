//! `POST /env` (`sandbox.updateEnv`): changes to the environment that processes started from now
//! on inherit (commands, sessions, PTYs, code runs, interpreters). Kept as an overlay applied to
//! every command the agent spawns, not written into the agent's own environment (changing a
//! running multi-threaded process's environment is not safe).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::http::ApiError;

#[derive(Default)]
struct Overlay {
    set: BTreeMap<String, String>,
    unset: BTreeSet<String>,
}

static OVERLAY: Mutex<Overlay> = Mutex::new(Overlay { set: BTreeMap::new(), unset: BTreeSet::new() });

/// A command whose environment is the agent's with the updates applied.
pub fn command(program: impl AsRef<OsStr>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    let o = OVERLAY.lock().unwrap_or_else(|e| e.into_inner());
    for k in &o.unset {
        cmd.env_remove(k);
    }
    cmd.envs(&o.set);
    cmd
}

/// Applies `{ set?, unset?, unsetValuePrefix? }`: `unset` and the prefix first, then `set`.
/// Answers the variables set.
pub fn update(body: Value) -> Result<Value, ApiError> {
    let set: BTreeMap<String, String> = match body.get("set") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| ApiError::bad_request("set must be an object of strings"))?,
    };
    let unset: Vec<String> = match body.get("unset") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| ApiError::bad_request("unset must be an array of strings"))?,
    };
    if let Some(k) = set.keys().chain(unset.iter()).find(|k| k.is_empty() || k.contains('=') || k.contains('\0')) {
        return Err(ApiError::bad_request(format!("invalid environment variable name: {k:?}")));
    }
    if set.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request("environment variable values cannot contain NUL"));
    }
    let prefix = body.get("unsetValuePrefix").and_then(Value::as_str).filter(|p| !p.is_empty()).map(str::to_string);
    let mut o = OVERLAY.lock().unwrap_or_else(|e| e.into_inner());
    for k in unset {
        o.set.remove(&k);
        o.unset.insert(k);
    }
    if let Some(prefix) = prefix {
        let mut current: BTreeMap<String, String> = std::env::vars().filter(|(k, _)| !o.unset.contains(k)).collect();
        current.extend(o.set.clone());
        for (k, v) in current {
            if v.starts_with(&prefix) && !set.contains_key(&k) {
                o.set.remove(&k);
                o.unset.insert(k);
            }
        }
    }
    for (k, v) in &set {
        o.unset.remove(k);
        o.set.insert(k.clone(), v.clone());
    }
    Ok(json!(set))
}
