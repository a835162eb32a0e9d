//! `/toolbox/{sandboxId}/...`: each request is forwarded, as it comes, to the sandbox's
//! in-sandbox agent over a byte stream the local backend opens to it (a `docker exec` relay):
//! bodies stream both ways without being held whole, and a WebSocket upgrade (PTY, log
//! following, the interpreter) becomes a tunnel between the client and the agent. Opening a
//! relay costs a `docker exec` (~50 ms), so a connection whose exchange ended cleanly is kept
//! for the sandbox's next plain request (a few per sandbox; an idle one is no activity to the
//! agent, and one whose sandbox stopped is found closed and dropped).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, HOST, UPGRADE};
use hyper_util::rt::TokioIo;

use crate::errors;
use crate::http::{self, Req, Resp};
use crate::App;

/// Idle connections to each sandbox's agent, ready for another request.
#[derive(Default)]
pub(crate) struct AgentConnections(Mutex<HashMap<String, Vec<SendRequest<hyper::body::Incoming>>>>);

/// Idle connections kept per sandbox; more are closed when their exchange ends.
const IDLE_PER_SANDBOX: usize = 4;

impl AgentConnections {
    fn take(&self, id: &str) -> Option<SendRequest<hyper::body::Incoming>> {
        let mut idle = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(id)?;
        while let Some(sender) = list.pop() {
            if sender.is_ready() {
                return Some(sender);
            }
        }
        idle.remove(id);
        None
    }

    fn put(&self, id: String, sender: SendRequest<hyper::body::Incoming>) {
        let mut idle = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.entry(id).or_default();
        list.retain(|s| !s.is_closed());
        if list.len() < IDLE_PER_SANDBOX {
            list.push(sender);
        }
    }
}

async fn open(app: &Arc<App>, id: &str) -> Result<SendRequest<hyper::body::Incoming>, Resp> {
    let toolbox = app.daytona.toolbox(id).await.map_err(|e| errors::from_client(&e))?;
    let io = toolbox.raw_connection().await.map_err(|e| errors::body(502, format!("Cannot reach the toolbox of sandbox {id}: {}", e.message)))?;
    let (sender, conn) = hyper::client::conn::http1::handshake::<_, hyper::body::Incoming>(TokioIo::new(io))
        .await
        .map_err(|e| errors::body(502, format!("The toolbox of sandbox {id} did not answer: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    Ok(sender)
}

pub(crate) async fn route(app: &Arc<App>, mut req: Req, rest: &str) -> Resp {
    let (id, path) = rest.split_once('/').unwrap_or((rest, ""));
    let id = http::decode_segment(id);
    let target = match req.uri().query() {
        Some(q) => format!("/{path}?{q}"),
        None => format!("/{path}"),
    };
    let upgrading = req.headers().contains_key(UPGRADE);
    let pooled = if upgrading { None } else { app.agents.take(&id) };
    let mut sender = match pooled {
        Some(sender) => sender,
        None => match open(app, &id).await {
            Ok(sender) => sender,
            Err(resp) => return resp,
        },
    };
    let client_upgrade = upgrading.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    parts.uri = match target.parse() {
        Ok(u) => u,
        Err(_) => return errors::body(400, format!("Invalid toolbox path {target}")),
    };
    parts.headers.remove(AUTHORIZATION);
    parts.headers.insert(HOST, hyper::header::HeaderValue::from_static("daytona-native-agent"));
    let mut response = match sender.send_request(hyper::Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(e) => return errors::body(502, format!("The toolbox of sandbox {id} closed the connection: {e}")),
    };
    if response.status() == hyper::StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_upgrade) = client_upgrade
    {
        let agent_upgrade = hyper::upgrade::on(&mut response);
        let stop = app.stop.clone();
        tokio::spawn(async move {
            let (Ok(client), Ok(agent)) = (client_upgrade.await, agent_upgrade.await) else { return };
            let (mut client, mut agent) = (TokioIo::new(client), TokioIo::new(agent));
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::io::copy_bidirectional(&mut client, &mut agent) => {}
            }
        });
        let (parts, _) = response.into_parts();
        return hyper::Response::from_parts(parts, http::empty());
    }
    if !upgrading {
        // Ready again once this response's body has been read to its end; a body dropped
        // half-read closes the connection instead.
        let app = app.clone();
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                app.agents.put(id, sender);
            }
        });
    }
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, body.map_err(std::io::Error::other).boxed_unsync())
}
