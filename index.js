'use strict'
// Public entry point: the generated native binding plus the hand-written error classes.
// One `module.exports.X =` line per export so that ESM `import { X }` sees every name.

const binding = require('./load-binding.js')
const errors = require('./errors.js')

for (const [name, C] of Object.entries(errors)) binding.registerErrorClass(name, C)
// The toolbox agent that goes into each local sandbox ships in the package: agent/<arch>/.
binding.setAgentDirectory(require('node:path').join(__dirname, 'agent'))

const { Image, Daytona, Sandbox, SnapshotService, Process, FileSystem, CodeInterpreter, LocalImageService } = binding

// napi-rs cannot declare rest parameters; forward `...commands` as one array.
Image.prototype.runCommands = function runCommands(...commands) {
  return this._runCommands(commands)
}

// Log callbacks and onBuildEvent: the native side calls `_deliverLogs` with batches of items in
// order, which this unrolls into one call per item: a log line is a string (followed, when
// onBuildEvent is given, by its step, from which its `log` event is made here), any other build
// event an object. Once a callback throws, nothing more is delivered (the rest of its batch and
// items already queued included); the operation is cancelled and its Promise rejects with the
// thrown value.
function guardLogCallback(options, key) {
  if (!options || typeof options !== 'object') return options
  const onLine = typeof options[key] === 'function' ? options[key] : null
  const onEvent = typeof options.onBuildEvent === 'function' ? options.onBuildEvent : null
  if (!onLine && !onEvent) return options
  let failed = false
  return {
    ...options,
    _deliverLogs(batch) {
      if (failed) return
      try {
        for (let i = 0; i < batch.length; i++) {
          const item = batch[i]
          if (typeof item !== 'string') onEvent(item)
          else {
            if (onLine) onLine(item)
            if (onEvent) onEvent({ type: 'log', line: item, step: batch[++i] })
          }
        }
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

// ---------------------------------------------------------------------------------------------
// AbortSignal. A long operation takes `{ signal }` (in its options object, or as one extra
// argument after the official ones). An already-aborted signal rejects at once with
// `signal.reason` and does nothing; aborting later stops the work where it is (the core cancels
// the operation: build, creation, command, transfer) and rejects with `signal.reason`, as Node's
// own APIs do. The native call runs on the object's `_abortable(cancellation)` twin.

function typeOf(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

function looksLikeSignal(value) {
  // Duck-typed: test runners (jest) may hand out another realm's AbortSignal.
  return value !== null && typeof value === 'object' && typeof value.aborted === 'boolean' && typeof value.addEventListener === 'function'
}

/** `signal` of an options argument (`undefined` when there is none). */
function signalOf(options) {
  return options !== null && typeof options === 'object' ? options.signal : undefined
}

function callAbortable(self, native, args, signal, where) {
  if (signal === undefined || signal === null) return native.apply(self, args)
  if (!looksLikeSignal(signal)) {
    return Promise.reject(new errors.DaytonaInvalidArgumentError(`${where}.signal must be an AbortSignal (got ${typeOf(signal)})`))
  }
  if (signal.aborted) return Promise.reject(signal.reason)
  const cancellation = new binding._Cancellation()
  const onAbort = () => cancellation.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  const done = () => signal.removeEventListener('abort', onAbort)
  let pending
  try {
    pending = native.apply(self._abortable(cancellation), args)
  } catch (e) {
    done()
    throw e
  }
  return Promise.resolve(pending).then(
    (value) => {
      done()
      return value
    },
    (e) => {
      done()
      throw signal.aborted ? signal.reason : e
    },
  )
}

/**
 * Makes `proto[name]` accept a signal: `position` is the index of the extra `{ signal }`
 * argument (a function of the arguments for overloaded methods).
 */
function acceptSignal(proto, name, position) {
  wrapNative(proto, name, (native) =>
    function abortable(...args) {
      const at = typeof position === 'function' ? position(args) : position
      if (args.length <= at) return native.apply(this, args)
      const signal = signalOf(args[at])
      return callAbortable(this, native, args.slice(0, at), signal, 'options')
    },
  )
}

wrapNative(Daytona.prototype, 'create', (nativeCreate) =>
  function create(params, options) {
    return callAbortable(this, nativeCreate, [params, guardLogCallback(options, 'onSnapshotCreateLogs')], signalOf(options), 'options')
  },
)

wrapNative(SnapshotService.prototype, 'create', (nativeSnapshotCreate) =>
  function create(params, options) {
    return callAbortable(this, nativeSnapshotCreate, [params, guardLogCallback(options, 'onLogs')], signalOf(options), 'options')
  },
)

wrapNative(SnapshotService.prototype, 'ensure', (nativeSnapshotEnsure) =>
  function ensure(params, options) {
    return callAbortable(this, nativeSnapshotEnsure, [params, guardLogCallback(options, 'onLogs')], signalOf(options), 'options')
  },
)

acceptSignal(Sandbox.prototype, 'start', 1)
acceptSignal(Sandbox.prototype, 'stop', 2)
acceptSignal(Sandbox.prototype, 'delete', 2)
acceptSignal(Sandbox.prototype, 'waitUntilStarted', 1)
acceptSignal(Process.prototype, 'executeCommand', 4)
acceptSignal(Process.prototype, 'codeRun', 3)
acceptSignal(Process.prototype, 'executeSessionCommand', 3)
acceptSignal(FileSystem.prototype, 'uploadFile', 3)
// downloadFile(remotePath, timeout?) / downloadFile(remotePath, localPath, timeout?)
acceptSignal(FileSystem.prototype, 'downloadFile', (args) => (typeof args[1] === 'string' ? 3 : 2))

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

// ---------------------------------------------------------------------------------------------
// Sandbox data. The official object carries the DTO's fields as own properties; here they are
// getters over the native object's last known state. `toJSON` and `util.inspect` show that data
// in the official order (without the official object's API clients and credentials).
const SANDBOX_FIELDS = [
  'id', 'name', 'organizationId', 'snapshot', 'user', 'env', 'labels', 'public', 'target', 'cpu', 'gpu', 'spot', 'spotEvictedAt',
  'gpuType', 'memory', 'disk', 'state', 'desiredState', 'errorReason', 'recoverable', 'backupState', 'backupCreatedAt',
  'autoStopInterval', 'autoPauseInterval', 'autoArchiveInterval', 'autoDeleteInterval', 'autoDestroyAt', 'volumes', 'buildInfo',
  'createdAt', 'updatedAt', 'lastActivityAt', 'kvm', 'networkBlockAll', 'networkAllowList', 'domainAllowList', 'outboundProxyUrl',
  'otelEndpointOverride', 'linkedSandboxId', 'sandboxClass', 'warmPoolId', 'daemonVersion', 'toolboxProxyUrl',
]
for (const key of SANDBOX_FIELDS) {
  if (Object.getOwnPropertyDescriptor(Sandbox.prototype, key)) continue
  Object.defineProperty(Sandbox.prototype, key, {
    configurable: true,
    enumerable: false,
    get() {
      return this._data()[key]
    },
  })
}
Sandbox.prototype._experimental_createSnapshot = function _experimental_createSnapshot(name, timeout) {
  return this.createSnapshot(name, timeout)
}
Sandbox.prototype._experimental_fork = function _experimental_fork(params, timeout) {
  return this.fork(params, timeout)
}
Sandbox.prototype.toJSON = function toJSON() {
  return this._data()
}
Sandbox.prototype[Symbol.for('nodejs.util.inspect.custom')] = function inspect(depth, options, inspectFn) {
  const data = this._data()
  const shown = new (class Sandbox {})()
  for (const key of SANDBOX_FIELDS) shown[key] = data[key]
  if (depth < 0) return options.stylize('[Sandbox]', 'special')
  const view = inspectFn || require('node:util').inspect
  return view(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 })
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

// `localImages`: `createdAt` as a Date next to the engine's `created` seconds.
const withDate = (image) => ({ ...image, createdAt: new Date(image.created * 1000) })
LocalImageService.prototype.list = async function list() {
  return (await this._list()).map(withDate)
}
LocalImageService.prototype.prune = async function prune(options) {
  const report = await this._prune(options)
  return { ...report, removed: report.removed.map(withDate) }
}

// The optional last argument `{ signal }` goes on to the sandbox's method.
Daytona.prototype.start = function start(sandbox, timeout, options) {
  return options === undefined ? sandbox.start(timeout) : sandbox.start(timeout, options)
}
Daytona.prototype.stop = function stop(sandbox, options) {
  return options === undefined ? sandbox.stop() : sandbox.stop(undefined, undefined, options)
}
Daytona.prototype.delete = function del(sandbox, timeout, wait, options) {
  return options === undefined ? sandbox.delete(timeout, wait) : sandbox.delete(timeout, wait, options)
}

// ---------------------------------------------------------------------------------------------
// Toolbox output to JavaScript callbacks. The native side hands out a stream of the operation's
// output; this loop pulls a batch, runs the callback on each item in order (awaiting a returned
// Promise) and only then pulls again, so a slow callback slows the producer down and memory stays
// bounded. A callback that throws (or whose Promise rejects) stops the delivery and the operation,
// and the operation's Promise rejects with the thrown value.
async function drainStream(stream, deliver) {
  try {
    for (let batch; (batch = await stream.next()) !== null; ) {
      for (const item of batch) {
        const r = deliver(item)
        if (r !== null && typeof r === 'object' && typeof r.then === 'function') await r
      }
    }
  } catch (e) {
    stream.cancel()
    throw e
  }
  return stream.finish()
}

/** `undefined`/`null` or a function; anything else is a DaytonaInvalidArgumentError. */
function checkCallback(value, name) {
  if (value !== undefined && value !== null && typeof value !== 'function') {
    throw new errors.DaytonaInvalidArgumentError(`${name} must be a function (got ${typeOf(value)})`)
  }
}

// `getSessionCommandLogs(sessionId, commandId)` resolves to `{ output, stdout, stderr }`; with
// `onStdout`/`onStderr` it calls them with the output as it comes and resolves once the command
// has ended and every chunk was delivered.
Process.prototype.getSessionCommandLogs = async function getSessionCommandLogs(sessionId, commandId, onStdout, onStderr) {
  if (!onStdout && !onStderr) return this._sessionCommandLogs(sessionId, commandId)
  checkCallback(onStdout, 'onStdout')
  checkCallback(onStderr, 'onStderr')
  const stream = await this._followSessionCommandLogs(sessionId, commandId)
  await drainStream(stream, logDelivery(onStdout, onStderr))
}

Process.prototype.getEntrypointLogs = async function getEntrypointLogs(onStdout, onStderr) {
  if (!onStdout && !onStderr) return this._entrypointLogs()
  checkCallback(onStdout, 'onStdout')
  checkCallback(onStderr, 'onStderr')
  const stream = await this._followEntrypointLogs()
  await drainStream(stream, logDelivery(onStdout, onStderr))
}

function logDelivery(onStdout, onStderr) {
  return (item) => {
    if (item.kind === 'stdout') return onStdout ? onStdout(item.text) : undefined
    return onStderr ? onStderr(item.text) : undefined
  }
}

Process.prototype.createPty = async function createPty(options) {
  checkCallback(options && typeof options === 'object' ? options.onData : undefined, 'options.onData')
  const connection = await this._createPty(options)
  return new PtyHandle(connection, options.onData)
}

Process.prototype.connectPty = async function connectPty(sessionId, options) {
  const onData = options && typeof options === 'object' ? options.onData : undefined
  checkCallback(onData, 'options.onData')
  const connection = await this._connectPty(sessionId)
  return new PtyHandle(connection, onData)
}

// `runCode(code, { context, envs, timeout, onStdout, onStderr, onError })`: the callbacks get
// `{ output }` and `ExecutionError`s in order, all before the Promise resolves to the
// `ExecutionResult`.
CodeInterpreter.prototype.runCode = async function runCode(code, options = {}) {
  const { onStdout, onStderr, onError } = options && typeof options === 'object' ? options : {}
  checkCallback(onStdout, 'options.onStdout')
  checkCallback(onStderr, 'options.onStderr')
  checkCallback(onError, 'options.onError')
  const stream = await this._runCode(code, options, Boolean(onStdout || onStderr || onError))
  return drainStream(stream, (item) => {
    switch (item.kind) {
      case 'stdout':
        return onStdout ? onStdout({ output: item.text }) : undefined
      case 'stderr':
        return onStderr ? onStderr({ output: item.text }) : undefined
      case 'error':
        return onError ? onError(item.error) : undefined
    }
  })
}

// ---------------------------------------------------------------------------------------------
// FileSystem: the file streams. Bytes go to and come from the native side in pieces, each
// awaited, so a fast producer waits for the slow end and memory stays bounded whatever the
// file's size.

function toBuffer(source) {
  return Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength)
}

wrapNative(FileSystem.prototype, 'uploadFiles', (nativeUploadFiles) =>
  function uploadFiles(files, timeout) {
    if (!Array.isArray(files)) {
      return Promise.reject(new errors.DaytonaInvalidArgumentError(`files must be an array of FileUpload (got ${typeOf(files)})`))
    }
    const normalized = []
    for (const [i, f] of files.entries()) {
      const source = f && typeof f === 'object' ? f.source : undefined
      const destination = f && typeof f === 'object' ? f.destination : undefined
      if (typeof destination !== 'string') {
        return Promise.reject(new errors.DaytonaInvalidArgumentError(`files[${i}].destination must be a string (got ${typeOf(destination)})`))
      }
      if (typeof source === 'string' || source instanceof Uint8Array) {
        normalized.push({ source: typeof source === 'string' ? source : toBuffer(source), destination })
      } else {
        return Promise.reject(
          new errors.DaytonaInvalidArgumentError(`files[${i}].source must be a Buffer or a local file path (got ${typeOf(source)})`),
        )
      }
    }
    return nativeUploadFiles.call(this, normalized, timeout)
  },
)

wrapNative(FileSystem.prototype, 'downloadFiles', (nativeDownloadFiles) =>
  function downloadFiles(files, timeoutSec) {
    if (!Array.isArray(files)) {
      return Promise.reject(new errors.DaytonaInvalidArgumentError(`files must be an array of FileDownloadRequest (got ${typeOf(files)})`))
    }
    for (const [i, f] of files.entries()) {
      if (!f || typeof f !== 'object' || typeof f.source !== 'string') {
        return Promise.reject(new errors.DaytonaInvalidArgumentError(`files[${i}].source must be a string`))
      }
      if (f.destination !== undefined && f.destination !== null && typeof f.destination !== 'string') {
        return Promise.reject(new errors.DaytonaInvalidArgumentError(`files[${i}].destination must be a string`))
      }
    }
    return nativeDownloadFiles.call(
      this,
      files.map((f) => ({ source: f.source, destination: f.destination ?? undefined })),
      timeoutSec,
    )
  },
)

// `uploadFileStream(source, remotePath, { signal, onProgress, timeout })`: a Buffer, a local
// path, a Node Readable or a web ReadableStream, sent as it is read.
FileSystem.prototype.uploadFileStream = async function uploadFileStream(source, remotePath, options = {}) {
  const { Readable } = require('node:stream')
  const { signal, onProgress } = options ?? {}
  const cancelled = () => new errors.DaytonaError(`Upload cancelled: ${remotePath}`)
  if (signal?.aborted) throw cancelled()
  checkCallback(onProgress, 'options.onProgress')
  let readable
  if (source instanceof Uint8Array) readable = Readable.from([toBuffer(source)])
  else if (typeof source === 'string') readable = require('node:fs').createReadStream(source)
  else if (source instanceof Readable) readable = source
  else if (source && typeof source.getReader === 'function') readable = Readable.fromWeb(source)
  else if (source && typeof source[Symbol.asyncIterator] === 'function') readable = Readable.from(source)
  else throw new errors.DaytonaError(`Unsupported upload source: ${source?.constructor?.name ?? typeof source}`)
  const sink = this._uploadSink(remotePath, options?.timeout ?? 30 * 60)
  const done = sink.done()
  done.catch(() => {})
  const onAbort = () => {
    sink.fail(`Upload cancelled: ${remotePath}`)
    readable.destroy()
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  let bytesSent = 0
  try {
    for await (const chunk of readable) {
      const piece = typeof chunk === 'string' ? Buffer.from(chunk) : toBuffer(chunk)
      // At once while there is room; a Promise only when the sandbox is behind.
      const taken = sink.tryWrite(piece) ?? (await sink.write(piece))
      if (!taken) break
      bytesSent += piece.length
      if (onProgress) onProgress({ bytesSent })
    }
    sink.end()
  } catch (e) {
    if (signal?.aborted) throw cancelled()
    sink.fail(e && e.message ? e.message : String(e))
    await done.catch(() => {})
    throw e
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  try {
    await done
  } catch (e) {
    if (signal?.aborted) throw cancelled()
    throw e
  }
  if (signal?.aborted) throw cancelled()
}

// The largest piece a download's Readable pushes (and its highWaterMark). V8 frees the
// Buffers a reader is done with at its next scavenge, and scavenges follow the objects made:
// one object per 16 KiB rather than per piece of the core (32 KiB from the local engine, up to
// 512 KiB over HTTP) brings them often enough that a 1 GiB download keeps about 20 MB of dead
// Buffers instead of 32 (BENCHMARKS.md, "Results: file transfers").
const DOWNLOAD_PIECE = 16 * 1024

// `downloadFileStream(remotePath, timeout | { timeout, signal, onProgress })`: resolves to a
// Node Readable once the file's data begins; the next piece is fetched only when the reader
// wants more.
FileSystem.prototype.downloadFileStream = async function downloadFileStream(remotePath, timeoutOrOptions) {
  const { Readable } = require('node:stream')
  const options = typeof timeoutOrOptions === 'number' ? { timeout: timeoutOrOptions } : (timeoutOrOptions ?? {})
  const { signal, onProgress } = options
  const cancelled = () => new errors.DaytonaError('Download cancelled')
  if (signal?.aborted) throw cancelled()
  checkCallback(onProgress, 'options.onProgress')
  const pending = this._downloadStream(remotePath, options.timeout ?? 30 * 60)
  let aborted = false
  const earlyAbort = () => {
    aborted = true
  }
  signal?.addEventListener('abort', earlyAbort, { once: true })
  let native
  try {
    native = await pending
  } finally {
    signal?.removeEventListener('abort', earlyAbort)
  }
  if (aborted || signal?.aborted) {
    native.cancel()
    throw cancelled()
  }
  let bytesReceived = 0
  let pulling = false
  const readable = new Readable({
    highWaterMark: DOWNLOAD_PIECE,
    read() {
      if (pulling) return
      pulling = true
      native.next().then(
        async (batch) => {
          pulling = false
          if (batch === null) {
            try {
              await native.finish()
              this.push(null)
            } catch (e) {
              this.destroy(e)
            }
            return
          }
          let more = true
          for (const { data } of batch) {
            bytesReceived += data.length
            if (onProgress) onProgress({ bytesReceived, totalBytes: undefined })
            // In pieces of at most DOWNLOAD_PIECE bytes (views of the Buffer, not copies).
            for (let at = 0; at < data.length; at += DOWNLOAD_PIECE) more = this.push(data.subarray(at, at + DOWNLOAD_PIECE))
          }
          if (more) this.read(0)
        },
        (e) => {
          pulling = false
          this.destroy(e)
        },
      )
    },
    destroy(err, callback) {
      native.cancel()
      signal?.removeEventListener('abort', onAbort)
      callback(err)
    },
  })
  const onAbort = () => {
    if (!readable.destroyed && !readable.readableEnded) readable.destroy(cancelled())
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  readable.once('end', () => signal?.removeEventListener('abort', onAbort))
  return readable
}

// The classes made here are defined once per global object, like the error classes (errors.js):
// a copy of this module loaded again (jest's resetModules) hands out the same classes, so
// `instanceof PtyHandle` holds across copies.
const SHARED_TOOLBOX = Symbol.for('daytona-native.toolbox.v1')
function defineToolboxClasses() {
  /**
   * A connected PTY session (`process.createPty`/`connectPty`). Output goes to `onData` as
   * `Uint8Array`s, in order; `wait()` settles after the last one was delivered.
   */
  class PtyHandle {
    #connection
    #delivered
    #failed = null
    #failure
    #stream = null
    #disconnected = false

    constructor(connection, onData) {
      if (!(connection instanceof binding._PtyConnection)) {
        throw new TypeError('PtyHandle is made by process.createPty() and process.connectPty()')
      }
      this.#connection = connection
      this.sessionId = connection.sessionId
      let fail
      this.#failure = new Promise((_, reject) => {
        fail = reject
      })
      this.#failure.catch(() => {}) // observed by wait(); never an unhandled rejection
      this.#delivered = this.#deliver(onData, fail)
    }

    // Always reads the output (a full channel would hold up the session's exit status too); after
    // the callback threw, the rest is read and dropped.
    async #deliver(onData, fail) {
      const stream = this.#connection.data()
      if (!stream) return
      this.#stream = stream
      // A plain Uint8Array over the Buffer's bytes (no copy), as the official handle passes.
      let deliver = onData ? ({ data }) => onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) : () => {}
      for (;;) {
        let batch
        try {
          batch = await stream.next()
        } catch {
          return
        }
        if (batch === null) return
        for (const item of batch) {
          try {
            const r = deliver(item)
            if (r !== null && typeof r === 'object' && typeof r.then === 'function') await r
          } catch (e) {
            this.#failed = { value: e }
            deliver = () => {}
            fail(e)
          }
        }
      }
    }

    /** Exit code of the PTY process, once it has ended. */
    get exitCode() {
      return this.#connection.exitCode ?? undefined
    }

    /** Why the PTY ended or failed, if it did. */
    get error() {
      return this.#connection.error ?? undefined
    }

    /** Whether the connection to the PTY session is open. */
    isConnected() {
      return !this.#disconnected && this.#connection.isConnected()
    }

    /**
     * Resolves: a handle is only made once its connection was established (a failed one rejects
     * createPty/connectPty), and, as officially, an established connection stays "established".
     */
    async waitForConnection() {}

    /** Sends keyboard input (a string, sent as UTF-8, or raw bytes). */
    async sendInput(data) {
      if (!this.isConnected()) throw new errors.DaytonaConnectionError('PTY is not connected')
      let bytes
      if (typeof data === 'string') bytes = Buffer.from(data, 'utf8')
      else if (data instanceof Uint8Array) bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      else throw new errors.DaytonaInvalidArgumentError(`data must be a string or a Uint8Array (got ${typeOf(data)})`)
      await this.#connection.sendInput(bytes)
    }

    /** Resizes the terminal; resolves to the session's new `PtySessionInfo`. */
    async resize(cols, rows) {
      return this.#connection.resize(cols, rows)
    }

    /** Closes the connection (the PTY session keeps running; `connectPty` reconnects). */
    async disconnect() {
      // Not connected from here on, whatever the socket is still doing (as the official handle,
      // whose WebSocket is CLOSING); no more output is delivered.
      this.#disconnected = true
      if (this.#stream) this.#stream.cancel()
      await this.#connection.disconnect()
    }

    /**
     * Resolves to `{ exitCode, error }` when the PTY process has ended and its output was
     * delivered; rejects with what `onData` threw, or a `DaytonaError` if the PTY failed without
     * an exit code.
     */
    async wait() {
      const result = await Promise.race([this.#connection.wait(), this.#failure])
      await this.#delivered
      if (this.#failed) throw this.#failed.value
      const exitCode = result.exitCode ?? undefined
      const error = result.error ?? undefined
      if (exitCode === undefined && error) throw new errors.DaytonaError(error)
      return { exitCode, error }
    }

    /** Kills the PTY process and ends the session. */
    async kill() {
      await this.#connection.kill()
    }
  }

  /** Parameters of `process.codeRun`. */
  class CodeRunParams {
    /** Command line arguments. */
    argv
    /** Environment variables. */
    env
  }

  return { PtyHandle, CodeRunParams }
}
if (!globalThis[SHARED_TOOLBOX]) {
  Object.defineProperty(globalThis, SHARED_TOOLBOX, { value: defineToolboxClasses(), enumerable: false, configurable: false, writable: false })
}
const { PtyHandle, CodeRunParams } = globalThis[SHARED_TOOLBOX]

// The official Process module's stream markers (exported by it; the toolbox labels session
// output with them).
const STDOUT_PREFIX_BYTES = new Uint8Array([0x01, 0x01, 0x01])
const STDERR_PREFIX_BYTES = new Uint8Array([0x02, 0x02, 0x02])
const MAX_PREFIX_LEN = Math.max(STDOUT_PREFIX_BYTES.length, STDERR_PREFIX_BYTES.length)

/** Kinds of charts in `codeRun` artifacts. */
const ChartType = Object.freeze({
  LINE: 'line',
  SCATTER: 'scatter',
  BAR: 'bar',
  PIE: 'pie',
  BOX_AND_WHISKER: 'box_and_whisker',
  COMPOSITE_CHART: 'composite_chart',
  UNKNOWN: 'unknown',
})

module.exports.Image = Image
module.exports.Daytona = Daytona
module.exports.Sandbox = Sandbox
module.exports.SnapshotService = SnapshotService
module.exports.Process = Process
module.exports.FileSystem = FileSystem
module.exports.CodeInterpreter = CodeInterpreter
module.exports.LocalImageService = LocalImageService
module.exports.PtyHandle = PtyHandle
module.exports.CodeRunParams = CodeRunParams
module.exports.ChartType = ChartType
module.exports.STDOUT_PREFIX_BYTES = STDOUT_PREFIX_BYTES
module.exports.STDERR_PREFIX_BYTES = STDERR_PREFIX_BYTES
module.exports.MAX_PREFIX_LEN = MAX_PREFIX_LEN
// The official package re-exports these enums of its API client (plain objects, one key per
// value, including the generated client's UNKNOWN_DEFAULT_OPEN_API).
const UNKNOWN_DEFAULT_OPEN_API = '11184809'
module.exports.SandboxState = {
  CREATING: 'creating', RESTORING: 'restoring', DESTROYED: 'destroyed', DESTROYING: 'destroying', STARTED: 'started',
  STOPPED: 'stopped', STARTING: 'starting', STOPPING: 'stopping', ERROR: 'error', BUILD_FAILED: 'build_failed',
  PENDING_BUILD: 'pending_build', BUILDING_SNAPSHOT: 'building_snapshot', UNKNOWN: 'unknown', PULLING_SNAPSHOT: 'pulling_snapshot',
  ARCHIVED: 'archived', ARCHIVING: 'archiving', RESIZING: 'resizing', SNAPSHOTTING: 'snapshotting', FORKING: 'forking',
  PAUSING: 'pausing', PAUSED: 'paused', RESUMING: 'resuming', UNKNOWN_DEFAULT_OPEN_API,
}
module.exports.SnapshotState = {
  BUILDING: 'building', PENDING: 'pending', PULLING: 'pulling', SNAPSHOTTING: 'snapshotting', ACTIVE: 'active', INACTIVE: 'inactive',
  ERROR: 'error', BUILD_FAILED: 'build_failed', REMOVING: 'removing', UNKNOWN_DEFAULT_OPEN_API,
}
module.exports.SandboxListSortField = {
  NAME: 'name', CPU: 'cpu', MEMORY_GIB: 'memoryGib', DISK_GIB: 'diskGib', LAST_ACTIVITY_AT: 'lastActivityAt', CREATED_AT: 'createdAt',
  UNKNOWN_DEFAULT_OPEN_API,
}
module.exports.SandboxListSortDirection = { ASC: 'asc', DESC: 'desc', UNKNOWN_DEFAULT_OPEN_API }
module.exports.SandboxClass = { LINUX_VM: 'linux-vm', CONTAINER: 'container', ANDROID: 'android', WINDOWS: 'windows', UNKNOWN_DEFAULT_OPEN_API }
module.exports.GpuType = {
  H100: 'H100', H200: 'H200', B300: 'B300', RTX_PRO_6000: 'RTX-PRO-6000', RTX_4090: 'RTX-4090', RTX_5090: 'RTX-5090', MI355X: 'MI355X',
  UNKNOWN_DEFAULT_OPEN_API,
}
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
