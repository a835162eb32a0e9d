//! `/toolbox/{sandboxId}/...`: each request is forwarded, as it comes, to the sandbox's
//! in-sandbox agent over a byte stream the local backend opens to it (a `docker exec` relay):
//! bodies stream both ways without being held whole, and a WebSocket upgrade (PTY, log
//! following, the interpreter) becomes a tunnel between the client and the agent.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::header::{AUTHORIZATION, HOST, UPGRADE};
use hyper_util::rt::TokioIo;

use crate::errors;
use crate::http::{self, Req, Resp};
use crate::App;

pub(crate) async fn route(app: &Arc<App>, mut req: Req, rest: &str) -> Resp {
    let (id, path) = rest.split_once('/').unwrap_or((rest, ""));
    let id = http::decode_segment(id);
    let target = match req.uri().query() {
        Some(q) => format!("/{path}?{q}"),
        None => format!("/{path}"),
    };
    let toolbox = match app.daytona.toolbox(&id).await {
        Ok(t) => t,
        Err(e) => return errors::from_client(&e),
    };
    let io = match toolbox.raw_connection().await {
        Ok(io) => io,
        Err(e) => return errors::body(502, format!("Cannot reach the toolbox of sandbox {id}: {}", e.message)),
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake::<_, hyper::body::Incoming>(TokioIo::new(io)).await {
        Ok(c) => c,
        Err(e) => return errors::body(502, format!("The toolbox of sandbox {id} did not answer: {e}")),
    };
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let client_upgrade = req.headers().contains_key(UPGRADE).then(|| hyper::upgrade::on(&mut req));
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
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, body.map_err(std::io::Error::other).boxed_unsync())
}
