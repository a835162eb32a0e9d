//! `/api/socket.io/`: the official TypeScript SDK's event channel (socket.io over engine.io v4,
//! WebSocket transport). The server opens the session, checks the key the client sends in its
//! CONNECT packet and answers pings, and sends no events: the SDK polls sandbox state as it
//! does without events. Refusing the connection instead makes the SDK retry with back-off for
//! minutes, which keeps a finished script from exiting.

use futures_util::{SinkExt, StreamExt};
use hyper::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::errors;
use crate::http::{self, Req, Resp};

const PING_INTERVAL_MS: u64 = 25_000;

pub(crate) fn route(key: String, stop: tokio_util::sync::CancellationToken, mut req: Req) -> Resp {
    let Some(ws_key) = req.headers().get(SEC_WEBSOCKET_KEY).map(|k| k.as_bytes().to_vec()) else {
        return errors::body(400, "Only the WebSocket transport of socket.io is served");
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&ws_key);
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let sid = uuid::Uuid::new_v4().simple().to_string();
        let open = json!({ "sid": sid, "upgrades": [], "pingInterval": PING_INTERVAL_MS, "pingTimeout": 20_000, "maxPayload": 1_000_000 });
        if ws.send(Message::text(format!("0{open}"))).await.is_err() {
            return;
        }
        let mut ping = tokio::time::interval(std::time::Duration::from_millis(PING_INTERVAL_MS));
        ping.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ping.tick() => {
                    if ws.send(Message::text("2")).await.is_err() {
                        return;
                    }
                }
                msg = ws.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                        Some(Ok(_)) => continue,
                    };
                    // engine.io "message" (4) carrying socket.io CONNECT (0) to the main namespace.
                    if let Some(payload) = text.strip_prefix("40") {
                        let token = serde_json::from_str::<Value>(payload).ok().and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_string));
                        let answer = if token.is_some_and(|t| crate::auth::constant_time_eq(t.as_bytes(), key.as_bytes())) {
                            format!("40{}", json!({ "sid": uuid::Uuid::new_v4().simple().to_string() }))
                        } else {
                            format!("44{}", json!({ "message": "Invalid or missing API key" }))
                        };
                        if ws.send(Message::text(answer)).await.is_err() {
                            return;
                        }
                    } else if text == "1" {
                        return;
                    }
                }
            }
        }
    });
    hyper::Response::builder()
        .status(101)
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "websocket")
        .header(SEC_WEBSOCKET_ACCEPT, accept)
        .body(http::empty())
        .unwrap_or_else(|_| http::status(500))
}
