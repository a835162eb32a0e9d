//! `/api/sandbox/...`: create (from a snapshot, an image name, or a declarative build run in
//! the background with its build log), get/list, start/stop/delete, labels, the interval
//! setters, archive/recover, build logs and the toolbox proxy URL. Each maps to one `Daytona`
//! operation of the local backend; the sandboxes' state lives in the engine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use daytona_client::logs::{LogItem, LogSink};
use daytona_client::types::{CreateSandboxParams, ImageSpec, ListSandboxesQuery, Resources, SandboxInfo};
use daytona_client::{ClientError, ErrorKind};
use hyper::Method;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::build_logs::{self, BuildLog};
use crate::errors;
use crate::http::{self, Kind, Req, Resp};
use crate::App;

const CREATE_FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("snapshot", Kind::Str),
    ("user", Kind::Str),
    ("env", Kind::Object),
    ("labels", Kind::Object),
    ("public", Kind::Bool),
    ("networkBlockAll", Kind::Bool),
    ("networkAllowList", Kind::Str),
    ("domainAllowList", Kind::Str),
    ("outboundProxyUrl", Kind::Str),
    ("otelEndpointOverride", Kind::Str),
    ("target", Kind::Str),
    ("cpu", Kind::Int),
    ("gpu", Kind::Int),
    ("gpuType", Kind::Array),
    ("spot", Kind::Bool),
    ("kvm", Kind::Bool),
    ("memory", Kind::Int),
    ("disk", Kind::Int),
    ("autoStopInterval", Kind::Int),
    ("autoPauseInterval", Kind::Int),
    ("autoArchiveInterval", Kind::Int),
    ("autoDeleteInterval", Kind::Int),
    ("ttlMinutes", Kind::Int),
    ("volumes", Kind::Array),
    ("buildInfo", Kind::Object),
    ("linkedSandbox", Kind::Str),
    ("secrets", Kind::Array),
];

pub(crate) const BUILD_INFO_FIELDS: &[(&str, Kind)] = &[("dockerfileContent", Kind::Str), ("contextHashes", Kind::Array)];

/// A sandbox whose image is being built: it has no container yet, so the server answers for
/// it until the build and the create end.
struct Pending {
    id: String,
    name: String,
    request: Map<String, Value>,
    created_at: String,
    state: Mutex<(String, Option<String>)>,
    cancel: CancellationToken,
}

/// The sandboxes being built, by the id the create answered with (and by name).
#[derive(Default)]
pub(crate) struct Builds {
    pending: Mutex<HashMap<String, Arc<Pending>>>,
    /// The id a build's create answered with -> the id of the sandbox it made.
    made: Mutex<HashMap<String, String>>,
}

