//! Wire shapes: request bodies serialised as the official SDK serialises them (reference §3.2,
//! §3.6: key order, `env`/`labels` always present, absent values dropped) and the API's DTOs
//! read into the core's types.

use serde_json::{Map, Value};

use super::json::{num, record, stringify};
use crate::types::*;

/// An object builder that drops absent values, like `JSON.stringify` drops `undefined`.
#[derive(Default)]
pub struct Obj(Map<String, Value>);

impl Obj {
    pub fn new() -> Obj {
        Obj(Map::new())
    }
    pub fn put(&mut self, key: &str, v: impl Into<Option<Value>>) -> &mut Obj {
        if let Some(v) = v.into() {
            self.0.insert(key.to_string(), v);
        }
        self
    }
    pub fn value(self) -> Value {
        Value::Object(self.0)
    }
}

fn s(v: &Option<String>) -> Option<Value> {
    v.clone().map(Value::String)
}
fn n(v: Option<f64>) -> Option<Value> {
    v.map(num)
}
fn b(v: Option<bool>) -> Option<Value> {
    v.map(Value::Bool)
}
fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().cloned().map(Value::String).collect())
}

/// `buildInfo` for `image: 'ref'` (`Image.base(ref).dockerfile`, no `contextHashes`).
pub fn build_info_for_name(image: &str) -> Value {
    let mut o = Obj::new();
    o.put("dockerfileContent", Value::String(format!("FROM {image}\n")));
    o.value()
}

/// `buildInfo` for an `Image`: `contextHashes` (always present) before `dockerfileContent`.
pub fn build_info(context_hashes: &[String], dockerfile: &str) -> Value {
    let mut o = Obj::new();
    o.put("contextHashes", strings(context_hashes));
    o.put("dockerfileContent", Value::String(dockerfile.to_string()));
    o.value()
}

/// The `POST /sandbox` body. `labels` already carries the language label.
pub fn create_sandbox_body(p: &CreateSandboxParams, build_info: Option<Value>, target: &Option<String>) -> String {
    let r = p.resources.clone().unwrap_or_default();
    let mut o = Obj::new();
    o.put("name", s(&p.name))
        .put("snapshot", s(&p.snapshot))
        .put("buildInfo", build_info)
        .put("user", s(&p.user))
        .put("env", record(&p.env_vars))
        .put("labels", record(&p.labels))
        .put("public", b(p.public))
        .put("target", s(target))
        .put("cpu", n(r.cpu))
        .put("gpu", n(r.gpu))
        .put("gpuType", r.gpu_type.as_deref().map(strings))
        .put("spot", b(p.spot))
        .put("memory", n(r.memory))
        .put("disk", n(r.disk))
        .put("autoStopInterval", n(p.auto_stop_interval))
        .put("autoPauseInterval", n(p.auto_pause_interval))
        .put("autoArchiveInterval", n(p.auto_archive_interval))
        .put("autoDeleteInterval", n(p.auto_delete_interval))
        .put("ttlMinutes", n(p.ttl_minutes))
        .put("volumes", p.volumes.clone())
        .put("kvm", b(p.kvm))
        .put("networkBlockAll", b(p.network_block_all))
        .put("networkAllowList", s(&p.network_allow_list))
        .put("domainAllowList", s(&p.domain_allow_list))
        .put("outboundProxyUrl", s(&p.outbound_proxy_url))
        .put("otelEndpointOverride", s(&p.otel_endpoint_override))
        .put("linkedSandbox", s(&p.linked_sandbox))
        .put(
            "secrets",
            p.secrets.as_ref().map(|pairs| {
                Value::Array(pairs.iter().map(|(k, v)| record(&[(k.clone(), v.clone())])).collect())
            }),
        );
    stringify(&o.value())
}

/// The `POST /snapshots` body. `build_info` is set for an `Image` (its Dockerfile already
/// carries the entrypoint), `image_name` for a reference.
pub fn create_snapshot_body(p: &CreateSnapshotParams, build_info: Option<Value>, default_region: &Option<String>) -> String {
    let mut o = Obj::new();
    o.put("name", Value::String(p.name.clone()));
    match build_info {
        Some(bi) => {
            o.put("buildInfo", bi);
        }
        None => {
            if let ImageSpec::Name(name) = &p.image {
                o.put("imageName", Value::String(name.clone()));
            }
            o.put("entrypoint", p.entrypoint.as_deref().map(strings));
        }
    }
    if let Some(r) = &p.resources {
        o.put("cpu", n(r.cpu)).put("gpu", n(r.gpu)).put("gpuType", r.gpu_type.as_deref().map(strings)).put("memory", n(r.memory)).put("disk", n(r.disk));
    }
    let region = p.region_id.clone().filter(|r| !r.is_empty()).or_else(|| default_region.clone());
    o.put("regionId", region.map(Value::String)).put("sandboxClass", s(&p.sandbox_class));
    stringify(&o.value())
}

