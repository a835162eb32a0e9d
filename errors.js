'use strict'
// The error classes of @daytonaio/sdk 0.218 (same names, hierarchy, constructor and fields), so
// `instanceof` checks written against the official SDK keep working. Rust builds instances of
// these through the registry in src/errors.rs.
//
// Defined once per global object: a test runner that loads this module again in the same realm
// (jest's resetModules/isolateModules) gets the same classes, so an error thrown through any
// loaded copy is `instanceof` every copy's classes (the native addon is loaded once per
// process and keeps one registry).
const SHARED = Symbol.for('daytona-native.errors.v1')

function defineClasses() {

  class DaytonaError extends Error {
    // Declared as fields (in the official order) so Object.keys/JSON.stringify match.
    statusCode
    code
    source
    headers

    constructor(message, statusCode, headers, code, source) {
      super(message)
      this.name = new.target.name
      this.statusCode = statusCode
      this.headers = headers
      this.code = code
      this.source = source
    }

    /** @deprecated use `code` */
    get errorCode() {
      return this.code
    }
  }

  const classes = { DaytonaError }
  function define(name, parent, extra) {
    // A named class expression keeps `new.target.name` equal to the official class name.
    const C = { [name]: class extends parent {} }[name]
    if (extra) extra(C)
    classes[name] = C
    return C
  }

  const E = classes
  define('DaytonaBadRequestError', E.DaytonaError)
  define('DaytonaAuthenticationError', E.DaytonaError)
  define('DaytonaForbiddenError', E.DaytonaError)
  define('DaytonaNotFoundError', E.DaytonaError)
  define('DaytonaTimeoutError', E.DaytonaError, (C) => {
    // As in the official SDK, `err instanceof DaytonaTimeoutError` is also true for connection
    // timeouts, while subclasses keep plain prototype-chain semantics.
    Object.defineProperty(C, Symbol.hasInstance, {
      value(value) {
        if (this === C && value instanceof E.DaytonaConnectionTimeoutError) return true
        return Function.prototype[Symbol.hasInstance].call(this, value)
      },
    })
  })
  define('DaytonaConflictError', E.DaytonaError)
  define('DaytonaGoneError', E.DaytonaError)
  define('DaytonaUnprocessableEntityError', E.DaytonaError)
  define('DaytonaRateLimitError', E.DaytonaError)
  define('DaytonaInternalServerError', E.DaytonaError)
  define('DaytonaBadGatewayError', E.DaytonaError)
  define('DaytonaServiceUnavailableError', E.DaytonaError)
  define('DaytonaValidationError', E.DaytonaBadRequestError)
  define('DaytonaAuthorizationError', E.DaytonaForbiddenError)
  define('DaytonaInvalidArgumentError', E.DaytonaValidationError)
  define('DaytonaConnectionError', E.DaytonaError)
  define('DaytonaConnectionTimeoutError', E.DaytonaConnectionError)
  define('DaytonaGitAuthFailedError', E.DaytonaAuthenticationError)
  define('DaytonaGitRepoNotFoundError', E.DaytonaNotFoundError)
  define('DaytonaGitBranchNotFoundError', E.DaytonaNotFoundError)
  define('DaytonaGitBranchExistsError', E.DaytonaConflictError)
  define('DaytonaGitPushRejectedError', E.DaytonaConflictError)
  define('DaytonaGitDirtyWorktreeError', E.DaytonaConflictError)
  define('DaytonaGitMergeConflictError', E.DaytonaConflictError)
  define('DaytonaGitTransportFailedError', E.DaytonaBadGatewayError)
  define('DaytonaGitRemoteRejectedError', E.DaytonaUnprocessableEntityError)
  define('DaytonaFileNotFoundError', E.DaytonaNotFoundError)
  define('DaytonaFileAccessDeniedError', E.DaytonaForbiddenError)
  define('DaytonaInvalidFilePathError', E.DaytonaBadRequestError)
  define('DaytonaFileReadFailedError', E.DaytonaInternalServerError)
  define('DaytonaLspServerNotInitializedError', E.DaytonaBadRequestError)
  define('DaytonaProcessExecutionTimeoutError', E.DaytonaTimeoutError)
  define('DaytonaProcessNotFoundError', E.DaytonaNotFoundError)
  define('DaytonaSessionEndedError', E.DaytonaGoneError)
  define('DaytonaCommandAlreadyCompletedError', E.DaytonaGoneError)
  define('DaytonaA11yUnavailableError', E.DaytonaServiceUnavailableError)
  define('DaytonaRecordingStillActiveError', E.DaytonaConflictError)
  define('DaytonaRecordingFfmpegNotFoundError', E.DaytonaServiceUnavailableError)

  // Not in the official SDK: a failed image build (local engine). Carries `reason`
  // ('step_failed' | 'base_image_unavailable' | 'context_file_missing' | 'engine'), `step`,
  // `exitCode` and `logTail` (the last lines of the failing step's output).
  define('DaytonaBuildError', E.DaytonaError)
  return classes
}

if (!globalThis[SHARED]) {
  Object.defineProperty(globalThis, SHARED, { value: defineClasses(), enumerable: false, configurable: false, writable: false })
}
module.exports = globalThis[SHARED]
