// Public typings of daytona-native. Hand-written (like index.js) so the public surface reads
// like @daytonaio/sdk 0.218's; the generated binding.d.ts describes the raw native layer.

/**
 * Node's `Buffer` where Node's types (`@types/node`) are loaded, else the `Uint8Array` it extends,
 * so these typings also compile in a project without them. Not exported (see `export {}` below).
 */
declare type Buffer = typeof globalThis extends { Buffer: { prototype: infer B } } ? B : Uint8Array

/**
 * `AbortSignal` where a lib declares it (`@types/node`, the DOM lib), else the part of it this
 * package uses, so these typings compile in a project with neither.
 */
declare type AbortSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : AbortSignalLike

/** What this package uses of an `AbortSignal`. */
export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason?: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/** The web `ReadableStream` where a lib declares it, else nothing. */
declare type WebReadableStream = typeof globalThis extends { ReadableStream: { prototype: infer R } } ? R : never

/**
 * What `downloadFileStream` resolves to: a Node `stream.Readable` (the object is one). Typed by
 * the members used to consume it, so these typings need no `@types/node`; with Node's types,
 * `as import('node:stream').Readable` gives the whole class.
 */
export interface DownloadReadable extends AsyncIterable<Buffer> {
  readonly readable: boolean
  on(event: 'data', listener: (chunk: Buffer) => void): this
  on(event: 'end' | 'close', listener: () => void): this
  on(event: 'error', listener: (error: Error) => void): this
  on(event: string, listener: (...args: any[]) => void): this
  once(event: string, listener: (...args: any[]) => void): this
  off(event: string, listener: (...args: any[]) => void): this
  pipe<T>(destination: T, options?: { end?: boolean }): T
  read(size?: number): Buffer | null
  pause(): this
  resume(): this
  destroy(error?: Error): this
}

declare global {
  /**
   * `Symbol.asyncDispose` (Node >= 20.4; TypeScript's `esnext.disposable` lib and `@types/node`
   * declare it too), so `Sandbox`/`Daytona` typings compile with any `lib` setting.
   */
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol
  }
}

/** A local path a build needs. */
export interface Context {
  /** Where the path is read on this machine. */
  sourcePath: string
  /** Where the build expects it inside the build context. */
  archivePath: string
}

/** Options for the pip install commands. */
export interface PipInstallOptions {
  /** Each becomes `--find-links <url>`. */
  findLinks?: string[]
  /** `--index-url <url>`. */
  indexUrl?: string
  /** Each becomes `--extra-index-url <url>`. */
  extraIndexUrls?: string[]
  /** `--pre`: allow pre-release versions. */
  pre?: boolean
  /** Appended verbatim (trimmed) to the pip command line. */
  extraOptions?: string
  /**
   * **New** (not in the official SDK): keep pip's download cache between builds in a BuildKit
   * cache mount, `RUN --mount=type=cache,target=/root/.cache/pip ...` (for `uvPipInstall` also
   * `/root/.cache/uv`), so that a rebuild after adding one package downloads only that package.
   * The cache is pip's when the step runs as root (the default). BuildKit only: Daytona's servers
   * build with BuildKit; the classic builder rejects `RUN --mount`.
   */
  cacheMount?: boolean
}

/** Options of `aptInstall` (not in the official SDK). */
export interface AptInstallOptions {
  /** `apt-get install --no-install-recommends` (default: apt's own, recommends installed). */
  noInstallRecommends?: boolean
}

/** `COPY` options of `addLocalFile` and `addLocalDir` (not in the official SDK). */
export interface CopyOptions {
  /**
   * `COPY --chmod=<mode>`: an octal mode of 3 or 4 digits as a string (`'755'`, `'0644'`; a
   * number is rejected, `0o755` would print in decimal). Needs BuildKit: Daytona's servers have
   * it; on a local engine the classic builder rejects `--chmod`.
   */
  chmod?: string
  /** `COPY --chown=<user>[:<group>]`: names or numeric ids (`'daytona'`, `'1000:1000'`). */
  chown?: string
}

/** Options for `pipInstallFromPyproject`. */
export interface PyprojectOptions extends PipInstallOptions {
  /** Groups of `[project.optional-dependencies]` to install as well. */
  optionalDependencies?: string[]
}

/** Options of `fromDockerfile` and `dockerfileCommands`. */
export interface StrictContextOptions {
  /**
   * Reject COPY sources that are absolute or resolve outside the context directory (also
   * through symlinks) before anything is read.
   */
  strictContext?: boolean
}

/** Options of `addLocalDir` (not in the official SDK). */
export interface AddLocalDirOptions extends CopyOptions {
  /** Apply the directory's `.dockerignore` the way `docker build` does (default true). */
  dockerignore?: boolean
}

/** Options of `image.plan()`. */
export interface PlanOptions {
  /** Apply `.dockerignore` files at the root of directory contexts (default true). */
  dockerignore?: boolean
  /** Warn about contexts larger than this many bytes (default 100 MiB). */
  warnBytes?: number
}

/** One context of a plan. */
export interface PlannedContext {
  sourcePath: string
  archivePath: string
  /** SHA-256 content key (64 hex digits): changes with any content, name, mode or link target. */
  key: string
  /** Regular files included. */
  files: number
  /** Bytes of the included files. */
  bytes: number
}

/** Result of `image.plan()`. */
export interface ImagePlan {
  dockerfile: string
  /** One entry per distinct context, in builder-call order. */
  contexts: PlannedContext[]
  /** `daytona-<sha256(dockerfile + sorted context keys)>`: the local image tag of this build. */
  cacheKey: string
  /** Large contexts and `node_modules`/`.git`/`__pycache__` directories that are not ignored. */
  warnings: string[]
}

/** The Python series `Image.debianSlim` accepts. */
export type SupportedPythonSeries = '3.9' | '3.10' | '3.11' | '3.12' | '3.13'

/**
 * A declarative sandbox image: each builder call appends Dockerfile instructions, and local
 * files it needs are collected into the build context. Create one with `Image.base()`,
 * `Image.debianSlim()` or `Image.fromDockerfile()`; every method returns the same instance.
 *
 * @example
 * const image = Image.debianSlim('3.12').pipInstall(['numpy']).workdir('/home/daytona')
 */
export declare class Image {
  private constructor()
  /** The Dockerfile text, byte-identical to what @daytonaio/sdk 0.218 produces. */
  get dockerfile(): string
  /** The local files and directories the build needs, in builder-call order (a copy). */
  get contextList(): Context[]