impl Builds {
    fn get(&self, id_or_name: &str) -> Option<Arc<Pending>> {
        let p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.get(id_or_name).cloned().or_else(|| p.values().find(|b| b.name == id_or_name).cloned())
    }
    /// The sandbox a finished build made, for the id its create answered with.
    fn resolve(&self, id: &str) -> Option<String> {
        self.made.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }
    fn remove(&self, id: &str) {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
    pub fn cancel_all(&self) {
        for p in self.pending.lock().unwrap_or_else(|e| e.into_inner()).values() {
            p.cancel.cancel();
        }
    }
}

pub(crate) async fn route(app: &Arc<App>, req: Req, segs: &[&str]) -> Resp {
    let method = req.method().clone();
    let resolved = segs.first().and_then(|id| app.builds.resolve(id));
    let mut owned: Vec<&str> = segs.to_vec();
    if let Some(real) = &resolved {
        owned[0] = real;
    }
    let segs = owned.as_slice();
    match (&method, segs) {
        (&Method::POST, [] | [""]) => create(app, req).await,
        (&Method::GET, [] | [""]) => list(app, &req).await,
        (&Method::GET, [id]) => get(app, id).await,
        (&Method::DELETE, [id]) => delete(app, id).await,
        (&Method::POST, [id, "start"]) => answer(app, app.daytona.start(id, Some(0.0)).await),
        (&Method::POST, [id, "stop"]) => {
            let force = http::query_one(&http::query(&req), "force") == Some("true");
            answer(app, app.daytona.stop(id, Some(0.0), force).await)
        }
        (&Method::POST, [id, "archive"]) => answer(app, app.daytona.archive(id).await),
        (&Method::POST, [id, "recover"]) => answer(app, app.daytona.recover(id, Some(0.0)).await),
        (&Method::PUT, [id, "labels"]) => labels(app, req, id).await,
        (&Method::POST, [id, which @ ("autostop" | "autoarchive" | "autodelete"), interval]) => set_interval(app, id, which, interval).await,
        (&Method::POST, [id, "last-activity"]) => match app.daytona.refresh_activity(id).await {
            Ok(()) => http::status(201),
            Err(e) => errors::from_client(&e),
        },
        (&Method::GET, [id, "build-logs-url"]) => match known(app, id).await {
            Ok(id) => http::json(200, &json!({ "url": format!("{}/api/sandbox/{}/build-logs", app.origin, id) })),
            Err(r) => r,
        },
        (&Method::GET, [id, "build-logs"]) => match app.logs.get(id) {
            Some(log) => build_logs::serve(log, http::query_one(&http::query(&req), "follow") == Some("true")),
            None => match known(app, id).await {
                Ok(_) => errors::body(404, format!("Sandbox {id} has no build logs: it was not built by this server")),
                Err(r) => r,
            },
        },
        (&Method::GET, [id, "toolbox-proxy-url"]) => match known(app, id).await {
            Ok(_) => http::json(200, &json!({ "url": format!("{}/toolbox", app.origin) })),
            Err(r) => r,
        },
        _ => errors::not_served(&req),
    }
}

/// The id of a sandbox that exists (being built, or in the engine), else the 404 answer.
async fn known(app: &App, id: &str) -> Result<String, Resp> {
    if let Some(p) = app.builds.get(id) {
        return Ok(p.id.clone());
    }
    app.daytona.get(id).await.map(|i| i.id).map_err(|e| errors::from_client(&e))
}

fn answer(app: &App, r: Result<SandboxInfo, ClientError>) -> Resp {
    match r {
        Ok(info) => http::json(200, &dto(app, &info, false)),
        Err(e) => errors::from_client(&e),
    }
}

/// The API's `Sandbox` DTO of `info`.
pub(crate) fn dto(app: &App, info: &SandboxInfo, list_item: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(info.id));
    m.insert("organizationId".into(), json!(info.organization_id));
    m.insert("name".into(), json!(info.name));
    if let Some(s) = &info.snapshot {
        m.insert("snapshot".into(), json!(s));
    }
    m.insert("user".into(), json!(info.user));
    if !list_item {
        m.insert("env".into(), http::pairs_object(&info.env));
    }
    m.insert("labels".into(), http::pairs_object(&info.labels));
    m.insert("public".into(), json!(info.public));
    m.insert("networkBlockAll".into(), json!(info.network_block_all));
    m.insert("target".into(), json!(info.target));
    m.insert("cpu".into(), http::number(info.cpu));
    m.insert("gpu".into(), http::number(info.gpu));
    m.insert("memory".into(), http::number(info.memory));
    m.insert("disk".into(), http::number(info.disk));
    m.insert("state".into(), json!(info.state));
    if let Some(r) = info.error_reason.as_ref().filter(|r| !r.is_empty()) {
        m.insert("errorReason".into(), json!(r));
    }
    for (k, v) in [("autoStopInterval", info.auto_stop_interval), ("autoArchiveInterval", info.auto_archive_interval), ("autoDeleteInterval", info.auto_delete_interval)] {
        if let Some(v) = v {
            m.insert(k.into(), http::number(v));
        }
    }
    if let Some(t) = &info.created_at {
        m.insert("createdAt".into(), json!(t));
    }
    if let Some(t) = &info.updated_at {
        m.insert("updatedAt".into(), json!(t));
    }
    for (k, v) in &info.extra {
        if !v.is_null() && k != "toolboxProxyUrl" && !(list_item && (k == "buildInfo" || k == "volumes")) {
            m.insert(k.clone(), v.clone());
        }
    }
    m.entry("backupState").or_insert(json!("None"));
    m.entry("kvm").or_insert(json!(false));
    m.entry("spot").or_insert(json!(false));
    m.entry("recoverable").or_insert(json!(false));
    m.insert("toolboxProxyUrl".into(), json!(format!("{}/toolbox", app.origin)));
    Value::Object(m)
}