/// `process/execute` body: `{command, timeout, cwd, envs}`; `envs` only when non-empty.
pub fn execute_body(r: &ExecRequest) -> String {
    let mut o = Obj::new();
    o.put("command", Value::String(r.command.clone()))
        .put("timeout", n(r.timeout))
        .put("cwd", s(&r.cwd))
        .put("envs", if r.env.is_empty() { None } else { Some(record(&r.env)) });
    stringify(&o.value())
}

/// Query of `GET /sandbox` in the generated client's parameter order.
pub fn list_sandboxes_query(q: &ListSandboxesQuery, cursor: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut one = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.push((k.to_string(), v));
        }
    };
    let numstr = |v: Option<f64>| v.map(super::json::js_number);
    let boolstr = |v: Option<bool>| v.map(|b| b.to_string());
    one("cursor", cursor.map(str::to_string));
    one("limit", numstr(q.limit));
    one("id", q.id.clone());
    one("name", q.name.clone());
    one("labels", q.labels.as_ref().map(|l| stringify(&record(l))));
    let mut many = |k: &str, v: &Option<Vec<String>>| {
        for item in v.iter().flatten() {
            out.push((k.to_string(), item.clone()));
        }
    };
    many("states", &q.states);
    many("snapshots", &q.snapshots);
    many("regionIds", &q.targets);
    let mut one = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.push((k.to_string(), v));
        }
    };
    one("minCpu", numstr(q.min_cpu));
    one("maxCpu", numstr(q.max_cpu));
    one("minMemoryGiB", numstr(q.min_memory_gib));
    one("maxMemoryGiB", numstr(q.max_memory_gib));
    one("minDiskGiB", numstr(q.min_disk_gib));
    one("maxDiskGiB", numstr(q.max_disk_gib));
    one("isPublic", boolstr(q.is_public));
    one("isRecoverable", boolstr(q.is_recoverable));
    one("createdAtAfter", q.created_at_after.clone());
    one("createdAtBefore", q.created_at_before.clone());
    one("lastEventAfter", q.last_activity_after.clone());
    one("lastEventBefore", q.last_activity_before.clone());
    one("autoDestroyAtAfter", q.auto_destroy_at_after.clone());
    one("autoDestroyAtBefore", q.auto_destroy_at_before.clone());
    one("sort", q.sort.clone());
    one("order", q.order.clone());
    out
}

/// Query of `GET /snapshots`: `page`, `limit`, `sourceSandboxId`.
pub fn list_snapshots_query(q: &ListSnapshotsQuery) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(p) = q.page {
        out.push(("page".to_string(), super::json::js_number(p)));
    }
    if let Some(l) = q.limit {
        out.push(("limit".to_string(), super::json::js_number(l)));
    }
    if let Some(s) = &q.source_sandbox_id {
        out.push(("sourceSandboxId".to_string(), s.clone()));
    }
    out
}

fn get_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}
fn get_num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}
fn get_pairs(v: &Value, k: &str) -> Vec<(String, String)> {
    match v.get(k) {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| stringify(v))))
            .collect(),
        _ => Vec::new(),
    }
}

/// A `Sandbox` (or `SandboxListItem`) DTO.
pub fn sandbox_info(v: &Value) -> SandboxInfo {
    SandboxInfo {
        id: get_str(v, "id").unwrap_or_default(),
        name: get_str(v, "name").unwrap_or_default(),
        organization_id: get_str(v, "organizationId").unwrap_or_default(),
        snapshot: get_str(v, "snapshot"),
        user: get_str(v, "user").unwrap_or_default(),
        env: get_pairs(v, "env"),
        labels: get_pairs(v, "labels"),
        public: v.get("public").and_then(Value::as_bool).unwrap_or(false),
        target: get_str(v, "target").unwrap_or_default(),
        cpu: get_num(v, "cpu").unwrap_or(0.0),
        gpu: get_num(v, "gpu").unwrap_or(0.0),
        memory: get_num(v, "memory").unwrap_or(0.0),
        disk: get_num(v, "disk").unwrap_or(0.0),
        state: get_str(v, "state").unwrap_or_default(),
        error_reason: get_str(v, "errorReason"),
        auto_stop_interval: get_num(v, "autoStopInterval"),
        auto_archive_interval: get_num(v, "autoArchiveInterval"),
        auto_delete_interval: get_num(v, "autoDeleteInterval"),
        network_block_all: v.get("networkBlockAll").and_then(Value::as_bool).unwrap_or(false),
        created_at: get_str(v, "createdAt"),
        updated_at: get_str(v, "updatedAt"),
    }
}

