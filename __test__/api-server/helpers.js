'use strict'
// Shared pieces of the API test files (__test__/api-server.test.js, api-differential.test.js,
// conformance.test.js): a server per test (`withServer`), the conformance checks
// (`assertConforming`), moto started once per file (`motoOnce`), clients for both SDKs, scratch
// build contexts, request-sequence normalisation, and the error-mapping table of reference §4.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const assert = require('node:assert/strict')

/**
 * Runs fn against a fresh fake API (./server.js), closed afterwards. With `limitMs`, a client that
 * hangs does not hang the run: after limitMs the server is closed, which fails whatever the
 * client still waits for, and the test fails with a clear message.
 */
async function withServer(options, fn, limitMs) {
  const { startApiServer } = require('./server.js')
  const srv = await startApiServer(options)
  if (limitMs === undefined) {
    try {
      return await fn(srv)
    } finally {
      await srv.close()
    }
  }
  let timer
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      srv.close().then(() => reject(new Error(`still running after ${limitMs} ms: the client hangs (server closed)`)))
    }, limitMs)
  })
  try {
    return await Promise.race([fn(srv), deadline])
  } finally {
    clearTimeout(timer)
    await srv.close()
  }
}

/**
 * The client spoke the spec: no non-conforming request, no operation the fake lacks, no request
 * without the API key; with `responses` (default) also that the fake answered within the spec.
 */
function assertConforming(srv, { responses = true } = {}) {
  assert.deepEqual(srv.state.violations, [], 'requests that do not conform to the spec')
  if (responses) assert.deepEqual(srv.state.responseViolations, [], 'the fake answered outside the spec')
  assert.deepEqual(srv.state.unimplemented, [], 'operations the fake does not implement')
  assert.deepEqual(srv.state.authFailures, [], 'requests without the API key')
}

/**
 * moto, started once per test file by `start()` (call it from a `before` hook; a failure is kept,
 * not thrown); tests that need S3 call `need()`, which throws that failure. `config` is moto's
 * s3.json once started.
 */
function motoOnce() {
  const m = {
    config: undefined,
    error: undefined,
    start() {
      try {
        m.config = require('./s3.js').ensureMoto()
      } catch (e) {
        m.error = e
      }
    },
    need() {
      if (m.error) throw m.error
    },
  }
  return m
}

/** The official SDK's client against a test server (polling only: no socket.io to the fake). */
function officialClient(official, srv, extra = {}) {
  return new official.Daytona({ apiKey: srv.apiKey, apiUrl: srv.apiUrl, target: 'us', useDeprecatedPolling: true, ...extra })
}

/** Our client, configured with the official SDK's config names. */
function nativeClient(native, srv, extra = {}) {
  return new native.Daytona({ apiKey: srv.apiKey, apiUrl: srv.apiUrl, target: 'us', ...extra })
}

/**
 * A scratch directory with a file, a directory tree and a third file, all with content unique
 * to this call (so their context keys are new in the shared moto bucket).
 */
function makeContexts(tag = 'ctx') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `dtn-api-${tag}-`))
  const nonce = crypto.randomBytes(8).toString('hex')
  const file = path.join(root, 'data.txt')
  fs.writeFileSync(file, `data ${nonce}\n`)
  const dir = path.join(root, 'src')
  fs.mkdirSync(path.join(dir, 'pkg'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'main.py'), `print("${nonce}")\n`)
  fs.writeFileSync(path.join(dir, 'pkg', '__init__.py'), `# ${nonce}\n`)
  const extra = path.join(root, 'requirements.txt')
  fs.writeFileSync(extra, `requests==2.32.3  # ${nonce}\n`)
  return { root, file, dir, extra, nonce, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitFor(fn, timeoutMs = 5000, what = 'condition') {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** operationIds of the recorded API/toolbox/log requests, consecutive repeats collapsed. */
function opSequence(srv) {
  const out = []
  for (const r of srv.apiRequests()) if (out[out.length - 1] !== r.op) out.push(r.op)
  return out
}

const mediaType = (ct) => (ct || '').split(';')[0].trim().toLowerCase()

/** Query text with its keys in a stable order (values of a repeated key keep theirs), decoded. */
function canonicalQuery(raw) {
  const pairs = [...new URLSearchParams(raw)]
  return pairs
    .map((p, i) => [p, i])
    .sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]))
    .map(([[k, v]]) => `${k}=${v}`)
    .join('&')
}

