//! The toolbox transport of the API backend: calls through the backend's [`Http`] (retries,
//! error mapping, scrubbing, the credential only to trusted origins) below the sandbox's
//! toolbox proxy URL, and WebSockets as the official SDK opens them in Node (`ws` with the
//! configuration's headers and the operation's subprotocols) over TCP or TLS.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::errors;
use super::http::{Body, Deadline, Http, Request};
use crate::backend::OperationContext;
use crate::error::{ClientError, ErrorKind, Result};
use crate::toolbox::{StreamBody, StreamResponse, ToolboxCall, ToolboxIo, ToolboxSocket, ToolboxTransport};

pub struct ApiToolboxTransport {
    http: Arc<Http>,
    /// `{toolboxProxyUrl}/{sandboxId}`.
    base: String,
}

impl ApiToolboxTransport {
    pub fn new(http: Arc<Http>, base: String) -> ApiToolboxTransport {
        ApiToolboxTransport { http, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base.trim_end_matches('/'), path)
    }
}

/// The `ws[s]://` URL of an `http[s]://` one (`basePath.replace(/^http/, 'ws')`).
pub fn ws_url(http_url: &str) -> String {
    match http_url.strip_prefix("http") {
        Some(rest) => format!("ws{rest}"),
        None => http_url.to_string(),
    }
}

/// The `Sec-WebSocket-Protocol` value `ws` sends for `protocols`.
pub fn protocol_header(protocols: &[String]) -> Option<String> {
    (!protocols.is_empty()).then(|| protocols.join(","))
}

fn connection_error(message: impl Into<String>) -> ClientError {
    ClientError::new(ErrorKind::Connection, message)
}

/// Maps a failed handshake: a refusal as a call with that status and body would be (the
/// official SDK's `ws` only says `Unexpected server response: 404`; the status and the
/// toolbox's message say more), anything else as `ws` reports it.
fn handshake_error(e: tungstenite::Error) -> ClientError {
    use tungstenite::error::{ProtocolError, SubProtocolError};
    match e {
        tungstenite::Error::Http(resp) => {
            let headers = resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
            errors::from_response(resp.status().as_u16(), headers, resp.body().as_deref().unwrap_or_default())
        }
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(SubProtocolError::NoSubProtocol)) => {
            connection_error("Server sent no subprotocol")
        }
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(_)) => connection_error("Server sent an invalid subprotocol"),
        other => connection_error(other.to_string()),
    }
}

async fn tls(host: &str, tcp: TcpStream) -> Result<Box<dyn ToolboxIo>> {
    use rustls_platform_verifier::BuilderVerifierExt;
    super::http::install_crypto_provider();
    let mut config = rustls::ClientConfig::builder()
        .with_platform_verifier()
        .map_err(|e| connection_error(format!("Cannot set up TLS: {e}")))?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| connection_error(format!("Invalid host name {host}: {e}")))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| connection_error(e.to_string()))?;
    Ok(Box::new(stream))
}

#[async_trait]
impl ToolboxTransport for ApiToolboxTransport {
    async fn call(&self, _ctx: &OperationContext, call: ToolboxCall) -> Result<Bytes> {
        let mut req = Request::new(call.method, self.url(&call.path)).deadline(call.deadline);
        req.accept = call.accept;
        if let Some(body) = call.json {
            req = req.json(body);
        }
        req.max_body = call.max_body;
        Ok(self.http.send(&req).await?.body)
    }

    async fn call_streaming(&self, _ctx: &OperationContext, call: ToolboxCall, body: Option<StreamBody>) -> Result<StreamResponse> {
        use futures_util::TryStreamExt;
        let mut req = Request::new(call.method, self.url(&call.path)).deadline(call.deadline);
        req.accept = call.accept;
        if let Some(json) = call.json {
            req = req.json(json);
        }
        if let Some(StreamBody { content_type, make }) = body {
            // The uploads send `maxRedirects: 0`.
            req.follow_redirects = false;
            req.body = Body::Stream { content_type, make: Arc::new(move || Ok(reqwest::Body::wrap_stream(make()?))) };
        }
        let timeout_ms = self.http.deadline_ms(req.deadline);
        let resp = self.http.send_streaming(&req).await?;
        let content_type = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let http = self.http.clone();
        let body = resp.bytes_stream().map_err(move |e| {
            let e = http.scrub_error(http.transport_error(&e, timeout_ms).1);
            std::io::Error::other(e)
        });
        Ok(StreamResponse { content_type, body: Box::pin(body) })
    }

    async fn websocket(&self, ctx: &OperationContext, path: &str, subprotocols: &[String]) -> Result<ToolboxSocket> {
        let http_url = self.url(path);
        let parsed = reqwest::Url::parse(&http_url).map_err(|e| ClientError::invalid(format!("Invalid toolbox URL: {e}")))?;
        let host = parsed.host_str().ok_or_else(|| ClientError::invalid("Invalid toolbox URL: no host"))?.to_string();
        let secure = parsed.scheme() == "https";
        let port = parsed.port_or_known_default().unwrap_or(if secure { 443 } else { 80 });
        let mut request = ws_url(parsed.as_str()).into_client_request().map_err(|e| ClientError::invalid(format!("Invalid toolbox URL: {e}")))?;
        let authorize = self.http.is_trusted(&http_url);
        for (k, v) in self.http.headers(authorize).iter() {
            request.headers_mut().insert(k.clone(), v.clone());
        }
        if let Some(p) = protocol_header(subprotocols)
            && let Ok(v) = ::http::HeaderValue::from_str(&p)
        {
            request.headers_mut().insert(::http::header::SEC_WEBSOCKET_PROTOCOL, v);
        }
        let handshake = async {
            // IPv6 literals come bracketed from the URL.
            let connect_host = host.trim_start_matches('[').trim_end_matches(']');
            let tcp = TcpStream::connect((connect_host, port)).await.map_err(|e| connection_error(format!("connect {}: {e}", parsed.authority())))?;
            let _ = tcp.set_nodelay(true);
            let io: Box<dyn ToolboxIo> = if secure { tls(connect_host, tcp).await? } else { Box::new(tcp) };
            let (socket, _response) = tokio_tungstenite::client_async(request, io).await.map_err(handshake_error)?;
            Ok::<ToolboxSocket, ClientError>(socket)
        };
        let limit = ctx.remaining().or_else(|| self.http.deadline_ms(Deadline::Default).map(|ms| Duration::from_secs_f64(ms / 1000.0)));
        let result = match limit {
            Some(d) => match tokio::time::timeout(d, handshake).await {
                Ok(r) => r,
                Err(_) => Err(errors::timeout_error(Some(d.as_secs_f64() * 1000.0))),
            },
            None => handshake.await,
        };
        result.map_err(|e| self.http.scrub_error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_protocols() {
        assert_eq!(ws_url("https://proxy.app.daytona.io/toolbox/s1/process/pty/x/connect"), "wss://proxy.app.daytona.io/toolbox/s1/process/pty/x/connect");
        assert_eq!(ws_url("http://127.0.0.1:3000/toolbox/s1/a?follow=true"), "ws://127.0.0.1:3000/toolbox/s1/a?follow=true");
        assert_eq!(protocol_header(&[]), None);
        assert_eq!(protocol_header(&["X-Daytona-Pty-Envs~e30".into(), "X-Daytona-Pty-Exit-Control".into()]).as_deref(), Some("X-Daytona-Pty-Envs~e30,X-Daytona-Pty-Exit-Control"));
    }
}
