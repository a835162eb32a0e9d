'use strict'
// A fake Daytona API + toolbox for the API-backend tests (`startApiServer(options)`).
//
// One Node http listener on 127.0.0.1 (ephemeral port) serves
//   {apiUrl}     = http://127.0.0.1:P/api      the REST API of ../shared/openapi/daytona-api.json
//   {toolboxUrl} = http://127.0.0.1:P/toolbox  the toolbox proxy: {toolboxUrl}/{sandboxId}/<path of
//                                              daytona-toolbox.json> (process/execute, files/bulk-*)
// and a second listener, the "foreign host" (127.0.0.2, or another port of 127.0.0.1 when that
// address is unusable), serves build logs at /logs/{sandbox|snapshot}/{id}/{token} without
// asking for credentials (the token in the path is the credential, like a pre-signed URL). With
// `logsHost: 'foreign'` the build-logs-url endpoints hand out that URL, so a test can see whether a
// client sends the API key to a host that is not the API (the official SDK does: reference §8.16).
//
// State is in memory and moves on timers (durations in `options.timings`, tens of ms by default):
//   sandbox with buildInfo:    pending_build -> building_snapshot -> starting -> started
//                              (or build_failed / error with errorReason; or 'hang': building forever)
//   sandbox without buildInfo: creating -> starting -> started (or error)
//   stop: stopping -> stopped;  start: starting -> started;
//   delete: destroying -> destroyed (still answered for `destroyedVisibleMs`) -> 404
//   snapshot with buildInfo:   pending -> building -> active (or build_failed / error)
//   snapshot from imageName:   pending -> pulling -> active
// While building, the configured log lines are appended one every `lineIntervalMs`; the log is
// complete when the build leaves its building state.
//
// Every request is recorded in `requests` ({seq, listener, method, path, op, query, rawQuery,
// headers, body, status, ...}). API and toolbox requests are validated against the specs
// (./openapi.js); a request that does not conform gets 400 with a JSON error body and is
// recorded in `state.violations`, so a test can assert that a client speaks exactly the wire
// format of the spec (plus the small drift allow-list in openapi.js). Unknown routes and methods
// are violations too. The fake's own JSON responses are checked against the response schemas
// (`state.responseViolations`, a self-check). Authorization: API and toolbox routes need
// `Authorization: Bearer <apiKey>` (401 otherwise); `state.authorizationSeenBy` counts, per
// origin, the requests that carried an Authorization header.
//
// Build-log streaming (GET {apiUrl}/sandbox/{id}/build-logs and /snapshots/{id}/build-logs, or the
// foreign URL): text/plain, chunked, one `\n`-terminated line after another. Without
// `follow=true` the response holds the lines so far and ends; with it the response stays open
// and ends when the build is terminal and every line has been written.
//
// RESUMING A DROPPED LOG STREAM: the log is an append-only byte sequence, so a client resumes by
// byte offset with a standard HTTP range request: `Range: bytes=<offset>-`, where <offset> is the
// number of bytes it has consumed, i.e. the end of the last complete line it delivered. The server
// answers 206 Partial Content and the body starts exactly at <offset> (following as before); 416
// if <offset> is past the end of a finished log. A server that ignores Range answers 200 from
// byte 0 (the `ignoreRange` fault simulates this), so a client must handle both: on 206 the body
// starts at <offset>, on 200 it skips <offset> bytes itself. Either way no line is lost or
// repeated, and a half line received before the cut is discarded and re-read whole.
// (Range is a header, not a query parameter: the spec declares only `follow`.)
//
// Faults (`faults`, settable per test, each consumed by `count`, default 1) match requests by
// `op` (operationId string, array or RegExp; the foreign log route is 'foreignBuildLogs'),
// `method`, `path` (string or RegExp on the full path) and `listener` ('api' | 'foreign'):
//   faults.status(op, status, body?, {headers})   respond with that status/body (e.g. 429 + Retry-After)
//   faults.reset(op, {phase: 'before'|'after'})   destroy the socket before handling, or after the
//                                                 handler ran (the server did the work, the reply is lost)
//   faults.garbage(op, {body})                    200 with a body that is not JSON
//   faults.delay(op, ms)                          answer normally after ms
//   faults.stall(op, {phase})                     accept and never answer: 'before' (default) sends
//                                                 nothing, 'headers' a 200 head and no body, 'body'
//                                                 a 200 head and the start of a JSON body
//   faults.flood(op, {bytes, head, fill, tail, contentType, status, chunked})
//                                                 a body of `bytes` bytes (Infinity: endless):
//                                                 `head`, then `fill` repeated, then `tail`; chunked
//                                                 unless `chunked: false` (then Content-Length);
//                                                 written with backpressure, never held in memory,
//                                                 stopped when the client goes away
//   faults.raw(op, {text})                        bytes that are not HTTP at all, then close
//   faults.cutLogs({atLine})                      on a log stream: write half of line `atLine`
//                                                 (0-based, absolute) and destroy the socket
//   faults.ignoreRange()                          on a log stream: ignore Range, answer 200 from 0
//   faults.cutSocket(op, {afterBytes})            on a toolbox WebSocket (op e.g.
//                                                 'GetSessionCommandLogs'): drop the connection
//                                                 without a close frame after that many data bytes
// Any fault also takes `delayMs` (wait before acting) and `when(record)` (an extra predicate, e.g.
// only requests that carry a Range header). `fault.fired` counts uses.
//
// Files: this one (listeners, the request pipeline: recording, auth, validation, replies; close)
// and its sections, each a factory over the server's shared context: ./routes.js (the REST API,
// sandbox/snapshot state machines), ./build-logs.js (BuildLog, log streaming and resume),
// ./toolbox.js (process/execute, bulk upload/download; WebSocket upgrades), ./process.js (sessions,
// PTY, code run, the interpreter), ./words.js (shell words), ./faults.js (Faults and applying them),
// ./util.js (small shared helpers); ./openapi.js, ./multipart.js and ./s3.js as before.

