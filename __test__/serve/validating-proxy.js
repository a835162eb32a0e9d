'use strict'
// A validating, recording reverse proxy for judging a Daytona-compatible server (`serve`, or the
// fake API of ../api-server/) with clients nobody here wrote.
//
//   const proxy = await startValidatingProxy({ apiUrl: target.url })
//   // point a client at proxy.apiUrl (same path as the target's, other port)
//   ...
//   proxy.assertClean()      // zero violations, requests and responses
//
// It listens on 127.0.0.1 (ephemeral port) and forwards every request to the target as it comes
// (bodies streamed both ways; WebSocket upgrades piped through after the handshake), while a copy
// of each request body and of each JSON response is validated against the specs of
// ../api-server/openapi.js (daytona-api.json for {apiUrl}/..., daytona-toolbox.json for
// {toolboxProxyUrl}/{sandboxId}/...). The proxy never changes what the client or the server
// says, with one exception: URLs the server hands out that point back at itself (`toolboxProxyUrl`
// anywhere in an API answer; `url` of getToolboxProxyUrl / getBuildLogsUrl /
// getSnapshotBuildLogsUrl) are rewritten to a listener of this proxy, so that toolbox and
// build-log traffic passes through it too. A URL on another loopback origin gets a listener of
// its own (started on first sight). Storage URLs (push-access) are not rewritten: S3 is not part
// of the specs.
//
// What counts as a violation (each recorded with the request's seq, method, path and op):
//   request   a path or method the specs do not have; query or JSON body not conforming
//             (unknown keys included, see openapi.js); a multipart upload with a malformed form
//   response  a 2xx status the operation does not declare (when it declares any 2xx); a declared
//             JSON answer that is not JSON (Content-Type or syntax); a JSON answer that does not
//             match its schema; an error status (4xx/5xx) whose body is not a JSON object with a
//             `message` (the official SDKs build their error messages from it); a 5xx at all
//             (a conforming client must never make the server fail)
// Routes the 0.218 clients use and the specs lack are checked by hand (EXTRA_ROUTES below: the
// PTY's create-connect WebSocket). Requests to `{apiUrl}/socket.io/` (the official TypeScript SDK's event stream, not in the spec)
// are recorded as `unspecified`, not as violations, and forwarded like any other (a failure to
// answer them goes to the record's `notes`).
//
// Each record: { seq, origin, method, path, rawQuery, kind: 'api'|'toolbox'|'unknown'|'unspecified',
// op, template, sandboxId, status, upgrade, requestBytes, responseBytes, response (a JSON answer up
// to 1 MiB, parsed, as the server sent it), violations: [] }.

const http = require('node:http')
const { loadValidators, checkUploadParts } = require('../api-server/openapi.js')
const { parseMultipart } = require('../api-server/multipart.js')

/** Bodies larger than this are forwarded but not validated (a violation says so for JSON). */
const CAPTURE_LIMIT = 32 << 20
const URL_OPS = new Set(['getToolboxProxyUrl', 'getBuildLogsUrl', 'getSnapshotBuildLogsUrl'])
/**
 * Routes the 0.218 clients use that the specs lack, each with its own check (the schema drift is
 * in openapi.js's DRIFT). Matched before the specs.
 *   GET {toolbox}/process/pty/create-connect?id&cols&rows[&cwd]: 0.218's createPty, one WebSocket
 *   that creates the PTY session and connects to it (envs in a Sec-WebSocket-Protocol token
 *   `X-Daytona-Pty-Envs~<base64url JSON>`); the fake API accepts it the same way.
 */
const EXTRA_ROUTES = [
  {
    kind: 'toolbox',
    method: 'GET',
    path: '/process/pty/create-connect',
    operationId: 'CreateConnectPty',
    upgradeOnly: true,
    check(query) {
      const errors = []
      for (const k of query.keys()) if (!['id', 'cols', 'rows', 'cwd'].includes(k)) errors.push(`query: unknown parameter "${k}"`)
      for (const [k, v] of query) if (v.length > 1) errors.push(`query ${k}: repeated ${v.length} times`)
      if (!(query.get('id') || [])[0]) errors.push('query: missing required parameter "id"')
      for (const k of ['cols', 'rows']) if (!/^\d+$/.test((query.get(k) || [])[0] || '')) errors.push(`query ${k}: required, an integer`)
      return errors
    },
  },
]
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']
const isJsonType = (ct) => /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(ct || '')
const isLoopback = (host) => host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || /^127\./.test(host)

/**
 * @param {object} options
 * @param {string} options.apiUrl the target's API base URL (e.g. http://127.0.0.1:PORT/api)
 * @param {boolean} [options.strictErrors=true] error bodies must be JSON with a message
 */
