//! The official SDK's configuration rules (reference §3.1): which of `apiKey`, `jwtToken`,
//! `organizationId`, `apiUrl`, `target` come from the config and which from `DAYTONA_*`
//! variables, the deprecated `DAYTONA_SERVER_URL`, the refusal of an endpoint that a dotenv file
//! in the working directory could have injected, and the authentication errors.

use std::path::PathBuf;

use super::dotenv::{dotenv_search_dirs, explicit_dotenv_paths, find_dotenv_file_defining_endpoint};

use crate::config::DaytonaConfig;
use crate::error::{ClientError, ErrorKind, Result};

pub const DEFAULT_API_URL: &str = "https://app.daytona.io/api";
pub const SERVER_URL_DEPRECATION: &str = "[Deprecation Warning] Environment variable `DAYTONA_SERVER_URL` is deprecated and will be removed in future versions. Use `DAYTONA_API_URL` instead.";
pub(super) const ENDPOINT_VARS: [&str; 2] = ["DAYTONA_API_URL", "DAYTONA_SERVER_URL"];

/// The settings the API backend runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    pub api_url: String,
    pub api_key: Option<String>,
    pub jwt_token: Option<String>,
    pub organization_id: Option<String>,
    pub target: Option<String>,
    pub request_timeout_ms: Option<f64>,
}

impl ApiConfig {
    /// The bearer token: the API key, else the JWT.
    pub fn token(&self) -> &str {
        self.api_key.as_deref().or(self.jwt_token.as_deref()).unwrap_or_default()
    }
    /// `X-Daytona-Organization-ID`, sent only in JWT mode.
    pub fn organization_header(&self) -> Option<&str> {
        if self.api_key.is_some() { None } else { self.organization_id.as_deref() }
    }
}

/// What the resolution reads from the outside world (injectable for tests).
pub struct Environment<'a> {
    /// A process environment variable (`None` when unset).
    pub var: &'a dyn Fn(&str) -> Option<String>,
    /// The first dotenv file in the working directory that defines an endpoint variable.
    pub dotenv_defining_endpoint: &'a dyn Fn() -> Option<PathBuf>,
    /// `console.warn`.
    pub warn: &'a dyn Fn(&str),
}

fn given(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.is_empty())
}

/// Whether the config or the environment carries credentials (used to pick the backend).
pub fn has_credentials(config: &DaytonaConfig, var: &dyn Fn(&str) -> Option<String>) -> bool {
    let nonempty = |k: &str| var(k).filter(|s| !s.is_empty());
    given(&config.api_key).is_some() || given(&config.jwt_token).is_some() || nonempty("DAYTONA_API_KEY").is_some() || nonempty("DAYTONA_JWT_TOKEN").is_some()
}

pub fn resolve(config: &DaytonaConfig, env: &Environment<'_>) -> Result<ApiConfig> {
    let var = |k: &str| (env.var)(k).filter(|s| !s.is_empty());
    let endpoint_given = given(&config.api_url).is_some();
    let mut jwt = given(&config.jwt_token);
    let mut api_key = if given(&config.api_key).is_none() && jwt.is_some() { None } else { given(&config.api_key) };
    let mut org = given(&config.organization_id);
    let mut api_url = given(&config.api_url);
    let mut target = given(&config.target);
    let complete = (api_key.is_some() && api_url.is_some() && target.is_some())
        || (jwt.is_some() && org.is_some() && api_url.is_some() && target.is_some());
    if !complete {
        if api_key.is_none() && jwt.is_none() {
            api_key = var("DAYTONA_API_KEY");
        }
        jwt = jwt.or_else(|| var("DAYTONA_JWT_TOKEN"));
        org = org.or_else(|| var("DAYTONA_ORGANIZATION_ID"));
        api_url = api_url.or_else(|| var("DAYTONA_API_URL")).or_else(|| var("DAYTONA_SERVER_URL"));
        target = target.or_else(|| var("DAYTONA_TARGET"));
        if var("DAYTONA_SERVER_URL").is_some() && var("DAYTONA_API_URL").is_none() {
            (env.warn)(SERVER_URL_DEPRECATION);
        }
    }
    // Presence, not value: an empty variable still names the endpoint.
    let named_in_env = ENDPOINT_VARS.iter().any(|k| (env.var)(k).is_some());
    if !endpoint_given
        && named_in_env
        && let Some(file) = (env.dotenv_defining_endpoint)()
    {
        let file = file.display();
        return Err(ClientError::invalid(format!(
            "The Daytona API endpoint is ambiguous: `{file}` in the working directory sets DAYTONA_API_URL or DAYTONA_SERVER_URL, \
             and that variable is present in the process environment, so the endpoint cannot be attributed to you. \
             Pass `apiUrl` to the Daytona constructor to say which endpoint you mean, or remove the variable from `{file}`."
        )));
    }
    let api_url = api_url.unwrap_or_else(|| DEFAULT_API_URL.to_string());
    if api_key.is_none() && jwt.is_none() {
        return Err(ClientError::new(
            ErrorKind::Authentication,
            "Authentication credentials not found. Set DAYTONA_API_KEY, or both DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID. These can also be provided via DaytonaConfig.",
        ));
    }
    if api_key.is_none() && org.is_none() {
        return Err(ClientError::new(
            ErrorKind::Authentication,
            "DAYTONA_ORGANIZATION_ID is required when authenticating with DAYTONA_JWT_TOKEN. It can also be provided via DaytonaConfig.",
        ));
    }
    Ok(ApiConfig { api_url, api_key, jwt_token: jwt, organization_id: org, target, request_timeout_ms: config.request_timeout_ms })
}

