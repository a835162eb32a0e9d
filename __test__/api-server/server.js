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
// Any fault also takes `delayMs` (wait before acting) and `when(record)` (an extra predicate, e.g.
// only requests that carry a Range header). `fault.fired` counts uses.

const http = require('node:http')
const path = require('node:path')
const crypto = require('node:crypto')

const { loadValidators, checkUploadParts } = require('./openapi.js')
const { parseMultipart, buildMultipart } = require('./multipart.js')
const { readS3Config, startS3Proxy } = require('./s3.js')

const DEFAULT_LOG_LINES = [
  'Step 1/4 : FROM python:3.12.10-slim-bookworm',
  ' ---> 3f2a9c1b7d4e',
  'Step 2/4 : RUN python -m pip install requests',
  'Collecting requests (grüße ✓ ünïcödé)',
  'Step 3/4 : WORKDIR /home/daytona',
  'Successfully built 3f2a9c1b7d4e',
]

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

const REASONS = http.STATUS_CODES
const HOME = '/home/daytona'

const isPlain = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

/** A deep copy of `base` with `over` merged in (plain objects recursively; nothing is shared). */
function merge(base, over) {
  const out = {}
  for (const [k, v] of Object.entries(base)) out[k] = isPlain(v) ? merge(v, {}) : Array.isArray(v) ? v.slice() : v
  for (const [k, v] of Object.entries(over || {})) {
    out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k], v) : Array.isArray(v) ? v.slice() : v
  }
  return out
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const nowIso = () => new Date().toISOString()
const idFor = (prefix, n) => `${prefix}000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

/** An append-only build log that streams can follow. */
class BuildLog {
  constructor() {
    this.buf = Buffer.alloc(0)
    this.lineStarts = []
    this.done = false
    this.waiters = new Set()
  }
  get total() {
    return this.buf.length
  }
  append(line) {
    this.lineStarts.push(this.buf.length)
    this.buf = Buffer.concat([this.buf, Buffer.from(`${line}\n`)])
    this.wake()
  }
  finish() {
    this.done = true
    this.wake()
  }
  wake() {
    const ws = [...this.waiters]
    this.waiters.clear()
    ws.forEach((w) => w())
  }
  wait() {
    return new Promise((resolve) => this.waiters.add(resolve))
  }
  /** Index of the line containing byte `pos`. */
  lineAt(pos) {
    let lo = 0
    let hi = this.lineStarts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.lineStarts[mid] <= pos) lo = mid
      else hi = mid - 1
    }
    return lo
  }
  lineEnd(i) {
    return i + 1 < this.lineStarts.length ? this.lineStarts[i + 1] : this.buf.length
  }
  get lines() {
    return this.buf.toString('utf8').split('\n').slice(0, -1)
  }
}

class Faults {
  constructor() {
    this.list = []
  }
  add(spec) {
    const f = { count: 1, fired: 0, ...spec }
    this.list.push(f)
    return f
  }
  status(op, status, body, extra = {}) {
    return this.add({ kind: 'status', op, status, body, ...extra })
  }
  reset(op, extra = {}) {
    return this.add({ kind: 'reset', op, phase: 'before', ...extra })
  }
  garbage(op, extra = {}) {
    return this.add({ kind: 'garbage', op, ...extra })
  }
  delay(op, ms, extra = {}) {
    return this.add({ kind: 'delay', op, ms, ...extra })
  }
  stall(op, extra = {}) {
    return this.add({ kind: 'stall', op, phase: 'before', ...extra })
  }
  flood(op, extra = {}) {
    return this.add({ kind: 'flood', op, bytes: 64 << 20, head: '', fill: 'a', tail: '', contentType: 'application/json', status: 200, chunked: true, ...extra })
  }
  raw(op, extra = {}) {
    return this.add({ kind: 'raw', op, text: 'SSH-2.0-OpenSSH_9.6 not http at all\r\n\r\n', ...extra })
  }
  cutLogs(extra = {}) {
    return this.add({ kind: 'cut', op: /BuildLogs$/, atLine: 2, ...extra })
  }
  ignoreRange(extra = {}) {
    return this.add({ kind: 'ignoreRange', op: /BuildLogs$/, ...extra })
  }
  clear() {
    this.list.length = 0
  }
  /** The first live fault matching the request, consumed; or null. */
  take(rec, kinds) {
    for (const f of this.list) {
      if (f.fired >= f.count) continue
      if (kinds && !kinds.includes(f.kind)) continue
      if (kinds === undefined && (f.kind === 'cut' || f.kind === 'ignoreRange')) continue
      if (!matches(f.op, rec.op)) continue
      if (f.method && f.method.toUpperCase() !== rec.method) continue
      if (f.path !== undefined && !matches(f.path, rec.path)) continue
      if (f.listener && f.listener !== rec.listener) continue
      if (f.when && !f.when(rec)) continue
      f.fired++
      rec.faults.push(f.kind)
      return f
    }
    return null
  }
}

function matches(pattern, value) {
  if (pattern === undefined || pattern === null) return true
  if (pattern instanceof RegExp) return pattern.test(value || '')
  if (Array.isArray(pattern)) return pattern.includes(value)
  return pattern === value
}

/** Minimal shell word splitting for the fake `process/execute` (quotes, backslash, $VAR). */
function shellWords(text, env) {
  const words = []
  let cur = null
  let i = 0
  const expand = (s) => s.replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a, b) => env[a || b] ?? '')
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      if (cur !== null) words.push(cur)
      cur = null
      i++
    } else if (c === "'") {
      const j = text.indexOf("'", i + 1)
      cur = (cur || '') + text.slice(i + 1, j < 0 ? text.length : j)
      i = j < 0 ? text.length : j + 1
    } else if (c === '"') {
      let j = i + 1
      let s = ''
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++
        s += text[j++]
      }
      cur = (cur || '') + expand(s)
      i = j + 1
    } else if (c === '\\' && i + 1 < text.length) {
      cur = (cur || '') + text[i + 1]
      i += 2
    } else {
      let j = i
      while (j < text.length && !/[\s'"\\]/.test(text[j])) j++
      cur = (cur || '') + expand(text.slice(i, j))
      i = j
    }
  }
  if (cur !== null) words.push(cur)
  return words
}

/**
 * Starts the fake API. See the header comment.
 * @param {object} [options] apiKey, organizationId, timings, build, snapshotBuild, sandbox,
 *   logsHost, logChunking, s3 ('direct'|'proxy'|'none'), s3Config, target, strict (default true:
 *   answer 400 to non-conforming requests)
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

  async function applyFault(ctx, f) {
    if (f.delayMs) await sleep(f.delayMs)
    switch (f.kind) {
      case 'status': {
        const body = f.body === undefined ? errorBody(f.status, REASONS[f.status] || 'Error') : f.body
        send(ctx, f.status, body, f.headers)
        return false
      }
      case 'reset':
        if (f.phase === 'after') {
          ctx.resetAfter = true
          return true
        }
        destroy(ctx)
        return false
      case 'garbage': {
        const text = f.body ?? '{"id": "5a000000-0000-4000-8000-0000000000ff", "state": "start'
        ctx.rec.status = f.status || 200
        ctx.res.writeHead(f.status || 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
        ctx.res.end(text)
        return false
      }
      case 'delay':
        await sleep(f.ms || 0)
        return true
      case 'stall': {
        ctx.rec.status = 'stalled'
        if (f.phase === 'headers' || f.phase === 'body') {
          ctx.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': 4096 })
          ctx.res.flushHeaders()
          if (f.phase === 'body') ctx.res.write('{"id": "5a000000-0000-4000-8000-0000000000ff", "state": ')
        }
        // Never answered; close() destroys the connection.
        return false
      }
      case 'flood':
        await flood(ctx, f)
        return false
      case 'raw':
        ctx.rec.status = 'raw'
        ctx.req.socket.end(f.text)
        return false
      default:
        return true
    }
  }

  /** Writes a body of f.bytes bytes (see faults.flood) with backpressure. */
  async function flood(ctx, f) {
    const { res, rec } = ctx
    rec.status = f.status
    const head = Buffer.from(f.head)
    const tail = Buffer.from(f.tail)
    const total = f.bytes
    const headers = { 'content-type': f.contentType }
    if (!f.chunked && Number.isFinite(total)) headers['content-length'] = total
    res.writeHead(f.status, headers)
    const block = Buffer.alloc(1 << 20, f.fill)
    let closed = false
    res.on('close', () => (closed = true))
    let sent = 0
    const write = (buf) =>
      new Promise((resolve) => {
        if (closed || state.closed) return resolve(false)
        sent += buf.length
        if (res.write(buf)) return resolve(true)
        const done = () => {
          res.removeListener('drain', done)
          res.removeListener('close', done)
          resolve(!closed)
        }
        res.once('drain', done)
        res.once('close', done)
      })
    if (!(await write(head))) return
    const fillBytes = total - head.length - tail.length
    let left = fillBytes
    while (left > 0) {
      const n = Math.min(left, block.length)
      if (!(await write(n === block.length ? block : block.subarray(0, n)))) {
        rec.bytesSent = sent
        return
      }
      left -= n
    }
    if (await write(tail)) res.end()
    rec.bytesSent = sent
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
  // API routes

  async function routeApi(ctx) {
    const { rec } = ctx
    rec.kind = 'api'
    const sub = ctx.url.pathname.slice('/api'.length) || '/'
    const validator = validators.api
    const m = validator.match(ctx.req.method, sub)
    const body = parseBody(ctx)
    if (!m) {
      violation(ctx, [`no operation in the spec for ${ctx.req.method} ${sub}`])
      return send(ctx, 404, errorBody(404, `Cannot ${ctx.req.method} ${ctx.url.pathname}`))
    }
    if (!m.op) {
      violation(ctx, [`method ${ctx.req.method} not defined for ${m.template} (allowed: ${m.allowed.join(', ')})`])
      return send(ctx, 405, errorBody(405, `Method ${ctx.req.method} not allowed`))
    }
    rec.op = m.operationId
    rec.template = m.template
    ctx.match = m
    ctx.validator = validator
    if (!(await gate(ctx, validator, m, body))) return
    const handler = apiHandlers[m.operationId]
    if (!handler) {
      state.unimplemented.push({ seq: rec.seq, op: rec.op })
      return send(ctx, 501, errorBody(501, `not implemented by the test server: ${m.operationId}`))
    }
    return handler(ctx, m.pathParams, body.json)
  }

  function findSandbox(idOrName) {
    const s = state.sandboxes.get(idOrName)
    if (s && !s.gone) return s
    for (const sb of state.sandboxes.values()) if (!sb.gone && sb.name === idOrName) return sb
    return null
  }
  function sandboxNotFound(ctx, idOrName) {
    return send(ctx, 404, errorBody(404, `Sandbox with ID or name ${idOrName} not found`))
  }
  function findSnapshot(idOrName, byIdOnly = false) {
    const s = state.snapshots.get(idOrName)
    if (s) return s
    if (byIdOnly) return null
    for (const sn of state.snapshots.values()) if (sn.name === idOrName) return sn
    return null
  }
  function snapshotNotFound(ctx, idOrName) {
    return send(ctx, 404, errorBody(404, `Snapshot ${idOrName} not found`))
  }

  function setState(sb, st, errorReason) {
    sb.state = st
    sb.updatedAt = nowIso()
    if (errorReason !== undefined) sb.errorReason = errorReason
    sb.history.push(st)
  }

  function sandboxDto(sb, listItem = false) {
    const dto = {
      id: sb.id,
      organizationId,
      name: sb.name,
      snapshot: sb.snapshot,
      user: sb.user,
      env: sb.env,
      labels: sb.labels,
      public: sb.public,
      networkBlockAll: sb.networkBlockAll,
      target: sb.target,
      cpu: sb.cpu,
      gpu: sb.gpu,
      memory: sb.memory,
      disk: sb.disk,
      state: sb.state,
      desiredState: sb.desiredState,
      backupState: 'None',
      autoStopInterval: sb.autoStopInterval,
      autoArchiveInterval: sb.autoArchiveInterval,
      autoDeleteInterval: sb.autoDeleteInterval,
      volumes: sb.volumes,
      createdAt: sb.createdAt,
      updatedAt: sb.updatedAt,
      sandboxClass: 'container',
      recoverable: false,
      toolboxProxyUrl: toolboxUrl,
    }
    if (sb.snapshot === undefined) delete dto.snapshot
    if (sb.errorReason) dto.errorReason = sb.errorReason
    if (sb.networkAllowList !== undefined) dto.networkAllowList = sb.networkAllowList
    if (sb.autoPauseInterval !== undefined) dto.autoPauseInterval = sb.autoPauseInterval
    if (sb.buildInfo) {
      dto.buildInfo = {
        dockerfileContent: sb.buildInfo.dockerfileContent,
        contextHashes: sb.buildInfo.contextHashes || [],
        createdAt: sb.createdAt,
        updatedAt: sb.createdAt,
        snapshotRef: `daytona-${sha256(sb.buildInfo.dockerfileContent).slice(0, 32)}:daytona`,
      }
    }
    if (listItem) {
      delete dto.env
      delete dto.volumes
      delete dto.buildInfo
    }
    return dto
  }

  function startBuild(sb) {
    const b = merge(config.build, {})
    const t = config.timings
    sb.log = new BuildLog()
    setState(sb, 'pending_build')
    schedule(t.pendingBuildMs, () => {
      if (sb.deleted) return
      setState(sb, 'building_snapshot')
      emitLines(sb, b, () => {
        if (sb.deleted) return
        if (b.outcome === 'build_failed' || b.outcome === 'error') {
          setState(sb, b.outcome, b.errorReason)
          sb.log.finish()
        } else {
          sb.log.finish()
          becomeStarted(sb)
        }
      })
    })
  }

  /** Appends b.lines one per interval, then calls done (never, for outcome 'hang'). */
  function emitLines(obj, b, done) {
    const lines = b.lines || []
    let i = 0
    const next = () => {
      if (obj.deleted || state.closed) return
      if (i < lines.length) {
        obj.log.append(lines[i++])
        return schedule(b.lineIntervalMs, next)
      }
      if (b.outcome === 'hang') {
        obj.log.append(`still building (${i++ - lines.length + 1})`)
        return schedule(b.lineIntervalMs, next)
      }
      done()
    }
    next()
  }

  function becomeStarted(sb) {
    const s = config.sandbox
    const finish = () => {
      if (sb.deleted) return
      if (s.startOutcome === 'error') setState(sb, 'error', s.errorReason)
      else setState(sb, 'started', '')
    }
    if (config.timings.startingMs > 0) {
      setState(sb, 'starting')
      schedule(config.timings.startingMs, finish)
    } else finish()
  }

  const apiHandlers = {
    getPushAccess(ctx) {
      if (!s3) {
        return send(ctx, 200, {
          accessKey: 'AKIATESTTESTTESTTEST',
          secret: 'not-a-secret',
          sessionToken: 'not-a-token',
          storageUrl: 'http://127.0.0.1:9',
          organizationId,
          bucket: 'daytona-volume-builds',
          region: 'us-east-1',
        })
      }
      return send(ctx, 200, {
        accessKey: s3.accessKey,
        secret: s3.secret,
        sessionToken: s3.sessionToken,
        storageUrl: s3.storageUrl,
        organizationId,
        bucket: s3.bucket,
        region: s3.region,
      })
    },

    createSandbox(ctx, _p, body) {
      const b = body || {}
      if (b.name && findSandbox(b.name)) {
        return send(ctx, 409, errorBody(409, `Sandbox with name ${b.name} already exists`))
      }
      const id = idFor('5a', ++state.counters.sandbox)
      const now = nowIso()
      const sb = {
        id,
        name: b.name || id,
        snapshot: b.buildInfo ? undefined : b.snapshot || config.defaultSnapshot,
        user: b.user || 'daytona',
        env: b.env || {},
        labels: b.labels || {},
        public: Boolean(b.public),
        networkBlockAll: Boolean(b.networkBlockAll),
        networkAllowList: b.networkAllowList,
        target: b.target || config.target,
        cpu: b.cpu ?? 1,
        gpu: b.gpu ?? 0,
        memory: b.memory ?? 1,
        disk: b.disk ?? 3,
        autoStopInterval: b.autoStopInterval ?? 15,
        autoPauseInterval: b.autoPauseInterval,
        autoArchiveInterval: b.autoArchiveInterval ?? 10080,
        autoDeleteInterval: b.autoDeleteInterval ?? -1,
        volumes: b.volumes || [],
        buildInfo: b.buildInfo,
        createdAt: now,
        updatedAt: now,
        desiredState: 'started',
        state: null,
        errorReason: undefined,
        history: [],
        files: new Map(),
        log: null,
        request: b,
      }
      state.sandboxes.set(id, sb)
      if (b.buildInfo) startBuild(sb)
      else {
        setState(sb, 'creating')
        schedule(config.timings.creatingMs, () => !sb.deleted && becomeStarted(sb))
      }
      return send(ctx, 200, sandboxDto(sb))
    },

    getSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      return send(ctx, 200, sandboxDto(sb))
    },

    listSandboxes(ctx) {
      const q = ctx.query
      const one = (k) => (q.get(k) || [])[0]
      let items = [...state.sandboxes.values()].filter((sb) => !sb.gone && sb.state !== 'destroyed')
      const labels = one('labels')
      if (labels !== undefined) {
        let want
        try {
          want = JSON.parse(labels)
        } catch {
          return send(ctx, 400, errorBody(400, 'labels must be a JSON object'))
        }
        items = items.filter((sb) => Object.entries(want).every(([k, v]) => sb.labels[k] === v))
      }
      const states = q.get('states')
      if (states) items = items.filter((sb) => states.includes(sb.state))
      const idPrefix = one('id')
      if (idPrefix) items = items.filter((sb) => sb.id.toLowerCase().startsWith(idPrefix.toLowerCase()))
      const namePrefix = one('name')
      if (namePrefix) items = items.filter((sb) => sb.name.toLowerCase().startsWith(namePrefix.toLowerCase()))
      const limit = Number(one('limit') || 100)
      const cursor = one('cursor')
      let start = 0
      if (cursor) {
        const m = /^c(\d+)$/.exec(cursor)
        if (!m) return send(ctx, 400, errorBody(400, 'invalid cursor'))
        start = Number(m[1])
      }
      const page = items.slice(start, start + limit)
      const nextCursor = start + limit < items.length ? `c${start + limit}` : null
      return send(ctx, 200, { items: page.map((sb) => sandboxDto(sb, true)), nextCursor })
    },

    startSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      if (sb.state === 'started' || sb.state === 'starting') return send(ctx, 200, sandboxDto(sb))
      if (sb.state !== 'stopped' && sb.state !== 'error') {
        return send(ctx, 409, errorBody(409, `Sandbox ${sb.id} is ${sb.state} and cannot be started`))
      }
      sb.desiredState = 'started'
      sb.errorReason = undefined
      const s = config.sandbox
      setState(sb, 'starting')
      schedule(config.timings.startingMs, () => {
        if (sb.deleted) return
        if (s.startOutcome === 'error') setState(sb, 'error', s.errorReason)
        else setState(sb, 'started', '')
      })
      return send(ctx, 200, sandboxDto(sb))
    },

    stopSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      if (sb.state === 'stopped' || sb.state === 'stopping') return send(ctx, 200, sandboxDto(sb))
      if (sb.state !== 'started') {
        return send(ctx, 409, errorBody(409, `Sandbox ${sb.id} is ${sb.state} and cannot be stopped`))
      }
      sb.desiredState = 'stopped'
      sb.lastStopForce = ctx.query.get('force')?.[0]
      setState(sb, 'stopping')
      schedule(config.timings.stoppingMs, () => !sb.deleted && setState(sb, 'stopped'))
      return send(ctx, 200, sandboxDto(sb))
    },

    deleteSandbox(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      sb.deleted = true
      sb.desiredState = 'destroyed'
      if (sb.log && !sb.log.done) sb.log.finish()
      setState(sb, 'destroying')
      const dto = sandboxDto(sb)
      schedule(config.timings.destroyingMs, () => {
        setState(sb, 'destroyed')
        schedule(config.timings.destroyedVisibleMs, () => (sb.gone = true))
      })
      return send(ctx, 200, dto)
    },

    getBuildLogsUrl(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      return send(ctx, 200, { url: logsUrl('sandbox', sb.id) })
    },

    getToolboxProxyUrl(ctx, p) {
      const sb = findSandbox(p.sandboxId)
      if (!sb) return sandboxNotFound(ctx, p.sandboxId)
      return send(ctx, 200, { url: toolboxUrl })
    },

    getBuildLogs(ctx, p) {
      const sb = findSandbox(p.sandboxIdOrName)
      if (!sb) return sandboxNotFound(ctx, p.sandboxIdOrName)
      return serveLogs(ctx, sb.log, `sandbox ${sb.id}`)
    },

    createSnapshot(ctx, _p, body) {
      const b = body || {}
      if (findSnapshot(b.name)) return send(ctx, 409, errorBody(409, `Snapshot with name ${b.name} already exists`))
      const id = idFor('5b', ++state.counters.snapshot)
      const now = nowIso()
      const sn = {
        id,
        name: b.name,
        imageName: b.imageName,
        entrypoint: b.entrypoint || null,
        cpu: b.cpu ?? 1,
        gpu: b.gpu ?? 0,
        mem: b.memory ?? 1,
        disk: b.disk ?? 3,
        buildInfo: b.buildInfo,
        regionId: b.regionId,
        sandboxClass: b.sandboxClass,
        state: 'pending',
        errorReason: null,
        createdAt: now,
        updatedAt: now,
        history: ['pending'],
        log: b.buildInfo ? new BuildLog() : null,
        request: b,
      }
      state.snapshots.set(id, sn)
      const t = config.timings
      const setSn = (st, reason) => {
        sn.state = st
        sn.updatedAt = nowIso()
        if (reason !== undefined) sn.errorReason = reason
        sn.history.push(st)
      }
      if (b.buildInfo) {
        const sb = merge(config.snapshotBuild, {})
        schedule(t.snapshotPendingMs, () => {
          if (sn.deleted) return
          setSn('building')
          emitLines(sn, sb, () => {
            if (sn.deleted) return
            sn.log.finish()
            if (sb.outcome === 'build_failed' || sb.outcome === 'error') setSn(sb.outcome, sb.errorReason)
            else setSn('active')
          })
        })
      } else {
        schedule(t.snapshotPendingMs, () => {
          if (sn.deleted) return
          setSn('pulling')
          schedule(t.snapshotPullMs, () => !sn.deleted && setSn('active'))
        })
      }
      return send(ctx, 200, snapshotDto(sn))
    },

    getAllSnapshots(ctx) {
      const one = (k) => (ctx.query.get(k) || [])[0]
      const page = Number(one('page') || 1)
      const limit = Number(one('limit') || 100)
      let items = [...state.snapshots.values()]
      const name = one('name')
      if (name) items = items.filter((s) => s.name.includes(name))
      const total = items.length
      const slice = items.slice((page - 1) * limit, page * limit)
      return send(ctx, 200, { items: slice.map(snapshotDto), total, page, totalPages: Math.max(1, Math.ceil(total / limit)) })
    },

    getSnapshot(ctx, p) {
      const sn = findSnapshot(p.id)
      if (!sn) return snapshotNotFound(ctx, p.id)
      return send(ctx, 200, snapshotDto(sn))
    },

    removeSnapshot(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      sn.deleted = true
      if (sn.log && !sn.log.done) sn.log.finish()
      state.snapshots.delete(sn.id)
      state.removedSnapshots = [...(state.removedSnapshots || []), sn]
      return send(ctx, 200)
    },

    activateSnapshot(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      if (sn.state !== 'inactive') return send(ctx, 400, errorBody(400, `Snapshot ${sn.id} is ${sn.state}, not inactive`))
      sn.state = 'active'
      sn.history.push('active')
      return send(ctx, 200, snapshotDto(sn))
    },

    getSnapshotBuildLogsUrl(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      return send(ctx, 200, { url: logsUrl('snapshot', sn.id) })
    },

    getSnapshotBuildLogs(ctx, p) {
      const sn = findSnapshot(p.id, true)
      if (!sn) return snapshotNotFound(ctx, p.id)
      return serveLogs(ctx, sn.log, `snapshot ${sn.id}`)
    },
  }

  function snapshotDto(sn) {
    const dto = {
      id: sn.id,
      organizationId,
      general: false,
      name: sn.name,
      state: sn.state,
      size: sn.state === 'active' ? 0.5 : null,
      entrypoint: sn.entrypoint,
      cpu: sn.cpu,
      gpu: sn.gpu,
      mem: sn.mem,
      disk: sn.disk,
      errorReason: sn.errorReason,
      createdAt: sn.createdAt,
      updatedAt: sn.updatedAt,
      lastUsedAt: null,
      sourceSandboxId: null,
      regionIds: [sn.regionId || config.target],
    }
    if (sn.imageName !== undefined) dto.imageName = sn.imageName
    if (sn.sandboxClass !== undefined) dto.sandboxClass = sn.sandboxClass
    if (sn.buildInfo) {
      dto.buildInfo = {
        dockerfileContent: sn.buildInfo.dockerfileContent,
        contextHashes: sn.buildInfo.contextHashes || [],
        createdAt: sn.createdAt,
        updatedAt: sn.createdAt,
        snapshotRef: `daytona-${sha256(sn.buildInfo.dockerfileContent).slice(0, 32)}:daytona`,
      }
    }
    return dto
  }

  function logsUrl(kind, id) {
    if (config.logsHost === 'foreign') return `${foreignOrigin}/logs/${kind}/${id}/${logsToken}`
    return kind === 'sandbox' ? `${apiUrl}/sandbox/${id}/build-logs` : `${apiUrl}/snapshots/${id}/build-logs`
  }

  // ---------------------------------------------------------------------------------------
  // build-log streaming

  async function routeForeign(ctx) {
    const { rec } = ctx
    rec.kind = 'logs'
    rec.op = 'foreignBuildLogs'
    parseBody(ctx)
    const m = /^\/logs\/(sandbox|snapshot)\/([^/]+)\/([^/]+)$/.exec(ctx.url.pathname)
    if (!m || ctx.req.method !== 'GET') {
      return send(ctx, 404, errorBody(404, `Cannot ${ctx.req.method} ${ctx.url.pathname}`))
    }
    if (m[3] !== logsToken) return send(ctx, 403, errorBody(403, 'invalid log token'))
    for (const k of ctx.query.keys()) {
      if (k !== 'follow') return send(ctx, 400, errorBody(400, `unknown query parameter ${k}`))
    }
    const f = faults.take(rec)
    if (f && !(await applyFault(ctx, f))) return
    const obj = m[1] === 'sandbox' ? state.sandboxes.get(m[2]) : findSnapshot(m[2], true)
    if (!obj) return send(ctx, 404, errorBody(404, `${m[1]} ${m[2]} not found`))
    return serveLogs(ctx, obj.log, `${m[1]} ${obj.id}`)
  }

  async function serveLogs(ctx, log, what) {
    const { req, res, rec } = ctx
    if (!log) return send(ctx, 404, errorBody(404, `No build logs for ${what}`))
    if (ctx.resetAfter) return destroy(ctx)
    const follow = (ctx.query.get('follow') || [])[0] === 'true'
    const cut = faults.take(rec, ['cut'])
    const ignoreRange = faults.take(rec, ['ignoreRange'])
    let pos = 0
    let status = 200
    const range = req.headers.range
    rec.range = range
    if (range !== undefined && !ignoreRange) {
      const m = /^bytes=(\d+)-$/.exec(range.trim())
      if (!m) return send(ctx, 416, errorBody(416, `unsupported Range ${range} (only bytes=N-)`))
      pos = Number(m[1])
      if (log.done && pos > log.total) {
        return send(ctx, 416, errorBody(416, `offset ${pos} is past the end (${log.total})`), { 'content-range': `bytes */${log.total}` })
      }
      status = 206
    }
    if (cut && cut.delayMs) await sleep(cut.delayMs)
    rec.status = status
    rec.startOffset = pos
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
    res.flushHeaders()
    let closed = false
    const onClose = () => (closed = true)
    res.on('close', onClose)
    const entry = { res, wake: () => {} }
    streams.add(entry)
    const write = (buf) => {
      if (!closed && buf.length) res.write(buf)
    }
    try {
      for (;;) {
        if (closed || state.closed) return
        if (pos < log.total) {
          const li = log.lineAt(pos)
          if (cut && li >= cut.atLine) {
            const end = log.lineEnd(li)
            const half = pos + Math.max(1, Math.floor((end - pos) / 2))
            write(log.buf.slice(pos, half))
            rec.cutAt = half
            await sleep(20)
            res.destroy()
            return
          }
          let end = log.lineEnd(li)
          if (config.logChunking === 'batch') {
            end = log.total
            if (cut && cut.atLine < log.lineStarts.length) end = Math.min(end, log.lineStarts[cut.atLine])
          }
          const piece = log.buf.slice(pos, end)
          if (config.logChunking === 'split' && piece.length > 1) {
            let h = piece.findIndex((b) => b >= 0x80)
            h = h >= 0 ? h + 1 : Math.floor(piece.length / 2)
            write(piece.slice(0, h))
            await sleep(config.timings.splitDelayMs)
            write(piece.slice(h))
          } else write(piece)
          pos = end
          rec.bytesSent = pos
          continue
        }
        if (!follow || log.done) {
          res.end()
          return
        }
        await Promise.race([log.wait(), new Promise((r) => (entry.wake = r))])
      }
    } finally {
      streams.delete(entry)
      res.removeListener('close', onClose)
    }
  }

  // ---------------------------------------------------------------------------------------
  // toolbox

  async function routeToolbox(ctx) {
    const { rec } = ctx
    rec.kind = 'toolbox'
    const m0 = /^\/toolbox\/([^/]+)(\/.*)$/.exec(ctx.url.pathname)
    const body = parseBody(ctx)
    if (!m0) {
      violation(ctx, [`no toolbox route for ${ctx.url.pathname}`])
      return send(ctx, 404, errorBody(404, `Cannot ${ctx.req.method} ${ctx.url.pathname}`))
    }
    const sandboxId = decodeURIComponent(m0[1])
    rec.sandboxId = sandboxId
    const validator = validators.toolbox
    const m = validator.match(ctx.req.method, m0[2])
    if (!m || !m.op) {
      violation(ctx, [`no toolbox operation in the spec for ${ctx.req.method} ${m0[2]}`])
      return send(ctx, 404, toolboxError(ctx, 404, `Cannot ${ctx.req.method} ${m0[2]}`))
    }
    rec.op = m.operationId
    rec.template = m.template
    ctx.match = m
    ctx.validator = validator
    if (!(await gate(ctx, validator, m, body))) return
    const sb = state.sandboxes.get(sandboxId)
    if (!sb || sb.gone || sb.deleted) return send(ctx, 404, toolboxError(ctx, 404, `sandbox ${sandboxId} not found`, 'NOT_FOUND'))
    if (sb.state !== 'started') {
      return send(ctx, 409, toolboxError(ctx, 409, `sandbox ${sandboxId} is ${sb.state}, not started`, 'CONFLICT'))
    }
    const handler = toolboxHandlers[m.operationId]
    if (!handler) {
      state.unimplemented.push({ seq: rec.seq, op: rec.op })
      return send(ctx, 501, toolboxError(ctx, 501, `not implemented by the test server: ${m.operationId}`))
    }
    return handler(ctx, sb, body)
  }

  function toolboxError(ctx, status, message, code) {
    const e = { statusCode: status, message, path: ctx.url.pathname, timestamp: nowIso(), method: ctx.req.method }
    if (code) {
      e.code = code
      e.source = 'DAYTONA_DAEMON'
    }
    return e
  }

  const resolvePath = (p) => path.posix.resolve(HOME, p)

  const toolboxHandlers = {
    async ExecuteCommand(ctx, sb, body) {
      const r = body.json
      const env = { ...sb.env, ...(r.envs || {}) }
      const words = shellWords(r.command, env)
      const cwd = r.cwd || HOME
      let exitCode = 0
      let result = ''
      const [cmd, ...args] = words
      if (cmd === undefined) result = ''
      else if (cmd === 'echo') {
        const noNl = args[0] === '-n'
        result = (noNl ? args.slice(1) : args).join(' ') + (noNl ? '' : '\n')
      } else if (cmd === 'exit') exitCode = Number(args[0] || 0)
      else if (cmd === 'true') exitCode = 0
      else if (cmd === 'false') exitCode = 1
      else if (cmd === 'pwd') result = `${cwd}\n`
      else if (cmd === 'printenv') {
        if (args[0] in env) result = `${env[args[0]]}\n`
        else exitCode = 1
      } else if (cmd === 'cat') {
        for (const a of args) {
          const f = sb.files.get(path.posix.resolve(cwd, a))
          if (f) result += f.toString('utf8')
          else {
            result += `cat: ${a}: No such file or directory\n`
            exitCode = 1
          }
        }
      } else if (cmd === 'sleep') {
        const secs = Number(args[0] || 0)
        const limit = r.timeout > 0 ? r.timeout : Infinity
        await sleep(Math.min(secs, limit) * 1000)
        if (secs > limit) {
          return send(ctx, 408, toolboxError(ctx, 408, `command timed out after ${r.timeout}s`, 'PROCESS_EXECUTION_TIMEOUT'))
        }
      } else {
        exitCode = 127
        result = `sh: 1: ${cmd}: not found\n`
      }
      sb.execs = [...(sb.execs || []), { ...r }]
      return send(ctx, 200, { exitCode, result })
    },

    UploadFiles(ctx, sb, body) {
      const parts = body.multipart.parts
      const byIndex = new Map()
      for (const p of parts) {
        const m = /^files\[(\d+)\]\.(path|file)$/.exec(p.name)
        const e = byIndex.get(m[1]) || {}
        e[m[2]] = p
        byIndex.set(m[1], e)
      }
      for (const e of byIndex.values()) sb.files.set(resolvePath(e.path.data.toString('utf8')), Buffer.from(e.file.data))
      return send(ctx, 200)
    },

    DownloadFiles(ctx, sb, body) {
      const parts = []
      for (const p of body.json.paths) {
        const f = sb.files.get(resolvePath(p))
        if (f) parts.push({ name: 'file', filename: p, contentType: 'application/octet-stream', data: f })
        else {
          const err = toolboxError(ctx, 404, `file not found: ${p}`, 'FILE_NOT_FOUND')
          parts.push({ name: 'error', filename: p, contentType: 'application/json', data: JSON.stringify(err) })
        }
      }
      const mp = buildMultipart(parts)
      if (ctx.resetAfter) return destroy(ctx)
      ctx.rec.status = 200
      ctx.res.writeHead(200, { 'content-type': mp.contentType, 'content-length': mp.body.length })
      ctx.res.end(mp.body)
    },
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
    for (const s of [apiServer, foreignServer]) s.closeAllConnections()
    await Promise.all([apiServer, foreignServer].map((s) => new Promise((r) => s.close(() => r()))))
    if (s3Proxy) await s3Proxy.close()
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

function sha256(s) {
  return crypto.createHash('sha256').update(s).digest('hex')
}

module.exports = { startApiServer, BuildLog, DEFAULT_LOG_LINES, shellWords }