  /**
   * Installs Python packages with pip (sorted and shell-quoted).
   * @param packages A package spec, or (nested) arrays of them.
   * @param options Index and find-links options; **new**: `cacheMount` (BuildKit only).
   * @throws {DaytonaInvalidArgumentError} if a package is not a string.
   */
  pipInstall(packages: string | string[], options?: PipInstallOptions): this
  /**
   * Copies a requirements file into the image and installs it with pip.
   * @throws {DaytonaNotFoundError} if the file does not exist.
   * @throws {DaytonaInvalidArgumentError} if the path is not a file.
   */
  pipInstallFromRequirements(requirementsTxt: string, options?: PipInstallOptions): this
  /**
   * Installs `[project.dependencies]` (and the selected optional groups) of a pyproject.toml.
   * @throws {DaytonaNotFoundError} if the file does not exist.
   * @throws {DaytonaInvalidArgumentError} if it is not a file, not valid TOML, or has no dependencies list.
   */
  pipInstallFromPyproject(pyprojectToml: string, options?: PyprojectOptions): this
  /**
   * Copies a local file into the image. A `remotePath` ending in `/` gets the file's name appended.
   * @param options **New**: `chmod`/`chown` become `COPY --chmod=... --chown=...` (`--chmod` needs
   *   BuildKit); without them the line is the official one.
   * @throws {DaytonaInvalidArgumentError} if an option is malformed (checked first).
   * @throws {DaytonaNotFoundError} if the file does not exist.
   * @throws {DaytonaInvalidArgumentError} if the path is not a file.
   */
  addLocalFile(localPath: string, remotePath: string, options?: CopyOptions): this
  /**
   * Copies a local directory into the image. A `.dockerignore` at its root is honoured.
   * @param options **New**: `chmod`/`chown` as for `addLocalFile`; `dockerignore: false`.
   * @throws {DaytonaInvalidArgumentError} if an option is malformed (checked first).
   * @throws {DaytonaNotFoundError} if the directory does not exist.
   * @throws {DaytonaInvalidArgumentError} if the path is not a directory.
   */
  addLocalDir(localPath: string, remotePath: string, options?: AddLocalDirOptions): this
  /**
   * **New**: installs Debian/Ubuntu packages in one step that leaves no package lists behind:
   * `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y [--no-install-recommends] <packages> && rm -rf /var/lib/apt/lists/*`
   * (packages sorted and shell-quoted as `pipInstall` does; none: nothing is added). Runs as the
   * current `user` (root unless changed). Needs the package index, so not offline.
   * @throws {DaytonaInvalidArgumentError} for an empty name, whitespace or control characters in a
   *   name (pass each package as its own element), or a name starting with `-`.
   */
  aptInstall(packages: string | string[], options?: AptInstallOptions): this
  /**
   * **New**: installs Python packages with uv, in one step: `RUN python -m pip install uv && python -m uv pip install --system <packages>`
   * (uv itself from the package index with pip; packages sorted and shell-quoted as `pipInstall`
   * does; none: nothing is added). `findLinks`, `indexUrl` and `extraIndexUrls` apply to both
   * installs; `pre` and `extraOptions` to uv only. uv resolves differently from pip where a
   * package is on several indexes (it takes the first index that has it). The packages go into
   * the system Python on the PATH (`--system`), where `pipInstall` puts them; an externally
   * managed Python (PEP 668, e.g. Debian's own `python3`) refuses both installs, as it refuses
   * `pipInstall`: use an image with its own Python such as `Image.debianSlim()`. With `cacheMount`,
   * pip's and uv's caches are BuildKit cache mounts and uv copies from its cache
   * (`--link-mode copy`).
   * @throws {DaytonaInvalidArgumentError} for an empty package name or a control character
   *   (e.g. a newline) in a package or an option.
   */
  uvPipInstall(packages: string | string[], options?: PipInstallOptions): this
  /**
   * **New**: `USER <name>`: later build steps run as this user and it becomes the image's
   * default user (`'daytona'`, `'1000'`, `'1000:1000'`; a number is a uid).
   * @throws {DaytonaInvalidArgumentError} for an empty name, whitespace or control characters,
   *   or more than one `:`.
   */
  user(name: string | number): this
  /**
   * **New**: one `LABEL "key"="value" ...` line (keys and values double-quoted, `\`, `"` and `$`
   * escaped), entries in object order; `{}` adds nothing.
   * @throws {DaytonaInvalidArgumentError} if `labels` is not an object, a value is not a string,
   *   a key is empty or contains `=`, or a key or value has a line break (a tab in a value is kept).
   */
  label(labels: Record<string, string>): this
  /**
   * **New**: `EXPOSE <port> ...` (TCP): records the ports the image listens on in its config.
   * `[]` adds nothing.
   * @throws {DaytonaInvalidArgumentError} for a port that is not an integer from 1 to 65535.
   */
  expose(ports: number | number[]): this
  /**
   * **New**: forces the steps after this one to be built again: appends `RUN echo skip-cache <nonce>`
   * with a random 16-hex-digit nonce new on every call, which no builder has cached (BuildKit
   * and the classic builder alike), so every later step misses the cache too. The Dockerfile,
   * hence `plan().cacheKey` and the snapshot Daytona's servers build, changes with every call;
   * the same `Image` object keeps its nonce (build it twice: one image). Needs `/bin/sh` in
   * the image, like any shell-form `RUN`.
   */
  skipCache(): this
  /**
   * Runs commands at build time. A string is used verbatim (`RUN <command>`); an array is
   * written as double-quoted words.
   */
  runCommands(...commands: (string | string[])[]): this
  /**
   * Sets environment variables (values are shell-quoted).
   * @throws {DaytonaInvalidArgumentError} if a value is not a string.
   */
  env(envVars: Record<string, string>): this
  /** Sets the working directory. */
  workdir(dirPath: string): this
  /**
   * Sets the image's ENTRYPOINT.
   * @throws {DaytonaInvalidArgumentError} if the argument is not an array of strings.
   */
  entrypoint(entrypointCommands: string[]): this
  /**
   * Sets the image's default CMD.
   * @throws {DaytonaInvalidArgumentError} if the argument is not an array of strings.
   */
  cmd(cmd: string[]): this
  /**
   * Appends raw Dockerfile lines. COPY/ADD sources in them are resolved against `contextDir`
   * (or the working directory) and added to the build context.
   * @throws {DaytonaNotFoundError} if `contextDir` does not exist.
   * @throws {DaytonaInvalidArgumentError} if `contextDir` is not a directory, or a strict-context check fails.
   */
  dockerfileCommands(dockerfileCommands: string[], contextDir?: string, options?: StrictContextOptions): this

  /**
   * A dry run of the build's context handling: walks and hashes every context (honouring
   * `.dockerignore`), touches no network and builds nothing. Shows what would be uploaded and
   * the cache key that decides whether the image is rebuilt.
   * @throws {DaytonaNotFoundError} if a context path does not exist.
   */
  plan(options?: PlanOptions): Promise<ImagePlan>

  /**
   * Creates an Image from an existing Dockerfile; its COPY/ADD sources are resolved against
   * the Dockerfile's directory.
   * @throws {DaytonaNotFoundError} if the Dockerfile does not exist.
   */
  static fromDockerfile(path: string, options?: StrictContextOptions): Image
  /** Creates an Image `FROM` any base image reference. */
  static base(image: string): Image
  /**
   * Creates a Debian slim image with Python (`python:<version>-slim-bookworm`) and build tools.
   * @param pythonVersion One of the supported series; defaults to 3.13.
   * @throws {DaytonaInvalidArgumentError} for an unsupported version.
   */
  static debianSlim(pythonVersion?: SupportedPythonSeries): Image
}

/** `source` of errors raised by the Daytona API. */
export declare const SOURCE_API = 'DAYTONA_API'
/** `source` of errors raised by the sandbox daemon (toolbox). */
export declare const SOURCE_DAEMON = 'DAYTONA_DAEMON'
/** `source` of errors raised by the Daytona proxy. */
export declare const SOURCE_PROXY = 'DAYTONA_PROXY'

/** Base class of every error this package throws. */
export declare class DaytonaError extends Error {
  /** HTTP status of the response that caused the error, when there was one. */
  statusCode?: number
  /** Machine-readable error code, when the server sent one. */
  code?: string
  /** Which service raised it (`SOURCE_API`, `SOURCE_DAEMON`, `SOURCE_PROXY`), when known. */
  source?: string
  /** Response headers, when there was a response. */
  headers?: Record<string, unknown>
  constructor(message: string, statusCode?: number, headers?: Record<string, unknown>, code?: string, source?: string)
  /** @deprecated Use `code`. */
  get errorCode(): string | undefined
}
/** The request was malformed (HTTP 400). */
export declare class DaytonaBadRequestError extends DaytonaError {}
/** Missing or invalid credentials (HTTP 401), or no backend could be selected. */
export declare class DaytonaAuthenticationError extends DaytonaError {}
/** Not permitted (HTTP 403). */
export declare class DaytonaForbiddenError extends DaytonaError {}
/** Something does not exist: a local path, a sandbox, a snapshot (HTTP 404). */
export declare class DaytonaNotFoundError extends DaytonaError {}
/** A deadline passed (HTTP 408/504, or a client-side timeout). Also matches connection timeouts. */
export declare class DaytonaTimeoutError extends DaytonaError {}
/** Conflicts with the current state (HTTP 409). */
export declare class DaytonaConflictError extends DaytonaError {}
/** Permanently gone (HTTP 410). */
export declare class DaytonaGoneError extends DaytonaError {}
/** Well-formed but semantically invalid (HTTP 422). */
export declare class DaytonaUnprocessableEntityError extends DaytonaError {}
/** Rate limited (HTTP 429). */
export declare class DaytonaRateLimitError extends DaytonaError {}
/** Unexpected server failure (HTTP 500). */
export declare class DaytonaInternalServerError extends DaytonaError {}
/** Invalid upstream response (HTTP 502). */
export declare class DaytonaBadGatewayError extends DaytonaError {}
/** Temporarily unavailable (HTTP 503). */
export declare class DaytonaServiceUnavailableError extends DaytonaError {}
/** @deprecated Catch `DaytonaInvalidArgumentError` or `DaytonaBadRequestError`. */
export declare class DaytonaValidationError extends DaytonaBadRequestError {}
/** @deprecated Use `DaytonaForbiddenError`. */
export declare class DaytonaAuthorizationError extends DaytonaForbiddenError {}
/** An argument was rejected locally, before anything was sent or built. */
export declare class DaytonaInvalidArgumentError extends DaytonaValidationError {}
/** No response was received (connection refused, reset, engine unreachable). */
export declare class DaytonaConnectionError extends DaytonaError {}
/** A client-side request deadline passed. */
export declare class DaytonaConnectionTimeoutError extends DaytonaConnectionError {}
export declare class DaytonaGitAuthFailedError extends DaytonaAuthenticationError {}
export declare class DaytonaGitRepoNotFoundError extends DaytonaNotFoundError {}
export declare class DaytonaGitBranchNotFoundError extends DaytonaNotFoundError {}
export declare class DaytonaGitBranchExistsError extends DaytonaConflictError {}
export declare class DaytonaGitPushRejectedError extends DaytonaConflictError {}
export declare class DaytonaGitDirtyWorktreeError extends DaytonaConflictError {}
export declare class DaytonaGitMergeConflictError extends DaytonaConflictError {}
export declare class DaytonaGitTransportFailedError extends DaytonaBadGatewayError {}
export declare class DaytonaGitRemoteRejectedError extends DaytonaUnprocessableEntityError {}
/** A sandbox file does not exist. */
export declare class DaytonaFileNotFoundError extends DaytonaNotFoundError {}
export declare class DaytonaFileAccessDeniedError extends DaytonaForbiddenError {}
export declare class DaytonaInvalidFilePathError extends DaytonaBadRequestError {}
export declare class DaytonaFileReadFailedError extends DaytonaInternalServerError {}
export declare class DaytonaLspServerNotInitializedError extends DaytonaBadRequestError {}
export declare class DaytonaProcessExecutionTimeoutError extends DaytonaTimeoutError {}
export declare class DaytonaProcessNotFoundError extends DaytonaNotFoundError {}
export declare class DaytonaSessionEndedError extends DaytonaGoneError {}
export declare class DaytonaCommandAlreadyCompletedError extends DaytonaGoneError {}
export declare class DaytonaA11yUnavailableError extends DaytonaServiceUnavailableError {}
export declare class DaytonaRecordingStillActiveError extends DaytonaConflictError {}
export declare class DaytonaRecordingFfmpegNotFoundError extends DaytonaServiceUnavailableError {}