async function startValidatingProxy(options) {
  const target = new URL(options.apiUrl)
  const apiPrefix = target.pathname.replace(/\/+$/, '')
  const strictErrors = options.strictErrors !== false
  const validators = loadValidators()
  const records = []
  const violations = []
  /** upstream origin -> { server, origin (ours), sockets } */
  const listeners = new Map()
  /** upstream origin -> Set of toolbox path prefixes learned from the server's answers */
  const toolboxPrefixes = new Map()
  let closed = false

  const main = await listen(target.origin)

  function listen(upstreamOrigin) {
    const existing = listeners.get(upstreamOrigin)
    if (existing) return existing.ready
    const entry = { upstreamOrigin, sockets: new Set(), origin: null }
    const server = http.createServer((req, res) => onRequest(entry, req, res))
    server.on('upgrade', (req, socket, head) => onUpgrade(entry, req, socket, head))
    server.on('connection', (s) => {
      entry.sockets.add(s)
      s.on('close', () => entry.sockets.delete(s))
    })
    server.on('clientError', (_e, socket) => socket.destroy())
    server.keepAliveTimeout = 5000
    entry.server = server
    entry.ready = new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        entry.origin = `http://127.0.0.1:${server.address().port}`
        resolve(entry)
      })
    })
    listeners.set(upstreamOrigin, entry)
    return entry.ready
  }

  // -------------------------------------------------------------------------------------------
  // classification

  function learnToolboxUrl(text) {
    let u
    try {
      u = new URL(text)
    } catch {
      return
    }
    const set = toolboxPrefixes.get(u.origin) || new Set()
    set.add(u.pathname.replace(/\/+$/, ''))
    toolboxPrefixes.set(u.origin, set)
  }

  /** kind, validator and match of a request on a listener whose upstream is `upstreamOrigin`. */
  function classify(upstreamOrigin, method, pathname) {
    const prefixes = [...(toolboxPrefixes.get(upstreamOrigin) || [])].sort((a, b) => b.length - a.length)
    for (const p of prefixes) {
      if (!pathname.startsWith(`${p}/`)) continue
      const m0 = /^\/([^/]+)(\/.*)$/.exec(pathname.slice(p.length))
      if (!m0) continue
      const sub = m0[2]
      const sandboxId = decodeURIComponent(m0[1])
      const extra = EXTRA_ROUTES.find((r) => r.kind === 'toolbox' && r.method === method && r.path === sub)
      if (extra) return { kind: 'toolbox', extra, match: { template: extra.path, op: null, operationId: extra.operationId }, sub, sandboxId }
      const m = validators.toolbox.match(method, sub)
      return { kind: 'toolbox', validator: validators.toolbox, match: m, sub, sandboxId }
    }
    if (upstreamOrigin === target.origin && (pathname === apiPrefix || pathname.startsWith(`${apiPrefix}/`))) {
      const sub = pathname.slice(apiPrefix.length) || '/'
      if (sub === '/socket.io' || sub.startsWith('/socket.io/')) return { kind: 'unspecified', sub }
      return { kind: 'api', validator: validators.api, match: validators.api.match(method, sub), sub }
    }
    return { kind: 'unknown', sub: pathname }
  }

  function record(entry, req, url) {
    const c = classify(entry.upstreamOrigin, req.method, url.pathname)
    const rec = {
      seq: records.length,
      time: Date.now(),
      origin: entry.upstreamOrigin,
      method: req.method,
      path: url.pathname,
      rawQuery: url.search.replace(/^\?/, ''),
      kind: c.kind,
      op: c.extra ? c.extra.operationId : c.match && c.match.op ? c.match.operationId || `${req.method} ${c.match.template}` : null,
      template: c.match ? c.match.template : null,
      sandboxId: c.sandboxId,
      status: null,
      upgrade: false,
      requestBytes: 0,
      responseBytes: 0,
      violations: [],
    }
    records.push(rec)
    return { rec, c }
  }

  function violate(rec, where, errors) {
    if (!errors.length) return
    if (rec.kind === 'unspecified') {
      // Outside the specs by design (the SDK's event stream): noted, not a violation.
      rec.notes = [...(rec.notes || []), ...errors.map((e) => `${where}: ${e}`)]
      return
    }
    rec.violations.push(...errors.map((e) => `${where}: ${e}`))
    violations.push({ seq: rec.seq, method: rec.method, path: rec.path, op: rec.op, status: rec.status, where, errors })
  }

  // -------------------------------------------------------------------------------------------
  // requests

  function checkRequest(rec, c, req, url, raw, truncated) {
    if (c.kind === 'unspecified') return
    if (c.kind === 'unknown') return violate(rec, 'request', [`${req.method} ${url.pathname} is neither below the API (${apiPrefix}) nor below a toolbox URL the server handed out`])
    const query = new Map()
    for (const [k, v] of url.searchParams) query.set(k, [...(query.get(k) || []), v])
    if (c.extra) {
      const errors = c.extra.check(query)
      if (c.extra.upgradeOnly && !rec.upgrade) errors.push(`${c.extra.path} is a WebSocket route`)
      if (raw.length) errors.push(`body: this operation takes no request body, got ${raw.length} bytes`)
      return violate(rec, 'request', errors)
    }
    const m = c.match
    if (!m) return violate(rec, 'request', [`no ${c.kind} operation in the spec for ${req.method} ${c.sub}`])
    if (!m.op) return violate(rec, 'request', [`method ${req.method} not defined for ${m.template} (allowed: ${m.allowed.join(', ')})`])
    if (truncated) return violate(rec, 'request', [`body larger than ${CAPTURE_LIMIT} bytes: not validated`])
    const ct = req.headers['content-type'] || ''
    const body = { contentType: ct, raw }
    if (raw.length && /^application\/json/i.test(ct)) {
      try {
        body.json = JSON.parse(raw.toString('utf8'))
      } catch (e) {
        body.jsonError = e.message
      }
    }
    const errors = c.validator.validateRequest(m, query, body)
    if (raw.length && /^multipart\/form-data/i.test(ct)) {
      const mp = parseMultipart(raw, ct)
      if (mp.error) errors.push(`multipart: ${mp.error}`)
      else if (m.operationId === 'UploadFiles') errors.push(...checkUploadParts(mp.parts))
    }
    violate(rec, 'request', errors)
  }

  function onRequest(entry, req, res) {
    const url = new URL(req.url, entry.origin)
    const { rec, c } = record(entry, req, url)
    const chunks = []
    let captured = 0
    let truncated = false
    const headers = forwardHeaders(req.headers)
    const up = http.request(`${entry.upstreamOrigin}${req.url}`, { method: req.method, headers, agent: false })
    req.on('data', (chunk) => {
      rec.requestBytes += chunk.length
      if (captured + chunk.length <= CAPTURE_LIMIT) {
        chunks.push(chunk)
        captured += chunk.length
      } else truncated = true
    })
    req.on('end', () => checkRequest(rec, c, req, url, Buffer.concat(chunks), truncated))
    req.pipe(up)
    req.on('error', () => up.destroy())
    res.on('close', () => {
      if (!res.writableFinished) up.destroy()
    })
    up.on('error', (e) => {
      rec.status = rec.status || 'upstream-error'
      if (!res.headersSent) {
        violate(rec, 'response', [`the server did not answer: ${e.message}`])
        res.writeHead(502, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ statusCode: 502, message: `validating proxy: the server did not answer: ${e.message}` }))
      } else res.destroy()
    })
    up.on('response', (ures) => onResponse(entry, rec, c, ures, res))
  }

  // -------------------------------------------------------------------------------------------
  // responses

  /** Declared responses of the matched operation for `status`: { declared, json } */
  function declared(c, status) {
    const op = c.match && c.match.op
    if (!op) return { known: false }
    const responses = op.responses || {}
    const codes = Object.keys(responses)
    const r = responses[String(status)]
    const swagger2 = c.validator.swagger2
    let json = false
    if (r) json = swagger2 ? Boolean(r.schema) && (op.produces || c.validator.raw.produces || ['application/json']).some(isJsonType) : Boolean(r.content && r.content['application/json'])
    return { known: true, codes, hit: Boolean(r), json }
  }

  function checkResponse(rec, c, ures, body, truncated) {
    const status = ures.statusCode
    const ct = ures.headers['content-type'] || ''
    const errors = []
    if (c.kind !== 'api' && c.kind !== 'toolbox') return
    if (c.extra) {
      if (status >= 500) errors.push(`status ${status}: the server failed on a request it was sent`)
      if (status >= 400 && strictErrors && !errorBodyOk(ct, body)) errors.push(`error status ${status} without a JSON body carrying "message"`)
      return violate(rec, 'response', errors)
    }
    if (!c.match || !c.match.op) return
    const d = declared(c, status)
    if (status >= 500) errors.push(`status ${status}: the server failed on a request it was sent`)
    if (status >= 200 && status < 300 && d.known && !d.hit && d.codes.some((k) => /^2/.test(k))) {
      errors.push(`status ${status} is not declared (declared: ${d.codes.join(', ')})`)
    }
    if (status >= 400 && strictErrors && !errorBodyOk(ct, body)) {
      errors.push(`error status ${status} without a JSON body carrying "message" (got ${ct || 'no Content-Type'}: ${body === null ? '<not captured>' : body.toString('utf8').slice(0, 200)})`)
    }
    if (status >= 200 && status < 300 && d.hit && d.json) {
      if (!isJsonType(ct)) errors.push(`declared JSON answer has Content-Type "${ct}"`)
      else if (truncated || body === null) errors.push(`JSON answer larger than ${CAPTURE_LIMIT} bytes: not validated`)
      else {
        let parsed
        try {
          parsed = JSON.parse(body.toString('utf8'))
        } catch (e) {
          errors.push(`not valid JSON (${e.message})`)
        }
        if (parsed !== undefined) errors.push(...c.validator.validateResponse(c.match, status, parsed))
      }
    }
    violate(rec, 'response', errors)
  }

  /** Rewrites server-handed URLs to our listeners (learning toolbox prefixes on the way). */
  async function rewrite(rec, c, json) {
    const targets = []
    const visit = (node, key, parent) => {
      if (Array.isArray(node)) return node.forEach((v, i) => visit(v, i, node))
      if (node && typeof node === 'object') return Object.entries(node).forEach(([k, v]) => visit(v, k, node))
      if (typeof node !== 'string' || !parent) return
      if (key === 'toolboxProxyUrl' || (parent === json && key === 'url' && URL_OPS.has(rec.op))) targets.push({ parent, key, value: node, toolbox: key === 'toolboxProxyUrl' || rec.op === 'getToolboxProxyUrl' })
    }
    visit(json, null, null)
    let changed = false
    for (const t of targets) {
      let u
      try {
        u = new URL(t.value)
      } catch {
        continue
      }
      if (u.protocol !== 'http:' || !isLoopback(u.hostname)) continue
      if (t.toolbox) learnToolboxUrl(t.value)
      const entry = await listen(u.origin)
      t.parent[t.key] = entry.origin + t.value.slice(u.origin.length)
      changed = true
    }
    return changed
  }

  function onResponse(entry, rec, c, ures, res) {
    rec.status = ures.statusCode
    const ct = ures.headers['content-type'] || ''
    const headers = responseHeaders(ures.headers)
    // JSON answers are buffered (validated, maybe rewritten); everything else is streamed.
    if (isJsonType(ct) || (ures.statusCode >= 400 && !/^text\/event-stream/i.test(ct))) {
      const chunks = []
      let size = 0
      let truncated = false
      ures.on('data', (chunk) => {
        size += chunk.length
        if (size <= CAPTURE_LIMIT) chunks.push(chunk)
        else truncated = true
      })
      ures.on('error', () => res.destroy())
      ures.on('end', async () => {
        let body = Buffer.concat(chunks)
        rec.responseBytes = size
        checkResponse(rec, c, ures, truncated ? null : body, truncated)
        if (!truncated && isJsonType(ct) && size <= 1 << 20) {
          try {
            rec.response = JSON.parse(body.toString('utf8'))
          } catch {}
        }
        if (!truncated && c.kind === 'api' && isJsonType(ct) && ures.statusCode < 300) {
          try {
            const json = JSON.parse(body.toString('utf8'))
            if (await rewrite(rec, c, json)) body = Buffer.from(JSON.stringify(json))
          } catch {}
        }
        if (truncated) {
          // Too large to hold: the client gets the status and an error instead of a wrong body.
          res.destroy()
          return
        }
        headers['content-length'] = String(body.length)
        res.writeHead(ures.statusCode, ures.statusMessage, headers)
        res.end(body)
      })
      return
    }
    res.writeHead(ures.statusCode, ures.statusMessage, headers)
    if (typeof res.flushHeaders === 'function') res.flushHeaders()
    ures.on('data', (chunk) => (rec.responseBytes += chunk.length))
    ures.on('end', () => checkResponse(rec, c, ures, null, false))
    ures.on('error', () => res.destroy())
    ures.pipe(res)
  }

  // -------------------------------------------------------------------------------------------
  // WebSocket upgrades

  function onUpgrade(entry, req, socket, head) {
    socket.on('error', () => {})
    const url = new URL(req.url, entry.origin)
    const { rec, c } = record(entry, req, url)
    rec.upgrade = true
    checkRequest(rec, c, req, url, Buffer.alloc(0), false)
    const headers = forwardHeaders(req.headers, true)
    const up = http.request(`${entry.upstreamOrigin}${req.url}`, { method: req.method, headers, agent: false })
    up.on('upgrade', (ures, upstream, uhead) => {
      rec.status = ures.statusCode
      upstream.on('error', () => socket.destroy())
      const lines = [`HTTP/1.1 ${ures.statusCode} ${ures.statusMessage || 'Switching Protocols'}`]
      for (let i = 0; i < ures.rawHeaders.length; i += 2) lines.push(`${ures.rawHeaders[i]}: ${ures.rawHeaders[i + 1]}`)
      socket.write(`${lines.join('\r\n')}\r\n\r\n`)
      if (uhead && uhead.length) socket.write(uhead)
      if (head && head.length) upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
      const end = () => (socket.destroy(), upstream.destroy())
      upstream.on('close', end)
      socket.on('close', end)
      entry.sockets.add(upstream)
      upstream.on('close', () => entry.sockets.delete(upstream))
    })
    up.on('response', (ures) => {
      // The handshake was refused: pass the answer on as it is, validated like any answer.
      rec.status = ures.statusCode
      const chunks = []
      ures.on('data', (ch) => chunks.push(ch))
      ures.on('end', () => {
        const body = Buffer.concat(chunks)
        checkResponse(rec, c, ures, body, false)
        const lines = [`HTTP/1.1 ${ures.statusCode} ${ures.statusMessage || ''}`]
        const h = responseHeaders(ures.headers)
        h['content-length'] = String(body.length)
        h.connection = 'close'
        for (const [k, v] of Object.entries(h)) for (const one of [].concat(v)) lines.push(`${k}: ${one}`)
        socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]))
      })
    })
    up.on('error', (e) => {
      rec.status = 'upstream-error'
      violate(rec, 'response', [`the server did not answer the WebSocket handshake: ${e.message}`])
      socket.destroy()
    })
    up.end()
  }

  // -------------------------------------------------------------------------------------------

  async function close() {
    if (closed) return
    closed = true
    await Promise.all(
      [...listeners.values()].map(
        (e) =>
          new Promise((resolve) => {
            for (const s of e.sockets) s.destroy()
            e.server.close(() => resolve())
            e.server.closeAllConnections()
          }),
      ),
    )
  }

  /** Counts for reports: requests by kind, validated ones, violations. */
  function summary() {
    const byKind = {}
    for (const r of records) byKind[r.kind] = (byKind[r.kind] || 0) + 1
    const validated = records.filter((r) => (r.kind === 'api' || r.kind === 'toolbox') && r.op).length
    return { requests: records.length, validated, byKind, upgrades: records.filter((r) => r.upgrade).length, violations: violations.length }
  }

  /** Throws (an AssertionError-like Error listing every violation) unless there is none. */
  function assertClean(what = 'the server and its clients') {
    if (violations.length === 0) return
    const lines = violations.slice(0, 50).map((v) => `#${v.seq} ${v.method} ${v.path}${v.op ? ` (${v.op})` : ''} -> ${v.status}: ${v.where}: ${v.errors.join('; ')}`)
    const err = new Error(`${violations.length} spec violation(s) between ${what}:\n${lines.join('\n')}${violations.length > 50 ? '\n...' : ''}`)
    err.violations = violations
    throw err
  }

  return {
    apiUrl: `${main.origin}${apiPrefix}`,
    origin: main.origin,
    records,
    violations,
    summary,
    assertClean,
    close,
    /** The toolbox URL prefixes learned so far, by upstream origin. */
    toolboxPrefixes: () => Object.fromEntries([...toolboxPrefixes].map(([k, v]) => [k, [...v]])),
  }
}

/** An error answer the official SDKs can read: a JSON object with a message. */
function errorBodyOk(ct, body) {
  if (body === null || !isJsonType(ct)) return false
  let parsed
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return false
  }
  return Boolean(parsed) && typeof parsed === 'object' && !Array.isArray(parsed) && (typeof parsed.message === 'string' || Array.isArray(parsed.message))
}

function forwardHeaders(h, upgrade = false) {
  const out = {}
  for (const [k, v] of Object.entries(h)) {
    if (k === 'host') continue
    if (!upgrade && HOP_BY_HOP.includes(k)) continue
    out[k] = v
  }
  if (!upgrade && h['transfer-encoding']) out['transfer-encoding'] = h['transfer-encoding']
  return out
}

function responseHeaders(h) {
  const out = {}
  for (const [k, v] of Object.entries(h)) if (!HOP_BY_HOP.includes(k) && k !== 'content-length') out[k] = v
  if (h['content-length'] !== undefined) out['content-length'] = h['content-length']
  return out
}

module.exports = { startValidatingProxy }