/// The real environment: process variables, the working directory's dotenv files, stderr.
pub fn process_environment_resolve(config: &DaytonaConfig) -> Result<ApiConfig> {
    let var = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
    let scan = || find_dotenv_file_defining_endpoint(&dotenv_search_dirs(), &explicit_dotenv_paths());
    let warn = |m: &str| eprintln!("{m}");
    resolve(config, &Environment { var: &var, dotenv_defining_endpoint: &scan, warn: &warn })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    fn run(config: DaytonaConfig, vars: &[(&str, &str)], dotenv: Option<&str>) -> (Result<ApiConfig>, Vec<String>) {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let warnings = RefCell::new(Vec::new());
        let var = |k: &str| vars.get(k).cloned();
        let scan = || dotenv.map(PathBuf::from);
        let warn = |m: &str| warnings.borrow_mut().push(m.to_string());
        let r = resolve(&config, &Environment { var: &var, dotenv_defining_endpoint: &scan, warn: &warn });
        (r, warnings.into_inner())
    }

    #[test]
    fn credentials_and_defaults() {
        let (r, _) = run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k")], None);
        let c = r.unwrap();
        assert_eq!((c.api_url.as_str(), c.token(), c.organization_header()), (DEFAULT_API_URL, "k", None));
        let (r, _) = run(DaytonaConfig::default(), &[("DAYTONA_JWT_TOKEN", "j"), ("DAYTONA_ORGANIZATION_ID", "o"), ("DAYTONA_TARGET", "eu")], None);
        let c = r.unwrap();
        assert_eq!((c.token(), c.organization_header(), c.target.as_deref()), ("j", Some("o"), Some("eu")));
        // A configured JWT keeps the environment's API key out.
        let cfg = DaytonaConfig { jwt_token: Some("j".into()), organization_id: Some("o".into()), ..Default::default() };
        let (r, _) = run(cfg, &[("DAYTONA_API_KEY", "k")], None);
        assert_eq!(r.unwrap().api_key, None);
        // A complete config reads nothing from the environment.
        let cfg = DaytonaConfig { api_key: Some("c".into()), api_url: Some("http://x/api".into()), target: Some("us".into()), ..Default::default() };
        let (r, w) = run(cfg, &[("DAYTONA_SERVER_URL", "http://y"), ("DAYTONA_ORGANIZATION_ID", "o")], None);
        assert_eq!(r.unwrap().organization_id, None);
        assert!(w.is_empty());
    }

    #[test]
    fn authentication_errors() {
        let (r, _) = run(DaytonaConfig::default(), &[], None);
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert_eq!(e.message, "Authentication credentials not found. Set DAYTONA_API_KEY, or both DAYTONA_JWT_TOKEN and DAYTONA_ORGANIZATION_ID. These can also be provided via DaytonaConfig.");
        let (r, _) = run(DaytonaConfig::default(), &[("DAYTONA_JWT_TOKEN", "j"), ("DAYTONA_API_KEY", "")], None);
        let e = r.unwrap_err();
        assert_eq!(e.message, "DAYTONA_ORGANIZATION_ID is required when authenticating with DAYTONA_JWT_TOKEN. It can also be provided via DaytonaConfig.");
    }

    #[test]
    fn server_url_is_deprecated() {
        let (r, w) = run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k"), ("DAYTONA_SERVER_URL", "http://s/api")], None);
        assert_eq!(r.unwrap().api_url, "http://s/api");
        assert_eq!(w, [SERVER_URL_DEPRECATION]);
        let (r, w) = run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k"), ("DAYTONA_SERVER_URL", "http://s"), ("DAYTONA_API_URL", "http://a")], None);
        assert_eq!(r.unwrap().api_url, "http://a");
        assert!(w.is_empty());
    }

    #[test]
    fn dotenv_ambiguity() {
        let env = [("DAYTONA_API_KEY", "k"), ("DAYTONA_API_URL", "http://a")];
        let (r, _) = run(DaytonaConfig::default(), &env, Some("/w/.env"));
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_eq!(e.message, "The Daytona API endpoint is ambiguous: `/w/.env` in the working directory sets DAYTONA_API_URL or DAYTONA_SERVER_URL, and that variable is present in the process environment, so the endpoint cannot be attributed to you. Pass `apiUrl` to the Daytona constructor to say which endpoint you mean, or remove the variable from `/w/.env`.");
        // An explicit apiUrl, or no endpoint variable in the environment: no refusal.
        let cfg = DaytonaConfig { api_url: Some("http://b".into()), ..Default::default() };
        assert!(run(cfg, &env, Some("/w/.env")).0.is_ok());
        assert!(run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k")], Some("/w/.env")).0.is_ok());
        // Present but empty still counts as named.
        assert!(run(DaytonaConfig::default(), &[("DAYTONA_API_KEY", "k"), ("DAYTONA_SERVER_URL", "")], Some("/w/.env")).0.is_err());
    }
}
