//! Sandbox calls (reference §3.2, §3.7): create (with the image build and its logs), get, list,
//! start, stop, delete.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::encode::{path_segment, query_string};
use super::http::{Deadline, Request};
use super::{ApiBackend, dto, logstream, per_call_deadline, upload};
use crate::error::{ClientError, Result};
use crate::events::{BuildEvent, StepParser};
use crate::backend::{OperationContext, UndoOnAbort};
use crate::types::*;

/// States that end the build-log stream of a sandbox build.
const BUILD_OVER: [&str; 4] = ["started", "starting", "error", "build_failed"];

impl ApiBackend {
    fn sandbox_url(&self, id: &str, rest: &str) -> String {
        self.http.api(&format!("/sandbox/{}{rest}", path_segment(id)))
    }

    pub(super) async fn get_dto(&self, id_or_name: &str) -> Result<Value> {
        self.http.json(&Request::new(Method::GET, self.sandbox_url(id_or_name, ""))).await
    }

    /// `ensureToolboxProxyUrl`: the DTO's URL, else `GET /sandbox/{id}/toolbox-proxy-url`.
    pub(super) async fn hydrate(&self, dto: Value) -> Result<SandboxInfo> {
        let info = self.remember(&dto);
        if dto.get("toolboxProxyUrl").and_then(Value::as_str).is_some_and(|u| !u.is_empty()) {
            return Ok(info);
        }
        let url = self.fetch_toolbox_url(&info.id).await?;
        self.http.trust_origin_of(&url);
        self.toolbox.lock().unwrap().insert(info.id.clone(), url);
        Ok(info)
    }

    pub(super) async fn fetch_toolbox_url(&self, id: &str) -> Result<String> {
        self.fetch_toolbox_url_within(id, Deadline::Default).await
    }

    pub(super) async fn fetch_toolbox_url_within(&self, id: &str, deadline: Deadline) -> Result<String> {
        let req = Request::new(Method::GET, self.sandbox_url(id, "/toolbox-proxy-url")).deadline(deadline);
        let v = self.http.json(&req).await?;
        Ok(v.get("url").and_then(Value::as_str).unwrap_or_default().to_string())
    }

    pub(super) async fn get(&self, id_or_name: &str) -> Result<SandboxInfo> {
        let dto = self.get_dto(id_or_name).await?;
        self.hydrate(dto).await
    }

    pub(super) async fn list_page(&self, query: &ListSandboxesQuery, cursor: Option<&str>) -> Result<SandboxPage> {
        let q = query_string(&dto::list_sandboxes_query(query, cursor));
        let url = if q.is_empty() { self.http.api("/sandbox") } else { format!("{}?{q}", self.http.api("/sandbox")) };
        let v = self.http.json(&Request::new(Method::GET, url)).await?;
        let mut items = Vec::new();
        for item in v.get("items").and_then(Value::as_array).cloned().unwrap_or_default() {
            items.push(self.hydrate(item).await?);
        }
        let next_cursor = v.get("nextCursor").and_then(Value::as_str).filter(|c| !c.is_empty()).map(str::to_string);
        Ok(SandboxPage { items, next_cursor })
    }

