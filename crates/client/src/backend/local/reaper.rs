//! Cleanup that survives the process (`local.removeOnExit`): sandboxes and builds of a client
//! with the option on carry this process's session label, and one reaper container per engine
//! removes everything with that label once this process is gone, however it ended.
//!
//! The reaper is the static toolbox agent's `reap` subcommand (`crates/agent/src/reaper.rs`),
//! run from a one-file image imported from the agent binary (`POST /images/create?fromSrc=-`,
//! no registry), tagged by the binary's hash so it is made once per engine. It is started with
//! its stdin open (OpenStdin + StdinOnce) and this process holds a hijacked attach stream to
//! that stdin in the addon's tokio runtime (not a JS handle: it never keeps Node's event loop
//! alive). The kernel closes the stream when the process ends, even by SIGKILL; the reaper
//! then sweeps and removes itself (AutoRemove).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{AttachContainerOptionsBuilder, CreateImageOptionsBuilder, RemoveContainerOptionsBuilder, StartContainerOptions};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::build::engine_error;
use super::{LocalBackend, labels};
use crate::config::LocalSettings;
use crate::error::{ClientError, Result};

/// Repository of the reaper image; its tag is a prefix of the agent binary's SHA-256.
const IMAGE_REPO: &str = "daytona-native-reaper";
const BINARY_NAME: &str = "daytona-native-agent";
/// Where the reaper finds the engine's socket inside its container.
const SOCKET_IN_CONTAINER: &str = "/var/run/docker.sock";

/// One id per loaded addon (per process): the value of [`labels::SESSION`].
pub fn session_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

/// The test runner this process runs under, from what each one sets in its workers'
/// environment or command line.
pub fn test_runner() -> Option<&'static str> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("JEST_WORKER_ID") {
        return Some("jest");
    }
    if set("VITEST") || set("VITEST_WORKER_ID") {
        return Some("vitest");
    }
    if set("NODE_TEST_CONTEXT") {
        return Some("node:test");
    }
    // ava and mocha set nothing in the environment: their entry scripts are on the command line
    // (ava's worker threads share the main process's argv; its child processes run its worker).
    let args: Vec<String> = std::env::args().take(3).collect();
    let has = |part: &str| args.iter().any(|a| a.replace('\\', "/").contains(part));
    if has("/ava/") || has("/.bin/ava") {
        return Some("ava");
    }
    if has("/mocha/") || has("/.bin/mocha") || has("/.bin/_mocha") {
        return Some("mocha");
    }
    None
}

/// Whether sandboxes of a client with these settings are removed when the process ends, and
/// whether that was asked for (`local.removeOnExit`, else `DAYTONA_LOCAL_REMOVE_ON_EXIT`:
/// `1`/`true`, `0`/`false`) or is the default (on under a test runner, off otherwise).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Policy {
    pub on: bool,
    pub explicit: bool,
}

pub fn remove_on_exit(settings: &LocalSettings) -> Policy {
    if let Some(on) = settings.remove_on_exit {
        return Policy { on, explicit: true };
    }
    match std::env::var("DAYTONA_LOCAL_REMOVE_ON_EXIT").ok().as_deref().map(str::trim) {
        Some("1") | Some("true") => Policy { on: true, explicit: true },
        Some("0") | Some("false") => Policy { on: false, explicit: true },
        _ => Policy { on: test_runner().is_some(), explicit: false },
    }
}

/// The path of the engine's socket on the engine's machine, to mount into the reaper:
/// `DAYTONA_LOCAL_REAPER_SOCKET` when set; the `unix://` path of the address when this is Linux
/// (the engine runs here); otherwise the conventional path (a `tcp://` engine, or Docker Desktop,
/// whose engine runs in a VM where the socket is at that path).
pub(super) fn engine_socket(host: &str) -> String {
    if let Some(path) = std::env::var("DAYTONA_LOCAL_REAPER_SOCKET").ok().filter(|p| !p.is_empty()) {
        return path;
    }
    match host.strip_prefix("unix://") {
        Some(path) if cfg!(target_os = "linux") => path.to_string(),
        _ => SOCKET_IN_CONTAINER.to_string(),
    }
}