/** Raised when an image build fails on the local engine. Not in the official SDK. */
export declare class DaytonaBuildError extends DaytonaError {
  /** `'step_failed'`, `'base_image_unavailable'`, `'context_file_missing'` or `'engine'`. */
  reason: string
  /** The failing `Step k/N : …` line, when known. */
  step: string | null
  /** Exit code of the failing command, when a command failed. */
  exitCode: number | null
  /** The last lines of the failing step's output. */
  logTail: string[]
  /** The engine's own error text. */
  engineMessage: string
}

// ---------------------------------------------------------------------------------------------
// Client

/** Programming languages a sandbox's code toolbox supports. */
export declare const CodeLanguage: Readonly<{ PYTHON: 'python'; TYPESCRIPT: 'typescript'; JAVASCRIPT: 'javascript' }>

/** Settings of the local Docker Engine backend. */
export interface LocalEngineConfig {
  /** Engine address (`unix:///…` or `tcp://…`). Default: `DOCKER_HOST`, else `unix:///var/run/docker.sock`. */
  dockerHost?: string
  /** Network mode of build steps. Default: `bridge` if the engine has it, else `host`. */
  buildNetworkMode?: string
  /** Network mode of sandboxes (unless `networkBlockAll`). Default: the engine's default. */
  sandboxNetworkMode?: string
  /** Image for `create()` without `image` or `snapshot`. Default: `DAYTONA_LOCAL_DEFAULT_IMAGE`, else `python:3.13.3-slim-bookworm`. */
  defaultImage?: string
  /**
   * Remove the sandboxes this client creates when this process ends, however it ends (normal
   * exit, crash, SIGKILL, a test runner tearing its worker down), together with what an
   * unfinished build of theirs left. A small cleanup container per process (made locally from
   * the package's agent binary, no registry) watches the process and removes them.
   * Default: `DAYTONA_LOCAL_REMOVE_ON_EXIT` (`1`/`0`), else `true` when the process runs under a
   * test runner (jest, vitest, ava, mocha, `node --test`) and `false` otherwise (a script's
   * sandboxes persist, as on Daytona).
   */
  removeOnExit?: boolean
  /**
   * The builder of `Image` builds: `'buildkit'` (the engine's BuildKit through the Engine API:
   * `RUN --mount=type=cache`, `COPY --chmod`, as Daytona's servers build; progress in BuildKit's
   * plain format, `#5 [2/4] RUN …`; an engine without BuildKit falls back to the classic builder,
   * saying so once), `'classic'` (its `Step 2/4 : RUN …` lines), or `'auto'`. Default:
   * `DAYTONA_LOCAL_BUILDER`, else `'auto'`, which is BuildKit where the engine has it.
   */
  builder?: 'buildkit' | 'classic' | 'auto'
  /**
   * Secrets for `RUN --mount=type=secret,id=<id>` steps (BuildKit only), by id: the value itself,
   * `{ env: 'NAME' }` (read from this process's environment when the build starts) or
   * `{ file: '/path' }` (read when the build starts); at most 500 KiB each. The step sees the value
   * at `/run/secrets/<id>` (or the mount's `target`) while it runs; it is in no layer, history
   * entry, label or log line of this package, and no error message shows it. It does not change
   * the image's cache key: change the Dockerfile (or `skipCache()`) to rebuild with a new value.
   * A Dockerfile that mounts a secret is refused with `DaytonaInvalidArgumentError` by the classic
   * builder, and by the API backend when this is set (Daytona's servers take no build secrets).
   * An id the Dockerfile mounts but this does not name is absent (`required=true` fails the step).
   */
  buildSecrets?: Record<string, string | { env: string } | { file: string }>
}

/** Configuration of `new Daytona()`. Absent fields fall back to `DAYTONA_*` environment variables. */
export interface DaytonaConfig {
  /** Daytona API key (`DAYTONA_API_KEY`). */
  apiKey?: string
  /** JWT for the Daytona API (`DAYTONA_JWT_TOKEN`). */
  jwtToken?: string
  /** Organization of the JWT (`DAYTONA_ORGANIZATION_ID`). */
  organizationId?: string
  /** Daytona API URL (`DAYTONA_API_URL`). */
  apiUrl?: string
  /** @deprecated Use `apiUrl`. */
  serverUrl?: string
  /** Target region (`DAYTONA_TARGET`). */
  target?: string
  /** Per-request HTTP timeout in milliseconds. */
  requestTimeoutMs?: number
  /**
   * `'local'`: the Docker Engine on this machine; `'api'`: the Daytona platform. Default:
   * `DAYTONA_BACKEND`, else `'api'` when credentials are configured and `'local'` otherwise.
   */
  backend?: 'local' | 'api'
  /** Settings of the local engine backend. */
  local?: LocalEngineConfig
}

/** Resources of a sandbox or snapshot: CPU cores, memory and disk in GiB. */
export interface Resources {
  cpu?: number
  gpu?: number
  memory?: number
  disk?: number
  /** GPU types (Daytona API only); a single string is sent as a one-element list. */
  gpuType?: string | string[]
}

/**
 * The extra argument of a long operation (after its official arguments): with `signal`,
 * aborting stops the work where it is (the build is cancelled, a half-created sandbox removed,
 * a running command killed in the sandbox, a transfer cut) and the Promise rejects with
 * `signal.reason`, as Node's own APIs do. An already-aborted signal does nothing at all.
 */
export interface AbortOptions {
  signal?: AbortSignal
}

/** Parameters shared by every `create()` form. */
export interface CreateSandboxBaseParams {
  /** Sandbox name; defaults to its id. */
  name?: string
  /** User commands run as. */
  user?: string
  /** Code toolbox language; default `'python'`. */
  language?: string
  /** Environment variables of the sandbox. */
  envVars?: Record<string, string>
  /** Labels of the sandbox. */
  labels?: Record<string, string>
  public?: boolean
  /** Minutes of inactivity before the sandbox stops (recorded; not enforced by the local engine). */
  autoStopInterval?: number
  autoPauseInterval?: number
  autoArchiveInterval?: number
  autoDeleteInterval?: number
  ttlMinutes?: number
  /** Block all network access of the sandbox. */
  networkBlockAll?: boolean
  /** Delete the sandbox as soon as it stops. */
  ephemeral?: boolean
  // Daytona API only (sent as the official SDK sends them; ignored by the local engine):
  spot?: boolean
  kvm?: boolean
  volumes?: { volumeId: string; mountPath: string; subpath?: string }[]
  networkAllowList?: string
  domainAllowList?: string
  outboundProxyUrl?: string
  otelEndpointOverride?: string
  linkedSandbox?: string
  /** Environment variable name -> secret name. */
  secrets?: Record<string, string>
}

/** `create()` from an image reference or a declarative `Image`. */
export interface CreateSandboxFromImageParams extends CreateSandboxBaseParams {
  image: string | Image
  resources?: Resources
}

/** `create()` from a snapshot (or the default image when omitted). */
export interface CreateSandboxFromSnapshotParams extends CreateSandboxBaseParams {
  snapshot?: string
}

// ---------------------------------------------------------------------------------------------
// Toolbox: commands, sessions, PTY, code

/** Kinds of charts found in `codeRun` artifacts. */
export declare enum ChartType {
  LINE = 'line',
  SCATTER = 'scatter',
  BAR = 'bar',
  PIE = 'pie',
  BOX_AND_WHISKER = 'box_and_whisker',
  COMPOSITE_CHART = 'composite_chart',
  UNKNOWN = 'unknown',
}

/** One element of a chart (a line's points, a bar, a pie slice, a box, or a sub-chart). */
export interface ChartElement {
  angle?: number
  first_quartile?: number
  group?: string
  label?: string
  max?: number
  median?: number
  min?: number
  outliers?: Array<number>
  png?: string
  points?: Array<Array<number>>
  radius?: number
  third_quartile?: number
  title?: string
  type?: string
  value?: string
  x_label?: string
  y_label?: string
}

