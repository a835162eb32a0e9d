//! The janitor of the local engine: one long-lived container per engine, named
//! [`NAME`], that archives and removes stopped sandboxes when their `autoArchiveInterval` /
//! `autoDeleteInterval` pass, with no process of this package alive (a stopped sandbox runs
//! nothing, so its own agent cannot). It is the agent's `janitor` subcommand
//! (`crates/agent/src/janitor.rs`) from the reaper's one-file image, with the engine's socket
//! mounted, AutoRemove, and nothing attached: it outlives the process that started it and
//! leaves by itself when no sandbox with one of those intervals is left.
//!
//! A client starts it, idempotently, whenever a sandbox gets such an interval (create, fork,
//! `setAutoArchiveInterval`, `setAutoDeleteInterval`, other settings changes), or is stopped or
//! started with one (after an engine restart, which removes AutoRemove containers, the next
//! start brings it back). Starting is by name: two clients racing make
//! one container (the engine refuses the second name), and a janitor that is leaving gives its
//! name up before its last look (see the agent side), so a client that finds no janitor by that
//! name can start one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bollard::models::{ContainerCreateBody, ContainerStateStatusEnum, HostConfig};
use bollard::query_parameters::{CreateContainerOptionsBuilder, InspectContainerOptions, StartContainerOptions};
use serde_json::Value;

use super::build::engine_error;
use super::{LocalBackend, labels};
use crate::error::{ClientError, Result};
use crate::types::SandboxInfo;

/// The janitor container's name (the agent uses the same).
pub const NAME: &str = "daytona-native-janitor";
const BINARY: &str = "/daytona-native-agent";
const SOCKET_IN_CONTAINER: &str = "/var/run/docker.sock";
/// Bound on each engine request made to start the janitor.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a janitor that is just leaving (its container being removed) is waited for.
const ATTEMPTS: u32 = 50;

/// Whether a sandbox has an interval the janitor applies: `autoDeleteInterval` >= 0, or an
/// `autoArchiveInterval` while it is not archived yet.
pub fn watched(info: &SandboxInfo) -> bool {
    let archived = info.extra.get("archived") == Some(&Value::Bool(true));
    info.auto_delete_interval.is_some_and(|d| d >= 0.0) || (!archived && info.auto_archive_interval.is_some_and(|a| a >= 0.0))
}

/// The period the janitor sweeps with: `DAYTONA_LOCAL_JANITOR_PERIOD` seconds when set (tests),
/// else the agent's default (20 s). A janitor already running keeps its own.
fn period() -> Option<String> {
    std::env::var("DAYTONA_LOCAL_JANITOR_PERIOD").ok().map(|p| p.trim().to_string()).filter(|p| p.parse::<f64>().is_ok_and(|s| s > 0.0))
}

impl LocalBackend {
    /// Makes sure the engine's janitor runs when `info` needs it. A janitor that cannot be
    /// started is reported once per process and otherwise ignored: the intervals are then
    /// applied when a process of this package next looks at the sandbox (`described`).
    pub(super) async fn janitor_for(&self, info: &SandboxInfo) {
        if !watched(info) {
            return;
        }
        if let Err(e) = self.ensure_janitor().await {
            static SAID: AtomicBool = AtomicBool::new(false);
            if !SAID.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "daytona-native: the janitor container that applies autoArchiveInterval/autoDeleteInterval to stopped sandboxes \
                     could not be started ({}); they are applied when a sandbox is next looked at instead",
                    e.message
                );
            }
        }
    }

    async fn ensure_janitor(&self) -> Result<()> {
        let docker = self.docker.clone().with_timeout(REQUEST_TIMEOUT);
        for _ in 0..ATTEMPTS {
            match docker.inspect_container(NAME, None::<InspectContainerOptions>).await {
                Ok(c) => {
                    let status = c.state.as_ref().and_then(|s| s.status);
                    match status {
                        Some(ContainerStateStatusEnum::RUNNING) => return Ok(()),
                        // Made by a client that has not started it yet: starting twice is harmless.
                        Some(ContainerStateStatusEnum::CREATED) => return self.start_janitor(&docker, c.id.as_deref().unwrap_or(NAME)).await,
                        // Ended (AutoRemove is removing it): wait for the name to be free.
                        _ => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                    let image = self.reaper_image().await?;
                    let body = ContainerCreateBody {
                        image: Some(image),
                        entrypoint: Some(vec![BINARY.into(), "janitor".into()]),
                        env: period().map(|p| vec![format!("DAYTONA_JANITOR_PERIOD_SECS={p}")]),
                        labels: Some(HashMap::from([(labels::JANITOR.to_string(), "true".to_string())])),
                        host_config: Some(HostConfig {
                            auto_remove: Some(true),
                            binds: Some(vec![format!("{}:{SOCKET_IN_CONTAINER}", super::reaper::engine_socket(&self.host))]),
                            network_mode: Some("none".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    let opts = CreateContainerOptionsBuilder::new().name(NAME).build();
                    match docker.create_container(Some(opts), body).await {
                        Ok(created) => return self.start_janitor(&docker, &created.id).await,
                        // Another client made it first: look again.
                        Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => {}
                        Err(e) => return Err(engine_error("Creating the janitor container", e)),
                    }
                }
                Err(e) => return Err(engine_error("Looking up the janitor container", e)),
            }
        }
        Err(ClientError::generic(format!("The janitor container {NAME} neither runs nor goes away")))
    }

    async fn start_janitor(&self, docker: &bollard::Docker, id: &str) -> Result<()> {
        match docker.start_container(id, None::<StartContainerOptions>).await {
            // 304: already running (another client started it).
            Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 304, .. }) => Ok(()),
            Err(e) => Err(engine_error("Starting the janitor container", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_sandboxes_the_janitor_watches() {
        let plain = SandboxInfo::default();
        assert!(!watched(&plain));
        assert!(watched(&SandboxInfo { auto_delete_interval: Some(0.0), ..Default::default() }));
        assert!(!watched(&SandboxInfo { auto_delete_interval: Some(-1.0), ..Default::default() }));
        let archiving = SandboxInfo { auto_archive_interval: Some(0.0), ..Default::default() };
        assert!(watched(&archiving));
        let mut archived = archiving.clone();
        archived.extra.insert("archived".into(), Value::Bool(true));
        assert!(!watched(&archived));
    }
}