/// A running reaper: the write half of the attach stream is its stdin.
struct Reaper {
    input: tokio::sync::Mutex<Pin<Box<dyn AsyncWrite + Send>>>,
    /// Cleared when its attach stream ends (someone removed it): the next create starts another.
    alive: Arc<AtomicBool>,
}

/// The reaper of each engine this process uses; `None`: it could not be started and the
/// option was only on by default (said once; not tried again).
fn reapers() -> &'static tokio::sync::Mutex<HashMap<String, Option<Arc<Reaper>>>> {
    static REAPERS: OnceLock<tokio::sync::Mutex<HashMap<String, Option<Arc<Reaper>>>>> = OnceLock::new();
    REAPERS.get_or_init(Default::default)
}

impl LocalBackend {
    /// The session label value for a sandbox or build about to be made: `None` when the option
    /// is off; otherwise the reaper of this engine is running (started now if need be) before
    /// anything carrying the label exists.
    pub(super) async fn cleanup_session(&self) -> Result<Option<&'static str>> {
        if !self.remove_on_exit.on {
            return Ok(None);
        }
        // Held while starting: concurrent creates wait for one reaper instead of starting several.
        let mut running = reapers().lock().await;
        match running.get(&self.host) {
            Some(Some(r)) if r.alive.load(Ordering::SeqCst) => return Ok(Some(session_id())),
            Some(None) if !self.remove_on_exit.explicit => return Ok(None),
            _ => {}
        }
        match self.start_reaper().await {
            Ok(reaper) => {
                running.insert(self.host.clone(), Some(Arc::new(reaper)));
                Ok(Some(session_id()))
            }
            Err(mut e) if self.remove_on_exit.explicit => {
                e.message = format!(
                    "{} (local.removeOnExit is on; set it to false to create sandboxes that outlive this process without it)",
                    e.message
                );
                Err(e)
            }
            Err(e) => {
                // On by default only: the sandbox is still made, as without the option.
                eprintln!(
                    "daytona-native: sandboxes of this process will not be removed when it ends ({}): {}",
                    test_runner().map(|r| format!("default under {r}")).unwrap_or_default(),
                    e.message
                );
                running.insert(self.host.clone(), None);
                Ok(None)
            }
        }
    }

    /// Tells the reaper that a build of this session finished and was used: its image is a
    /// cache entry (or a snapshot) to keep, not a leftover.
    pub(super) async fn keep_image(&self, tag: &str) {
        if !self.remove_on_exit.on {
            return;
        }
        let reaper = reapers().lock().await.get(&self.host).cloned().flatten();
        if let Some(r) = reaper {
            let mut input = r.input.lock().await;
            // A reaper that is gone cannot remove the image either.
            let _ = input.write_all(format!("keep {tag}\n").as_bytes()).await;
            let _ = input.flush().await;
        }
    }

    /// The one-file image of the agent the reaper and the janitor (`janitor.rs`) run from.
    pub(super) async fn reaper_image(&self) -> Result<String> {
        let arch = self
            .engine_arch
            .get_or_try_init(|| async { self.docker.info().await.map(|i| i.architecture.unwrap_or_default()) })
            .await
            .map_err(|e| engine_error("Asking the engine for its architecture", e))?;
        let binary = super::agent::agent_binary(arch).map_err(|why| ClientError::generic(format!("Cannot start the cleanup container: {why}")))?;
        let hash = Sha256::digest(binary.as_slice());
        let tag: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let reference = format!("{IMAGE_REPO}:{tag}");
        if self.image_exists(&Default::default(), &reference).await? {
            return Ok(reference);
        }
        // A one-file root file system: the static agent at /, nothing else.
        let mut file = tar::Header::new_gnu();
        file.set_entry_type(tar::EntryType::Regular);
        file.set_mode(0o755);
        file.set_size(binary.len() as u64);
        file.set_mtime(0);
        let mut archive = tar::Builder::new(Vec::with_capacity(binary.len() + 1024));
        let pack = |e: std::io::Error| ClientError::generic(format!("Packing the cleanup image: {e}"));
        archive.append_data(&mut file, BINARY_NAME, binary.as_slice()).map_err(pack)?;
        let archive = archive.into_inner().map_err(pack)?;
        let opts = CreateImageOptionsBuilder::new()
            .from_src("-")
            .repo(IMAGE_REPO)
            .tag(&tag)
            .changes(vec![format!("LABEL {}=true", labels::REAPER)])
            .build();
        let mut stream = self.docker.create_image(Some(opts), Some(bollard::body_full(archive.into())), None);
        while let Some(item) = stream.next().await {
            item.map_err(|e| engine_error("Importing the cleanup image", e))?;
        }
        self.remove_older_reaper_images(&reference).await;
        Ok(reference)
    }

    /// Reaper images of other agent builds (a package upgrade) are not needed any more; one
    /// still in use by a reaper of another process stays (the engine refuses).
    async fn remove_older_reaper_images(&self, current: &str) {
        let filters = HashMap::from([("reference", vec![IMAGE_REPO.to_string()])]);
        let opts = bollard::query_parameters::ListImagesOptionsBuilder::new().filters(&filters).build();
        let Ok(images) = self.docker.list_images(Some(opts)).await else { return };
        for tag in images.iter().flat_map(|i| i.repo_tags.iter()).filter(|t| t.as_str() != current) {
            let _ = self.docker.remove_image(tag, None::<bollard::query_parameters::RemoveImageOptions>, None).await;
        }
    }

    async fn start_reaper(&self) -> Result<Reaper> {
        let image = self.reaper_image().await?;
        let session = session_id();
        let body = ContainerCreateBody {
            image: Some(image),
            entrypoint: Some(vec![format!("/{BINARY_NAME}"), "reap".into(), "--session".into(), session.into()]),
            labels: Some(HashMap::from([(labels::REAPER.to_string(), session.to_string())])),
            open_stdin: Some(true),
            stdin_once: Some(true),
            attach_stdin: Some(true),
            host_config: Some(HostConfig {
                auto_remove: Some(true),
                binds: Some(vec![format!("{}:{SOCKET_IN_CONTAINER}", engine_socket(&self.host))]),
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(None::<bollard::query_parameters::CreateContainerOptions>, body)
            .await
            .map_err(|e| engine_error("Creating the cleanup container", e))?;
        let started = async {
            // Attached before it starts, as `docker run -i` does: from its first instruction on,
            // the end of this stream is the end of this process.
            let opts = AttachContainerOptionsBuilder::new().stdin(true).stdout(true).stderr(true).stream(true).build();
            let attached = self.docker_unbounded.attach_container(&created.id, Some(opts)).await.map_err(|e| engine_error("Attaching to the cleanup container", e))?;
            self.docker
                .start_container(&created.id, None::<StartContainerOptions>)
                .await
                .map_err(|e| engine_error("Starting the cleanup container", e))?;
            Ok::<_, ClientError>(attached)
        }
        .await;
        let attached = match started {
            Ok(a) => a,
            Err(e) => {
                let opts = RemoveContainerOptionsBuilder::new().force(true).build();
                let _ = self.docker.remove_container(&created.id, Some(opts)).await;
                return Err(e);
            }
        };
        let alive = Arc::new(AtomicBool::new(true));
        // Its output is read only to notice its end (and to show what it says when asked to).
        let mut output = attached.output;
        let watch = alive.clone();
        let verbose = std::env::var_os("DAYTONA_DEBUG_REAPER").is_some();
        tokio::spawn(async move {
            while let Some(Ok(chunk)) = output.next().await {
                if verbose {
                    eprint!("{chunk}");
                }
            }
            watch.store(false, Ordering::SeqCst);
        });
        Ok(Reaper { input: tokio::sync::Mutex::new(attached.input), alive })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_to_mount() {
        assert_eq!(engine_socket("unix:///run/user/1000/docker.sock"), "/run/user/1000/docker.sock");
        assert_eq!(engine_socket("tcp://10.0.0.2:2375"), "/var/run/docker.sock");
    }

    #[test]
    fn explicit_setting_beats_the_default() {
        let on = LocalSettings { remove_on_exit: Some(true), ..Default::default() };
        assert_eq!(remove_on_exit(&on), Policy { on: true, explicit: true });
        let off = LocalSettings { remove_on_exit: Some(false), ..Default::default() };
        assert_eq!(remove_on_exit(&off), Policy { on: false, explicit: true });
    }

    #[test]
    fn session_id_is_stable_and_label_safe() {
        assert_eq!(session_id(), session_id());
        assert!(session_id().bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