const http = require('node:http')
const crypto = require('node:crypto')

const { loadValidators, checkUploadParts } = require('./openapi.js')
const { parseMultipart } = require('./multipart.js')
const { readS3Config, startS3Proxy } = require('./s3.js')
const { REASONS, merge } = require('./util.js')
const { Faults, createFaultActions } = require('./faults.js')
const { DEFAULT_LOG_LINES, BuildLog, createBuildLogs } = require('./build-logs.js')
const { createToolbox } = require('./toolbox.js')
const { startAgent } = require('./agent.js')
const { shellWords } = require('./words.js')
const { createApiRoutes } = require('./routes.js')

const DEFAULTS = {
  timings: {
    creatingMs: 20,
    startingMs: 20,
    pendingBuildMs: 30,
    stoppingMs: 30,
    destroyingMs: 20,
    destroyedVisibleMs: 100,
    snapshotPendingMs: 30,
    snapshotPullMs: 30,
    splitDelayMs: 5,
  },
  /** Sandbox image builds (create with buildInfo). outcome: started | build_failed | error | hang */
  build: { lines: DEFAULT_LOG_LINES, lineIntervalMs: 10, outcome: 'started', errorReason: 'Step 2/4 failed: exit code 1' },
  /** Snapshot builds. outcome: active | build_failed | error | hang */
  snapshotBuild: { lines: DEFAULT_LOG_LINES, lineIntervalMs: 10, outcome: 'active', errorReason: 'Step 2/4 failed: exit code 1' },
  /** Starting a sandbox (create without build, start). outcome: started | error */
  sandbox: { startOutcome: 'started', errorReason: 'runner unavailable' },
  /** 'same': logs on the API origin; 'foreign': on the second listener. */
  logsHost: 'same',
  /** 'line': one write per line; 'split': each line in two writes (inside a UTF-8 sequence when
   *  there is one); 'batch': everything available in one write. */
  logChunking: 'line',
  /** 'direct': push-access points at moto; 'proxy': at a recording proxy in front of moto;
   *  'none': dummy credentials (no S3 needed). */
  s3: 'direct',
  target: 'us',
  defaultSnapshot: 'daytonaio/sandbox:0.5.0',
}

