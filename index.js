'use strict'
// Public entry point: the generated native binding plus the hand-written error classes.
// One `module.exports.X =` line per export so that ESM `import { X }` sees every name.

const binding = require('./load-binding.js')
const errors = require('./errors.js')

for (const [name, C] of Object.entries(errors)) binding.registerErrorClass(name, C)

const { Image, Daytona, Sandbox, SnapshotService, Process, FileSystem } = binding

// napi-rs cannot declare rest parameters; forward `...commands` as one array.
Image.prototype.runCommands = function runCommands(...commands) {
  return this._runCommands(commands)
}

// Log callbacks: lines already queued when the callback throws are not delivered to it again;
// the operation is cancelled and its Promise rejects with the thrown value.
function guardLogCallback(options, key) {
  if (!options || typeof options !== 'object' || typeof options[key] !== 'function') return options
  const callback = options[key]
  let failed = false
  return {
    ...options,
    [key](line) {
      if (failed) return
      try {
        return callback(line)
      } catch (e) {
        failed = true
        throw e
      }
    },
  }
}

// The native classes are shared by every copy of this module loaded in the process (jest's
// resetModules evaluates it again, the addon is not): keep the native method on the prototype
// under a symbol and wrap that, so a reload replaces the wrapper instead of wrapping it again.
const NATIVE = Symbol.for('daytona-native.native-method')
function wrapNative(proto, name, wrap) {
  if (!Object.prototype.hasOwnProperty.call(proto, NATIVE)) {
    Object.defineProperty(proto, NATIVE, { value: Object.create(null), enumerable: false })
  }
  const natives = proto[NATIVE]
  if (!natives[name]) natives[name] = proto[name]
  proto[name] = wrap(natives[name])
}

wrapNative(Daytona.prototype, 'create', (nativeCreate) =>
  function create(params, options) {
    return nativeCreate.call(this, params, guardLogCallback(options, 'onSnapshotCreateLogs'))
  },
)

wrapNative(SnapshotService.prototype, 'create', (nativeSnapshotCreate) =>
  function create(params, options) {
    return nativeSnapshotCreate.call(this, params, guardLogCallback(options, 'onLogs'))
  },
)

// `await using`: a sandbox is deleted when its scope ends (already deleted: fine); the client has
// nothing to release (the official SDK closes its event subscriptions there).
if (typeof Symbol.asyncDispose === 'symbol') {
  Sandbox.prototype[Symbol.asyncDispose] = async function asyncDispose() {
    try {
      await this.delete()
    } catch (e) {
      if (!(e instanceof errors.DaytonaNotFoundError)) throw e
    }
  }
  Daytona.prototype[Symbol.asyncDispose] = async function asyncDispose() {}
}

// `list(query)` is an async iterator over cursor pages, fetched as they are consumed, as in
// the official SDK.
Daytona.prototype.list = async function* list(query) {
  let cursor
  do {
    const page = await this._listPage(query, cursor)
    for (const s of page.items) yield s
    cursor = page.nextCursor
  } while (cursor)
}

Daytona.prototype.start = function start(sandbox, timeout) {
  return sandbox.start(timeout)
}
Daytona.prototype.stop = function stop(sandbox) {
  return sandbox.stop()
}
Daytona.prototype.delete = function del(sandbox, timeout, wait) {
  return sandbox.delete(timeout, wait)
}

module.exports.Image = Image
module.exports.Daytona = Daytona
module.exports.Sandbox = Sandbox
module.exports.SnapshotService = SnapshotService
module.exports.Process = Process
module.exports.FileSystem = FileSystem
module.exports.CodeLanguage = Object.freeze({ PYTHON: 'python', TYPESCRIPT: 'typescript', JAVASCRIPT: 'javascript' })
module.exports.SOURCE_API = 'DAYTONA_API'
module.exports.SOURCE_DAEMON = 'DAYTONA_DAEMON'
module.exports.SOURCE_PROXY = 'DAYTONA_PROXY'
module.exports.DaytonaError = errors.DaytonaError
module.exports.DaytonaBadRequestError = errors.DaytonaBadRequestError
module.exports.DaytonaAuthenticationError = errors.DaytonaAuthenticationError
module.exports.DaytonaForbiddenError = errors.DaytonaForbiddenError
module.exports.DaytonaNotFoundError = errors.DaytonaNotFoundError
module.exports.DaytonaTimeoutError = errors.DaytonaTimeoutError
module.exports.DaytonaConflictError = errors.DaytonaConflictError
module.exports.DaytonaGoneError = errors.DaytonaGoneError
module.exports.DaytonaUnprocessableEntityError = errors.DaytonaUnprocessableEntityError
module.exports.DaytonaRateLimitError = errors.DaytonaRateLimitError
module.exports.DaytonaInternalServerError = errors.DaytonaInternalServerError
module.exports.DaytonaBadGatewayError = errors.DaytonaBadGatewayError
module.exports.DaytonaServiceUnavailableError = errors.DaytonaServiceUnavailableError
module.exports.DaytonaValidationError = errors.DaytonaValidationError
module.exports.DaytonaAuthorizationError = errors.DaytonaAuthorizationError
module.exports.DaytonaInvalidArgumentError = errors.DaytonaInvalidArgumentError
module.exports.DaytonaConnectionError = errors.DaytonaConnectionError
module.exports.DaytonaConnectionTimeoutError = errors.DaytonaConnectionTimeoutError
module.exports.DaytonaGitAuthFailedError = errors.DaytonaGitAuthFailedError
module.exports.DaytonaGitRepoNotFoundError = errors.DaytonaGitRepoNotFoundError
module.exports.DaytonaGitBranchNotFoundError = errors.DaytonaGitBranchNotFoundError
module.exports.DaytonaGitBranchExistsError = errors.DaytonaGitBranchExistsError
module.exports.DaytonaGitPushRejectedError = errors.DaytonaGitPushRejectedError
module.exports.DaytonaGitDirtyWorktreeError = errors.DaytonaGitDirtyWorktreeError
module.exports.DaytonaGitMergeConflictError = errors.DaytonaGitMergeConflictError
module.exports.DaytonaGitTransportFailedError = errors.DaytonaGitTransportFailedError
module.exports.DaytonaGitRemoteRejectedError = errors.DaytonaGitRemoteRejectedError
module.exports.DaytonaFileNotFoundError = errors.DaytonaFileNotFoundError
module.exports.DaytonaFileAccessDeniedError = errors.DaytonaFileAccessDeniedError
module.exports.DaytonaInvalidFilePathError = errors.DaytonaInvalidFilePathError
module.exports.DaytonaFileReadFailedError = errors.DaytonaFileReadFailedError
module.exports.DaytonaLspServerNotInitializedError = errors.DaytonaLspServerNotInitializedError
module.exports.DaytonaProcessExecutionTimeoutError = errors.DaytonaProcessExecutionTimeoutError
module.exports.DaytonaProcessNotFoundError = errors.DaytonaProcessNotFoundError
module.exports.DaytonaSessionEndedError = errors.DaytonaSessionEndedError
module.exports.DaytonaCommandAlreadyCompletedError = errors.DaytonaCommandAlreadyCompletedError
module.exports.DaytonaA11yUnavailableError = errors.DaytonaA11yUnavailableError
module.exports.DaytonaRecordingStillActiveError = errors.DaytonaRecordingStillActiveError
module.exports.DaytonaRecordingFfmpegNotFoundError = errors.DaytonaRecordingFfmpegNotFoundError
module.exports.DaytonaBuildError = errors.DaytonaBuildError