fn pending_dto(app: &App, p: &Pending) -> Value {
    let r = &p.request;
    let (state, reason) = p.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let num = |k: &str, d: f64| r.get(k).and_then(Value::as_f64).unwrap_or(d);
    let mut m = json!({
        "id": p.id,
        "organizationId": "local",
        "name": p.name,
        "user": r.get("user").and_then(Value::as_str).unwrap_or("root"),
        "env": r.get("env").cloned().unwrap_or(json!({})),
        "labels": r.get("labels").cloned().unwrap_or(json!({})),
        "public": r.get("public").and_then(Value::as_bool).unwrap_or(false),
        "networkBlockAll": r.get("networkBlockAll").and_then(Value::as_bool).unwrap_or(false),
        "target": "local",
        "cpu": http::number(num("cpu", 1.0)),
        "gpu": http::number(num("gpu", 0.0)),
        "memory": http::number(num("memory", 1.0)),
        "disk": http::number(num("disk", 3.0)),
        "kvm": false,
        "spot": false,
        "state": state,
        "desiredState": "started",
        "backupState": "None",
        "recoverable": false,
        "createdAt": p.created_at,
        "updatedAt": p.created_at,
        "toolboxProxyUrl": format!("{}/toolbox", app.origin),
    });
    if let Some(reason) = reason {
        m["errorReason"] = json!(reason);
    }
    if let Some(b) = r.get("buildInfo").and_then(Value::as_object) {
        let dockerfile = b.get("dockerfileContent").and_then(Value::as_str).unwrap_or("");
        m["buildInfo"] = json!({
            "dockerfileContent": dockerfile,
            "contextHashes": b.get("contextHashes").cloned().unwrap_or(json!([])),
            "createdAt": p.created_at,
            "updatedAt": p.created_at,
            "snapshotRef": crate::storage::snapshot_ref(dockerfile),
        });
    }
    m
}

async fn get(app: &Arc<App>, id: &str) -> Resp {
    if let Some(p) = app.builds.get(id) {
        return http::json(200, &pending_dto(app, &p));
    }
    answer(app, app.daytona.get(id).await)
}

/// The query of `GET /sandbox` as the SDKs send it.
fn list_query(q: &[(String, String)]) -> Result<(ListSandboxesQuery, Option<String>), Resp> {
    let mut query = ListSandboxesQuery::default();
    let mut cursor = None;
    let num = |k: &str, v: &str| v.parse::<f64>().map_err(|_| errors::body(400, format!("{k} must be a number (got {v})")));
    let push = |list: &mut Option<Vec<String>>, v: &str| list.get_or_insert_with(Vec::new).push(v.to_string());
    for (k, v) in q {
        match k.as_str() {
            "cursor" => cursor = Some(v.clone()),
            "limit" => query.limit = Some(num(k, v)?),
            "id" => query.id = Some(v.clone()),
            "name" => query.name = Some(v.clone()),
            "labels" => {
                let parsed: Value = serde_json::from_str(v).map_err(|_| errors::body(400, "labels must be a JSON object"))?;
                query.labels = Some(http::string_map(Some(&parsed), "labels")?);
            }
            "states" => push(&mut query.states, v),
            "snapshots" => push(&mut query.snapshots, v),
            "targets" => push(&mut query.targets, v),
            "minCpu" => query.min_cpu = Some(num(k, v)?),
            "maxCpu" => query.max_cpu = Some(num(k, v)?),
            "minMemoryGib" => query.min_memory_gib = Some(num(k, v)?),
            "maxMemoryGib" => query.max_memory_gib = Some(num(k, v)?),
            "minDiskGib" => query.min_disk_gib = Some(num(k, v)?),
            "maxDiskGib" => query.max_disk_gib = Some(num(k, v)?),
            "isPublic" => query.is_public = Some(v == "true"),
            "isRecoverable" => query.is_recoverable = Some(v == "true"),
            "createdAtAfter" => query.created_at_after = Some(v.clone()),
            "createdAtBefore" => query.created_at_before = Some(v.clone()),
            "lastActivityAfter" => query.last_activity_after = Some(v.clone()),
            "lastActivityBefore" => query.last_activity_before = Some(v.clone()),
            "autoDestroyAtAfter" => query.auto_destroy_at_after = Some(v.clone()),
            "autoDestroyAtBefore" => query.auto_destroy_at_before = Some(v.clone()),
            "sort" => query.sort = Some(v.clone()),
            "order" => query.order = Some(v.clone()),
            _ => {}
        }
    }
    Ok((query, cursor))
}

