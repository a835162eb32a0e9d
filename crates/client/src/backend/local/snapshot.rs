//! Snapshots as locally tagged images: a snapshot's name is its image reference.

use bollard::models::ImageInspect;
use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder};
use std::collections::HashMap;

use super::build::engine_error;
use super::{LocalBackend, labels};
use crate::backend::OperationContext;
use crate::error::{ClientError, ErrorKind, Result};
use crate::logs::Logs;
use crate::types::*;

/// Is `name` a usable image reference (`repo[:tag]`, lowercase path components)?
pub(super) fn check_name(name: &str) -> Result<(String, String)> {
    let (repo, tag) = match name.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (name, "latest"),
    };
    let repo_ok = !repo.is_empty()
        && repo.split('/').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
                && part.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        });
    let tag_ok = !tag.is_empty()
        && tag.len() <= 128
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !repo_ok || !tag_ok {
        return Err(ClientError::invalid(format!(
            "Snapshot name {name} cannot be used on the local engine: it must be an image reference \
             (lowercase letters, digits, '.', '_', '-' and '/', optionally followed by ':tag')"
        )));
    }
    Ok((repo.to_string(), tag.to_string()))
}

pub(super) fn is_cache_tag(tag: &str) -> bool {
    tag.strip_prefix("daytona-")
        .and_then(|rest| rest.strip_suffix(":latest"))
        .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `LABEL` instruction recording the given resources (numbers only: no quoting needed).
fn resource_labels(resources: Option<&Resources>) -> Option<String> {
    let r = resources?;
    let pairs: Vec<String> = [(labels::SNAPSHOT_CPU, r.cpu), (labels::SNAPSHOT_GPU, r.gpu), (labels::SNAPSHOT_MEMORY, r.memory), (labels::SNAPSHOT_DISK, r.disk)]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|n| n.is_finite()).map(|n| format!("{k}={n}")))
        .collect();
    if pairs.is_empty() { None } else { Some(format!("LABEL {}", pairs.join(" "))) }
}

fn snapshot_info(name: &str, image: &ImageInspect) -> SnapshotInfo {
    let config = image.config.clone().unwrap_or_default();
    let image_labels = config.labels.clone().unwrap_or_default();
    let resource = |key: &str| image_labels.get(key).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    SnapshotInfo {
        id: image.id.clone().unwrap_or_default(),
        name: name.to_string(),
        image_name: Some(name.to_string()),
        state: "active".into(),
        size: image.size.map(|s| s as f64 / 1e9),
        entrypoint: config.entrypoint.filter(|e| !e.is_empty()),
        cpu: resource(labels::SNAPSHOT_CPU),
        gpu: resource(labels::SNAPSHOT_GPU),
        mem: resource(labels::SNAPSHOT_MEMORY),
        disk: resource(labels::SNAPSHOT_DISK),
        created_at: image.created.clone(),
        updated_at: image.created.clone(),
        ..Default::default()
    }
}

fn display_name(tag: &str) -> String {
    tag.strip_suffix(":latest").unwrap_or(tag).to_string()
}

impl LocalBackend {
    pub(super) async fn create_snapshot_image(&self, ctx: &OperationContext, params: &CreateSnapshotParams, logs: &Logs) -> Result<SnapshotInfo> {
        let (repo, tag) = check_name(&params.name)?;
        if self.image_exists(ctx, &params.name).await? {
            let mut err = ClientError::new(ErrorKind::Conflict, format!("Snapshot with name {} already exists", params.name));
            err.status_code = Some(409);
            return Err(err);
        }
        logs.line(format!("Creating snapshot {} (building)", params.name)).await;
        let image = match &params.image {
            ImageSpec::Build(image) => image.clone(),
            ImageSpec::Name(reference) => daytona_image::Image::base(reference),
        };
        let mut image = match &params.entrypoint {
            Some(ep) => image.with_entrypoint(ep),
            None => image,
        };
        // The snapshot's resources live on its image, as labels (a tag cannot carry data).
        if let Some(label) = resource_labels(params.resources.as_ref()) {
            image.dockerfile_commands(&[label], None, false).map_err(|e| ClientError::generic(e.to_string()))?;
        }
        let built = self.build_cached(ctx, &image, &format!("Snapshot {}", params.name), logs).await?;
        // A log callback that failed on a build line cancels the snapshot before it exists.
        logs.delivered().await?;
        self.engine(ctx)
            .tag_image(&built, Some(TagImageOptionsBuilder::new().repo(&repo).tag(&tag).build()))
            .await
            .map_err(|e| engine_error("Tagging the snapshot", e))?;
        self.keep_image(&params.name).await;
        let info = self.inspect_snapshot(ctx, &params.name).await?;
        logs.line(format!("Created snapshot {} (active)", params.name)).await;
        Ok(info)
    }