/** A chart (matplotlib figure) produced by `codeRun`, with its PNG (base64) and data. */
export interface Chart {
  elements?: Array<ChartElement>
  /** The rendered chart, base64-encoded PNG. */
  png?: string
  title?: string
  /** One of `ChartType`'s values. */
  type?: string
  x_label?: string
  x_scale?: string
  x_tick_labels?: Array<string>
  x_ticks?: Array<number>
  y_label?: string
  y_scale?: string
  y_tick_labels?: Array<string>
  y_ticks?: Array<number>
}
/** A chart with two axes. */
export type Chart2D = Pick<Chart, 'type' | 'title' | 'png' | 'x_label' | 'y_label' | 'elements'>
/** A chart of points, with ticks and scales. */
export type PointChart = Pick<
  Chart,
  'type' | 'title' | 'png' | 'x_label' | 'y_label' | 'x_ticks' | 'y_ticks' | 'x_tick_labels' | 'y_tick_labels' | 'x_scale' | 'y_scale' | 'elements'
>
export type LineChart = PointChart & { type: 'line' }
export type ScatterChart = PointChart & { type: 'scatter' }
export type BarChart = Chart2D & { type: 'bar' }
export type PieChart = Pick<Chart, 'type' | 'title' | 'png' | 'elements'> & { type: 'pie' }
export type BoxAndWhiskerChart = Chart2D & { type: 'box_and_whisker' }
/** A figure holding several charts (its `elements`). */
export type CompositeChart = Pick<Chart, 'type' | 'title' | 'png' | 'elements'> & { type: 'composite_chart' }
export type PointData = Pick<ChartElement, 'label' | 'points'>
export type BarData = Pick<ChartElement, 'group' | 'label' | 'value'>
export type PieData = Pick<ChartElement, 'angle' | 'label' | 'radius'>
export type BoxAndWhiskerData = Pick<ChartElement, 'first_quartile' | 'label' | 'max' | 'median' | 'min' | 'outliers'>

/** Artifacts of a command or code run. */
export interface ExecutionArtifacts {
  /** The output (the same text as `result`). */
  stdout: string
  /** Charts the code produced (`codeRun` only; matplotlib). */
  charts?: Chart[]
}

/** Result of `process.executeCommand` and `process.codeRun`. */
export interface ExecuteResponse {
  /** The command's exit status. */
  exitCode: number
  /** Its output (stdout and stderr). */
  result: string
  artifacts?: ExecutionArtifacts
}

/** Parameters of `process.codeRun`. */
export declare class CodeRunParams {
  /** Command line arguments of the program. */
  argv?: string[]
  /** Environment variables of the program. */
  env?: Record<string, string>
}

/** A command run in a session. */
export interface Command {
  /** The command's id (`cmdId` of `executeSessionCommand`). */
  id: string
  /** The command line. */
  command: string
  /** Its exit code, once it has ended. */
  exitCode?: number
}

/** A session: a long-lived shell whose `cd`, `export` and variables persist between commands. */
export interface Session {
  sessionId: string
  /** The commands run in it, oldest first. */
  commands: Array<Command>
}

/** What `executeSessionCommand` runs. */
export interface SessionExecuteRequest {
  /** The command line, run by the session's shell. */
  command: string
  /** Return at once with the `cmdId`; follow the output with `getSessionCommandLogs`. */
  runAsync?: boolean
  /** @deprecated Use `runAsync`. */
  async?: boolean
  /** Do not echo input sent with `sendSessionCommandInput` into the output. Default `false`. */
  suppressInputEcho?: boolean
}

/** Result of `executeSessionCommand`. */
export interface SessionExecuteResponse {
  /** The command's id. */
  cmdId: string
  /** Combined output (synchronous commands). */
  output?: string
  /** Standard output (`''` when none). */
  stdout?: string
  /** Standard error (`''` when none). */
  stderr?: string
  /** Exit code (synchronous commands). */
  exitCode?: number
}

/** A session command's output so far. */
export interface SessionCommandLogsResponse {
  /** stdout and stderr, interleaved as written. */
  output?: string
  stdout?: string
  stderr?: string
}

/** Options of `createPty`. */
export interface PtyCreateOptions {
  /** The unique id of the PTY session. */
  id: string
  /** Starting directory; default the sandbox's working directory. */
  cwd?: string
  /** Environment variables of the session. */
  envs?: Record<string, string>
  /** Terminal columns (default 80). */
  cols?: number
  /** Terminal rows (default 24). */
  rows?: number
}

/** Options of `createPty` and `connectPty`. */
export interface PtyConnectOptions {
  /**
   * Receives the terminal's output, in order. A returned Promise is awaited before the next
   * chunk; a callback that throws stops the delivery and `wait()` rejects with what it threw.
   */
  onData: (data: Uint8Array) => void | Promise<void>
}

/** How a PTY session ended. */
export interface PtyResult {
  /** Exit code of the PTY process. */
  exitCode?: number
  /** Why it failed, if it did. */
  error?: string
}

/** A PTY session. */
export interface PtySessionInfo {
  id: string
  /** Whether its process is running. */
  active: boolean
  cols: number
  rows: number
  /** When it was created (ISO 8601). */
  createdAt: string
  cwd: string
  envs: { [key: string]: string }
  /** Whether the session starts its process on the first connection. */
  lazyStart: boolean
}

/**
 * A connected PTY session, from `process.createPty` or `process.connectPty`.
 *
 * @example
 * const pty = await sandbox.process.createPty({ id: 'my-pty', onData: (d) => process.stdout.write(d) })
 * await pty.sendInput('ls -la\n')
 * await pty.sendInput('exit\n')
 * const { exitCode } = await pty.wait()
 */
export declare class PtyHandle {
  private constructor()
  /** The PTY session's id. */
  readonly sessionId: string
  /** Exit code of the PTY process, once it has ended. */
  get exitCode(): number | undefined
  /** Error message, if the PTY failed. */
  get error(): string | undefined
  /** Whether the connection to the session is open. */
  isConnected(): boolean
  /** Resolves once the connection is established: a handle is returned connected, so at once. */
  waitForConnection(): Promise<void>
  /**
   * Sends input (a string is sent as UTF-8; `new Uint8Array([3])` is Ctrl+C).
   * @throws {DaytonaConnectionError} `PTY is not connected` after the session ended or `disconnect()`.
   */
  sendInput(data: string | Uint8Array): Promise<void>
  /** Resizes the terminal (the shell gets SIGWINCH); resolves to the updated session. */
  resize(cols: number, rows: number): Promise<PtySessionInfo>
  /** Closes the connection; the session keeps running (`connectPty` reconnects). */
  disconnect(): Promise<void>
  /**
   * Waits until the PTY process ends and its output was delivered to `onData`.
   * @throws {DaytonaError} if the PTY failed without an exit code (e.g. its sandbox was deleted).
   */
  wait(): Promise<PtyResult>
  /** Kills the PTY process and ends the session. */
  kill(): Promise<void>
}

/** The stream markers the toolbox puts before stdout and stderr bytes of session logs. */
export declare const STDOUT_PREFIX_BYTES: Uint8Array
export declare const STDERR_PREFIX_BYTES: Uint8Array
export declare const MAX_PREFIX_LEN: number

/**
 * Runs commands, sessions, PTYs and code in a sandbox. Every method returns a Promise; a bad
 * argument rejects it with `DaytonaInvalidArgumentError`, an unknown session, command or PTY
 * id with `DaytonaNotFoundError`.
 */