async fn list(app: &Arc<App>, req: &Req) -> Resp {
    let (query, cursor) = match list_query(&http::query(req)) {
        Ok(q) => q,
        Err(r) => return r,
    };
    match app.daytona.list_page(&query, cursor.as_deref()).await {
        Ok(page) => {
            let items: Vec<Value> = page.items.iter().map(|i| dto(app, i, true)).collect();
            http::json(200, &json!({ "items": items, "nextCursor": page.next_cursor }))
        }
        Err(e) => errors::from_client(&e),
    }
}

async fn delete(app: &Arc<App>, id: &str) -> Resp {
    if let Some(p) = app.builds.get(id) {
        p.cancel.cancel();
        app.builds.remove(&p.id);
        let mut d = pending_dto(app, &p);
        d["state"] = json!("destroyed");
        d["desiredState"] = json!("destroyed");
        return http::json(200, &d);
    }
    let info = match app.daytona.get(id).await {
        Ok(i) => i,
        Err(e) => return errors::from_client(&e),
    };
    match app.daytona.delete_and_wait(&info.id, Some(0.0), false).await {
        Ok(()) => {
            let mut d = dto(app, &SandboxInfo { state: "destroyed".into(), ..info }, false);
            d["desiredState"] = json!("destroyed");
            http::json(200, &d)
        }
        Err(e) => errors::from_client(&e),
    }
}

