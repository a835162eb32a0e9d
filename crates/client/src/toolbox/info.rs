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

    /// `sandbox.updateEnv(env, { unset })`: `POST /env` with `{ set, unset }` (`unset` left out
    /// when not given, as officially).
    pub async fn update_env(&self, set: &[(String, String)], unset: Option<&[String]>) -> Result<()> {
        let mut body = serde_json::Map::new();
        body.insert("set".into(), crate::backend::api::json::record(set));
        if let Some(u) = unset {
            body.insert("unset".into(), Value::Array(u.iter().cloned().map(Value::String).collect()));
        }
        self.post("env".into(), &Value::Object(body), "application/json", crate::backend::Deadline::Default).await.map(|_| ())
    }

    /// `sandbox.getUserHomeDir()` (and the deprecated `getUserRootDir()`).
    pub async fn get_user_home_dir(&self) -> Result<Option<String>> {
        Ok(self.get("user-home-dir".into()).await?.get("dir").and_then(Value::as_str).map(str::to_string))
    }
}
