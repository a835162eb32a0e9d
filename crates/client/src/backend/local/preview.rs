//! Preview links on the local engine. A preview URL is `http://127.0.0.1:<port>` on this machine:
//! a loopback listener of this process whose every connection is tunnelled to the port inside the
//! sandbox through its agent (`GET /port/{port}/tunnel`, a WebSocket carrying the TCP bytes over
//! the same `docker exec` relay as the toolbox). The sandbox needs no network and no published
//! port, so this works under every network mode (`none` included) and with a remote engine.
//! `getPreviewLink` keeps one listener per sandbox and port for the life of the process; each
//! signed URL has a listener of its own that stops accepting at its expiry (connections then
//! are refused).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::backend::OperationContext;
use crate::error::{ClientError, Result};
use crate::toolbox::ToolboxTransport;
use crate::types::PreviewLink;

/// The unsigned listeners: (engine, container, port) -> (local port, token).
fn listeners() -> &'static Mutex<HashMap<String, (u16, String)>> {
    static L: OnceLock<Mutex<HashMap<String, (u16, String)>>> = OnceLock::new();
    L.get_or_init(Default::default)
}

fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `getPreviewLink(port)`: the listener of this sandbox and port (made on first use).
pub async fn link(key: String, sandbox_id: &str, port: u16, transport: Arc<dyn ToolboxTransport>) -> Result<PreviewLink> {
    if let Some((local, token)) = listeners().lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned() {
        return Ok(PreviewLink { sandbox_id: sandbox_id.to_string(), port: port as f64, url: format!("http://127.0.0.1:{local}"), token });
    }
    let listener = bind().await?;
    let local = listener.local_addr().map_err(|e| ClientError::generic(format!("Cannot open a preview listener: {e}")))?.port();
    let token = token();
    listeners().lock().unwrap_or_else(|e| e.into_inner()).insert(key, (local, token.clone()));
    tokio::spawn(serve(listener, transport, port, None));
    Ok(PreviewLink { sandbox_id: sandbox_id.to_string(), port: port as f64, url: format!("http://127.0.0.1:{local}"), token })
}

/// `getSignedPreviewUrl(port, expiresInSeconds)`: a listener that stops after `expires`.
pub async fn signed(sandbox_id: &str, port: u16, expires: Duration, transport: Arc<dyn ToolboxTransport>) -> Result<PreviewLink> {
    let listener = bind().await?;
    let local = listener.local_addr().map_err(|e| ClientError::generic(format!("Cannot open a preview listener: {e}")))?.port();
    tokio::spawn(serve(listener, transport, port, Some(tokio::time::Instant::now() + expires)));
    Ok(PreviewLink { sandbox_id: sandbox_id.to_string(), port: port as f64, url: format!("http://127.0.0.1:{local}"), token: token() })
}

async fn bind() -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| ClientError::generic(format!("Cannot open a preview listener on 127.0.0.1: {e}")))
}

async fn serve(listener: TcpListener, transport: Arc<dyn ToolboxTransport>, port: u16, until: Option<tokio::time::Instant>) {
    loop {
        let accepted = match until {
            Some(t) => tokio::select! {
                r = listener.accept() => r,
                _ = tokio::time::sleep_until(t) => return,
            },
            None => listener.accept().await,
        };
        let Ok((socket, _)) = accepted else { continue };
        tokio::spawn(bridge(socket, transport.clone(), port));
    }
}

/// One preview connection: bytes both ways between `socket` and the tunnel to `port`.
async fn bridge(mut socket: TcpStream, transport: Arc<dyn ToolboxTransport>, port: u16) {
    let ws = match transport.websocket(&OperationContext::new(), &format!("port/{port}/tunnel"), &[]).await {
        Ok(ws) => ws,
        Err(e) => {
            let body = format!("The sandbox cannot be reached: {}\n", e.message);
            let reply = format!("HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = socket.write_all(reply.as_bytes()).await;
            return;
        }
    };
    let (mut tx, mut rx) = ws.split();
    let (mut read, mut write) = socket.into_split();
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(Message::Binary(buf[..n].to_vec().into())).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Message::Close(None)).await;
    };
    let down = async {
        while let Some(Ok(msg)) = rx.next().await {
            match msg {
                Message::Binary(b) => {
                    if write.write_all(&b).await.is_err() {
                        break;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = write.shutdown().await;
    };
    tokio::join!(up, down);
}