async fn labels(app: &Arc<App>, req: Req, id: &str) -> Resp {
    let body = match http::json_object(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = http::check_fields(&body, &[("labels", Kind::Object)]) {
        return r;
    }
    let Some(labels) = body.get("labels").filter(|v| v.is_object()) else { return errors::body(400, "labels must be an object") };
    let pairs = match http::string_map(Some(labels), "labels") {
        Ok(p) => p,
        Err(r) => return r,
    };
    match app.daytona.set_labels(id, &pairs).await {
        Ok(l) => http::json(200, &json!({ "labels": http::pairs_object(&l) })),
        Err(e) => errors::from_client(&e),
    }
}

async fn set_interval(app: &Arc<App>, id: &str, which: &str, interval: &str) -> Resp {
    let Some(minutes) = interval.parse::<f64>().ok().filter(|m| m.fract() == 0.0) else {
        return errors::body(400, format!("interval must be an integer (got {interval})"));
    };
    let r = match which {
        "autostop" => app.daytona.set_autostop_interval(id, minutes).await,
        "autoarchive" => app.daytona.set_auto_archive_interval(id, minutes).await,
        _ => app.daytona.set_auto_delete_interval(id, minutes).await,
    };
    match r {
        Ok(()) => answer(app, app.daytona.get(id).await),
        Err(e) => errors::from_client(&e),
    }
}

/// `CreateSandbox` as the core's parameters (all but the image, which the caller decides).
fn create_params(body: &Map<String, Value>) -> Result<CreateSandboxParams, Resp> {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| body.get(k).and_then(Value::as_f64);
    let b = |k: &str| body.get(k).and_then(Value::as_bool);
    let labels = http::string_map(body.get("labels"), "labels")?;
    let language = labels.iter().find(|(k, _)| k == "code-toolbox-language").map(|(_, v)| v.clone());
    let resources = Resources { cpu: n("cpu"), gpu: n("gpu"), memory: n("memory"), disk: n("disk"), gpu_type: None };
    let any_resource = resources.cpu.is_some() || resources.gpu.is_some() || resources.memory.is_some() || resources.disk.is_some();
    Ok(CreateSandboxParams {
        name: s("name").filter(|n| !n.is_empty()),
        user: s("user"),
        language,
        env_vars: http::string_map(body.get("env"), "env")?,
        labels,
        public: b("public"),
        auto_stop_interval: n("autoStopInterval"),
        auto_pause_interval: n("autoPauseInterval"),
        auto_archive_interval: n("autoArchiveInterval"),
        auto_delete_interval: n("autoDeleteInterval"),
        ttl_minutes: n("ttlMinutes"),
        network_block_all: b("networkBlockAll"),
        snapshot: s("snapshot").filter(|n| !n.is_empty()),
        resources: any_resource.then_some(resources),
        ..Default::default()
    })
}

/// `FROM <image>` alone (what the SDKs send for `image: 'name'`): the image's name.
pub(crate) fn plain_image(dockerfile: &str, contexts: &[String]) -> Option<String> {
    if !contexts.is_empty() {
        return None;
    }
    let lines: Vec<&str> = dockerfile.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    match lines.as_slice() {
        [only] => {
            let mut words = only.split_whitespace();
            let from = words.next()?;
            let image = words.next()?;
            (from.eq_ignore_ascii_case("FROM") && words.next().is_none()).then(|| image.to_string())
        }
        _ => None,
    }
}

/// `buildInfo`: its Dockerfile and context hashes, checked.
pub(crate) fn build_info(v: &Value) -> Result<(String, Vec<String>), Resp> {
    let Some(b) = v.as_object() else { return Err(errors::body(400, "buildInfo must be an object")) };
    http::check_fields(b, BUILD_INFO_FIELDS)?;
    let Some(dockerfile) = b.get("dockerfileContent").and_then(Value::as_str) else {
        return Err(errors::body(400, "buildInfo.dockerfileContent must be a string"));
    };
    let mut hashes = Vec::new();
    for h in b.get("contextHashes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        match h.as_str() {
            Some(h) if !h.is_empty() && h.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') => hashes.push(h.to_string()),
            _ => return Err(errors::body(400, format!("buildInfo.contextHashes must hold context hashes (got {h})"))),
        }
    }
    Ok((dockerfile.to_string(), hashes))
}