export declare class Process {
  private constructor()
  /**
   * Runs a shell command in the sandbox.
   * @param command Shell command line (run with `/bin/sh -c`).
   * @param cwd Working directory; default the image's WORKDIR.
   * @param env Extra environment variables.
   * @param timeout Seconds; 0 or absent means no limit.
   * @throws {DaytonaProcessExecutionTimeoutError} when the timeout passes (the command is killed).
   */
  executeCommand(command: string, cwd?: string, env?: Record<string, string>, timeout?: number, options?: AbortOptions): Promise<ExecuteResponse>
  /**
   * Runs code with the sandbox's language (`create({ language })`: `python` (default),
   * `typescript` or `javascript`; the image must have its runtime).
   * @param params `argv` and `env` of the program.
   * @param timeout Seconds; 0 means no limit.
   * @returns `exitCode`, `result` (the output) and `artifacts` (`stdout`, `charts` from matplotlib).
   *
   * @example
   * const r = await sandbox.process.codeRun('print("hi")', { argv: ['a'], env: { X: '1' } })
   */
  codeRun(code: string, params?: CodeRunParams, timeout?: number, options?: AbortOptions): Promise<ExecuteResponse>
  /**
   * Starts a session: a long-lived shell for related commands (`cd`, `export` and variables
   * persist). Its commands run one after another, as in Daytona: an async command returns at
   * once and keeps running, and a command issued meanwhile in the same session starts when it
   * ends; use another session for work that must run at the same time.
   */
  createSession(sessionId: string): Promise<void>
  /** A session and its commands. @throws {DaytonaNotFoundError} */
  getSession(sessionId: string): Promise<Session>
  /** The session running the sandbox's entrypoint (the image's ENTRYPOINT/CMD). */
  getEntrypointSession(): Promise<Session>
  /** One command of a session (its `exitCode` once it ended). @throws {DaytonaNotFoundError} */
  getSessionCommand(sessionId: string, commandId: string): Promise<Command>
  /**
   * Runs a command in a session. Synchronous by default (resolves with its output and exit
   * code); with `runAsync` it resolves with the `cmdId` at once.
   * @param timeout Seconds to wait for a synchronous command.
   * @throws {DaytonaTimeoutError} when the timeout passes.
   *
   * @example
   * await sandbox.process.executeSessionCommand('s', { command: 'cd /tmp' })
   * const r = await sandbox.process.executeSessionCommand('s', { command: 'pwd' }) // r.stdout: '/tmp\n'
   */
  executeSessionCommand(sessionId: string, req: SessionExecuteRequest, timeout?: number, options?: AbortOptions): Promise<SessionExecuteResponse>
  /** A session command's output so far. */
  getSessionCommandLogs(sessionId: string, commandId: string): Promise<SessionCommandLogsResponse>
  /**
   * Follows a session command's output: the callbacks get the text as it is written, in order
   * (a returned Promise is awaited before the next chunk); resolves once the command has ended
   * and everything was delivered. A callback that throws stops following and the Promise
   * rejects with what it threw.
   */
  getSessionCommandLogs(
    sessionId: string,
    commandId: string,
    onStdout: (chunk: string) => void,
    onStderr: (chunk: string) => void,
  ): Promise<void>
  /** The entrypoint's output so far. */
  getEntrypointLogs(): Promise<SessionCommandLogsResponse>
  /** Follows the entrypoint's output, as `getSessionCommandLogs` with callbacks does. */
  getEntrypointLogs(onStdout: (chunk: string) => void, onStderr: (chunk: string) => void): Promise<void>
  /** Writes `data` to the standard input of a running session command. */
  sendSessionCommandInput(sessionId: string, commandId: string, data: string): Promise<void>
  /** Every session of the sandbox. */
  listSessions(): Promise<Session[]>
  /** Ends a session and the processes it started. */
  deleteSession(sessionId: string): Promise<void>
  /**
   * Creates a PTY session and connects to it.
   *
   * @example
   * const pty = await sandbox.process.createPty({ id: 'term', cols: 120, rows: 30,
   *   onData: (data) => process.stdout.write(new TextDecoder().decode(data)) })
   */
  createPty(options?: PtyCreateOptions & PtyConnectOptions): Promise<PtyHandle>
  /** Connects to an existing PTY session. @throws {DaytonaNotFoundError} */
  connectPty(sessionId: string, options?: PtyConnectOptions): Promise<PtyHandle>
  /** Every PTY session, active or not. */
  listPtySessions(): Promise<PtySessionInfo[]>
  /** One PTY session. @throws {DaytonaNotFoundError} */
  getPtySessionInfo(sessionId: string): Promise<PtySessionInfo>
  /** Kills a PTY session's process and removes the session. */
  killPtySession(sessionId: string): Promise<void>
  /** Resizes a PTY session's terminal; resolves to the updated session. */
  resizePtySession(sessionId: string, cols: number, rows: number): Promise<PtySessionInfo>
}

/** stdout or stderr text of `runCode`. */
export interface OutputMessage {
  /** The text. */
  output: string
}

/** An exception raised by code run with `runCode`. */
export interface ExecutionError {
  /** Its class, e.g. `ValueError`. */
  name: string
  /** Its message. */
  value: string
  /** The traceback, when there is one. */
  traceback?: string
}

/** Result of `runCode`. */
export interface ExecutionResult {
  /** Everything written to stdout. */
  stdout: string
  /** Everything written to stderr. */
  stderr: string
  /** The exception, if the code raised one. */
  error?: ExecutionError
}

/** An isolated interpreter context (its own variables and imports). */
export interface InterpreterContext {
  id: string
  cwd: string
  language: string
  active: boolean
  /** ISO 8601. */
  createdAt: string
}

/** Options of `runCode`. */
export interface RunCodeOptions {
  /** The context to run in; default the sandbox's default context. */
  context?: InterpreterContext
  /** Environment variables for this run. */
  envs?: Record<string, string>
  /** Seconds; 0 means none. Default 10 minutes. */
  timeout?: number
  /** Receives stdout text as it is written (a returned Promise is awaited before the next message). */
  onStdout?: (message: OutputMessage) => any | Promise<any>
  /** Receives stderr text as it is written. */
  onStderr?: (message: OutputMessage) => any | Promise<any>
  /** Receives an exception the code raised. */
  onError?: (error: ExecutionError) => any | Promise<any>
}

/**
 * Runs Python code in stateful contexts: variables, imports and definitions persist between
 * `runCode` calls of one context. Other languages: `process.codeRun`.
 */
export declare class CodeInterpreter {
  private constructor()
  /**
   * Runs code. The callbacks get the output and errors in order, all before the Promise
   * resolves; one that throws stops the run and the Promise rejects with what it threw.
   * @throws {DaytonaInvalidArgumentError} `Code is required for execution` for empty code.
   * @throws {DaytonaTimeoutError} when `timeout` passes.
   *
   * @example
   * await sandbox.codeInterpreter.runCode('x = 1')
   * const r = await sandbox.codeInterpreter.runCode('print(x + 1)') // r.stdout: '2\n'
   */
  runCode(code: string, options?: RunCodeOptions): Promise<ExecutionResult>
  /** Creates a context, working in `cwd` (default the sandbox's working directory). */
  createContext(cwd?: string): Promise<InterpreterContext>
  /** The contexts created with `createContext` (not the default one). */
  listContexts(): Promise<InterpreterContext[]>
  /** Deletes a context (an `InterpreterContext` or its id) and stops its interpreter. */
  deleteContext(context: InterpreterContext | string): Promise<void>
}

/** Moves files in and out of a sandbox. */
/** A file or directory in the sandbox (`getFileDetails`, `listFiles`). */
export interface FileInfo {
  group: string
  isDir: boolean
  /** Modification time as the toolbox writes it. */
  modTime: string
  /** Permission bits and type, `ls -l` style (`-rw-r--r--`). */
  mode: string
  /** Modification time, RFC 3339. */
  modifiedAt: string
  name: string
  owner: string
  /** The full path (`listFiles`, with every depth). */
  path?: string
  /** Octal permissions (`0644`). */
  permissions: string
  size: number
}

/** A line of text found by `findFiles`. */
export interface Match {
  content: string
  file: string
  line: number
}

/** What `replaceInFiles` did to one file. */
export interface ReplaceResult {
  error?: string
  file?: string
  success?: boolean
}

/** `searchFiles`'s answer: the paths whose names match. */
export interface SearchFilesResponse {
  files: Array<string>
}

/** `setFilePermissions`'s settings; each is left as it is when not given. */
export type FilePermissionsParams = {
  /** Group name. */
  group?: string
  /** Octal mode (`"755"`). */
  mode?: string
  /** User name. */
  owner?: string
}

/** One file for `uploadFiles`: a buffer, or the path of a local file read as it is sent. */
export interface FileUpload {
  source: string | Buffer
  destination: string
}

/** One file for `downloadFiles`; without `destination` it is returned in memory. */
export interface FileDownloadRequest {
  source: string
  destination?: string
}

/** What the toolbox said about a file it could not send. */
export interface FileDownloadErrorDetails {
  message: string
  statusCode?: number
  code?: string
  errorCode?: string
  source?: string
}

/** One file of `downloadFiles`: its content (a Buffer), the local path written, or an error. */
export interface FileDownloadResponse {
  source: string
  result?: Buffer | string
  error?: string
  errorDetails?: FileDownloadErrorDetails
}

export interface DownloadMetadata {
  destination?: string
  error?: string
  errorDetails?: FileDownloadErrorDetails
  result?: Buffer | string | Uint8Array
}

export type DownloadProgress = {
  bytesReceived: number
  /** Not known here: always undefined. */
  totalBytes?: number
}

export type UploadProgress = {
  bytesSent: number
}

export type DownloadStreamOptions = {
  onProgress?: (progress: DownloadProgress) => void
  signal?: AbortSignal
  /** Seconds for the whole transfer (default 1800; 0 = none). */
  timeout?: number
}

/**
 * What `uploadFileStream` reads: bytes, a local file path, a Node Readable (or any async
 * iterable of chunks) or a web `ReadableStream`.
 */
export type UploadSource = Buffer | Uint8Array | string | AsyncIterable<Uint8Array | string> | WebReadableStream

export type UploadStreamOptions = {
  onProgress?: (progress: UploadProgress) => void
  signal?: AbortSignal
  /** Seconds for the whole transfer (default 1800; 0 = none). */
  timeout?: number
}

/**
 * `sandbox.fs`: files in the sandbox, through its toolbox. Relative paths are relative to the
 * sandbox's working directory. Transfers are streamed both ways: a file is never held whole in
 * memory unless it is asked for as a Buffer.
 */
