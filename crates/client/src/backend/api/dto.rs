//! Wire shapes: request bodies serialised as the official SDK serialises them (reference §3.2,
//! §3.6: key order, `env`/`labels` always present, absent values dropped) and the API's DTOs
//! read into the core's types.

use serde::Serialize;
use serde_json::Value;

use super::json::{record, stringify};
use crate::types::*;

/// `buildInfo` for `image: 'ref'` (`Image.base(ref).dockerfile`, no `contextHashes`).
pub fn build_info_for_name(image: &str) -> Value {
    to_value(BuildInfo { context_hashes: None, dockerfile_content: format!("FROM {image}\n") })
}

/// `buildInfo` for an `Image`: `contextHashes` (always present) before `dockerfileContent`.
pub fn build_info(context_hashes: &[String], dockerfile: &str) -> Value {
    to_value(BuildInfo { context_hashes: Some(context_hashes), dockerfile_content: dockerfile.to_string() })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BuildInfo<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    context_hashes: Option<&'a [String]>,
    dockerfile_content: String,
}

/// Ordered string pairs as a JSON object (a JS record as the glue read it), always present.
struct Record<'a>(&'a [(String, String)]);

impl Serialize for Record<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// `secrets`: one single-entry object per pair.
struct Secrets<'a>(&'a [(String, String)]);

impl Serialize for Secrets<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|pair| Record(std::slice::from_ref(pair))))
    }
}

/// Serialised with serde_json (fields in declaration order: the official key order) and written
/// by [`stringify`] (JavaScript's number form). `None` fields are dropped, as `JSON.stringify`
/// drops `undefined`.
fn to_value(body: impl Serialize) -> Value {
    serde_json::to_value(body).expect("request bodies serialise")
}

/// The `POST /sandbox` body, keys in the official SDK's order (reference §3.2).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateSandboxBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_info: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    env: Record<'a>,
    labels: Record<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_type: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spot: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_stop_interval: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_pause_interval: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_archive_interval: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_delete_interval: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl_minutes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volumes: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kvm: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_block_all: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_allow_list: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain_allow_list: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbound_proxy_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    otel_endpoint_override: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linked_sandbox: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secrets: Option<Secrets<'a>>,
}

/// The `POST /sandbox` body. `labels` already carries the language label.
pub fn create_sandbox_body(p: &CreateSandboxParams, build_info: Option<Value>, target: &Option<String>) -> String {
    let r = p.resources.clone().unwrap_or_default();
    stringify(&to_value(CreateSandboxBody {
        name: p.name.as_deref(),
        snapshot: p.snapshot.as_deref(),
        build_info,
        user: p.user.as_deref(),
        env: Record(&p.env_vars),
        labels: Record(&p.labels),
        public: p.public,
        target: target.as_deref(),
        cpu: r.cpu,
        gpu: r.gpu,
        gpu_type: r.gpu_type.as_deref(),
        spot: p.spot,
        memory: r.memory,
        disk: r.disk,
        auto_stop_interval: p.auto_stop_interval,
        auto_pause_interval: p.auto_pause_interval,
        auto_archive_interval: p.auto_archive_interval,
        auto_delete_interval: p.auto_delete_interval,
        ttl_minutes: p.ttl_minutes,
        volumes: p.volumes.as_ref(),
        kvm: p.kvm,
        network_block_all: p.network_block_all,
        network_allow_list: p.network_allow_list.as_deref(),
        domain_allow_list: p.domain_allow_list.as_deref(),
        outbound_proxy_url: p.outbound_proxy_url.as_deref(),
        otel_endpoint_override: p.otel_endpoint_override.as_deref(),
        linked_sandbox: p.linked_sandbox.as_deref(),
        secrets: p.secrets.as_deref().map(Secrets),
    }))
}

/// The `POST /snapshots` body (reference §3.6).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateSnapshotBody<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_info: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_type: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_class: Option<&'a str>,
}

/// The `POST /snapshots` body. `build_info` is set for an `Image` (its Dockerfile already
/// carries the entrypoint), `image_name` for a reference.
pub fn create_snapshot_body(p: &CreateSnapshotParams, build_info: Option<Value>, default_region: &Option<String>) -> String {
    let by_name = build_info.is_none();
    let r = p.resources.clone().unwrap_or_default();
    stringify(&to_value(CreateSnapshotBody {
        name: &p.name,
        build_info,
        image_name: match &p.image {
            ImageSpec::Name(name) if by_name => Some(name),
            _ => None,
        },
        entrypoint: if by_name { p.entrypoint.as_deref() } else { None },
        cpu: r.cpu,
        gpu: r.gpu,
        gpu_type: r.gpu_type.as_deref(),
        memory: r.memory,
        disk: r.disk,
        region_id: p.region_id.clone().filter(|r| !r.is_empty()).or_else(|| default_region.clone()),
        sandbox_class: p.sandbox_class.as_deref(),
    }))
}

/// `process/execute` body: `{command, timeout, cwd, envs}`; `envs` only when non-empty.
#[derive(Serialize)]
struct ExecuteBody<'a> {
    command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    envs: Option<Record<'a>>,
}

pub fn execute_body(r: &ExecRequest) -> String {
    stringify(&to_value(ExecuteBody {
        command: &r.command,
        timeout: r.timeout,
        cwd: r.cwd.as_deref(),
        envs: if r.env.is_empty() { None } else { Some(Record(&r.env)) },
    }))
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
        extra: SANDBOX_EXTRA_FIELDS.iter().filter_map(|k| Some((k.to_string(), v.get(*k)?.clone()))).collect(),
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
