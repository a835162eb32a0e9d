//! Sessions: one long-lived shell per session, fed one wrapper line per command on its stdin.
//!
//! The agent (not the shell) creates the per-command FIFOs and reads them, so nothing beyond
//! shell builtins is needed in the image: the wrapper only sources the command file with its
//! streams redirected to the FIFOs and reports `$?` on the shell's own stdout.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{Mode, mkfifoat, CWD};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::process::{Child, ChildStdin};
use tokio::sync::oneshot;

use crate::http::ApiError;
use crate::logs::{CommandRecord, Exit, pump};

pub const ENTRYPOINT_SESSION: &str = "entrypoint";
pub const ENTRYPOINT_COMMAND: &str = "entrypoint_command";
const EXIT_TAG: &str = "__daytona_native_exit";

struct Shell {
    stdin: ChildStdin,
    pgid: i32,
    generation: u64,
}

/// Commands written to a shell and waiting for their exit line: id → (shell generation, order
/// of writing, sink). The shell runs them one after another, so the lowest order is running.
type Pending = HashMap<String, (u64, u64, oneshot::Sender<Exit>)>;

pub struct Session {
    pub id: String,
    /// Creation order, for listing.
    order: u64,
    dir: PathBuf,
    shell_path: String,
    shell: tokio::sync::Mutex<Option<Shell>>,
    commands: Mutex<Vec<Arc<CommandRecord>>>,
    pending: Arc<Mutex<Pending>>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    /// Shell generations and command write order (one monotonic counter serves both).
    sequence: std::sync::atomic::AtomicU64,
}

/// Single-quotes a string for the shell.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn exit_status_code(st: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))
}

impl Session {
    pub fn new(id: String, order: u64, dir: PathBuf, shell_path: String) -> std::io::Result<Arc<Self>> {
        std::fs::create_dir_all(&dir)?;
        Ok(Arc::new(Self {
            id,
            order,
            dir,
            shell_path,
            shell: tokio::sync::Mutex::new(None),
            commands: Mutex::new(Vec::new()),
            pending: Arc::new(Mutex::new(HashMap::new())),
            tasks: Mutex::new(Vec::new()),
            sequence: 0.into(),
        }))
    }