export declare class FileSystem {
  private constructor()
  /** Creates a directory with `mode` (octal, e.g. `"755"`). */
  createFolder(path: string, mode: string): Promise<void>
  /** Deletes a file, or a directory when `recursive` is true. */
  deleteFile(path: string, recursive?: boolean): Promise<void>
  /**
   * Downloads a file.
   * @throws {DaytonaNotFoundError} if it does not exist.
   */
  downloadFile(remotePath: string, timeout?: number, options?: AbortOptions): Promise<Buffer>
  /**
   * Downloads a file to `localPath`, creating its parent directories. The file is written next
   * to `localPath` under a temporary name and renamed at the end: a failed download leaves
   * nothing behind.
   */
  downloadFile(remotePath: string, localPath: string, timeout?: number, options?: AbortOptions): Promise<void>
  /** A Node Readable of the file, read from the sandbox as it is consumed. */
  downloadFileStream(remotePath: string, timeout?: number): Promise<DownloadReadable>
  downloadFileStream(remotePath: string, options?: DownloadStreamOptions): Promise<DownloadReadable>
  /** Downloads several files in one request; per-file failures are in the results. */
  downloadFiles(files: FileDownloadRequest[], timeoutSec?: number): Promise<FileDownloadResponse[]>
  /** Lines of the files under `path` that contain `pattern`. */
  findFiles(path: string, pattern: string): Promise<Array<Match>>
  getFileDetails(path: string): Promise<FileInfo>
  /** The entries of a directory; `depth` (an integer of at least 1) also lists their children. */
  listFiles(path: string, options?: { depth?: number }): Promise<FileInfo[]>
  /** Moves or renames a file or directory. */
  moveFiles(source: string, destination: string): Promise<void>
  replaceInFiles(files: string[], pattern: string, newValue: string): Promise<Array<ReplaceResult>>
  /** Paths under `path` whose names match the glob `pattern`. */
  searchFiles(path: string, pattern: string): Promise<SearchFilesResponse>
  setFilePermissions(path: string, permissions: FilePermissionsParams): Promise<void>
  /**
   * Uploads a buffer, or a local file, to `remotePath` (parent directories are created).
   */
  uploadFile(file: Buffer, remotePath: string, timeout?: number, options?: AbortOptions): Promise<void>
  uploadFile(localPath: string, remotePath: string, timeout?: number, options?: AbortOptions): Promise<void>
  /** Uploads from a stream (or bytes, or a local path) as it is read, with progress. */
  uploadFileStream(source: UploadSource, remotePath: string, options?: UploadStreamOptions): Promise<void>
  /** Uploads several files in one request. */
  uploadFiles(files: FileUpload[], timeout?: number): Promise<void>
}

/** A running (or stopped) sandbox. Fields reflect the last known state; see `refreshData()`. */
export declare class Sandbox {
  private constructor()
  readonly id: string
  readonly name: string
  readonly organizationId: string
  /** The snapshot (image) the sandbox runs. */
  readonly snapshot: string | null
  readonly user: string
  /** The environment variables given at creation. */
  readonly env: Record<string, string>
  readonly labels: Record<string, string>
  readonly public: boolean
  readonly target: string
  readonly cpu: number
  readonly gpu: number
  readonly memory: number
  readonly disk: number
  /** `'started'`, `'stopped'`, `'destroyed'`, `'error'`, … */
  readonly state: string
  readonly errorReason: string | null
  readonly autoStopInterval: number | null
  readonly autoArchiveInterval: number | null
  readonly autoDeleteInterval: number | null
  readonly networkBlockAll: boolean
  readonly createdAt: string | null
  readonly updatedAt: string | null
  // The other fields of the official class (DTO fields; `undefined` where the backend has none).
  readonly spot?: boolean
  readonly spotEvictedAt?: string
  readonly gpuType?: string
  /** The state the sandbox is heading for (`'started'`, `'stopped'`, …). */
  readonly desiredState?: string
  readonly recoverable?: boolean
  readonly backupState?: string
  readonly backupCreatedAt?: string
  readonly autoPauseInterval?: number
  readonly autoDestroyAt?: string
  readonly volumes?: Array<{ volumeId: string; mountPath: string; subpath?: string }>
  readonly buildInfo?: { dockerfileContent?: string; contextHashes?: string[]; createdAt: string; updatedAt: string; snapshotRef: string }
  /** When the sandbox was last used (toolbox requests, `refreshActivity`). */
  readonly lastActivityAt?: string
  readonly kvm?: boolean
  readonly networkAllowList?: string
  readonly domainAllowList?: string
  readonly outboundProxyUrl?: string
  readonly otelEndpointOverride?: string
  readonly linkedSandboxId?: string
  readonly sandboxClass?: string
  readonly warmPoolId?: string
  readonly daemonVersion?: string
  /** The toolbox proxy (Daytona API); undefined on the local engine. */
  readonly toolboxProxyUrl?: string
  /** Commands, sessions, PTYs and `codeRun`. */
  readonly process: Process
  /** Stateful Python code interpreter. */
  readonly codeInterpreter: CodeInterpreter
  /** File transfer. */
  readonly fs: FileSystem
  /** Starts the sandbox and waits until it runs (default timeout 60 s; 0 = none). */
  start(timeout?: number, options?: AbortOptions): Promise<void>
  /** Stops the sandbox (default timeout 60 s); `force` kills it instead. */
  stop(timeout?: number, force?: boolean, options?: AbortOptions): Promise<void>
  /** Deletes the sandbox and everything in it; with `wait`, until it is destroyed. */
  delete(timeout?: number, wait?: boolean, options?: AbortOptions): Promise<void>
  /**
   * `await using sandbox = await daytona.create(...)`: deletes the sandbox when the scope ends
   * (a sandbox already deleted is not an error).
   */
  [Symbol.asyncDispose](): Promise<void>
  /** Reloads the fields from the engine. */
  refreshData(): Promise<void>
  /** Waits until the sandbox is started (default timeout 60 s). */
  waitUntilStarted(timeout?: number, options?: AbortOptions): Promise<void>
  /** Waits until the sandbox is stopped or destroyed (default timeout 60 s). */
  waitUntilStopped(timeout?: number): Promise<void>
  /** Replaces the sandbox's labels; resolves to the labels it has afterwards. */
  setLabels(labels: Record<string, string>): Promise<Record<string, string>>
  /** Marks the sandbox as used now (its auto-stop counts from here). */
  refreshActivity(): Promise<void>
  /** Minutes without activity before the sandbox stops (a non-negative integer; 0 = never). */
  setAutostopInterval(interval: number): Promise<void>
  /** Minutes stopped before the sandbox is archived (a non-negative integer; 0 = the maximum). */
  setAutoArchiveInterval(interval: number): Promise<void>
  /** Minutes stopped before the sandbox is deleted (negative = never, 0 = when it stops). */
  setAutoDeleteInterval(interval: number): Promise<void>
  /**
   * Changes CPU (cores), memory and disk (GiB) and waits until the resize is over (default
   * timeout 60 s). On the local engine CPU and memory limits of the running container change in
   * place; disk is recorded only. `gpu`/`gpuType` cannot be resized.
   */
  resize(resources: { cpu?: number; memory?: number; disk?: number }, timeout?: number): Promise<void>
  /**
   * Snapshots the sandbox's file system as a snapshot named `name` and waits until that is done
   * (default timeout 60 s). On the local engine: the container committed to an image tagged
   * `name` (a valid image reference), with the image's own ENTRYPOINT/CMD.
   */
  createSnapshot(name: string, timeout?: number): Promise<void>
  /**
   * A new sandbox with a copy of this one's file system and its settings, started (default
   * timeout 60 s). On the local engine the container is committed to an image of the fork's own,
   * removed when the fork is deleted.
   */
  fork(params?: { name?: string }, timeout?: number): Promise<Sandbox>
  /** Same as `fork`. */
  _experimental_fork(params?: { name?: string }, timeout?: number): Promise<Sandbox>
  /**
   * Archives a stopped sandbox (state `archived`; `start` brings it back). On the local engine
   * the container stays where it is, stopped and marked archived.
   */
  archive(): Promise<void>
  /** Recovers a sandbox from an error state and waits until it runs (default timeout 60 s). */
  recover(timeout?: number): Promise<void>
  /**
   * The URL where a server listening on `port` in the sandbox answers, with its access token.
   * On the local engine: `http://127.0.0.1:<port>` on this machine, a listener of this process
   * tunnelled to the sandbox through its toolbox agent (any network mode, `none` included); it
   * lives as long as this process.
   */
  getPreviewLink(port: number): Promise<{ sandboxId: string; url: string; token: string }>
  /**
   * A preview URL that stops working after `expiresInSeconds` (default 60). On the local engine
   * a listener of its own that stops accepting connections then.
   */
  getSignedPreviewUrl(port: number, expiresInSeconds?: number): Promise<{ sandboxId: string; port: number; token: string; url: string }>
  /** Same as `createSnapshot`. */
  _experimental_createSnapshot(name: string, timeout?: number): Promise<void>
  /** Waits until a resize in progress is over (default timeout 60 s). */
  waitForResizeComplete(timeout?: number): Promise<void>
  /** The working directory in the sandbox: the image's WORKDIR, else the user's home. */
  getWorkDir(): Promise<string | undefined>
  /**
   * Changes the environment of processes started in the sandbox from now on (commands, sessions,
   * PTYs, code runs); `options.unset` names variables to remove first.
   */
  updateEnv(env: Record<string, string>, options?: { unset?: string[] }): Promise<void>
  /** The sandbox user's home directory. */
  getUserHomeDir(): Promise<string | undefined>
  /** @deprecated Use `getUserHomeDir`. */
  getUserRootDir(): Promise<string | undefined>
  /** The sandbox's data, as `JSON.stringify(sandbox)` shows it. */
  toJSON(): Record<string, unknown>
}

