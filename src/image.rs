//! The `Image` class: each method converts its arguments and forwards to `daytona_image::Image`.

use daytona_image::{Image, PipInstallOptions, RunCommand};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::throw;
use crate::values::{str_tree, string_array, string_record};

#[napi(object)]
pub struct ContextEntry {
    pub source_path: String,
    pub archive_path: String,
}

#[napi(object)]
#[derive(Default)]
pub struct JsPipInstallOptions {
    pub find_links: Option<Vec<String>>,
    pub index_url: Option<String>,
    pub extra_index_urls: Option<Vec<String>>,
    pub pre: Option<bool>,
    pub extra_options: Option<String>,
    /// Only read by `pipInstallFromPyproject`.
    pub optional_dependencies: Option<Vec<String>>,
}

impl From<&JsPipInstallOptions> for PipInstallOptions {
    fn from(o: &JsPipInstallOptions) -> Self {
        PipInstallOptions {
            find_links: o.find_links.clone(),
            index_url: o.index_url.clone(),
            extra_index_urls: o.extra_index_urls.clone(),
            pre: o.pre.unwrap_or(false),
            extra_options: o.extra_options.clone(),
        }
    }
}

#[napi(object)]
pub struct StrictContextOptions {
    pub strict_context: Option<bool>,
}

#[napi(js_name = "Image")]
pub struct JsImage {
    pub(crate) inner: Image,
}

#[napi]
impl JsImage {
    #[napi(factory)]
    pub fn base(image: String) -> JsImage {
        JsImage { inner: Image::base(&image) }
    }

    #[napi(factory)]
    pub fn debian_slim(env: &Env, python_version: Option<String>) -> Result<JsImage> {
        Ok(JsImage { inner: throw(env, Image::debian_slim(python_version.as_deref()))? })
    }

    #[napi(factory)]
    pub fn from_dockerfile(env: &Env, path: String, options: Option<StrictContextOptions>) -> Result<JsImage> {
        let strict = options.and_then(|o| o.strict_context).unwrap_or(false);
        Ok(JsImage { inner: throw(env, Image::from_dockerfile(&path, strict))? })
    }

    #[napi(getter)]
    pub fn dockerfile(&self) -> String {
        self.inner.dockerfile().to_string()
    }

    #[napi(getter)]
    pub fn context_list(&self) -> Vec<ContextEntry> {
        self.inner
            .context_list()
            .iter()
            .map(|c| ContextEntry { source_path: c.source_path.clone(), archive_path: c.archive_path.clone() })
            .collect()
    }

    #[napi]
    pub fn pip_install<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        packages: Unknown,
        options: Option<JsPipInstallOptions>,
    ) -> Result<This<'s>> {
        let tree = str_tree(&packages)?;
        let opts = options.as_ref().map(PipInstallOptions::from);
        throw(env, self.inner.pip_install(&tree, opts.as_ref()))?;
        Ok(this)
    }

    #[napi]
    pub fn pip_install_from_requirements<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        requirements_txt: String,
        options: Option<JsPipInstallOptions>,
    ) -> Result<This<'s>> {
        let opts = options.as_ref().map(PipInstallOptions::from);
        throw(env, self.inner.pip_install_from_requirements(&requirements_txt, opts.as_ref()))?;
        Ok(this)
    }

    #[napi]
    pub fn pip_install_from_pyproject<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        pyproject_toml: String,
        options: Option<JsPipInstallOptions>,
    ) -> Result<This<'s>> {
        let opts = options.as_ref().map(PipInstallOptions::from);
        let optional = options.as_ref().and_then(|o| o.optional_dependencies.as_deref());
        throw(env, self.inner.pip_install_from_pyproject(&pyproject_toml, optional, opts.as_ref()))?;
        Ok(this)
    }

    #[napi]
    pub fn add_local_file<'s>(&mut self, env: &Env, this: This<'s>, local_path: String, remote_path: String) -> Result<This<'s>> {
        throw(env, self.inner.add_local_file(&local_path, &remote_path))?;
        Ok(this)
    }

    #[napi]
    pub fn add_local_dir<'s>(&mut self, env: &Env, this: This<'s>, local_path: String, remote_path: String) -> Result<This<'s>> {
        throw(env, self.inner.add_local_dir(&local_path, &remote_path))?;
        Ok(this)
    }

    /// index.js spreads `...commands` into this array.
    #[napi(js_name = "_runCommands")]
    pub fn run_commands<'s>(&mut self, this: This<'s>, commands: Vec<Either<String, Vec<String>>>) -> This<'s> {
        let commands: Vec<RunCommand> = commands
            .into_iter()
            .map(|c| match c {
                Either::A(s) => RunCommand::Shell(s),
                Either::B(v) => RunCommand::Argv(v),
            })
            .collect();
        self.inner.run_commands(&commands);
        this
    }

    #[napi]
    pub fn env<'s>(&mut self, env: &Env, this: This<'s>, env_vars: Object) -> Result<This<'s>> {
        let entries = string_record(&env_vars)?;
        throw(env, self.inner.env(&entries))?;
        Ok(this)
    }

    #[napi]
    pub fn workdir<'s>(&mut self, this: This<'s>, dir_path: String) -> This<'s> {
        self.inner.workdir(&dir_path);
        this
    }

    #[napi]
    pub fn entrypoint<'s>(&mut self, env: &Env, this: This<'s>, entrypoint_commands: Unknown) -> Result<This<'s>> {
        let args = string_array(&entrypoint_commands)?;
        throw(env, self.inner.entrypoint(args.as_deref()))?;
        Ok(this)
    }

    #[napi]
    pub fn cmd<'s>(&mut self, env: &Env, this: This<'s>, cmd: Unknown) -> Result<This<'s>> {
        let args = string_array(&cmd)?;
        throw(env, self.inner.cmd(args.as_deref()))?;
        Ok(this)
    }

    #[napi]
    pub fn dockerfile_commands<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        dockerfile_commands: Vec<String>,
        context_dir: Option<String>,
        options: Option<StrictContextOptions>,
    ) -> Result<This<'s>> {
        let strict = options.and_then(|o| o.strict_context).unwrap_or(false);
        throw(env, self.inner.dockerfile_commands(&dockerfile_commands, context_dir.as_deref(), strict))?;
        Ok(this)
    }
}
