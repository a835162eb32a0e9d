//! The `Image` class: each method converts its arguments and forwards to `daytona_image::Image`.

use daytona_image::{AptInstallOptions, Arg, CopyOptions, Image, PipExtensions, RunCommand};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::throw;
use crate::values::{
    join_element, js_string, pip_args, python_version, replace_type_error, str_tree, strict_context, string_array,
    string_record, truthy, type_error,
};

#[napi(object)]
pub struct ContextEntry {
    pub source_path: String,
    pub archive_path: String,
}

/// A scalar argument for the core's checks of the builder extensions.
fn arg(value: &Unknown) -> Result<Arg> {
    Ok(match value.get_type()? {
        ValueType::String => Arg::Str(unsafe { value.cast::<String>()? }),
        ValueType::Number => Arg::Number(unsafe { value.cast::<f64>()? }),
        ValueType::Undefined => Arg::Other("undefined".into()),
        ValueType::Null => Arg::Other("null".into()),
        ValueType::Boolean => Arg::Bool(unsafe { value.cast::<bool>()? }),
        ValueType::BigInt => Arg::Other("a bigint".into()),
        ValueType::Symbol => Arg::Other("a symbol".into()),
        ValueType::Function => Arg::Other("a function".into()),
        ValueType::Object if value.is_array()? => Arg::Other("an array".into()),
        _ => Arg::Other("an object".into()),
    })
}

/// The options object of a builder method: `undefined`, `null` and primitives have no options
/// (as destructuring them in JavaScript gives none).
fn options_object(options: Option<Unknown>) -> Result<Option<Object>> {
    let Some(v) = options else { return Ok(None) };
    match v.get_type()? {
        ValueType::Object | ValueType::Function => Ok(Some(unsafe { v.cast::<Object>()? })),
        _ => Ok(None),
    }
}

/// `options[key]`, `undefined` and `null` being absent.
fn option(obj: Option<&Object>, key: &str) -> Result<Option<Arg>> {
    let Some(obj) = obj else { return Ok(None) };
    let v: Unknown = obj.get_named_property(key)?;
    if matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) {
        return Ok(None);
    }
    Ok(Some(arg(&v)?))
}

/// `!!options[key]`.
fn flag(obj: Option<&Object>, key: &str) -> Result<bool> {
    let Some(obj) = obj else { return Ok(false) };
    truthy(&obj.get_named_property::<Unknown>(key)?)
}

fn copy_options(obj: Option<&Object>) -> Result<CopyOptions> {
    Ok(CopyOptions { chmod: option(obj, "chmod")?, chown: option(obj, "chown")? })
}

fn pip_extensions(options: Option<Unknown>) -> Result<PipExtensions> {
    Ok(PipExtensions { cache_mount: flag(options_object(options)?.as_ref(), "cacheMount")? })
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
        let ext = pip_extensions(options)?;
        let args = pip_args(options)?;
        throw(env, self.inner.pip_install_ext(&tree, args.options.as_ref(), ext))?;
        Ok(this)
    }

    #[napi(ts_args_type = "packages: string | string[], options?: object")]
    pub fn uv_pip_install<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        packages: Unknown,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        let tree = str_tree(&packages)?;
        let ext = pip_extensions(options)?;
        let args = pip_args(options)?;
        throw(env, self.inner.uv_pip_install(&tree, args.options.as_ref(), ext))?;
        Ok(this)
    }

    #[napi(ts_args_type = "packages: string | string[], options?: { noInstallRecommends?: boolean }")]
    pub fn apt_install<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        packages: Unknown,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        let tree = str_tree(&packages)?;
        let options = AptInstallOptions { no_install_recommends: flag(options_object(options)?.as_ref(), "noInstallRecommends")? };
        throw(env, self.inner.apt_install(&tree, &options))?;
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
        let ext = pip_extensions(options)?;
        let args = pip_args(options)?;
        throw(env, self.inner.pip_install_from_requirements_ext(&requirements_txt, args.options.as_ref(), ext))?;
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
        let ext = pip_extensions(options)?;
        let args = pip_args(options)?;
        let optional = args.optional_dependencies.as_deref();
        throw(env, self.inner.pip_install_from_pyproject_ext(&pyproject_toml, optional, args.options.as_ref(), ext))?;
        Ok(this)
    }

    #[napi(ts_args_type = "localPath: string, remotePath: string, options?: { chmod?: string, chown?: string }")]
    pub fn add_local_file<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        local_path: String,
        remote_path: String,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        let copy = copy_options(options_object(options)?.as_ref())?;
        throw(env, self.inner.add_local_file_with(&local_path, &remote_path, &copy))?;
        Ok(this)
    }

    #[napi(ts_args_type = "localPath: string, remotePath: string, options?: { chmod?: string, chown?: string, dockerignore?: boolean }")]
    pub fn add_local_dir<'s>(
        &mut self,
        env: &Env,
        this: This<'s>,
        local_path: String,
        remote_path: String,
        options: Option<Unknown>,
    ) -> Result<This<'s>> {
        let obj = options_object(options)?;
        let copy = copy_options(obj.as_ref())?;
        let dockerignore = throw(env, daytona_image::dockerignore_option(option(obj.as_ref(), "dockerignore")?.as_ref()))?;
        throw(env, self.inner.add_local_dir_with(&local_path, &remote_path, dockerignore, &copy))?;
        Ok(this)
    }

    /// `USER <name>` (not in the official SDK).
    #[napi(ts_args_type = "name: string | number")]
    pub fn user<'s>(&mut self, env: &Env, this: This<'s>, name: Unknown) -> Result<This<'s>> {
        throw(env, self.inner.user(&arg(&name)?))?;
        Ok(this)
    }

    /// `LABEL "key"="value" ...` (not in the official SDK).
    #[napi(ts_args_type = "labels: Record<string, string>")]
    pub fn label<'s>(&mut self, env: &Env, this: This<'s>, labels: Unknown) -> Result<This<'s>> {
        let entries = match options_object(Some(labels))? {
            Some(obj) if !labels.is_array()? => string_record(&obj)?,
            _ => throw(env, Err(daytona_image::labels_not_an_object(&arg(&labels)?)))?,
        };
        throw(env, self.inner.label(&entries))?;
        Ok(this)
    }

    /// `EXPOSE <port> ...` (not in the official SDK): a port or an array of ports.
    #[napi(ts_args_type = "ports: number | number[]")]
    pub fn expose<'s>(&mut self, env: &Env, this: This<'s>, ports: Unknown) -> Result<This<'s>> {
        let list = if ports.is_array()? {
            let array: Array = unsafe { ports.cast()? };
            let mut out = Vec::with_capacity(array.len() as usize);
            for i in 0..array.len() {
                let item: Unknown = array.get(i)?.expect("index within length");
                out.push(arg(&item)?);
            }
            out
        } else {
            vec![arg(&ports)?]
        };
        throw(env, self.inner.expose(&list))?;
        Ok(this)
    }

    /// A step that differs on every call, so every later step is built again (not in the
    /// official SDK).
    #[napi]
    pub fn skip_cache<'s>(&mut self, this: This<'s>) -> This<'s> {
        self.inner.skip_cache();
        this
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
