//! Labels that mark the engine objects this package manages and carry sandbox metadata the
//! engine has no field for.

/// On every container and image this package creates.
pub const MANAGED: &str = "io.daytona-native.managed";
/// The sandbox id (a UUID, as Daytona's are).
pub const SANDBOX_ID: &str = "io.daytona-native.sandbox.id";
/// JSON: names of the user's `envVars`, so `sandbox.env` shows only those.
pub const ENV_KEYS: &str = "io.daytona-native.sandbox.env-keys";
/// JSON: the user's labels (so they can be told apart from the image's own labels).
pub const USER_LABELS: &str = "io.daytona-native.sandbox.labels";
/// JSON: the sandbox's requested resources and intervals.
pub const SETTINGS: &str = "io.daytona-native.sandbox.settings";
/// The snapshot (image reference) a sandbox was started from.
pub const SNAPSHOT: &str = "io.daytona-native.sandbox.snapshot";
/// On sandboxes whose keep-alive process is the toolbox agent (`local/agent.rs`).
pub const AGENT: &str = "io.daytona-native.sandbox.agent";
/// On sandboxes and build images of a client with `removeOnExit`: the process's cleanup
/// session, whose reaper removes them when the process ends (`local/reaper.rs`).
pub const SESSION: &str = "io.daytona-native.session";
/// On reaper containers (value: their session) and the reaper image.
pub const REAPER: &str = "io.daytona-native.reaper";
/// On the engine's janitor container (`local/janitor.rs`).
pub const JANITOR: &str = "io.daytona-native.janitor";
/// `true` on the image of a forked sandbox (its source committed): removed with the fork.
pub const FORK_IMAGE: &str = "io.daytona-native.fork-image";
/// On snapshot images: the snapshot's name.
pub const SNAPSHOT_NAME: &str = "io.daytona-native.snapshot.name";
/// Image labels of a snapshot's `resources` (cores, GiB), one per field that was given.
pub const SNAPSHOT_CPU: &str = "io.daytona-native.snapshot.cpu";
pub const SNAPSHOT_GPU: &str = "io.daytona-native.snapshot.gpu";
pub const SNAPSHOT_MEMORY: &str = "io.daytona-native.snapshot.memory";
pub const SNAPSHOT_DISK: &str = "io.daytona-native.snapshot.disk";