/**
 * One line per request, for comparing two clients' request sequences:
 *   METHOD path?query  {body}  [headers]
 * - ids are deterministic per server instance, so paths compare as they are;
 * - contextHashes values become "<hash>" (their count stays);
 * - multipart bodies become their fields (name, filename, content), without the boundary and
 *   without the part Content-Type (the official SDK guesses it from the file name);
 * - query parameters in key order (the order of different keys means nothing to a server; the
 *   order of a repeated key's values is kept), values decoded;
 * - headers: whether Authorization is our key; the media type of Content-Type when there is a
 *   body; whether X-Daytona-Source / User-Agent / X-Daytona-SDK-Version are present (their values
 *   are ours by design); whether X-Daytona-Organization-ID is; whether Accept asks for
 *   multipart/form-data (bulk-download);
 * - consecutive identical GETs (polling) collapse into one;
 * - with `accept` (the toolbox tests): the Accept header as sent;
 * - with `ids` (runs against a real agent, whose ids are random): every UUID becomes <id1>,
 *   <id2>, ... in order of appearance;
 * - WebSocket handshakes (rec.upgrade) are marked `ws`, with their Sec-WebSocket-Protocol value
 *   and the messages the client sent (`in=[...]`, text frames as text, binary as `bin:<utf8>`);
 *   they never collapse.
 */
function normaliseRequests(srv, { accept = false, ids = false } = {}) {
  const lines = []
  const seen = new Map()
  const renumber = (text) =>
    ids ? text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, (u) => (seen.has(u) || seen.set(u, `<id${seen.size + 1}>`), seen.get(u))) : text
  for (const r of srv.apiRequests()) {
    let body = ''
    if (r.rawBody.length) {
      if (r.body && r.body.parts) {
        body = JSON.stringify(r.body.parts.map((p) => ({ name: p.name, filename: p.filename, data: p.data.toString('utf8') })))
      } else if (r.body && typeof r.body === 'object') {
        body = JSON.stringify(r.body, (k, v) => (k === 'contextHashes' && Array.isArray(v) ? v.map(() => '<hash>') : v))
      } else body = JSON.stringify(r.body)
    }
    const h = r.headers
    const flags = [
      `auth=${h.authorization === `Bearer ${srv.apiKey}` ? 'key' : h.authorization === undefined ? 'none' : 'other'}`,
      r.rawBody.length ? `type=${mediaType(h['content-type'])}` : null,
      `source=${h['x-daytona-source'] !== undefined}`,
      `ua=${h['user-agent'] !== undefined}`,
      `version=${h['x-daytona-sdk-version'] !== undefined}`,
      h['x-daytona-organization-id'] !== undefined ? 'org-header' : null,
      /multipart\/form-data/i.test(h.accept || '') ? 'accept=multipart/form-data' : null,
      accept && !r.upgrade ? `accept=${h.accept}` : null,
      r.upgrade ? `ws${r.protocols !== undefined ? ` protocols=${r.protocols}` : ''}` : null,
      r.upgrade && r.wsIn && r.wsIn.length ? `in=${JSON.stringify(r.wsIn)}` : null,
    ].filter(Boolean)
    const q = r.rawQuery ? `?${canonicalQuery(r.rawQuery)}` : ''
    const line = renumber(`${r.method} ${r.path}${q}${body ? `  ${body}` : ''}  [${flags.join(' ')}]`)
    if (r.method === 'GET' && !r.upgrade && lines[lines.length - 1] === line) continue
    lines.push(line)
  }
  return lines
}

/**
 * Reference §4: responses of GET /sandbox/{id} and the error each must become. Tests install
 * each as a fault with a large count (a client that retries some statuses still ends with the
 * same error) and clear the faults afterwards.
 */
const ERROR_CASES = [
  {
    status: 404,
    body: { message: 'Sandbox with ID or name missing not found' },
    name: 'DaytonaNotFoundError',
    message: 'Sandbox with ID or name missing not found',
  },
  { status: 409, body: {}, name: 'DaytonaConflictError', message: '{}' },
  { status: 404, body: { message: ['a', 'b'] }, name: 'DaytonaNotFoundError', message: '{"message":["a","b"]}' },
  {
    status: 500,
    body: { code: 'GIT_AUTH_FAILED', source: 'DAYTONA_DAEMON' },
    name: 'DaytonaGitAuthFailedError',
    message: '{"code":"GIT_AUTH_FAILED","source":"DAYTONA_DAEMON"}',
    code: 'GIT_AUTH_FAILED',
    source: 'DAYTONA_DAEMON',
  },
  { status: 418, body: { message: 'teapot' }, name: 'DaytonaError', message: 'teapot' },
  { status: 403, body: { error: 'Forbidden resource' }, name: 'DaytonaAuthorizationError', message: 'Forbidden resource' },
]

module.exports = {
  withServer,
  assertConforming,
  motoOnce,
  officialClient, nativeClient, makeContexts, sleep, waitFor, opSequence, normaliseRequests, ERROR_CASES }