/**
 * Starts the fake API. See the header comment.
 * @param {object} [options] apiKey, organizationId, timings, build, snapshotBuild, sandbox,
 *   logsHost, logChunking, s3 ('direct'|'proxy'|'none'), s3Config, target, strict (default true:
 *   answer 400 to non-conforming requests), toolboxAgent (process routes forwarded to a real
 *   agent: see ./agent.js)
 */
async function startApiServer(options = {}) {
  const config = merge(DEFAULTS, options)
  const apiKey = options.apiKey || `dtn-test-${crypto.randomBytes(12).toString('hex')}`
  const organizationId = options.organizationId || crypto.randomUUID()
  const logsToken = crypto.randomBytes(16).toString('hex')
  const strict = options.strict !== false
  const validators = loadValidators()

  const requests = []
  const timers = new Set()
  const streams = new Set()
  const sockets = new Set()
  const state = {
    apiKey,
    organizationId,
    logsToken,
    sandboxes: new Map(),
    snapshots: new Map(),
    violations: [],
    responseViolations: [],
    unimplemented: [],
    authorizationSeenBy: {},
    authFailures: [],
    s3Requests: [],
    counters: { sandbox: 0, snapshot: 0 },
    closed: false,
  }
  const faults = new Faults()

  function schedule(ms, fn) {
    if (state.closed) return
    const t = setTimeout(() => {
      timers.delete(t)
      if (!state.closed) fn()
    }, ms)
    timers.add(t)
  }

  // ---------------------------------------------------------------------------------------
  // listeners

  const apiServer = http.createServer((req, res) => handle('api', req, res))
  const foreignServer = http.createServer((req, res) => handle('foreign', req, res))
  for (const s of [apiServer, foreignServer]) {
    s.keepAliveTimeout = 2000
    s.on('clientError', (err, socket) => socket.destroy())
  }
  await new Promise((resolve) => apiServer.listen(0, '127.0.0.1', resolve))
  const foreignHost = await new Promise((resolve) => {
    const onError = () => {
      foreignServer.removeListener('error', onError)
      foreignServer.listen(0, '127.0.0.1', () => resolve('127.0.0.1'))
    }
    foreignServer.once('error', onError)
    foreignServer.listen(0, '127.0.0.2', () => {
      foreignServer.removeListener('error', onError)
      resolve('127.0.0.2')
    })
  })
  const apiOrigin = `http://127.0.0.1:${apiServer.address().port}`
  const foreignOrigin = `http://${foreignHost}:${foreignServer.address().port}`
  const apiUrl = `${apiOrigin}/api`
  const toolboxUrl = `${apiOrigin}/toolbox`

  let s3 = null
  let s3Proxy = null
  if (config.s3 !== 'none') {
    const cfg = options.s3Config || readS3Config()
    s3 = { ...cfg, storageUrl: cfg.endpoint }
    if (config.s3 === 'proxy') {
      s3Proxy = await startS3Proxy(cfg.endpoint, state.s3Requests)
      s3.storageUrl = s3Proxy.url
    }
  }

  // ---------------------------------------------------------------------------------------
  // request pipeline

  async function handle(listener, req, res) {
    const chunks = []
    try {
      for await (const c of req) chunks.push(c)
    } catch {
      return
    }
    const raw = Buffer.concat(chunks)
    const url = new URL(req.url, listener === 'api' ? apiOrigin : foreignOrigin)
    const query = new Map()
    for (const [k, v] of url.searchParams) query.set(k, [...(query.get(k) || []), v])
    const rec = {
      seq: requests.length,
      time: Date.now(),
      listener,
      origin: listener === 'api' ? apiOrigin : foreignOrigin,
      method: req.method,
      path: url.pathname,
      rawQuery: url.search.replace(/^\?/, ''),
      query: Object.fromEntries([...query].map(([k, v]) => [k, v.length === 1 ? v[0] : v])),
      headers: { ...req.headers },
      rawHeaders: req.rawHeaders.slice(),
      rawBody: raw,
      body: undefined,
      kind: null,
      op: null,
      status: null,
      faults: [],
      violations: [],
    }
    requests.push(rec)
    if (req.headers.authorization !== undefined) {
      state.authorizationSeenBy[rec.origin] = (state.authorizationSeenBy[rec.origin] || 0) + 1
    }
    const ctx = { req, res, rec, url, query, raw, listener, resetAfter: false }
    try {
      if (listener === 'foreign') return await routeForeign(ctx)
      if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return await routeApi(ctx)
      if (url.pathname.startsWith('/toolbox/')) return await routeToolbox(ctx)
      rec.kind = 'unknown'
      violation(ctx, [`no such route: ${req.method} ${url.pathname}`])
      return send(ctx, 404, errorBody(404, `Cannot ${req.method} ${url.pathname}`))
    } catch (e) {
      if (!res.headersSent && !res.destroyed) send(ctx, 500, errorBody(500, `test server error: ${e.stack || e}`))
    }
  }

  function parseBody(ctx) {
    const ct = ctx.req.headers['content-type'] || ''
    const body = { contentType: ct, raw: ctx.raw }
    if (ctx.raw.length === 0) return body
    if (/^application\/json/i.test(ct)) {
      try {
        body.json = JSON.parse(ctx.raw.toString('utf8'))
        ctx.rec.body = body.json
      } catch (e) {
        body.jsonError = e.message
        ctx.rec.body = ctx.raw.toString('utf8')
      }
    } else if (/^multipart\/form-data/i.test(ct)) {
      const mp = parseMultipart(ctx.raw, ct)
      body.multipart = mp
      ctx.rec.body = {
        parts: mp.parts.map((p) => ({ name: p.name, filename: p.filename, contentType: p.contentType, data: p.data })),
        error: mp.error,
      }
    } else {
      ctx.rec.body = ctx.raw.toString('utf8')
    }
    return body
  }

  function violation(ctx, errors) {
    ctx.rec.violations.push(...errors)
    state.violations.push({ seq: ctx.rec.seq, method: ctx.rec.method, path: ctx.rec.path, op: ctx.rec.op, errors })
  }

  function authorized(ctx) {
    const h = ctx.req.headers.authorization
    if (h === `Bearer ${apiKey}`) return true
    state.authFailures.push({ seq: ctx.rec.seq, path: ctx.rec.path, header: h === undefined ? 'missing' : 'wrong' })
    send(ctx, 401, errorBody(401, 'Unauthorized'))
    return false
  }

  /** Common steps after routing: auth, validation, faults. Returns false when answered. */
  async function gate(ctx, validator, m, body) {
    if (!authorized(ctx)) return false
    const errors = validator.validateRequest(m, ctx.query, body)
    if (body.multipart) {
      if (body.multipart.error) errors.push(`multipart: ${body.multipart.error}`)
      else if (m.operationId === 'UploadFiles') errors.push(...checkUploadParts(body.multipart.parts))
    }
    if (errors.length) {
      violation(ctx, errors)
      if (strict) {
        send(ctx, 400, errorBody(400, `Request does not conform to the spec: ${errors.join('; ')}`, { violations: errors }))
        return false
      }
    }
    const f = faults.take(ctx.rec)
    if (f) return applyFault(ctx, f)
    return true
  }

  function destroy(ctx) {
    ctx.rec.status = 'reset'
    ctx.req.socket.destroy()
  }

  function send(ctx, status, body, headers = {}) {
    const { res, rec } = ctx
    if (ctx.resetAfter) return destroy(ctx)
    rec.status = status
    rec.responseBody = body
    let payload
    let type
    if (body === undefined || body === null) {
      payload = Buffer.alloc(0)
    } else if (Buffer.isBuffer(body) || typeof body === 'string') {
      payload = Buffer.from(body)
      type = 'text/plain; charset=utf-8'
    } else {
      payload = Buffer.from(JSON.stringify(body))
      type = 'application/json; charset=utf-8'
      if (status >= 200 && status < 300 && ctx.match && ctx.validator) {
        const errs = ctx.validator.validateResponse(ctx.match, status, body)
        if (errs.length) state.responseViolations.push({ seq: rec.seq, op: rec.op, errors: errs })
      }
    }
    const h = { ...headers }
    if (type && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = type
    h['content-length'] = payload.length
    res.writeHead(status, h)
    res.end(payload)
  }

  function errorBody(status, message, extra = {}) {
    return { statusCode: status, message, error: REASONS[status] || 'Error', ...extra }
  }

  // ---------------------------------------------------------------------------------------
  // the sections, each in its module, sharing this server's context S

  const S = {
    config,
    state,
    faults,
    validators,
    streams,
    sockets,
    apiKey,
    organizationId,
    logsToken,
    apiUrl,
    toolboxUrl,
    foreignOrigin,
    s3,
    schedule,
    parseBody,
    violation,
    gate,
    send,
    destroy,
    errorBody,
  }
  const { applyFault } = createFaultActions(S)
  S.applyFault = applyFault
  const { routeApi, findSandbox, findSnapshot } = createApiRoutes(S)
  Object.assign(S, { findSandbox, findSnapshot })
  const { routeForeign, serveLogs } = createBuildLogs(S)
  S.serveLogs = serveLogs
  if (config.toolboxAgent) S.agent = await startAgent(config.toolboxAgent)
  const { routeToolbox, routeUpgrade } = createToolbox(S)
  apiServer.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head))

  /** A WebSocket handshake: recorded like a request, then routed below {toolboxUrl}. */
  async function handleUpgrade(req, socket, head) {
    socket.on('error', () => {})
    const url = new URL(req.url, apiOrigin)
    const query = new Map()
    for (const [k, v] of url.searchParams) query.set(k, [...(query.get(k) || []), v])
    const rec = {
      seq: requests.length,
      time: Date.now(),
      listener: 'api',
      origin: apiOrigin,
      method: req.method,
      path: url.pathname,
      rawQuery: url.search.replace(/^\?/, ''),
      query: Object.fromEntries([...query].map(([k, v]) => [k, v.length === 1 ? v[0] : v])),
      headers: { ...req.headers },
      rawHeaders: req.rawHeaders.slice(),
      rawBody: Buffer.alloc(0),
      body: undefined,
      kind: null,
      op: null,
      status: null,
      faults: [],
      violations: [],
    }
    requests.push(rec)
    if (req.headers.authorization !== undefined) {
      state.authorizationSeenBy[rec.origin] = (state.authorizationSeenBy[rec.origin] || 0) + 1
    }
    const ctx = { req, socket, head, rec, url, query, listener: 'api' }
    if (!url.pathname.startsWith('/toolbox/')) {
      rec.kind = 'unknown'
      violation(ctx, [`no such WebSocket route: ${req.method} ${url.pathname}`])
      return socket.destroy()
    }
    try {
      await routeUpgrade(ctx)
    } catch (e) {
      socket.destroy()
    }
  }

  // ---------------------------------------------------------------------------------------

  async function close() {
    if (state.closed) return
    state.closed = true
    for (const t of timers) clearTimeout(t)
    timers.clear()
    for (const s of streams) {
      s.wake()
      s.res.destroy()
    }
    for (const ws of sockets) ws.terminate()
    for (const s of [apiServer, foreignServer]) s.closeAllConnections()
    await Promise.all([apiServer, foreignServer].map((s) => new Promise((r) => s.close(() => r()))))
    if (s3Proxy) await s3Proxy.close()
    if (S.agent) await S.agent.close()
  }

  return {
    apiUrl,
    toolboxUrl,
    apiOrigin,
    foreignOrigin,
    apiKey,
    organizationId,
    config,
    requests,
    state,
    faults,
    s3: s3 && { ...s3 },
    close,
    /** Log streams the server is still writing (a client that gave up should have closed its). */
    openLogStreams: () => streams.size,
    /** Records of API/toolbox/log requests only (no unknown routes). */
    apiRequests: () => requests.filter((r) => r.kind === 'api' || r.kind === 'toolbox' || r.kind === 'logs'),
    sandbox: (idOrName) => findSandbox(idOrName) || state.sandboxes.get(idOrName) || null,
    snapshot: (idOrName) => findSnapshot(idOrName),
  }
}

module.exports = { startApiServer, BuildLog, DEFAULT_LOG_LINES, shellWords }