    /// Starts the session's shell in its own process group; a reader task turns its exit lines
    /// into exit codes and, if the shell dies (e.g. the command ran `exit`), ends what was pending.
    fn spawn_shell(&self) -> std::io::Result<Shell> {
        let mut child: Child = crate::env::command(&self.shell_path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()?;
        let generation = self.sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let pgid = child.id().unwrap_or(0) as i32;
        let pending = self.pending.clone();
        let task = tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut it = line.split(' ');
                if it.next() != Some(EXIT_TAG) {
                    continue;
                }
                if let (Some(id), Some(code)) = (it.next(), it.next().and_then(|c| c.trim().parse::<i32>().ok()))
                    && let Some((_, _, tx)) = pending.lock().unwrap().remove(id)
                {
                    let _ = tx.send(Exit::Code(code));
                }
            }
            let code = child.wait().await.map(exit_status_code).unwrap_or(-1);
            let mut p = pending.lock().unwrap();
            let dead: Vec<String> = p.iter().filter(|(_, (g, _, _))| *g == generation).map(|(k, _)| k.clone()).collect();
            for id in dead {
                if let Some((_, _, tx)) = p.remove(&id) {
                    let _ = tx.send(Exit::Abandoned(code));
                }
            }
        });
        self.tasks.lock().unwrap().push(task.abort_handle());
        Ok(Shell { stdin, pgid, generation })
    }

    pub fn to_json(&self) -> Value {
        let cmds: Vec<Value> = self.commands.lock().unwrap().iter().map(|c| c.to_json()).collect();
        json!({ "sessionId": self.id, "commands": cmds })
    }

    pub fn command(&self, id: &str) -> Option<Arc<CommandRecord>> {
        self.commands.lock().unwrap().iter().find(|c| c.id == id).cloned()
    }

    /// Writes one command to the shell; returns its record once it is queued.
    pub async fn exec(&self, command: &str, run_async: bool, suppress_echo: bool) -> Result<Arc<CommandRecord>, ApiError> {
        let id = uuid::Uuid::new_v4().to_string();
        let dir = self.dir.join(&id);
        let internal = |e: std::io::Error| ApiError::bad_request(format!("failed to execute command: {e}"));
        let rec = Arc::new(CommandRecord::create(id.clone(), command.to_string(), dir.clone(), suppress_echo).map_err(internal)?);
        std::fs::write(dir.join("cmd"), command).map_err(internal)?;
        let mode = Mode::from_raw_mode(0o600);
        for f in ["out", "err"] {
            mkfifoat(CWD, dir.join(f), mode).map_err(|e| internal(e.into()))?;
        }
        // Opened before the shell sees the wrapper: the shell's open for writing then completes.
        let out = pipe::OpenOptions::new().open_receiver(dir.join("out")).map_err(internal)?;
        let err = pipe::OpenOptions::new().open_receiver(dir.join("err")).map_err(internal)?;
        let stdin_path = if run_async {
            mkfifoat(CWD, dir.join("in"), mode).map_err(|e| internal(e.into()))?;
            // Read-write so the shell's open for reading never blocks; kept until the command ends.
            let tx = pipe::OpenOptions::new().read_write(true).open_sender(dir.join("in")).map_err(internal)?;
            *rec.input.lock().await = Some(tx);
            dir.join("in")
        } else {
            PathBuf::from("/dev/null")
        };
        let line = format!(
            "{{ . {cmd}; }} <{input} >{out} 2>{err}; echo \"{EXIT_TAG} {id} $?\"\n",
            cmd = sh_quote(&dir.join("cmd").to_string_lossy()),
            input = sh_quote(&stdin_path.to_string_lossy()),
            out = sh_quote(&dir.join("out").to_string_lossy()),
            err = sh_quote(&dir.join("err").to_string_lossy()),
        );
        let (tx, rx) = oneshot::channel();
        self.commands.lock().unwrap().push(rec.clone());
        let task = tokio::spawn(pump(rec.clone(), out, err, rx));
        self.tasks.lock().unwrap().push(task.abort_handle());

        let mut shell = self.shell.lock().await;
        let mut tx = Some(tx);
        for _attempt in 0..2 {
            if shell.is_none() {
                *shell = Some(self.spawn_shell().map_err(internal)?);
            }
            let sh = shell.as_mut().unwrap();
            if let Some(t) = tx.take() {
                let order = self.sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.pending.lock().unwrap().insert(id.clone(), (sh.generation, order, t));
            }
            match sh.stdin.write_all(line.as_bytes()).await {
                Ok(()) => return Ok(rec),
                Err(_) => {
                    // The shell is gone (its reader fails what it had); start a fresh one.
                    let stale = self.pending.lock().unwrap().remove(&id);
                    tx = stale.map(|(_, _, t)| t);
                    *shell = None;
                }
            }
        }
        Err(ApiError::bad_request("failed to execute command: session shell is not running"))
    }

    /// Ends one command (agent extension, for clients whose wait timed out): kills the
    /// processes it started; if it is still running (a builtin loop), the shell goes too and the
    /// session continues with a fresh one.
    pub async fn kill_command(&self, id: &str) -> Result<(), ApiError> {
        let rec = self.command(id).ok_or_else(|| ApiError::not_found("command not found"))?;
        if rec.exit_code().is_some() {
            return Ok(());
        }
        let running = {
            let p = self.pending.lock().unwrap();
            p.iter().min_by_key(|(_, (_, order, _))| *order).map(|(k, _)| k.clone())
        };
        if running.as_deref() != Some(id) {
            return Err(ApiError::conflict("command is queued behind another command of the session"));
        }
        let Some(pgid) = self.shell.lock().await.as_ref().map(|s| s.pgid) else {
            return Ok(());
        };
        // Repeated for a while: the shell may not have started the command's processes yet.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while tokio::time::Instant::now() < deadline {
            for pid in procs_where(2, pgid) {
                if pid != pgid
                    && let Some(p) = rustix::process::Pid::from_raw(pid)
                {
                    let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
                }
            }
            if tokio::time::timeout(std::time::Duration::from_millis(100), rec.wait()).await.is_ok() {
                return Ok(());
            }
        }
        let mut shell = self.shell.lock().await;
        if let Some(sh) = shell.take()
            && let Some(p) = rustix::process::Pid::from_raw(sh.pgid)
        {
            let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
        }
        drop(shell);
        rec.wait().await;
        Ok(())
    }

    /// Kills the shell's process group (every command it started) and stops all readers.
    pub async fn kill(&self) {
        if let Some(sh) = self.shell.lock().await.take()
            && sh.pgid > 0
        {
            let _ = rustix::process::kill_process_group(
                rustix::process::Pid::from_raw(sh.pgid).expect("positive pid"),
                rustix::process::Signal::KILL,
            );
        }
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
        let cmds = self.commands.lock().unwrap().clone();
        for c in cmds {
            c.finish(-1);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Sessions {
    dir: PathBuf,
    shell: String,
    map: Mutex<HashMap<String, Arc<Session>>>,
    /// Internal dir names, so user-chosen ids never become paths.
    counter: std::sync::atomic::AtomicU64,
    pub entrypoint: Mutex<Option<Arc<CommandRecord>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReq {
    session_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecReq {
    command: Option<String>,
    #[serde(default)]
    run_async: bool,
    #[serde(default, rename = "async")]
    async_: bool,
    #[serde(default)]
    suppress_input_echo: bool,
}

#[derive(Deserialize)]
pub struct InputReq {
    data: Option<String>,
}

impl Sessions {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            shell: find_shell(),
            map: Mutex::new(HashMap::new()),
            counter: 0.into(),
            entrypoint: Mutex::new(None),
        }
    }

    pub fn shell(&self) -> &str {
        &self.shell
    }

    pub fn get(&self, id: &str) -> Result<Arc<Session>, ApiError> {
        self.map.lock().unwrap().get(id).cloned().ok_or_else(|| ApiError::not_found("session not found"))
    }

    pub fn create(&self, req: CreateReq) -> Result<(), ApiError> {
        let id = req.session_id.unwrap_or_default();
        if id.is_empty() {
            return Err(ApiError::bad_request("invalid request body: sessionId is required"));
        }
        if id == ENTRYPOINT_SESSION {
            return Err(ApiError::bad_request("provided session ID is reserved and cannot be created/overridden"));
        }
        let mut map = self.map.lock().unwrap();
        if map.contains_key(&id) {
            return Err(ApiError::conflict("session already exists"));
        }
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let s = Session::new(id.clone(), n, self.dir.join(format!("s{n}")), self.shell.clone())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        map.insert(id, s);
        Ok(())
    }

    pub fn list(&self) -> Value {
        let map = self.map.lock().unwrap();
        let mut all: Vec<&Arc<Session>> = map.values().collect();
        // Oldest first (the map has no order of its own).
        all.sort_by_key(|s| s.order);
        Value::Array(all.into_iter().map(|s| s.to_json()).collect())
    }

    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        if id == ENTRYPOINT_SESSION {
            return Err(ApiError::bad_request("can't delete entrypoint session"));
        }
        let s = self.map.lock().unwrap().remove(id).ok_or_else(|| ApiError::not_found("session not found"))?;
        s.kill().await;
        Ok(())
    }

    pub async fn kill_all(&self) {
        let all: Vec<Arc<Session>> = self.map.lock().unwrap().drain().map(|(_, s)| s).collect();
        for s in all {
            s.kill().await;
        }
    }

    pub async fn exec(&self, id: &str, req: ExecReq) -> Result<(ExecStatus, Value), ApiError> {
        if id == ENTRYPOINT_SESSION {
            return Err(ApiError::bad_request("can't execute command in entrypoint session"));
        }
        let command = req.command.unwrap_or_default();
        if command.trim().is_empty() {
            return Err(ApiError::bad_request("command cannot be empty"));
        }
        let run_async = req.run_async || req.async_;
        let s = self.get(id).map_err(|_| ApiError::not_found("failed to execute command: session not found"))?;
        let rec = s.exec(&command, run_async, req.suppress_input_echo).await?;
        if run_async {
            return Ok((ExecStatus::Accepted, json!({ "cmdId": rec.id })));
        }
        let code = rec.wait().await;
        let mut v = rec.logs_json();
        v["cmdId"] = json!(rec.id);
        v["exitCode"] = json!(code);
        Ok((ExecStatus::Ok, v))
    }

    /// The command record for a session/command pair, including the entrypoint's.
    pub fn command(&self, session: &str, cmd: &str) -> Result<Arc<CommandRecord>, ApiError> {
        if session == ENTRYPOINT_SESSION
            && let Some(e) = self.entrypoint.lock().unwrap().clone()
        {
            return if cmd == e.id { Ok(e) } else { Err(ApiError::not_found("command not found")) };
        }
        self.get(session)?.command(cmd).ok_or_else(|| ApiError::not_found("command not found"))
    }

    pub fn session_json(&self, id: &str) -> Result<Value, ApiError> {
        if id == ENTRYPOINT_SESSION {
            return self.entrypoint_json();
        }
        Ok(self.get(id)?.to_json())
    }

    pub fn entrypoint_json(&self) -> Result<Value, ApiError> {
        let e = self.entrypoint.lock().unwrap().clone().ok_or_else(|| ApiError::not_found("session not found"))?;
        Ok(json!({ "sessionId": ENTRYPOINT_SESSION, "commands": [e.to_json()] }))
    }

    pub async fn input(&self, session: &str, cmd: &str, req: InputReq) -> Result<(), ApiError> {
        let rec = self.command(session, cmd)?;
        if let Some(c) = rec.exit_code() {
            return Err(ApiError::gone(format!("command has already completed with exit code {c}")));
        }
        let mut data = req.data.unwrap_or_default();
        if !data.ends_with('\n') {
            data.push('\n');
        }
        let mut input = rec.input.lock().await;
        let Some(tx) = input.as_mut() else {
            return Err(ApiError::gone("command does not accept input"));
        };
        // Echoed first: once the command has the input it may answer and end at once.
        if !rec.suppress_echo {
            rec.append(&crate::logs::STDOUT_MARK, data.as_bytes());
        }
        tx.write_all(data.as_bytes()).await.map_err(|e| ApiError::internal(format!("failed to write to input pipe: {e}")))?;
        Ok(())
    }

    pub async fn kill_command(&self, session: &str, cmd: &str) -> Result<(), ApiError> {
        if session == ENTRYPOINT_SESSION {
            return Err(ApiError::bad_request("can't kill the entrypoint command"));
        }
        self.get(session)?.kill_command(cmd).await
    }

    /// Starts the entrypoint command (no shell: argv as given) and records it as the
    /// `entrypoint` session's only command. Returns its pid for signal forwarding.
    pub fn start_entrypoint(&self, argv: &[String]) -> std::io::Result<Option<u32>> {
        if argv.is_empty() {
            return Ok(None);
        }
        let rec = Arc::new(CommandRecord::create(
            ENTRYPOINT_COMMAND.into(),
            argv.join(" "),
            self.dir.join("entrypoint"),
            true,
        )?);
        rec.tee.store(true, std::sync::atomic::Ordering::Relaxed);
        *self.entrypoint.lock().unwrap() = Some(rec.clone());
        let spawned = crate::env::command(&argv[0])
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                rec.append(&crate::logs::STDERR_MARK, format!("{}: {e}\n", argv[0]).as_bytes());
                rec.finish(127);
                return Ok(None);
            }
        };
        let pid = child.id();
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let (tx, rx) = oneshot::channel();
        tokio::spawn(pump(rec, out, err, rx));
        tokio::spawn(async move {
            let code = child.wait().await.map(exit_status_code).unwrap_or(-1);
            let _ = tx.send(Exit::Code(code));
        });
        Ok(pid)
    }
}

/// Status the exec route answers with (200 sync, 202 async).
pub enum ExecStatus {
    Ok,
    Accepted,
}

/// Pids whose /proc stat field `field` (counted after the command name: 0 state, 1 ppid,
/// 2 process group, 3 session) equals `value`.
pub fn procs_where(field: usize, value: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // The command name may contain spaces and parentheses: fields start after the last ')'.
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().is_some_and(|st| {
                st.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(field)?.parse::<i32>().ok())
                    == Some(value)
            })
        })
        .collect()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `bash` if the image has it (on PATH or in the usual places), else `/bin/sh`.
pub fn find_shell() -> String {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    for d in path.split(':').chain(["/bin", "/usr/bin"]) {
        let p = Path::new(d).join("bash");
        if !d.is_empty() && is_executable(&p) {
            return p.to_string_lossy().into_owned();
        }
    }
    "/bin/sh".into()
}
