//! Snapshot calls (reference §3.6): create (with the context upload, the state lines and the
//! build logs), get, list, delete and activate with the official id resolution.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::watch;

use super::encode::{path_segment, query_string};
use super::http::{Deadline, Request};
use super::{ApiBackend, dto, logstream, upload};
use crate::error::{ClientError, Result};
use crate::events::{BuildEvent, StepParser};
use crate::backend::OperationContext;
use crate::types::*;

const TERMINAL: [&str; 3] = ["active", "error", "build_failed"];

fn is_terminal(state: &str) -> bool {
    TERMINAL.contains(&state)
}

/// The official UUID test of `callWithResolvedId`: RFC 4122 versions 1-5 or the nil UUID.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if lower == "00000000-0000-0000-0000-000000000000" {
        return true;
    }
    let l = lower.as_bytes();
    for (i, c) in l.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => (b'1'..=b'5').contains(c),
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return false;
        }
    }
    true
}

fn state_of(v: &Value) -> String {
    v.get("state").and_then(Value::as_str).unwrap_or_default().to_string()
}

fn name_of(v: &Value) -> String {
    v.get("name").and_then(Value::as_str).unwrap_or_default().to_string()
}

impl ApiBackend {
    fn snapshots_url(&self, rest: &str) -> String {
        self.http.api(&format!("/snapshots{rest}"))
    }

    pub(super) async fn snapshot_dto(&self, id_or_name: &str) -> Result<Value> {
        self.http.json(&Request::new(Method::GET, self.snapshots_url(&format!("/{}", path_segment(id_or_name))))).await
    }

    pub(super) async fn list_snapshots_query(&self, query: &ListSnapshotsQuery) -> Result<SnapshotPage> {
        let q = query_string(&dto::list_snapshots_query(query));
        let url = if q.is_empty() { self.snapshots_url("") } else { format!("{}?{q}", self.snapshots_url("")) };
        let v = self.http.json(&Request::new(Method::GET, url)).await?;
        let items = v.get("items").and_then(Value::as_array).map(|a| a.iter().map(dto::snapshot_info).collect()).unwrap_or_default();
        let num = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        Ok(SnapshotPage { items, total: num("total"), page: num("page"), total_pages: num("totalPages") })
    }