    pub(super) async fn create(&self, ctx: &OperationContext, params: &CreateSandboxParams) -> Result<SandboxInfo> {
        let t0 = Instant::now();
        let timeout = ctx.timeout().unwrap_or(60.0);
        let logs = ctx.log_sink();
        let build_info = match &params.image {
            None => None,
            Some(ImageSpec::Name(name)) => Some(dto::build_info_for_name(name)),
            Some(ImageSpec::Build(image)) => {
                let hashes = upload::process_image_context(&self.http, image, logs).await?;
                Some(dto::build_info(&hashes, image.dockerfile()))
            }
        };
        let builds = build_info.is_some();
        let body = dto::create_sandbox_body(params, build_info, &self.http.config().target);
        let req = Request::new(Method::POST, self.http.api("/sandbox")).json(body).deadline(Deadline::Ms(timeout * 1000.0));
        let mut dto = self.http.json(&req).await?;
        let mut info = self.remember(&dto);
        // Aborted from here on (following the build, or `Daytona`'s wait), the sandbox goes:
        // deleting it also stops its build on the server.
        let (http, url) = (self.http.clone(), self.sandbox_url(&info.id, ""));
        let undo = UndoOnAbort::new(ctx, move || async move {
            let _ = http.send(&Request::new(Method::DELETE, url)).await;
        });

        if info.state == "pending_build" && logs.enabled() {
            while info.state == "pending_build" {
                if timeout > 0.0 && t0.elapsed().as_secs_f64() > timeout {
                    return Err(ClientError::timeout(format!(
                        "Sandbox build has been pending for more than {} seconds. Please check the sandbox state again later.",
                        super::json::js_number(timeout)
                    )));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                dto = self.get_dto(&info.id).await?;
                info = self.remember(&dto);
            }
            let v = self.http.json(&Request::new(Method::GET, self.sandbox_url(&info.id, "/build-logs-url"))).await?;
            let url = v.get("url").and_then(Value::as_str).unwrap_or_default().to_string();
            let id = info.id.clone();
            let latest = std::sync::Mutex::new(dto.clone());
            let mut steps = StepParser::new();
            logstream::follow(&self.http, &url, logs, &mut steps, || async {
                let fresh = self.get_dto(&id).await?;
                let state = fresh.get("state").and_then(Value::as_str).unwrap_or_default().to_string();
                *latest.lock().unwrap() = fresh;
                Ok(BUILD_OVER.contains(&state.as_str()))
            })
            .await?;
            dto = latest.into_inner().unwrap();
            if logs.events_enabled() {
                let state = dto.get("state").and_then(Value::as_str).unwrap_or_default();
                if state == "build_failed" || state == "error" {
                    let reason = dto.get("errorReason").and_then(Value::as_str).unwrap_or("the build failed");
                    logs.event(steps.failed(reason)).await;
                } else {
                    for e in steps.succeeded(Instant::now()) {
                        logs.event(e).await;
                    }
                    logs.event(BuildEvent::BuildFinished { duration_ms: ms_since(t0), image: snapshot_of(&dto), cached: false }).await;
                }
            }
        } else if builds && logs.events_enabled() && info.state != "pending_build" {
            // The server had the image of this build already: nothing was built.
            logs.event(BuildEvent::BuildFinished { duration_ms: ms_since(t0), image: snapshot_of(&dto), cached: true }).await;
        }

        let info = self.hydrate(dto).await;
        undo.disarm();
        info
    }

    /// `GET /sandbox/{id}` read into the core type (toolbox URL remembered).
    pub(super) async fn get_remembered(&self, id: &str) -> Result<SandboxInfo> {
        let dto = self.get_dto(id).await?;
        Ok(self.remember(&dto))
    }

    pub(super) async fn start(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        let req = Request::new(Method::POST, self.sandbox_url(id, "/start")).deadline(per_call_deadline(ctx.timeout()));
        let v = self.http.json(&req).await?;
        Ok(self.remember_or(id, &v))
    }

    pub(super) async fn stop(&self, ctx: &OperationContext, id: &str, force: bool) -> Result<SandboxInfo> {
        let url = format!("{}?force={force}", self.sandbox_url(id, "/stop"));
        let req = Request::new(Method::POST, url).deadline(per_call_deadline(ctx.timeout()));
        let v = self.http.json(&req).await?;
        Ok(self.remember_or(id, &v))
    }

    pub(super) async fn delete(&self, ctx: &OperationContext, id: &str) -> Result<()> {
        let req = Request::new(Method::DELETE, self.sandbox_url(id, "")).deadline(per_call_deadline(ctx.timeout()));
        let v = self.http.json(&req).await?;
        if v.is_object() {
            self.remember(&v);
        }
        Ok(())
    }

    /// `PUT /sandbox/{id}/labels` with `{ labels }`: the labels the answer holds.
    pub(super) async fn replace_labels(&self, id: &str, labels: &[(String, String)]) -> Result<Vec<(String, String)>> {
        let body = super::json::stringify(&serde_json::json!({ "labels": super::json::record(labels) }));
        let v = self.http.json(&Request::new(Method::PUT, self.sandbox_url(id, "/labels")).json(body)).await?;
        Ok(dto::sandbox_info(&serde_json::json!({ "labels": v.get("labels").cloned().unwrap_or(Value::Null) })).labels)
    }

    /// `POST /sandbox/{id}/last-activity` with the body `{}` (the official generated client
    /// serialises its absent `UpdateLastActivity` so).
    pub(super) async fn update_last_activity(&self, id: &str) -> Result<()> {
        let req = Request::new(Method::POST, self.sandbox_url(id, "/last-activity")).json("{}".into());
        self.http.send(&req).await.map(|_| ())
    }

    /// `POST /sandbox/{id}/{autostop|autoarchive|autodelete}/{minutes}` (the answer is not used,
    /// as officially).
    pub(super) async fn set_interval(&self, id: &str, which: &str, minutes: f64) -> Result<()> {
        let url = self.sandbox_url(id, &format!("/{which}/{}", path_segment(&super::json::js_number(minutes))));
        self.http.json(&Request::new(Method::POST, url)).await.map(|_| ())
    }

    /// `POST /sandbox/{id}/resize` with `{ cpu, memory, disk }` (absent ones left out) and the
    /// sandbox's organisation in `X-Daytona-Organization-ID`, bounded by the call's timeout.
    pub(super) async fn resize(&self, ctx: &OperationContext, id: &str, organization_id: &str, r: &ResizeParams) -> Result<SandboxInfo> {
        let mut body = serde_json::Map::new();
        for (k, v) in [("cpu", r.cpu), ("memory", r.memory), ("disk", r.disk)] {
            if let Some(n) = v.and_then(serde_json::Number::from_f64) {
                body.insert(k.into(), Value::Number(n));
            }
        }
        let mut req = Request::new(Method::POST, self.sandbox_url(id, "/resize"))
            .json(super::json::stringify(&Value::Object(body)))
            .deadline(per_call_deadline(ctx.timeout()));
        if let Ok(org) = reqwest::header::HeaderValue::from_str(organization_id) {
            req.extra_headers.push((reqwest::header::HeaderName::from_static("x-daytona-organization-id"), org));
        }
        let v = self.http.json(&req).await?;
        Ok(self.remember_or(id, &v))
    }

    /// `POST /sandbox/{id}/snapshot` with `{ name }`, bounded by the call's timeout.
    pub(super) async fn snapshot_sandbox(&self, ctx: &OperationContext, id: &str, name: &str) -> Result<SandboxInfo> {
        let body = super::json::stringify(&serde_json::json!({ "name": name }));
        let req = Request::new(Method::POST, self.sandbox_url(id, "/snapshot")).json(body).deadline(per_call_deadline(ctx.timeout()));
        let v = self.http.json(&req).await?;
        Ok(self.remember_or(id, &v))
    }

    /// `POST /sandbox/{id}/fork` with `{ name }` (absent: `{}`), bounded by the call's timeout;
    /// the new sandbox's toolbox URL is asked for when the answer has none, as officially.
    pub(super) async fn fork(&self, ctx: &OperationContext, id: &str, name: Option<&str>) -> Result<SandboxInfo> {
        let body = match name {
            Some(n) => super::json::stringify(&serde_json::json!({ "name": n })),
            None => "{}".to_string(),
        };
        let req = Request::new(Method::POST, self.sandbox_url(id, "/fork")).json(body).deadline(per_call_deadline(ctx.timeout()));
        let v = self.http.json(&req).await?;
        self.hydrate(v).await
    }

    /// `POST /sandbox/{id}/archive` (the answer is not used, as officially).
    pub(super) async fn archive(&self, id: &str) -> Result<()> {
        self.http.json(&Request::new(Method::POST, self.sandbox_url(id, "/archive"))).await.map(|_| ())
    }

    /// `POST /sandbox/{id}/recover`, bounded by the call's timeout.
    pub(super) async fn recover(&self, ctx: &OperationContext, id: &str) -> Result<SandboxInfo> {
        let req = Request::new(Method::POST, self.sandbox_url(id, "/recover")).deadline(per_call_deadline(ctx.timeout()));
        let v = self.http.json(&req).await?;
        Ok(self.remember_or(id, &v))
    }

    /// `GET /sandbox/{id}/ports/{port}/preview-url`, or with `signed` `.../signed-preview-url`
    /// (`?expiresInSeconds=` when given).
    pub(super) async fn preview_url(&self, id: &str, port: u16, signed: Option<Option<f64>>) -> Result<PreviewLink> {
        let url = match signed {
            None => self.sandbox_url(id, &format!("/ports/{port}/preview-url")),
            Some(None) => self.sandbox_url(id, &format!("/ports/{port}/signed-preview-url")),
            Some(Some(s)) => format!("{}?expiresInSeconds={}", self.sandbox_url(id, &format!("/ports/{port}/signed-preview-url")), super::json::js_number(s)),
        };
        let v = self.http.json(&Request::new(Method::GET, url)).await?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(PreviewLink { sandbox_id: s("sandboxId"), port: v.get("port").and_then(Value::as_f64).unwrap_or(port as f64), url: s("url"), token: s("token") })
    }

    /// The DTO a lifecycle call answered with, or (no body) just the id with an unknown state.
    fn remember_or(&self, id: &str, v: &Value) -> SandboxInfo {
        if v.is_object() { self.remember(v) } else { SandboxInfo { id: id.to_string(), ..Default::default() } }
    }
}

fn ms_since(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

/// The snapshot a sandbox runs, when the server says.
fn snapshot_of(dto: &Value) -> Option<String> {
    dto.get("snapshot").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}