async fn create(app: &Arc<App>, req: Req) -> Resp {
    let body = match http::json_object(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = http::check_fields(&body, CREATE_FIELDS) {
        return r;
    }
    let mut params = match create_params(&body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let build = match body.get("buildInfo").filter(|v| !v.is_null()) {
        Some(v) => match build_info(v) {
            Ok(b) => Some(b),
            Err(r) => return r,
        },
        None => None,
    };
    match build {
        None => answer(app, app.daytona.create(params, Some(0.0), None).await),
        Some((dockerfile, hashes)) => {
            if let Some(image) = plain_image(&dockerfile, &hashes) {
                params.image = Some(ImageSpec::Name(image));
                params.snapshot = None;
                return answer(app, app.daytona.create(params, Some(0.0), None).await);
            }
            start_build(app, body, params, dockerfile, hashes).await
        }
    }
}

/// A declarative build: answered at once (`pending_build`), built and created in the
/// background, its log at the build-logs URL.
async fn start_build(app: &Arc<App>, body: Map<String, Value>, mut params: CreateSandboxParams, dockerfile: String, hashes: Vec<String>) -> Resp {
    let id = uuid::Uuid::new_v4().to_string();
    let name = params.name.clone().unwrap_or_else(|| id.clone());
    if app.builds.get(&name).is_some() || app.daytona.get(&name).await.is_ok() {
        return errors::body(409, format!("Sandbox with name {name} already exists"));
    }
    params.name = Some(name.clone());
    params.snapshot = None;
    let pending = Arc::new(Pending {
        id: id.clone(),
        name: name.clone(),
        request: body,
        created_at: http::now_iso(),
        state: Mutex::new(("pending_build".into(), None)),
        cancel: CancellationToken::new(),
    });
    let log = BuildLog::new();
    app.logs.insert(&[&id, &name], log.clone());
    app.builds.pending.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), pending.clone());
    let answer = http::json(200, &pending_dto(app, &pending));
    let app = app.clone();
    tokio::spawn(async move {
        *pending.state.lock().unwrap_or_else(|e| e.into_inner()) = ("building_snapshot".into(), None);
        let result = run_build(&app, &pending, &log, params, &dockerfile, &hashes).await;
        match result {
            Ok(info) => {
                app.logs.insert(&[&info.id], log.clone());
                app.builds.made.lock().unwrap_or_else(|e| e.into_inner()).insert(pending.id.clone(), info.id.clone());
                app.builds.remove(&pending.id);
            }
            Err(e) if e.kind == ErrorKind::Aborted => app.builds.remove(&pending.id),
            Err(e) => {
                log.append(&e.message);
                let state = if e.kind == ErrorKind::Build { "build_failed" } else { "error" };
                *pending.state.lock().unwrap_or_else(|e| e.into_inner()) = (state.into(), Some(e.message.clone()));
            }
        }
        log.finish();
    });
    answer
}

async fn run_build(app: &App, pending: &Pending, log: &Arc<BuildLog>, mut params: CreateSandboxParams, dockerfile: &str, hashes: &[String]) -> Result<SandboxInfo, ClientError> {
    let (_dir, image) = app.storage.build_context(dockerfile, hashes).await?;
    params.image = Some(ImageSpec::Build(image));
    let (sink, mut stream) = LogSink::channel(256, false);
    let reader_log = log.clone();
    let reader = tokio::spawn(async move {
        while let Some((item, _receipt)) = stream.recv().await {
            if let LogItem::Line { text, .. } = item {
                reader_log.append(&text);
            }
        }
    });
    let daytona = app.daytona.with_cancellation(pending.cancel.clone());
    let result = daytona.create(params, Some(0.0), Some(sink)).await;
    let _ = reader.await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_from_a_lone_from() {
        assert_eq!(plain_image("FROM python:3.12\n", &[]).as_deref(), Some("python:3.12"));
        assert_eq!(plain_image("# c\nfrom busybox:1\n\n", &[]).as_deref(), Some("busybox:1"));
        assert_eq!(plain_image("FROM a AS b\n", &[]), None);
        assert_eq!(plain_image("FROM a\nRUN x\n", &[]), None);
        assert_eq!(plain_image("FROM a\n", &["h".into()]), None);
    }

    #[test]
    fn list_queries() {
        let q: Vec<(String, String)> =
            [("labels", r#"{"a":"b"}"#), ("limit", "5"), ("states", "started"), ("states", "stopped"), ("cursor", "c1")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (query, cursor) = list_query(&q).ok().unwrap();
        assert_eq!(query.labels, Some(vec![("a".into(), "b".into())]));
        assert_eq!(query.limit, Some(5.0));
        assert_eq!(query.states, Some(vec!["started".into(), "stopped".into()]));
        assert_eq!(cursor.as_deref(), Some("c1"));
        assert!(list_query(&[("labels".into(), "[1]".into())]).is_err());
        assert!(list_query(&[("limit".into(), "x".into())]).is_err());
    }

    #[test]
    fn build_info_is_checked() {
        assert!(build_info(&json!({ "dockerfileContent": "FROM a", "contextHashes": ["abc123"] })).is_ok());
        assert!(build_info(&json!({ "dockerfileContent": "FROM a", "contextHashes": ["../x"] })).is_err());
        assert!(build_info(&json!({ "dockerfileContent": 1 })).is_err());
        assert!(build_info(&json!({ "dockerfileContent": "FROM a", "other": 1 })).is_err());
    }
}