/** Sandbox states (the official package re-exports its API client's enum). */
export declare const SandboxState: {
  readonly CREATING: 'creating'
  readonly RESTORING: 'restoring'
  readonly DESTROYED: 'destroyed'
  readonly DESTROYING: 'destroying'
  readonly STARTED: 'started'
  readonly STOPPED: 'stopped'
  readonly STARTING: 'starting'
  readonly STOPPING: 'stopping'
  readonly ERROR: 'error'
  readonly BUILD_FAILED: 'build_failed'
  readonly PENDING_BUILD: 'pending_build'
  readonly BUILDING_SNAPSHOT: 'building_snapshot'
  readonly UNKNOWN: 'unknown'
  readonly PULLING_SNAPSHOT: 'pulling_snapshot'
  readonly ARCHIVED: 'archived'
  readonly ARCHIVING: 'archiving'
  readonly RESIZING: 'resizing'
  readonly SNAPSHOTTING: 'snapshotting'
  readonly FORKING: 'forking'
  readonly PAUSING: 'pausing'
  readonly PAUSED: 'paused'
  readonly RESUMING: 'resuming'
  readonly UNKNOWN_DEFAULT_OPEN_API: '11184809'
}
export type SandboxState = (typeof SandboxState)[keyof typeof SandboxState]

/** Snapshot states. */
export declare const SnapshotState: {
  readonly BUILDING: 'building'
  readonly PENDING: 'pending'
  readonly PULLING: 'pulling'
  readonly SNAPSHOTTING: 'snapshotting'
  readonly ACTIVE: 'active'
  readonly INACTIVE: 'inactive'
  readonly ERROR: 'error'
  readonly BUILD_FAILED: 'build_failed'
  readonly REMOVING: 'removing'
  readonly UNKNOWN_DEFAULT_OPEN_API: '11184809'
}
export type SnapshotState = (typeof SnapshotState)[keyof typeof SnapshotState]

/** Sort fields of `daytona.list()`. */
export declare const SandboxListSortField: {
  readonly NAME: 'name'
  readonly CPU: 'cpu'
  readonly MEMORY_GIB: 'memoryGib'
  readonly DISK_GIB: 'diskGib'
  readonly LAST_ACTIVITY_AT: 'lastActivityAt'
  readonly CREATED_AT: 'createdAt'
  readonly UNKNOWN_DEFAULT_OPEN_API: '11184809'
}
export type SandboxListSortField = (typeof SandboxListSortField)[keyof typeof SandboxListSortField]

/** Sort directions of `daytona.list()`. */
export declare const SandboxListSortDirection: { readonly ASC: 'asc'; readonly DESC: 'desc'; readonly UNKNOWN_DEFAULT_OPEN_API: '11184809' }
export type SandboxListSortDirection = (typeof SandboxListSortDirection)[keyof typeof SandboxListSortDirection]

/** Sandbox classes. */
export declare const SandboxClass: {
  readonly LINUX_VM: 'linux-vm'
  readonly CONTAINER: 'container'
  readonly ANDROID: 'android'
  readonly WINDOWS: 'windows'
  readonly UNKNOWN_DEFAULT_OPEN_API: '11184809'
}
export type SandboxClass = (typeof SandboxClass)[keyof typeof SandboxClass]

/** GPU types. */
export declare const GpuType: {
  readonly H100: 'H100'
  readonly H200: 'H200'
  readonly B300: 'B300'
  readonly RTX_PRO_6000: 'RTX-PRO-6000'
  readonly RTX_4090: 'RTX-4090'
  readonly RTX_5090: 'RTX-5090'
  readonly MI355X: 'MI355X'
  readonly UNKNOWN_DEFAULT_OPEN_API: '11184809'
}
export type GpuType = (typeof GpuType)[keyof typeof GpuType]

/** A snapshot: a named, pre-built image sandboxes can start from. */
export interface Snapshot {
  id: string
  name: string
  imageName?: string
  state: string
  /** Size in GB. */
  size?: number
  entrypoint?: string[]
  cpu: number
  gpu: number
  mem: number
  disk: number
  errorReason?: string
  createdAt?: string
  updatedAt?: string
}

/** A page of snapshots. */
export interface PaginatedSnapshots {
  items: Snapshot[]
  total: number
  page: number
  totalPages: number
}

/** Parameters of `snapshot.create`. */
export interface CreateSnapshotParams {
  /** Snapshot name (on the local engine: an image reference such as `my-env:1`). */
  name: string
  /** An image reference or a declarative `Image` (which is not modified). */
  image: string | Image
  resources?: Resources
  /** ENTRYPOINT of the snapshot. */
  entrypoint?: string[]
  /** Daytona API only: region (default: the client's `target`) and sandbox class. */
  regionId?: string
  sandboxClass?: string
}

/** **New.** An image this package built on the local engine (a build cache image, a snapshot, or both). */
export interface LocalImage {
  id: string
  /** Every tag: cache key tags (`daytona-<hash>:latest`) and snapshot names. */
  tags: string[]
  /** The snapshot names among the tags. */
  snapshots: string[]
  /** When the engine created it, in seconds since the epoch, and as a Date. */
  created: number
  createdAt: Date
  sizeBytes: number
  /** Ids of the containers made from it, in any state (such an image is never pruned). */
  usedBy: string[]
}

/** **New.** `localImages.prune(options)`. */
export interface PruneLocalImagesOptions {
  /** Only images created at least this many minutes ago. */
  olderThanMinutes?: number
  /** Keep this many of the newest candidates. */
  keep?: number
  /** Also remove snapshots; by default only build cache images go. */
  includeSnapshots?: boolean
  /** Report what would go, remove nothing. */
  dryRun?: boolean
}

/** **New.** What `localImages.prune` removed (or would remove, with `dryRun`). */
export interface PruneReport {
  removed: LocalImage[]
  bytesFreed: number
  /** Images kept because a container uses them. */
  inUse: number
}

/**
 * **New.** The images this package built on the local engine: every `create({ image })` of a
 * new `Image` leaves one (it is the cache that makes an unchanged rebuild instant), and they
 * accumulate. On the Daytona API backend both methods reject with `DaytonaInvalidArgumentError`.
 */
export declare class LocalImageService {
  /** Newest first. */
  list(): Promise<LocalImage[]>
  /**
   * Removes built images no container uses (running or stopped sandboxes keep theirs), newest
   * `keep` kept, only those older than `olderThanMinutes`; snapshots only with
   * `includeSnapshots`. Removing an image removes all its tags.
   */
  prune(options?: PruneLocalImagesOptions): Promise<PruneReport>
  /**
   * Removes one built image (by id or tag) with all its tags.
   * @throws {DaytonaConflictError} while a container uses it.
   * @throws {DaytonaInvalidArgumentError} for an image this package did not build.
   */
  remove(idOrTag: string): Promise<void>
}

/**
 * Build progress, delivered to `onBuildEvent` (on `daytona.create` with an `Image` and on
 * `snapshot.create`) in order, beside the string log callback, all before the Promise settles.
 * Steps are numbered from 1, as the builder prints them (`Step 2/5`). A callback that throws
 * cancels the operation as a throwing log callback does. Which events the Daytona API backend can
 * give is listed in the README ("Build events").
 */
export type BuildEvent =
  | BuildContextPlannedEvent
  | BuildUploadProgressEvent
  | BuildStepStartedEvent
  | BuildStepCachedEvent
  | BuildStepFinishedEvent
  | BuildLogEvent
  | BuildFinishedEvent
  | BuildFailedEvent

/** The build contexts (the `addLocalFile`/`addLocalDir` sources) were walked and hashed. */
export interface BuildContextPlannedEvent {
  type: 'contextPlanned'
  /** Files and bytes in all contexts (each distinct context counted once). */
  files: number
  bytes: number
  /** The contexts' cache keys (64 hex digits), distinct, in order. */
  keys: string[]
  contexts: Array<{ key: string; sourcePath: string; files: number; bytes: number }>
}

/**
 * Daytona API only: one context archive going to object storage. `bytesSent` counts bytes handed
 * to the uploader (at most 4 parts of 5 MiB ahead of what the storage confirmed); the last event
 * of a key has `bytesSent === totalBytes` once the upload completed. A context already stored
 * is reported once, with `skipped: true`.
 */
export interface BuildUploadProgressEvent {
  type: 'uploadProgress'
  key: string
  bytesSent: number
  totalBytes: number
  skipped: boolean
}

/** A Dockerfile instruction started (`Step index/total : instruction`). */
export interface BuildStepStartedEvent {
  type: 'stepStarted'
  index: number
  total: number
  instruction: string
}

/** The step's result came from the builder's cache. */
export interface BuildStepCachedEvent {
  type: 'stepCached'
  index: number
}

/** The step ended (the next one started, or the build did). */
export interface BuildStepFinishedEvent {
  type: 'stepFinished'
  index: number
  durationMs: number
}

