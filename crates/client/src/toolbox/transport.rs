//! How a backend carries toolbox requests: plain request/response calls and WebSockets (log
//! following, PTY, the code interpreter), both addressed by a path below the toolbox root.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::backend::{Deadline, OperationContext};
use crate::error::Result;

/// A byte stream a WebSocket runs over (TCP, TLS, or a `docker exec` stream).
pub trait ToolboxIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ToolboxIo for T {}

/// An open WebSocket to the toolbox, whatever carries it.
pub type ToolboxSocket = tokio_tungstenite::WebSocketStream<Box<dyn ToolboxIo>>;

/// One request/response call to the toolbox API.
#[derive(Debug, Clone)]
pub struct ToolboxCall {
    pub method: http::Method,
    /// Path below the toolbox root with its query, already encoded: `process/session/s1/exec`.
    pub path: String,
    /// The `Accept` header the official SDK's generated client sends for this operation.
    pub accept: &'static str,
    /// The JSON body, serialized (sent with `Content-Type: application/json`).
    pub json: Option<String>,
    /// How long the exchange may take.
    pub deadline: Deadline,
    /// The largest response body read before the call fails.
    pub max_body: usize,
}

impl ToolboxCall {
    /// The largest response body of a call that does not say otherwise.
    pub const DEFAULT_MAX_BODY: usize = 64 << 20;

    pub fn new(method: http::Method, path: impl Into<String>) -> ToolboxCall {
        ToolboxCall { method, path: path.into(), accept: "application/json", json: None, deadline: Deadline::Default, max_body: Self::DEFAULT_MAX_BODY }
    }
    pub fn json(mut self, body: String) -> ToolboxCall {
        self.json = Some(body);
        self
    }
    pub fn accept(mut self, accept: &'static str) -> ToolboxCall {
        self.accept = accept;
        self
    }
    pub fn max_body(mut self, limit: usize) -> ToolboxCall {
        self.max_body = limit;
        self
    }
    pub fn deadline(mut self, d: Deadline) -> ToolboxCall {
        self.deadline = d;
        self
    }
}

/// A body streamed in pieces (a file going up or coming down); an `Err` ends it as failed.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The body of a streamed request: its content type and how to make it (again, when the
/// request is retried; a body that can be made only once fails the second time).
#[derive(Clone)]
pub struct StreamBody {
    pub content_type: String,
    pub make: Arc<dyn Fn() -> Result<ByteStream> + Send + Sync>,
}

/// A 2xx response whose body is read as it arrives.
pub struct StreamResponse {
    pub content_type: Option<String>,
    pub body: ByteStream,
}

/// What a backend provides to reach one sandbox's toolbox.
#[async_trait]
pub trait ToolboxTransport: Send + Sync {
    /// Sends `call` and returns the body of a 2xx response; any other status becomes the
    /// error the official SDK raises for it (same class, message and status code).
    async fn call(&self, ctx: &OperationContext, call: ToolboxCall) -> Result<Bytes>;

    /// Sends `call` with `body` streamed (instead of its JSON, when given) and returns the
    /// response as it arrives, neither side held whole in memory. The call's deadline bounds
    /// the answer's head; whoever reads the body bounds the rest. Other statuses fail as in
    /// [`ToolboxTransport::call`].
    async fn call_streaming(&self, ctx: &OperationContext, call: ToolboxCall, body: Option<StreamBody>) -> Result<StreamResponse>;

    /// Opens a WebSocket at `path` (below the toolbox root, with its query) offering
    /// `subprotocols`; the handshake is bounded by the context's deadline. A handshake answered
    /// with another status than 101 fails with the error a call answered with that status and
    /// body gives (so an unknown session is a not-found error).
    async fn websocket(&self, ctx: &OperationContext, path: &str, subprotocols: &[String]) -> Result<ToolboxSocket>;

    /// Whether this toolbox ends a session command whose caller stopped waiting for it
    /// (`POST process/session/{id}/command/{cmdId}/kill`, an extension route of the in-sandbox
    /// agent), so that a timed-out `executeSessionCommand` leaves nothing running. The Daytona
    /// toolbox has no such route: the API backend keeps the default and sends only what the
    /// official SDK sends.
    fn kills_abandoned_commands(&self) -> bool {
        false
    }

    /// A byte stream straight to the toolbox server, over which the caller speaks HTTP/1.1
    /// itself (requests, upgrades): what a proxy in front of the toolbox forwards a client's
    /// connection over. `None` where the transport has no such stream (the API backend: its
    /// toolbox proxy is reached over HTTP already).
    async fn raw_connection(&self, _ctx: &OperationContext) -> Result<Option<Box<dyn ToolboxIo>>> {
        Ok(None)
    }
}

