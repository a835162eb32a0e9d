//! The agent's HTTP server: state, routing of the toolbox process routes, and `serve`.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::http::{self, ApiError, ApiResult, Resp};
use crate::interpreter::Interpreters;
use crate::pty::{self, Ptys};
use crate::session::{ENTRYPOINT_COMMAND, ENTRYPOINT_SESSION, ExecStatus, Sessions};

pub struct Agent {
    pub dir: PathBuf,
    pub sessions: Sessions,
    pub ptys: Arc<Ptys>,
    pub interpreters: Arc<Interpreters>,
}

/// First writable of /tmp, /var/tmp, /dev/shm, $HOME, the binary's dir: a private directory for
/// logs and FIFOs.
fn state_dir() -> std::io::Result<PathBuf> {
    let mut bases: Vec<PathBuf> = ["/tmp", "/var/tmp", "/dev/shm"].iter().map(PathBuf::from).collect();
    if let Some(h) = std::env::var_os("HOME") {
        bases.push(PathBuf::from(h));
    }
    // Last resort for images without /tmp: next to the agent binary (/.daytona-native).
    if let Some(d) = std::env::current_exe().ok().and_then(|p| p.parent().map(PathBuf::from)) {
        bases.push(d);
    }
    let mut last = std::io::Error::other("no writable directory for agent state");
    for b in bases {
        let d = b.join(format!(".daytona-native-agent-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        match std::fs::DirBuilder::new().mode(0o700).create(&d) {
            Ok(()) => return Ok(d),
            Err(e) => last = e,
        }
    }
    Err(last)
}

use std::os::unix::fs::DirBuilderExt;

pub async fn serve(entrypoint: Vec<String>) -> std::io::Result<()> {
    let addr = crate::socket_addr()?;
    let std_listener = std::os::unix::net::UnixListener::bind_addr(&addr)?;
    std_listener.set_nonblocking(true)?;
    let listener = tokio::net::UnixListener::from_std(std_listener)?;
    crate::keepalive::remember_work_dir();
    let dir = state_dir()?;
    let agent = Arc::new(Agent {
        sessions: Sessions::new(dir.join("sessions")),
        ptys: Arc::new(Ptys::default()),
        interpreters: Arc::new(Interpreters::new(dir.clone())),
        dir: dir.clone(),
    });
    let entry_pid = agent.sessions.start_entrypoint(&entrypoint)?;

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let idle = crate::keepalive::idle_past_auto_stop();
    tokio::pin!(idle);
    loop {
        tokio::select! {
            c = listener.accept() => {
                let Ok((stream, _)) = c else { continue };
                let agent = agent.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let agent = agent.clone();
                        async move { Ok::<_, Infallible>(route(agent, req).await) }
                    });
                    // half_close: a relayed client may end its input before the answer comes.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .half_close(true)
                        .serve_connection(TokioIo::new(stream), svc)
                        .with_upgrades()
                        .await;
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            // Idle past `autoStopInterval`: the sandbox stops (see keepalive.rs).
            _ = &mut idle => break,
        }
    }
    // Shutting down: pass the signal on to the entrypoint and end what we started.
    if let Some(pid) = entry_pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    agent.sessions.kill_all().await;
    agent.ptys.kill_all();
    agent.interpreters.kill_all();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn route(agent: Arc<Agent>, req: Request<Incoming>) -> Resp {
    crate::keepalive::touch();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    match dispatch(agent, req, &method, &path).await {
        Ok(r) => r,
        Err(e) => e.into_response(method.as_str(), &path),
    }
}

fn decode_segments(path: &str) -> Vec<String> {
    path.trim_matches('/').split('/').map(http::percent_decode_path).collect()
}

async fn dispatch(agent: Arc<Agent>, req: Request<Incoming>, method: &Method, path: &str) -> ApiResult {
    let segs = decode_segments(path);
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let query = req.uri().query().map(str::to_string);
    let q = query.as_deref();
    let sessions = &agent.sessions;
    match (method, s.as_slice()) {
        // ---- sessions
        (&Method::POST, ["process", "session"]) => {
            sessions.create(http::body_json(req).await?)?;
            http::empty(StatusCode::CREATED)
        }
        (&Method::GET, ["process", "session"]) => http::ok(sessions.list()),
        (&Method::GET, ["process", "session", "entrypoint"]) => http::ok(sessions.entrypoint_json()?),
        (&Method::GET, ["process", "session", "entrypoint", "logs"]) => {
            let rec = sessions.command(ENTRYPOINT_SESSION, ENTRYPOINT_COMMAND).map_err(|_| ApiError::not_found("session not found"))?;
            logs_route(rec, req, q)
        }
        (&Method::GET, ["process", "session", id]) => http::ok(sessions.session_json(id)?),
        (&Method::DELETE, ["process", "session", id]) => {
            sessions.delete(id).await?;
            http::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["process", "session", id, "exec"]) => {
            let (status, v) = sessions.exec(id, http::body_json(req).await?).await?;
            let code = match status {
                ExecStatus::Ok => StatusCode::OK,
                ExecStatus::Accepted => StatusCode::ACCEPTED,
            };
            Ok(http::json_response(code, &v))
        }
        (&Method::GET, ["process", "session", id, "command", cmd]) => http::ok(sessions.command(id, cmd)?.to_json()),
        (&Method::GET, ["process", "session", id, "command", cmd, "logs"]) => {
            let rec = sessions.command(id, cmd)?;
            logs_route(rec, req, q)
        }
        (&Method::POST, ["process", "session", id, "command", cmd, "input"]) => {
            let body = http::body_json(req).await?;
            sessions.input(id, cmd, body).await?;
            http::empty(StatusCode::NO_CONTENT)
        }
        // Agent extension (not in the toolbox API): end one command, e.g. after a client timeout.
        (&Method::POST, ["process", "session", id, "command", cmd, "kill"]) => {
            sessions.kill_command(id, cmd).await?;
            http::empty(StatusCode::NO_CONTENT)
        }
        // ---- one-shot runs
        (&Method::POST, ["process", "execute"]) => {
            let body = http::body_json(req).await?;
            http::ok(crate::run::execute(sessions.shell(), body).await?)
        }
        // Agent extension: end a run of `process/execute` that was given a `runId`.
        (&Method::POST, ["process", "execute", run_id, "kill"]) => {
            crate::run::kill(run_id);
            http::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["process", "code-run"]) => {
            let body = http::body_json(req).await?;
            http::ok(crate::run::code_run(&agent.dir, body).await?)
        }
        // ---- PTY
        (&Method::GET, ["process", "pty"]) => http::ok(agent.ptys.list()),
        (&Method::POST, ["process", "pty"]) => {
            let body = http::body_json(req).await?;
            let p = agent.ptys.create(sessions.shell(), body)?;
            Ok(http::json_response(StatusCode::CREATED, &json!({ "sessionId": p.info()["id"] })))
        }
        (&Method::GET, ["process", "pty", "create-connect"]) => {
            if !http::is_upgrade(&req) {
                return Err(ApiError::bad_request("WebSocket upgrade required"));
            }
            let protocols = http::offered_protocols(&req);
            let num = |k: &str| http::query_get(q, k).and_then(|v| v.parse::<u16>().ok());
            let create = pty::PtyCreateReq {
                id: http::query_get(q, "id"),
                cwd: http::query_get(q, "cwd"),
                envs: pty::envs_from_protocols(&protocols),
                cols: num("cols"),
                rows: num("rows"),
            };
            let p = agent.ptys.create(sessions.shell(), create)?;
            let exit_control = protocols.iter().any(|p| p == pty::EXIT_CONTROL_PROTOCOL);
            http::upgrade(req, pty::choose_protocol(&protocols), move |ws| pty::attach(p, ws, exit_control))
        }
        (&Method::GET, ["process", "pty", id]) => http::ok(agent.ptys.get(id)?.info()),
        (&Method::DELETE, ["process", "pty", id]) => http::ok(agent.ptys.delete(id)?),
        (&Method::POST, ["process", "pty", id, "resize"]) => {
            let body = http::body_json(req).await?;
            http::ok(agent.ptys.resize(id, body)?)
        }
        (&Method::GET, ["process", "pty", id, "connect"]) => {
            let p = agent.ptys.get(id)?;
            if !http::is_upgrade(&req) {
                return Err(ApiError::bad_request("WebSocket upgrade required"));
            }
            let protocols = http::offered_protocols(&req);
            let exit_control = protocols.iter().any(|p| p == pty::EXIT_CONTROL_PROTOCOL);
            http::upgrade(req, pty::choose_protocol(&protocols), move |ws| pty::attach(p, ws, exit_control))
        }
        // ---- interpreter
        (&Method::POST, ["process", "interpreter", "context"]) => {
            let body = http::body_json(req).await?;
            http::ok(agent.interpreters.create(body)?)
        }
        (&Method::GET, ["process", "interpreter", "context"]) => http::ok(agent.interpreters.list()),
        (&Method::DELETE, ["process", "interpreter", "context", id]) => http::ok(agent.interpreters.delete(id)?),
        (&Method::GET, ["process", "interpreter", "execute"]) => {
            if !http::is_upgrade(&req) {
                return Err(ApiError::bad_request("WebSocket upgrade required"));
            }
            let interps = agent.interpreters.clone();
            let proto = http::offered_protocols(&req).first().cloned();
            http::upgrade(req, proto, move |ws| crate::interpreter::execute(interps, ws))
        }
        // ---- file system
        (_, ["files", rest @ ..]) => crate::files::route(req, method, rest, q).await,
        // Agent extension: a TCP connection to a port in the sandbox, for preview links.
        (&Method::GET, ["port", port, "tunnel"]) => {
            let port: u16 = port.parse().map_err(|_| ApiError::bad_request(format!("invalid port: {port}")))?;
            if !http::is_upgrade(&req) {
                return Err(ApiError::bad_request("WebSocket upgrade required"));
            }
            http::upgrade(req, None, move |ws| crate::keepalive::tunnel(ws, port))
        }
        (&Method::POST, ["env"]) => {
            let body: serde_json::Value = http::body_json(req).await?;
            http::ok(crate::env::update(body)?)
        }
        (&Method::GET, ["work-dir"]) => http::ok(json!({ "dir": crate::keepalive::work_dir() })),
        (&Method::GET, ["user-home-dir"]) => http::ok(json!({ "dir": crate::keepalive::home_dir() })),
        (&Method::GET, ["version"]) => http::ok(json!({ "version": env!("CARGO_PKG_VERSION") })),
        _ => Err(ApiError::not_found(format!("route not found: {method} {path}"))),
    }
}

/// Logs of one command: a JSON snapshot, or a WebSocket stream when the client upgrades.
fn logs_route(rec: Arc<crate::logs::CommandRecord>, req: Request<Incoming>, q: Option<&str>) -> ApiResult {
    if http::is_upgrade(&req) {
        let follow = http::query_get(q, "follow").is_some_and(|v| v == "true" || v == "1");
        let proto = http::offered_protocols(&req).first().cloned();
        return http::upgrade(req, proto, move |ws| crate::logs::follow(rec, ws, follow));
    }
    http::ok(rec.logs_json())
}
