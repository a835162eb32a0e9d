//! The sandbox's own directories (`getWorkDir`, `getUserHomeDir`): toolbox `GET /work-dir` and
//! `GET /user-home-dir`, each answering `{ dir }`.

use serde_json::Value;

use super::Toolbox;
use crate::error::Result;

impl Toolbox {
    /// `sandbox.getWorkDir()`: the image's WORKDIR, else the user's home directory.
    pub async fn get_work_dir(&self) -> Result<Option<String>> {
        Ok(self.get("work-dir".into()).await?.get("dir").and_then(Value::as_str).map(str::to_string))
    }

    /// `sandbox.getUserHomeDir()` (and the deprecated `getUserRootDir()`).
    pub async fn get_user_home_dir(&self) -> Result<Option<String>> {
        Ok(self.get("user-home-dir".into()).await?.get("dir").and_then(Value::as_str).map(str::to_string))
    }
}
