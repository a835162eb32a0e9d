//! The images this package built on the engine (`localImages.list`/`prune`): build cache images
//! (tagged with their cache key) and snapshots, all carrying the `MANAGED` label.

use std::collections::HashMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptionsBuilder};

use super::build::engine_error;
use super::snapshot::is_cache_tag;
use super::{LocalBackend, labels};
use crate::backend::OperationContext;
use crate::error::{ClientError, ErrorKind, Result};
use crate::types::LocalImage;

impl LocalBackend {
    pub(super) async fn local_images(&self, ctx: &OperationContext) -> Result<Vec<LocalImage>> {
        let engine = self.engine(ctx);
        let filters: HashMap<&str, Vec<String>> = HashMap::from([("label", vec![format!("{}=true", labels::MANAGED)])]);
        let images = engine
            .list_images(Some(ListImagesOptionsBuilder::new().filters(&filters).build()))
            .await
            .map_err(|e| engine_error("Listing images", e))?;
        let containers = engine
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
            .await
            .map_err(|e| engine_error("Listing containers", e))?;
        let mut used_by: HashMap<String, Vec<String>> = HashMap::new();
        for c in containers {
            if let (Some(image), Some(id)) = (c.image_id, c.id) {
                used_by.entry(image).or_default().push(id);
            }
        }
        let mut out: Vec<LocalImage> = images
            .into_iter()
            // The reaper's image is this package's machinery, not a build.
            .filter(|i| !i.labels.contains_key(labels::REAPER))
            .map(|i| {
                let tags: Vec<String> = i.repo_tags.into_iter().filter(|t| !t.starts_with("<none>")).collect();
                let snapshots = tags.iter().filter(|t| !is_cache_tag(t)).map(|t| t.strip_suffix(":latest").unwrap_or(t).to_string()).collect();
                LocalImage { used_by: used_by.remove(&i.id).unwrap_or_default(), id: i.id, tags, snapshots, created: i.created, size_bytes: i.size as f64 }
            })
            .collect();
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    pub(super) async fn remove_local_image(&self, ctx: &OperationContext, id: &str) -> Result<()> {
        let engine = self.engine(ctx);
        let image = engine.inspect_image(id).await.map_err(|e| engine_error("Looking up the image", e))?;
        let managed = image.config.as_ref().and_then(|c| c.labels.as_ref()).is_some_and(|l| l.contains_key(labels::MANAGED));
        if !managed {
            return Err(ClientError::invalid(format!("Image {id} was not built by daytona-native: localImages only removes its own images")));
        }
        // In use: refused before any tag goes (the engine would untag all but the last tag).
        let image_id = image.id.clone().unwrap_or_default();
        let containers = engine
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
            .await
            .map_err(|e| engine_error("Listing containers", e))?;
        let users: Vec<String> = containers.into_iter().filter(|c| c.image_id.as_deref() == Some(image_id.as_str())).filter_map(|c| c.id).collect();
        if !users.is_empty() {
            return Err(ClientError::new(
                ErrorKind::Conflict,
                format!("Image {id} is in use by {} container(s) ({}): delete them first", users.len(), users.iter().map(|u| &u[..u.len().min(12)]).collect::<Vec<_>>().join(", ")),
            ));
        }
        // Untag every tag, then the image itself (the engine still refuses if a container
        // appeared meanwhile).
        let opts = RemoveImageOptionsBuilder::new().force(false).build();
        for tag in image.repo_tags.unwrap_or_default() {
            engine.remove_image(&tag, Some(opts.clone()), None).await.map_err(|e| removal_error(id, e))?;
        }
        match engine.remove_image(id, Some(opts), None).await {
            Ok(_) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
            Err(e) => Err(removal_error(id, e)),
        }
    }
}

fn removal_error(id: &str, e: bollard::errors::Error) -> ClientError {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code: 409, message } => {
            ClientError::new(ErrorKind::Conflict, format!("Image {id} is in use: {message}"))
        }
        other => engine_error("Removing the image", other),
    }
}
