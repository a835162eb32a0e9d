//! Which backend a `Daytona` talks to: the one configured (`backend` or `DAYTONA_BACKEND`),
//! else the API when credentials are configured, else the local engine if its socket answers
//! (with a one-time notice saying so).

use std::sync::{Arc, Once};

use super::Backend;
use super::api::ApiBackend;
use super::api::config::has_credentials;
use super::local::{LocalBackend, engine_host, engine_reachable};
use crate::config::DaytonaConfig;
use crate::error::{ClientError, ErrorKind, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Local,
    Api,
}

static NOTICE: Once = Once::new();

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Validates `config`, selects the backend and sets it up. Synchronous and cheap: the only I/O
/// is, when the local engine is chosen implicitly, a connect to its socket to see whether it
/// is there.
pub fn connect(config: &DaytonaConfig) -> Result<Arc<dyn Backend>> {
    if let Some(ms) = config.request_timeout_ms {
        if !ms.is_finite() || ms < 0.0 {
            return Err(ClientError::invalid("requestTimeoutMs must be a non-negative finite number of milliseconds"));
        }
    }
    let explicit = match config.backend.clone().or_else(|| env("DAYTONA_BACKEND")) {
        None => None,
        Some(b) if b == "local" => Some(Choice::Local),
        Some(b) if b == "api" => Some(Choice::Api),
        Some(other) => {
            return Err(ClientError::invalid(format!(
                "Unknown backend {other:?}: use \"local\" (the Docker Engine on this machine) or \"api\" (the Daytona platform)"
            )));
        }
    };
    let choice = explicit.unwrap_or(if has_credentials(config, &env) { Choice::Api } else { Choice::Local });
    match choice {
        Choice::Api => Ok(Arc::new(ApiBackend::new(config)?)),
        Choice::Local => {
            if explicit.is_none() {
                probe_local_engine(&engine_host(&config.local))?;
            }
            Ok(Arc::new(LocalBackend::connect(config.local.clone(), config.request_timeout_ms)?))
        }
    }
}

/// The implicit choice of the local engine: an authentication error when nothing listens at
/// `host` (neither backend is usable), else the one-time notice.
fn probe_local_engine(host: &str) -> Result<()> {
    if let Err(reason) = engine_reachable(host) {
        let mut err = ClientError::new(
            ErrorKind::Authentication,
            format!(
                "Authentication credentials not found, and no local Docker Engine is reachable at {host} ({reason}). \
                 To use the Daytona platform, set DAYTONA_API_KEY, or both DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID. \
                 To use the local engine, start a Docker Engine or point DOCKER_HOST at one."
            ),
        );
        err.status_code = None;
        return Err(err);
    }
    NOTICE.call_once(|| {
        eprintln!(
            "daytona-native: no DAYTONA_API_KEY or DAYTONA_JWT_TOKEN configured; using the local Docker Engine at {host}. \
             Set DAYTONA_BACKEND=local to choose it explicitly and silence this notice."
        );
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(config: DaytonaConfig) -> String {
        match connect(&config) {
            Err(e) => e.message,
            Ok(b) => panic!("connected to {}", b.describe()),
        }
    }

    #[test]
    fn config_is_checked_before_any_backend_is_set_up() {
        let bad_timeout = DaytonaConfig { request_timeout_ms: Some(-1.0), backend: Some("nope".into()), ..Default::default() };
        assert_eq!(error_of(bad_timeout), "requestTimeoutMs must be a non-negative finite number of milliseconds");
        let unknown = DaytonaConfig { backend: Some("nope".into()), ..Default::default() };
        assert!(error_of(unknown).starts_with("Unknown backend \"nope\""));
    }

    #[test]
    fn an_explicit_local_backend_is_not_probed() {
        // A file where the socket should be: nothing listens, so a probe would fail.
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        std::fs::write(&socket, b"").unwrap();
        let host = format!("unix://{}", socket.display());
        let config = DaytonaConfig {
            backend: Some("local".into()),
            local: crate::config::LocalSettings { docker_host: Some(host.clone()), ..Default::default() },
            ..Default::default()
        };
        let backend = connect(&config).expect("no probe, no request");
        assert_eq!(backend.describe(), format!("the local Docker Engine at {host}"));
    }
}
