//! `image.plan()`: what a build of an `Image` would upload, and the cache key that decides
//! whether it is built at all. Reads files, touches no network.

use daytona_context::{ContextError, ContextOptions, ContextPlan, ContextSource, cache_key, plan_context};
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
        let s = (ContextSource::new(&c.source_path, &c.archive_path), c.dockerignore);
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
    let keys: Vec<String> = contexts.iter().map(|c| c.key.clone()).collect();
    let warnings = contexts.iter().flat_map(|c| c.warnings.iter().cloned()).collect();
    Ok(ImagePlan {
        dockerfile: image.dockerfile().to_string(),
        cache_key: cache_key(image.dockerfile(), &keys),
        contexts,
        warnings,
    })
}

/// Context errors as the user should see them: a missing path is `DaytonaNotFoundError`.
pub fn context_error(e: ContextError) -> ClientError {
    match &e {
        ContextError::NotFound { path } => ClientError::new(
            ErrorKind::NotFound,
            format!("Context path {} does not exist (it was added to the image by addLocalFile, addLocalDir, pipInstallFromRequirements or a COPY source)", path.display()),
        ),
        ContextError::FileAtRoot { .. } | ContextError::BadIgnorePattern { .. } => ClientError::invalid(e.to_string()),
        _ => ClientError::generic(format!("Cannot prepare the build context: {e}")),
    }
}
