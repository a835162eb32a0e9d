//! `image.plan()`: what a build of an `Image` would upload, and the cache key that decides
//! whether it is built at all. Reads files, touches no network.

use daytona_context::{ContextError, ContextOptions, ContextPlan, ContextSource, RootLink, cache_key, plan_context};
use daytona_image::Image;

use crate::error::{ClientError, ErrorKind, Result};

/// The plan of a whole image: its Dockerfile and one planned context per distinct
/// (source, archive path) pair of its context list.
#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub dockerfile: String,
    pub contexts: Vec<ContextPlan>,
    /// `daytona-<sha256(dockerfile + sorted context keys)>`.
    pub cache_key: String,
    pub warnings: Vec<String>,
}

pub fn plan_image(image: &Image, options: &ContextOptions) -> Result<ImagePlan> {
    let mut sources: Vec<(ContextSource, bool)> = Vec::new();
    for c in image.context_list() {
        let root = match &c.boundary {
            Some(dir) => RootLink::Within(dir.into()),
            None => RootLink::Follow,
        };
        let s = (ContextSource::new(&c.source_path, &c.archive_path).with_root(root), c.dockerignore);
        if !sources.contains(&s) {
            sources.push(s);
        }
    }
    // Contexts one after another; each one hashes its files in parallel.
    let contexts = sources
        .iter()
        .map(|(source, dockerignore)| {
            let opts = ContextOptions { dockerignore: options.dockerignore && *dockerignore, ..options.clone() };
            plan_context(source, &opts)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(context_error)?;
    reject_shared_archive_paths(&contexts)?;
    let keys: Vec<String> = contexts.iter().map(|c| c.key.clone()).collect();
    let warnings = contexts.iter().flat_map(|c| c.warnings.iter().cloned()).collect();
    Ok(ImagePlan {
        dockerfile: image.dockerfile().to_string(),
        cache_key: cache_key(image.dockerfile(), &keys),
        contexts,
        warnings,
    })
}

/// Two contexts with different content at one place of the build context: the archive would
/// keep whichever came last, silently. The same content twice (one file named two ways) is fine.
fn reject_shared_archive_paths(contexts: &[ContextPlan]) -> Result<()> {
    for (i, later) in contexts.iter().enumerate() {
        if let Some(earlier) = contexts[..i].iter().find(|c| c.tar_prefix == later.tar_prefix && c.key != later.key) {
            let place = if later.tar_prefix.is_empty() { "the root".to_string() } else { later.tar_prefix.clone() };
            return Err(ClientError::invalid(format!(
                "Contexts {} and {} both go to {place} of the build context (archive paths {:?} and {:?}) with different content, \
                 so the build would silently see only the last one; copy them from different paths (e.g. another contextDir or a subdirectory)",
                earlier.source_path.display(),
                later.source_path.display(),
                earlier.archive_path,
                later.archive_path,
            )));
        }
    }
    Ok(())
}

/// Context errors as the user should see them: a missing path is `DaytonaNotFoundError`.
pub fn context_error(e: ContextError) -> ClientError {
    match &e {
        ContextError::NotFound { path } => ClientError::new(
            ErrorKind::NotFound,
            format!("Context path {} does not exist (it was added to the image by addLocalFile, addLocalDir, pipInstallFromRequirements or a COPY source)", path.display()),
        ),
        ContextError::FileAtRoot { .. } | ContextError::BadIgnorePattern { .. } | ContextError::OutsideContext { .. } => {
            ClientError::invalid(e.to_string())
        }
        _ => ClientError::generic(format!("Cannot prepare the build context: {e}")),
    }
}