/** A log line (the same string the log callback receives) and the step it belongs to. */
export interface BuildLogEvent {
  type: 'log'
  line: string
  /** `null` for lines outside any step (the client's own notices, "Successfully built"). */
  step: number | null
}

/**
 * The build is over and its image exists. `cached: true`: nothing was built (an identical build
 * was found: no step events came before). `image`: the built image (local engine: its cache
 * tag) or the snapshot (API), when known.
 */
export interface BuildFinishedEvent {
  type: 'buildFinished'
  durationMs: number
  image: string | null
  cached: boolean
}

/**
 * The build failed: the failing step and its command's exit code when known, and why (the build
 * error's message, which `snapshot.create` wraps in its official wording; API backend: the
 * server's reason).
 */
export interface BuildFailedEvent {
  type: 'buildFailed'
  step: number | null
  exitCode: number | null
  message: string
}

/** Creates and manages snapshots. */
export declare class SnapshotService {
  private constructor()
  /**
   * Builds a snapshot. `onLogs` receives `Creating snapshot <name> (building)`, every build
   * log line, then `Created snapshot <name> (active)`; whole lines, in order, all delivered
   * before the Promise settles. `onBuildEvent` receives the build's progress as typed events
   * ({@link BuildEvent}), in order with the lines. A callback that throws cancels the build.
   * @throws {DaytonaBuildError} if the build fails.
   * @throws {DaytonaConflictError} if a snapshot with that name exists.
   */
  create(
    params: CreateSnapshotParams,
    options?: { onLogs?: (chunk: string) => void; onBuildEvent?: (event: BuildEvent) => void; timeout?: number; signal?: AbortSignal },
  ): Promise<Snapshot>
  /**
   * **New.** The snapshot of this image, created only when missing: what users of the official
   * SDK write by hand (get, catch not-found, create). Without `name` it is named
   * `daytona-native-<24 hex digits>` from the image's `plan().cacheKey` (for an image reference,
   * the cache key of `FROM <ref>`), the entrypoint and the resources, so a changed image gets a
   * new snapshot. An existing snapshot is returned once active: an inactive one is activated,
   * one being built or pulled is waited for (`timeout` seconds, default none); one whose build
   * failed is a `DaytonaBuildError` that says how to build it again. `onLogs` receives the
   * build's lines only when it builds. A snapshot of that name built from something else is
   * returned as it is: name snapshots yourself only when you manage their contents.
   */
  ensure(
    params: Omit<CreateSnapshotParams, 'name'> & { name?: string },
    options?: { onLogs?: (chunk: string) => void; onBuildEvent?: (event: BuildEvent) => void; timeout?: number; signal?: AbortSignal },
  ): Promise<Snapshot>
  /** @throws {DaytonaNotFoundError} */
  get(name: string): Promise<Snapshot>
  list(page?: number, limit?: number): Promise<PaginatedSnapshots>
  list(query?: { page?: number; limit?: number; sourceSandboxId?: string }): Promise<PaginatedSnapshots>
  /**
   * Deletes a snapshot: a `Snapshot` object (by its id), or a string (a UUID is tried as an id
   * first, anything else is looked up by name).
   */
  delete(snapshot: Snapshot | string): Promise<void>
  /** Activates an inactive snapshot (same resolution as `delete`). */
  activate(snapshot: Snapshot | string): Promise<Snapshot>
}

/** Query of `daytona.list()`. */
export interface ListSandboxesQuery {
  /** Only sandboxes carrying all of these labels. */
  labels?: Record<string, string>
  // The rest is Daytona API only (the local engine filters by labels).
  /** Page size (1-200, default 100); pages are fetched as the iterator is consumed. */
  limit?: number
  /** Id or name prefix. */
  id?: string
  name?: string
  states?: string[]
  snapshots?: string[]
  /** Sent as `regionIds`. */
  targets?: string[]
  minCpu?: number
  maxCpu?: number
  minMemoryGib?: number
  maxMemoryGib?: number
  minDiskGib?: number
  maxDiskGib?: number
  isPublic?: boolean
  isRecoverable?: boolean
  createdAtAfter?: Date | string
  createdAtBefore?: Date | string
  lastActivityAfter?: Date | string
  lastActivityBefore?: Date | string
  autoDestroyAtAfter?: Date | string
  autoDestroyAtBefore?: Date | string
  sort?: 'name' | 'cpu' | 'memoryGib' | 'diskGib' | 'lastActivityAt' | 'createdAt'
  order?: 'asc' | 'desc'
}

/**
 * The client. With Daytona credentials (`apiKey`, or `jwtToken` + `organizationId`, or their
 * `DAYTONA_*` variables) it talks to the Daytona API at `apiUrl` (default
 * `https://app.daytona.io/api`) exactly as the official SDK does; without them it uses the local
 * Docker Engine (and says so once on stderr). `backend: 'local' | 'api'` or `DAYTONA_BACKEND`
 * chooses explicitly.
 *
 * @example
 * const daytona = new Daytona()
 * const sandbox = await daytona.create({ image: Image.debianSlim('3.12').pipInstall(['numpy']) },
 *   { onSnapshotCreateLogs: (line) => console.log(line) })
 * const r = await sandbox.process.executeCommand('python -c "import numpy"')
 */
export declare class Daytona {
  /**
   * @throws {DaytonaAuthenticationError} when no credentials are configured and no local engine is
   *   reachable, or `backend: 'api'` is chosen without credentials (the official SDK's messages).
   * @throws {DaytonaInvalidArgumentError} when no `apiUrl` is passed, `DAYTONA_API_URL` (or
   *   `DAYTONA_SERVER_URL`) is in the process environment and a dotenv file in the working
   *   directory also sets it (the endpoint would be ambiguous).
   * @throws {DaytonaInvalidArgumentError} for an invalid `requestTimeoutMs` or `backend`.
   */
  constructor(config?: DaytonaConfig)
  /** As in the official SDK (`await using daytona = new Daytona()`); there is nothing to release. */
  [Symbol.asyncDispose](): Promise<void>
  /** Which engine this client talks to, e.g. `the local Docker Engine at unix:///var/run/docker.sock`. */
  readonly backend: string
  /** Snapshot operations. */
  readonly snapshot: SnapshotService
  /** **New.** The images this package built on the local engine (see {@link LocalImageService}). */
  readonly localImages: LocalImageService
  /**
   * Creates a sandbox and waits until it runs. An `Image` is built first unless an identical
   * one was built before (its cache key is unchanged).
   * @param options `timeout` in seconds (default 60, 0 = none) bounds build and start; when it
   *   passes the build is stopped and nothing is left behind. `onSnapshotCreateLogs` receives
   *   the build's log lines, whole and in order; `onBuildEvent` the build's progress as typed
   *   events ({@link BuildEvent}). A callback that throws cancels the create. `signal` aborts it
   *   (see {@link AbortOptions}): the build stops and a sandbox already made is deleted.
   * @throws {DaytonaBuildError} if the image build fails.
   * @throws {DaytonaTimeoutError} when the timeout passes.
   */
  create(params?: CreateSandboxFromSnapshotParams, options?: { timeout?: number; signal?: AbortSignal } | number): Promise<Sandbox>
  create(
    params?: CreateSandboxFromImageParams,
    options?: { onSnapshotCreateLogs?: (chunk: string) => void; onBuildEvent?: (event: BuildEvent) => void; timeout?: number; signal?: AbortSignal } | number,
  ): Promise<Sandbox>
  /** @throws {DaytonaNotFoundError} */
  get(sandboxIdOrName: string): Promise<Sandbox>
  /** Iterates over sandboxes (optionally only those with the given labels). */
  list(query?: ListSandboxesQuery): AsyncIterableIterator<Sandbox>
  start(sandbox: Sandbox, timeout?: number, options?: AbortOptions): Promise<void>
  stop(sandbox: Sandbox, options?: AbortOptions): Promise<void>
  delete(sandbox: Sandbox, timeout?: number, wait?: boolean, options?: AbortOptions): Promise<void>
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Port to listen on; 0 or absent: any free port. */
  port?: number
  /** Address to listen on (default `127.0.0.1`); anything but loopback needs `allowRemote`. */
  host?: string
  /** The key clients must send (`Authorization: Bearer <key>`); generated when absent. */
  apiKey?: string
  /** Allow a non-loopback `host` (a warning is emitted). */
  allowRemote?: boolean
  /** Settings of the local engine backend that does the work. */
  local?: LocalEngineConfig
}

/** A running {@link serve} server. */
export interface ServeHandle {
  /** `http://host:port/api`: the official SDKs' `apiUrl` / `DAYTONA_API_URL`. */
  url: string
  /** The key the SDKs' `apiKey` / `DAYTONA_API_KEY` must be. */
  apiKey: string
  /** Stops listening and ends open connections; sandboxes stay in the engine. */
  close(): Promise<void>
}

/**
 * `daytona-native serve` in this process: the parts of the Daytona REST API and toolbox API the
 * official SDKs call, backed by the local Docker engine (see README, "Serve").
 */
export declare function serve(options?: ServeOptions): Promise<ServeHandle>

// Only the declarations marked `export` are exported (not the `Buffer` alias above).
export {}