    pub(super) async fn inspect_snapshot(&self, ctx: &OperationContext, id_or_name: &str) -> Result<SnapshotInfo> {
        let not_found = || ClientError::not_found(format!("Snapshot {id_or_name} not found"));
        let image = match self.engine(ctx).inspect_image(id_or_name).await {
            Ok(i) => i,
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Err(not_found()),
            Err(e) => return Err(engine_error("Looking up the snapshot", e)),
        };
        let managed = image.config.as_ref().and_then(|c| c.labels.as_ref()).is_some_and(|l| l.contains_key(labels::MANAGED));
        let tags: Vec<String> = image.repo_tags.clone().unwrap_or_default().into_iter().filter(|t| !is_cache_tag(t)).collect();
        if !managed || tags.is_empty() {
            return Err(not_found());
        }
        let wanted = if id_or_name.contains(':') { id_or_name.to_string() } else { format!("{id_or_name}:latest") };
        let name = tags.iter().find(|t| **t == wanted).cloned().unwrap_or_else(|| tags[0].clone());
        Ok(snapshot_info(&display_name(&name), &image))
    }

    pub(super) async fn list_snapshot_images(&self, ctx: &OperationContext) -> Result<Vec<SnapshotInfo>> {
        let filters: HashMap<&str, Vec<String>> = HashMap::from([("label", vec![format!("{}=true", labels::MANAGED)])]);
        let images = self
            .docker
            .list_images(Some(ListImagesOptionsBuilder::new().filters(&filters).build()))
            .await
            .map_err(|e| engine_error("Listing snapshots", e))?;
        let mut out = Vec::new();
        for summary in images {
            for tag in summary.repo_tags.iter().filter(|t| !is_cache_tag(t) && !t.starts_with("<none>")) {
                match self.engine(ctx).inspect_image(tag).await {
                    Ok(image) => out.push(snapshot_info(&display_name(tag), &image)),
                    Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
                    Err(e) => return Err(engine_error("Listing snapshots", e)),
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub(super) async fn remove_snapshot(&self, ctx: &OperationContext, id_or_name: &str) -> Result<()> {
        let info = self.inspect_snapshot(ctx, id_or_name).await?;
        // Untag only: the image stays cached under its cache key for unchanged rebuilds.
        let names: Vec<String> = if info.id == id_or_name || info.id.trim_start_matches("sha256:").starts_with(id_or_name) {
            self.engine(ctx)
                .inspect_image(id_or_name)
                .await
                .map_err(|e| engine_error("Deleting the snapshot", e))?
                .repo_tags
                .unwrap_or_default()
                .into_iter()
                .filter(|t| !is_cache_tag(t))
                .collect()
        } else {
            vec![id_or_name.to_string()]
        };
        for name in names {
            self.engine(ctx)
                .remove_image(&name, Some(RemoveImageOptionsBuilder::new().noprune(true).build()), None)
                .await
                .map_err(|e| engine_error("Deleting the snapshot", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("python-example:1700000000").is_ok());
        assert!(check_name("team/snap").is_ok());
        assert!(check_name("My Snapshot").is_err());
        assert!(check_name("UPPER").is_err());
        assert!(is_cache_tag(&format!("daytona-{}:latest", "a".repeat(64))));
        assert!(!is_cache_tag("daytona-x:latest"));
    }
}
