//! `/api/snapshots/...`: create (from an image name or a declarative build, answered when the
//! image is ready; its log at the build-logs URL), list, get, delete, activate.

use std::sync::Arc;

use daytona_client::logs::{LogItem, LogSink};
use daytona_client::types::{CreateSnapshotParams, ImageSpec, ListSnapshotsQuery, Resources, SnapshotInfo, SnapshotRef};
use hyper::Method;
use serde_json::{Value, json};

use crate::build_logs::{self, BuildLog};
use crate::errors;
use crate::http::{self, Kind, Req, Resp};
use crate::App;

const CREATE_FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::Str),
    ("imageName", Kind::Str),
    ("entrypoint", Kind::Array),
    ("cpu", Kind::Int),
    ("gpu", Kind::Int),
    ("gpuType", Kind::Array),
    ("memory", Kind::Int),
    ("disk", Kind::Int),
    ("buildInfo", Kind::Object),
    ("regionId", Kind::Str),
    ("sandboxClass", Kind::Str),
];

pub(crate) async fn route(app: &Arc<App>, req: Req, segs: &[&str]) -> Resp {
    let method = req.method().clone();
    match (&method, segs) {
        (&Method::POST, [] | [""]) => create(app, req).await,
        (&Method::GET, [] | [""]) => list(app, &req).await,
        (&Method::GET, [id]) => answer(app.daytona.get_snapshot(id).await),
        (&Method::DELETE, [id]) => match app.daytona.delete_snapshot_by(&SnapshotRef::IdOrName(id.to_string())).await {
            Ok(()) => http::status(200),
            Err(e) => errors::from_client(&e),
        },
        (&Method::POST, [id, "activate"]) => answer(app.daytona.activate_snapshot(&SnapshotRef::IdOrName(id.to_string())).await),
        (&Method::GET, [id, "build-logs-url"]) => match app.daytona.get_snapshot(id).await {
            Ok(s) => http::json(200, &json!({ "url": format!("{}/api/snapshots/{}/build-logs", app.origin, s.id) })),
            Err(e) => errors::from_client(&e),
        },
        (&Method::GET, [id, "build-logs"]) => match app.logs.get(&format!("snapshot:{id}")) {
            Some(log) => build_logs::serve(log, http::query_one(&http::query(&req), "follow") == Some("true")),
            None => errors::body(404, format!("Snapshot {id} has no build logs: it was not built by this server")),
        },
        _ => errors::not_served(&req),
    }
}

fn answer(r: Result<SnapshotInfo, daytona_client::ClientError>) -> Resp {
    match r {
        Ok(s) => http::json(200, &dto(&s)),
        Err(e) => errors::from_client(&e),
    }
}

/// The API's `SnapshotDto` of `s`.
pub(crate) fn dto(s: &SnapshotInfo) -> Value {
    let mut d = json!({
        "id": s.id,
        "organizationId": "local",
        "general": false,
        "name": s.name,
        "state": s.state,
        "size": s.size,
        "entrypoint": s.entrypoint,
        "cpu": http::number(s.cpu),
        "gpu": http::number(s.gpu),
        "mem": http::number(s.mem),
        "disk": http::number(s.disk),
        "errorReason": s.error_reason,
        "createdAt": s.created_at.clone().unwrap_or_else(http::now_iso),
        "updatedAt": s.updated_at.clone().or_else(|| s.created_at.clone()).unwrap_or_else(http::now_iso),
        "lastUsedAt": null,
        "sourceSandboxId": null,
        "regionIds": ["local"],
    });
    if let Some(i) = &s.image_name {
        d["imageName"] = json!(i);
    }
    d
}

async fn list(app: &Arc<App>, req: &Req) -> Resp {
    let q = http::query(req);
    let mut query = ListSnapshotsQuery::default();
    for (k, v) in &q {
        let num = || v.parse::<f64>().map_err(|_| errors::body(400, format!("{k} must be a number (got {v})")));
        match k.as_str() {
            "page" => match num() {
                Ok(n) => query.page = Some(n),
                Err(r) => return r,
            },
            "limit" => match num() {
                Ok(n) => query.limit = Some(n),
                Err(r) => return r,
            },
            _ => {}
        }
    }
    match app.daytona.list_snapshots_page(&query).await {
        Ok(p) => {
            let items: Vec<Value> = p.items.iter().map(dto).collect();
            http::json(200, &json!({ "items": items, "total": p.total, "page": p.page, "totalPages": p.total_pages }))
        }
        Err(e) => errors::from_client(&e),
    }
}

async fn create(app: &Arc<App>, req: Req) -> Resp {
    let body = match http::json_object(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = http::check_fields(&body, CREATE_FIELDS) {
        return r;
    }
    let Some(name) = body.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_string) else {
        return errors::body(400, "name must be a non-empty string");
    };
    let entrypoint = match body.get("entrypoint") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => match a.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<Vec<_>>>() {
            Some(v) => Some(v),
            None => return errors::body(400, "entrypoint must be an array of strings"),
        },
        Some(_) => return errors::body(400, "entrypoint must be an array of strings"),
    };
    let n = |k: &str| body.get(k).and_then(Value::as_f64);
    let resources = Resources { cpu: n("cpu"), gpu: n("gpu"), memory: n("memory"), disk: n("disk"), gpu_type: None };
    let any_resource = resources.cpu.is_some() || resources.gpu.is_some() || resources.memory.is_some() || resources.disk.is_some();
    let log = BuildLog::new();
    app.logs.insert(&[&format!("snapshot:{name}")], log.clone());
    let mut _context_dir = None;
    let image = match (body.get("buildInfo").filter(|v| !v.is_null()), body.get("imageName").and_then(Value::as_str)) {
        (Some(b), _) => {
            let (dockerfile, hashes) = match crate::sandbox::build_info(b) {
                Ok(b) => b,
                Err(r) => return r,
            };
            match crate::sandbox::plain_image(&dockerfile, &hashes) {
                Some(image) => ImageSpec::Name(image),
                None => match app.storage.build_context(&dockerfile, &hashes).await {
                    Ok((dir, image)) => {
                        _context_dir = Some(dir);
                        ImageSpec::Build(image)
                    }
                    Err(e) => return errors::from_client(&e),
                },
            }
        }
        (None, Some(image)) => ImageSpec::Name(image.to_string()),
        (None, None) => return errors::body(400, "imageName or buildInfo is required"),
    };
    let params = CreateSnapshotParams { name, image, entrypoint, resources: any_resource.then_some(resources), region_id: None, sandbox_class: None };
    let (sink, mut stream) = LogSink::channel(256, false);
    let reader_log = log.clone();
    let reader = tokio::spawn(async move {
        while let Some((item, _receipt)) = stream.recv().await {
            if let LogItem::Line { text, .. } = item {
                reader_log.append(&text);
            }
        }
    });
    let result = app.daytona.create_snapshot(params, Some(0.0), Some(sink)).await;
    let _ = reader.await;
    if let Ok(s) = &result {
        app.logs.insert(&[&format!("snapshot:{}", s.id)], log.clone());
    }
    if let Err(e) = &result {
        log.append(&e.message);
    }
    log.finish();
    answer(result)
}
