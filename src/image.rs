//! The `Image` class: each method converts its arguments and forwards to `daytona_image::Image`.

use daytona_image::{Image, RunCommand};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::throw;
use crate::values::{
    join_element, js_string, pip_args, python_version, replace_type_error, str_tree, strict_context, string_array,
    string_record, type_error,
};

#[napi(object)]
pub struct ContextEntry {
    pub source_path: String,
    pub archive_path: String,
}

/// Options of `addLocalDir` (not in the official SDK).
#[napi(object)]
pub struct AddLocalDirOptions {
    /// Apply the directory's `.dockerignore` (default true).
    pub dockerignore: Option<bool>,
}

#[napi(js_name = "Image")]
pub struct JsImage {
    pub(crate) inner: Image,
}

#[napi]
impl JsImage {
    /// `FROM ${image}`: any value is printed as a template literal prints it.
    #[napi(factory, ts_args_type = "image: string")]
    pub fn base(image: Unknown) -> Result<JsImage> {
        Ok(JsImage { inner: Image::base(&js_string(&image)?) })
    }

    /// A falsy version means the default series; a non-string is never a supported series.
    #[napi(factory, ts_args_type = "pythonVersion?: string | null")]
    pub fn debian_slim(env: &Env, version: Option<Unknown>) -> Result<JsImage> {
        let image = match python_version(version)? {
            Ok(version) => Image::debian_slim(version.as_deref()),
            Err(printed) => Err(daytona_image::unsupported_python_version(&printed)),
        };
        Ok(JsImage { inner: throw(env, image)? })
    }

    #[napi(factory, ts_args_type = "path: string, options?: { strictContext?: boolean }")]
    pub fn from_dockerfile(env: &Env, path: String, options: Option<Unknown>) -> Result<JsImage> {
        let strict = strict_context(options)?;
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

    #[napi(ts_args_type = "packages: string | string[], options?: object")]
    pub fn pip_install<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        packages: Unknown,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        let tree = str_tree(&packages)?;
        let args = pip_args(options)?;
        throw(env, self.inner.pip_install(&tree, args.options.as_ref()))?;
        Ok(this)
    }

    #[napi(ts_args_type = "requirementsTxt: string, options?: object")]
    pub fn pip_install_from_requirements<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        requirements_txt: String,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        let args = pip_args(options)?;
        throw(env, self.inner.pip_install_from_requirements(&requirements_txt, args.options.as_ref()))?;
        Ok(this)
    }

    #[napi(ts_args_type = "pyprojectToml: string, options?: object")]
    pub fn pip_install_from_pyproject<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        pyproject_toml: String,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        let args = pip_args(options)?;
        let optional = args.optional_dependencies.as_deref();
        throw(env, self.inner.pip_install_from_pyproject(&pyproject_toml, optional, args.options.as_ref()))?;
        Ok(this)
    }

    #[napi]
    pub fn add_local_file<'s>(&mut self, env: &Env, this: This<'s>, local_path: String, remote_path: String) -> Result<This<'s>> {
        throw(env, self.inner.add_local_file(&local_path, &remote_path))?;
        Ok(this)
    }

    #[napi]
    pub fn add_local_dir<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        local_path: String,
        remote_path: String,
        options: Option<AddLocalDirOptions>,
    ) -> Result<This<'s>> {
        let dockerignore = options.and_then(|o| o.dockerignore).unwrap_or(true);
        throw(env, self.inner.add_local_dir(&local_path, &remote_path, dockerignore))?;
        Ok(this)
    }

    /// index.js spreads `...commands` into this array. Commands are appended one at a time, as
    /// the official SDK does, so a bad element leaves the earlier ones in place.
    #[napi(js_name = "_runCommands", ts_args_type = "commands: Array<string | string[]>")]
    pub fn run_commands<'s>(&mut self, env: &Env, this: This<'s>, commands: Vec<Unknown>) -> Result<This<'s>> {
        for command in commands {
            let command = if command.is_array()? {
                // `c.replace(...)` on each element: only strings have it
                match string_array(&command)? {
                    Some(args) => RunCommand::Argv(args),
                    None => return Err(type_error(env, &replace_type_error(&command)?)),
                }
            } else {
                RunCommand::Shell(js_string(&command)?)
            };
            self.inner.run_commands(std::slice::from_ref(&command));
        }
        Ok(this)
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

    #[napi(ts_args_type = "entrypointCommands: string[]")]
    pub fn entrypoint<'s>(&mut self, env: &Env, this: This<'s>, entrypoint_commands: Unknown) -> Result<This<'s>> {
        let args = string_array(&entrypoint_commands)?;
        throw(env, self.inner.entrypoint(args.as_deref()))?;
        Ok(this)
    }

    #[napi(ts_args_type = "cmd: string[]")]
    pub fn cmd<'s>(&mut self, env: &Env, this: This<'s>, cmd: Unknown) -> Result<This<'s>> {
        let args = string_array(&cmd)?;
        throw(env, self.inner.cmd(args.as_deref()))?;
        Ok(this)
    }

    #[napi(ts_args_type = "dockerfileCommands: string[], contextDir?: string, options?: { strictContext?: boolean }")]
    pub fn dockerfile_commands<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        dockerfile_commands: Vec<Unknown>,
        context_dir: Option<String>,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        // `commands.join('\n')`: null and undefined elements print as empty strings
        let commands = dockerfile_commands.iter().map(join_element).collect::<Result<Vec<_>>>()?;
        let strict = strict_context(options)?;
        throw(env, self.inner.dockerfile_commands(&commands, context_dir.as_deref(), strict))?;
        Ok(this)
    }
}