/// A `SnapshotDto`.
pub fn snapshot_info(v: &Value) -> SnapshotInfo {
    SnapshotInfo {
        id: get_str(v, "id").unwrap_or_default(),
        name: get_str(v, "name").unwrap_or_default(),
        image_name: get_str(v, "imageName"),
        state: get_str(v, "state").unwrap_or_default(),
        size: get_num(v, "size"),
        entrypoint: v.get("entrypoint").and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
        cpu: get_num(v, "cpu").unwrap_or(0.0),
        gpu: get_num(v, "gpu").unwrap_or(0.0),
        mem: get_num(v, "mem").unwrap_or(0.0),
        disk: get_num(v, "disk").unwrap_or(0.0),
        error_reason: get_str(v, "errorReason"),
        created_at: get_str(v, "createdAt"),
        updated_at: get_str(v, "updatedAt"),
    }
}

/// `${value}` in a JavaScript template: `undefined` when absent, `null` for null.
pub fn js_template(v: Option<&Value>) -> String {
    match v {
        None => "undefined".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.as_f64().map(super::json::js_number).unwrap_or_default(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Array(a)) => a.iter().map(|x| match x {
            Value::Null => String::new(),
            other => js_template(Some(other)),
        }).collect::<Vec<_>>().join(","),
        Some(Value::Object(_)) => "[object Object]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn create_body_matches_the_official_serialisation() {
        // The verified body of reference §3.2.
        let p = CreateSandboxParams {
            env_vars: pairs(&[("A", "b")]),
            labels: pairs(&[("x", "y"), ("code-toolbox-language", "python")]),
            auto_stop_interval: Some(15.0),
            resources: Some(Resources { cpu: Some(2.0), memory: Some(4.0), disk: Some(8.0), ..Default::default() }),
            ..Default::default()
        };
        let bi = build_info(&["b8f0".into()], "FROM python:3.12.10-slim-bookworm\nCOPY ctx/src /app/src\n");
        assert_eq!(
            create_sandbox_body(&p, Some(bi), &Some("us".into())),
            r#"{"buildInfo":{"contextHashes":["b8f0"],"dockerfileContent":"FROM python:3.12.10-slim-bookworm\nCOPY ctx/src /app/src\n"},"env":{"A":"b"},"labels":{"x":"y","code-toolbox-language":"python"},"target":"us","cpu":2,"memory":4,"disk":8,"autoStopInterval":15}"#
        );
        // env and labels are always present; everything else in the official order.
        let full = CreateSandboxParams {
            name: Some("n".into()),
            snapshot: Some("s".into()),
            user: Some("u".into()),
            public: Some(true),
            resources: Some(Resources { cpu: Some(1.0), gpu: Some(0.0), memory: Some(2.0), disk: Some(3.0), gpu_type: Some(vec!["H100".into()]) }),
            spot: Some(false),
            auto_stop_interval: Some(0.0),
            auto_pause_interval: Some(5.0),
            auto_archive_interval: Some(7.0),
            auto_delete_interval: Some(-1.0),
            ttl_minutes: Some(9.0),
            volumes: Some(json!([{"volumeId": "v", "mountPath": "/m"}])),
            kvm: Some(true),
            network_block_all: Some(false),
            network_allow_list: Some("10.0.0.0/8".into()),
            domain_allow_list: Some("a.com".into()),
            outbound_proxy_url: Some("http://p".into()),
            otel_endpoint_override: Some("http://o".into()),
            linked_sandbox: Some("l".into()),
            secrets: Some(pairs(&[("TOKEN", "tok"), ("B", "b")])),
            ..Default::default()
        };
        let body = create_sandbox_body(&full, Some(build_info_for_name("alpine:3")), &None);
        let keys: Vec<String> = serde_json::from_str::<Value>(&body).unwrap().as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "name", "snapshot", "buildInfo", "user", "env", "labels", "public", "cpu", "gpu", "gpuType", "spot", "memory", "disk",
                "autoStopInterval", "autoPauseInterval", "autoArchiveInterval", "autoDeleteInterval", "ttlMinutes", "volumes", "kvm",
                "networkBlockAll", "networkAllowList", "domainAllowList", "outboundProxyUrl", "otelEndpointOverride", "linkedSandbox", "secrets"
            ]
        );
        assert!(body.contains(r#""buildInfo":{"dockerfileContent":"FROM alpine:3\n"}"#));
        assert!(body.contains(r#""secrets":[{"TOKEN":"tok"},{"B":"b"}]"#));
        assert!(body.contains(r#""env":{},"labels":{}"#));
    }

    #[test]
    fn snapshot_body() {
        let p = CreateSnapshotParams {
            name: "snap".into(),
            image: ImageSpec::Name("unused".into()),
            entrypoint: None,
            resources: Some(Resources { cpu: Some(1.0), ..Default::default() }),
            region_id: None,
            sandbox_class: None,
        };
        assert_eq!(
            create_snapshot_body(&p, Some(build_info(&[], "FROM alpine\nRUN echo hi\n")), &Some("us".into())),
            r#"{"name":"snap","buildInfo":{"contextHashes":[],"dockerfileContent":"FROM alpine\nRUN echo hi\n"},"cpu":1,"regionId":"us"}"#
        );
        let p = CreateSnapshotParams {
            name: "s".into(),
            image: ImageSpec::Name("python:3".into()),
            entrypoint: Some(vec!["sleep".into(), "inf".into()]),
            resources: None,
            region_id: Some("eu".into()),
            sandbox_class: Some("container".into()),
        };
        assert_eq!(
            create_snapshot_body(&p, None, &Some("us".into())),
            r#"{"name":"s","imageName":"python:3","entrypoint":["sleep","inf"],"regionId":"eu","sandboxClass":"container"}"#
        );
        let p = CreateSnapshotParams { entrypoint: None, region_id: None, sandbox_class: None, ..p };
        assert_eq!(create_snapshot_body(&p, None, &None), r#"{"name":"s","imageName":"python:3"}"#);
    }

    #[test]
    fn execute_and_list_queries() {
        let r = ExecRequest { command: "echo hi".into(), cwd: Some("/tmp".into()), env: pairs(&[("K", "V")]), timeout: Some(5.0) };
        assert_eq!(execute_body(&r), r#"{"command":"echo hi","timeout":5,"cwd":"/tmp","envs":{"K":"V"}}"#);
        let r = ExecRequest { command: "x".into(), ..Default::default() };
        assert_eq!(execute_body(&r), r#"{"command":"x"}"#);
        let q = ListSandboxesQuery {
            limit: Some(10.0),
            labels: Some(pairs(&[("a", "b")])),
            states: Some(vec!["started".into(), "stopped".into()]),
            targets: Some(vec!["us".into()]),
            min_memory_gib: Some(1.5),
            is_public: Some(false),
            last_activity_after: Some("2026-01-01T00:00:00.000Z".into()),
            sort: Some("createdAt".into()),
            ..Default::default()
        };
        let qs = super::super::encode::query_string(&list_sandboxes_query(&q, Some("c2")));
        assert_eq!(
            qs,
            "cursor=c2&limit=10&labels=%7B%22a%22%3A%22b%22%7D&states=started&states=stopped&regionIds=us&minMemoryGiB=1.5&isPublic=false&lastEventAfter=2026-01-01T00%3A00%3A00.000Z&sort=createdAt"
        );
    }

    #[test]
    fn dto_reading() {
        let v = json!({"id": "i", "name": "n", "state": "started", "cpu": 2, "env": {"B": "1", "A": "2"}, "labels": {"z": "1", "a": "2"}});
        let info = sandbox_info(&v);
        assert_eq!(info.env, pairs(&[("B", "1"), ("A", "2")]));
        assert_eq!(info.labels, pairs(&[("z", "1"), ("a", "2")]));
        assert_eq!(info.cpu, 2.0);
        assert_eq!(js_template(None), "undefined");
        assert_eq!(js_template(Some(&Value::Null)), "null");
        assert_eq!(js_template(Some(&json!("r"))), "r");
    }
}