    /// `callWithResolvedId`: an object's id as is; a UUID-shaped string tried as an id first
    /// (falling back on not-found); anything else resolved by `GET /snapshots/{name}`.
    async fn with_resolved_id<T, F, Fut>(&self, snapshot: &SnapshotRef, op: F) -> Result<T>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let s = match snapshot {
            SnapshotRef::Object { id, .. } => return op(id.clone().unwrap_or_default()).await,
            SnapshotRef::IdOrName(s) => s,
        };
        if is_uuid(s) {
            match op(s.clone()).await {
                Err(e) if e.kind.is_not_found() => {}
                other => return other,
            }
        }
        let resolved = self.snapshot_dto(s).await?;
        op(resolved.get("id").and_then(Value::as_str).unwrap_or_default().to_string()).await
    }

    pub(super) async fn delete_snapshot_ref(&self, snapshot: &SnapshotRef) -> Result<()> {
        self.with_resolved_id(snapshot, |id| async move {
            self.http.send(&Request::new(Method::DELETE, self.snapshots_url(&format!("/{}", path_segment(&id))))).await.map(|_| ())
        })
        .await
    }

    pub(super) async fn activate_snapshot_ref(&self, snapshot: &SnapshotRef) -> Result<SnapshotInfo> {
        self.with_resolved_id(snapshot, |id| async move {
            let url = self.snapshots_url(&format!("/{}/activate", path_segment(&id)));
            self.http.json(&Request::new(Method::POST, url)).await.map(|v| dto::snapshot_info(&v))
        })
        .await
    }

    pub(super) async fn create_snapshot_flow(&self, ctx: &OperationContext, params: &CreateSnapshotParams) -> Result<SnapshotInfo> {
        let timeout = ctx.timeout().unwrap_or(0.0);
        let logs = ctx.log_sink();
        let t0 = std::time::Instant::now();
        let build_info = match &params.image {
            ImageSpec::Name(_) => None,
            ImageSpec::Build(image) => {
                let hashes = upload::process_image_context(&self.http, image, logs).await?;
                let dockerfile = match &params.entrypoint {
                    Some(ep) => image.with_entrypoint(ep).dockerfile().to_string(),
                    None => image.dockerfile().to_string(),
                };
                Some(dto::build_info(&hashes, &dockerfile))
            }
        };
        let has_build = build_info.is_some();
        let body = dto::create_snapshot_body(params, build_info, &self.http.config().target);
        let req = Request::new(Method::POST, self.snapshots_url("")).json(body).deadline(Deadline::Ms(timeout * 1000.0));
        let created = self.http.json(&req).await?;
        if !created.is_object() {
            return Err(ClientError::generic("Failed to create snapshot. Didn't receive a snapshot from the server API."));
        }
        let id = created.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let (state_tx, state_rx) = watch::channel(state_of(&created));
        // Some(true) once streaming should start; dropped (None) when the build is over first.
        let (start_tx, mut start_rx) = watch::channel(false);

        let polling = async {
            let mut snap = created.clone();
            let mut state = state_of(&snap);
            let name = name_of(&snap);
            let should_stream = |state: &str| has_build && state != "pending" && !is_terminal(state);
            if logs.enabled() {
                logs.line(format!("Creating snapshot {name} ({state})")).await;
                if should_stream(&state) {
                    let _ = start_tx.send(true);
                }
            }
            let mut previous = state.clone();
            while !is_terminal(&state) {
                if logs.enabled() && previous != state {
                    if should_stream(&state) {
                        let _ = start_tx.send(true);
                    }
                    logs.line(format!("Creating snapshot {} ({state})", name_of(&snap))).await;
                    previous = state.clone();
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                snap = self.snapshot_dto(&name_of(&snap)).await?;
                state = state_of(&snap);
                let _ = state_tx.send(state.clone());
            }
            drop(start_tx);
            Ok::<Value, ClientError>(snap)
        };
        let steps = std::sync::Mutex::new(None::<StepParser>);
        let streaming = async {
            // Wait until told to start, or until the build is over without that.
            loop {
                if *start_rx.borrow_and_update() {
                    break;
                }
                if start_rx.changed().await.is_err() {
                    return Ok(());
                }
            }
            let v = self.http.json(&Request::new(Method::GET, self.snapshots_url(&format!("/{}/build-logs-url", path_segment(&id))))).await?;
            let url = v.get("url").and_then(Value::as_str).unwrap_or_default().to_string();
            let rx = state_rx.clone();
            let mut parser = StepParser::new();
            let followed = logstream::follow(&self.http, &url, logs, &mut parser, || {
                let over = is_terminal(&rx.borrow());
                async move { Ok(over) }
            })
            .await;
            *steps.lock().unwrap() = Some(parser);
            followed
        };
        let (snap, ()) = tokio::try_join!(polling, streaming)?;
        let state = state_of(&snap);
        if has_build && logs.events_enabled() {
            // Without a followed log (the server never reported the build running) nothing
            // was seen being built.
            let followed = steps.lock().unwrap().take();
            let event = if state == "error" || state == "build_failed" {
                let reason = snap.get("errorReason").and_then(Value::as_str).unwrap_or("the build failed");
                Some(followed.unwrap_or_default().failed(reason))
            } else if state == "active" {
                let cached = followed.is_none();
                if let Some(mut parser) = followed {
                    for e in parser.succeeded(std::time::Instant::now()) {
                        logs.event(e).await;
                    }
                }
                Some(BuildEvent::BuildFinished { duration_ms: t0.elapsed().as_secs_f64() * 1000.0, image: Some(name_of(&snap)), cached })
            } else {
                None
            };
            if let Some(e) = event {
                logs.event(e).await;
            }
        }
        if logs.enabled() && state == "active" {
            logs.line(format!("Created snapshot {} ({state})", name_of(&snap))).await;
        }
        if state == "error" || state == "build_failed" {
            return Err(ClientError::generic(format!(
                "Failed to create snapshot. Name: {} Reason: {}",
                name_of(&snap),
                dto::js_template(snap.get("errorReason"))
            )));
        }
        Ok(dto::snapshot_info(&snap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_rule() {
        assert!(is_uuid("5b000000-0000-4000-8000-000000000001"));
        assert!(is_uuid("5B000000-0000-4000-8000-00000000000A"));
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567-e89b-62d3-a456-426614174000"), "version 6 is not accepted");
        assert!(!is_uuid("123e4567-e89b-12d3-c456-426614174000"), "variant must be 8, 9, a or b");
        assert!(!is_uuid("my-snapshot"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
    }
}
