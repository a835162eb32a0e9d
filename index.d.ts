// Public typings of daytona-native. Hand-written (like index.js) so the public surface reads
// like @daytonaio/sdk 0.218's; the generated binding.d.ts describes the raw native layer.

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
   * @param options Index and find-links options.
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
   * @throws {DaytonaNotFoundError} if the file does not exist.
   * @throws {DaytonaInvalidArgumentError} if the path is not a file.
   */
  addLocalFile(localPath: string, remotePath: string): this
  /**
   * Copies a local directory into the image. A `.dockerignore` at its root is honoured.
   * @throws {DaytonaNotFoundError} if the directory does not exist.
   * @throws {DaytonaInvalidArgumentError} if the path is not a directory.
   */
  addLocalDir(localPath: string, remotePath: string): this
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
