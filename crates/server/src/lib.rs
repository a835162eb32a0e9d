//! `daytona-native serve`: the parts of the Daytona REST API and of the toolbox API that the
//! official SDKs call, on this machine, with the local engine backend of `daytona-client` doing
//! the work. Knows nothing of JavaScript.
//!
//! Routes: `/api/...` (sandboxes, snapshots, object storage push access, build logs),
//! `/toolbox/{sandboxId}/...` (forwarded to the sandbox's in-sandbox agent, WebSocket upgrades
//! included), `/s3/{bucket}/...` (the S3 subset the SDKs use to upload build contexts).

mod auth;
mod build_logs;
mod errors;
mod events;
mod http;
mod sandbox;
mod snapshots;
mod storage;
mod toolbox;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use daytona_client::{ClientError, Daytona, DaytonaConfig, LocalSettings};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use auth::generate_key;

/// What `serve(options)` was given.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// 0: any free port.
    pub port: u16,
    /// Default `127.0.0.1`.
    pub host: Option<String>,
    /// Generated when absent.
    pub api_key: Option<String>,
    /// Needed to listen on anything but a loopback address.
    pub allow_remote: bool,
    /// Settings of the local engine backend.
    pub local: LocalSettings,
}

/// A running server: its base URL (`http://host:port/api`), its key, and `close`.
pub struct Server {
    pub url: String,
    pub api_key: String,
    /// A warning to print (listening beyond loopback), if any.
    pub warning: Option<String>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops accepting connections and ends those that are open. Sandboxes are untouched:
    /// their state is in the engine, and a new server sees them.
    pub async fn close(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// What every request handler shares.
pub(crate) struct App {
    pub daytona: Daytona,
    pub key: String,
    /// `http://host:port`, the origin clients reach this server at.
    pub origin: String,
    pub storage: storage::Storage,
    pub builds: sandbox::Builds,
    pub logs: build_logs::LogRegistry,
    pub agents: toolbox::AgentConnections,
    /// Cancelled by `close`: ends the tunnels of upgraded connections too.
    pub stop: CancellationToken,
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    host.trim_matches(['[', ']']).parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// Starts the server; see [`ServeOptions`].
pub async fn serve(options: ServeOptions) -> Result<Server, ClientError> {
    let host = options.host.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| "127.0.0.1".into());
    let loopback = is_loopback(&host);
    if !loopback && !options.allow_remote {
        return Err(ClientError::invalid(format!(
            "Listening on {host} exposes the engine to other machines: pass allowRemote: true (--allow-remote) to do so, or use 127.0.0.1"
        )));
    }
    let key = match options.api_key.clone() {
        Some(k) if k.trim().is_empty() => return Err(ClientError::invalid("apiKey must not be empty")),
        Some(k) => k,
        None => generate_key(),
    };
    let config = DaytonaConfig { backend: Some("local".into()), local: options.local.clone(), ..Default::default() };
    let daytona = Daytona::new(config)?;
    let bind_host = if host == "localhost" { "127.0.0.1".to_string() } else { host.trim_matches(['[', ']']).to_string() };
    let ip: IpAddr = bind_host.parse().map_err(|_| ClientError::invalid(format!("host must be an IP address or localhost (got {host})")))?;
    let listener = TcpListener::bind(SocketAddr::new(ip, options.port))
        .await
        .map_err(|e| ClientError::generic(format!("Cannot listen on {host}:{}: {e}", options.port)))?;
    let port = listener.local_addr().map_err(|e| ClientError::generic(format!("Cannot listen: {e}")))?.port();
    let shown = if ip.is_ipv6() { format!("[{ip}]") } else { ip.to_string() };
    let origin = format!("http://{shown}:{port}");
    let storage = storage::Storage::new().map_err(|e| ClientError::generic(format!("Cannot make the object storage directory: {e}")))?;
    let stop = CancellationToken::new();
    let app = Arc::new(App {
        stop: stop.clone(),
        daytona,
        key: key.clone(),
        origin: origin.clone(),
        storage,
        builds: sandbox::Builds::default(),
        logs: build_logs::LogRegistry::default(),
        agents: toolbox::AgentConnections::default(),
    });
    let task = tokio::spawn(accept_loop(listener, app, stop.clone()));
    let warning = (!loopback).then(|| {
        format!("Warning: listening on {host}: anyone who can reach this address and has the key controls this machine's Docker engine")
    });
    Ok(Server { url: format!("{origin}/api"), api_key: key, warning, stop, task })
}

async fn accept_loop(listener: TcpListener, app: Arc<App>, stop: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let app = app.clone();
                        async move { Ok::<_, std::convert::Infallible>(route(app, req).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades().await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
    app.builds.cancel_all();
}

async fn route(app: Arc<App>, req: http::Req) -> http::Resp {
    let path = req.uri().path().to_string();
    if let Some(rest) = path.strip_prefix("/s3/") {
        let rest = rest.to_string();
        return storage::route(&app, req, &rest).await;
    }
    // The key of the SDKs' event channel is in its CONNECT packet, checked there.
    if path == "/api/socket.io/" || path == "/api/socket.io" {
        return events::route(app.key.clone(), app.stop.clone(), req);
    }
    if !auth::authorized(&app.key, req.headers()) {
        return errors::body(401, "Invalid or missing API key: send `Authorization: Bearer <key>` with the key the server printed");
    }
    if let Some(rest) = path.strip_prefix("/toolbox/") {
        let rest = rest.to_string();
        return toolbox::route(&app, req, &rest).await;
    }
    if let Some(rest) = path.strip_prefix("/api/") {
        let segments: Vec<String> = rest.split('/').map(http::decode_segment).collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        return match segs.first().copied() {
            Some("sandbox") => sandbox::route(&app, req, &segs[1..]).await,
            Some("snapshots") => snapshots::route(&app, req, &segs[1..]).await,
            Some("object-storage") if segs.get(1) == Some(&"push-access") && req.method() == hyper::Method::GET => storage::push_access(&app),
            _ => errors::not_served(&req),
        };
    }
    errors::not_served(&req)
}
