'use strict'
// The validating proxy of the serve-* tests (./serve/validating-proxy.js) catches what it must:
// a request and an answer outside the specs, and passes conforming traffic (HTTP, streamed
// bodies, WebSocket upgrades) through unchanged. Needs no engine: the targets are the fake API
// with its in-memory toolbox model and small servers made here.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { WebSocketServer, WebSocket } = require('ws')

const official = require('@daytonaio/sdk')
const { startApiServer } = require('./api-server/server.js')
const { startValidatingProxy } = require('./serve/validating-proxy.js')

/** A small target: `handler(req, res, body)` for every request; WebSocket echo on upgrade. */
async function tinyServer(handler) {
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const c of req) chunks.push(c)
    handler(req, res, Buffer.concat(chunks))
  })
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m, binary) => ws.send(binary ? m : `echo:${m}`))))
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const origin = `http://127.0.0.1:${server.address().port}`
  return {
    origin,
    close: () => new Promise((r) => (wss.clients.forEach((c) => c.terminate()), server.closeAllConnections(), server.close(() => r()))),
  }
}

const json = (res, status, body, type = 'application/json') => {
  res.writeHead(status, { 'content-type': type })
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}

const SANDBOX = (origin, id = 'sb-1') => ({
  id,
  organizationId: 'org',
  name: id,
  user: 'daytona',
  env: {},
  labels: {},
  public: false,
  networkBlockAll: false,
  target: 'us',
  cpu: 1,
  gpu: 0,
  memory: 1,
  disk: 3,
  state: 'started',
  toolboxProxyUrl: `${origin}/toolbox`,
})

test('conforming traffic of the official SDK passes through with no violation, toolbox included', async () => {
  const srv = await startApiServer({ s3: 'none' })
  const proxy = await startValidatingProxy({ apiUrl: srv.apiUrl })
  try {
    const d = new official.Daytona({ apiKey: srv.apiKey, apiUrl: proxy.apiUrl, target: 'us', useDeprecatedPolling: true })
    const sb = await d.create({ name: 'proxied' }, { timeout: 30 })
    const r = await sb.process.executeCommand('echo hi')
    assert.equal(r.result.trim(), 'hi')
    await sb.delete()
    proxy.assertClean()
    const s = proxy.summary()
    assert.ok(s.byKind.api >= 3 && s.byKind.toolbox >= 1, JSON.stringify(s))
    assert.equal(s.validated, s.requests)
    // The toolbox traffic went through the proxy: the SDK was handed our URL, not the fake's.
    assert.ok(proxy.records.some((r) => r.kind === 'toolbox' && r.op === 'ExecuteCommand'))
    assert.deepEqual(srv.state.violations, [])
  } finally {
    await proxy.close()
    await srv.close()
  }
})

test('a request outside the spec is a violation: unknown key, wrong type, unknown path, bad JSON', async () => {
  const srv = await startApiServer({ s3: 'none' })
  const proxy = await startValidatingProxy({ apiUrl: srv.apiUrl })
  try {
    const auth = { authorization: `Bearer ${srv.apiKey}`, 'content-type': 'application/json' }
    await fetch(`${proxy.apiUrl}/sandbox`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'x', bogus: 1 }) })
    await fetch(`${proxy.apiUrl}/sandbox`, { method: 'POST', headers: auth, body: JSON.stringify({ cpu: 'many' }) })
    await fetch(`${proxy.apiUrl}/no-such-thing`, { headers: auth })
    await fetch(`${proxy.apiUrl}/sandbox`, { method: 'POST', headers: auth, body: '{"name":' })
    assert.throws(() => proxy.assertClean(), /spec violation/)
    const errs = proxy.violations.map((v) => `${v.where}: ${v.errors.join('; ')}`)
    assert.ok(errs.some((e) => /^request: body: must NOT have additional properties \("bogus"\)/.test(e)), errs.join('\n'))
    assert.ok(errs.some((e) => /^request: body\/cpu: must be integer/.test(e)), errs.join('\n'))
    assert.ok(errs.some((e) => /^request: no api operation in the spec for GET \/no-such-thing/.test(e)), errs.join('\n'))
    assert.ok(errs.some((e) => /^request: body: not valid JSON/.test(e)), errs.join('\n'))
  } finally {
    await proxy.close()
    await srv.close()
  }
})

test('an answer outside the spec is a violation: wrong schema, undeclared 2xx, error without message, 5xx', async () => {
  let origin
  const target = await tinyServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname
    if (p === '/api/sandbox/bad-schema') return json(res, 200, { id: 5 })
    if (p === '/api/sandbox/good') return json(res, 200, SANDBOX(origin, 'good'))
    if (p === '/api/sandbox/text-error') return json(res, 404, 'not found', 'text/plain')
    if (p === '/api/sandbox/crash') return json(res, 500, { message: 'boom' })
    if (p === '/api/sandbox/good/start') return json(res, 202, SANDBOX(origin, 'good'))
    if (p === '/api/sandbox/not-json') return json(res, 200, '{"id":', 'application/json')
    return json(res, 404, { statusCode: 404, message: 'nope' })
  })
  origin = target.origin
  const proxy = await startValidatingProxy({ apiUrl: `${target.origin}/api` })
  try {
    for (const p of ['bad-schema', 'good', 'text-error', 'crash', 'not-json', 'missing']) await (await fetch(`${proxy.apiUrl}/sandbox/${p}`)).arrayBuffer()
    await (await fetch(`${proxy.apiUrl}/sandbox/good/start`, { method: 'POST' })).arrayBuffer()
    const byPath = (p) => proxy.violations.filter((v) => v.path === `/api/sandbox/${p}`).flatMap((v) => v.errors)
    assert.ok(byPath('bad-schema').some((e) => /response\/id: must be string/.test(e)), byPath('bad-schema').join('\n'))
    assert.ok(byPath('bad-schema').some((e) => /must have required property/.test(e)))
    assert.deepEqual(byPath('good'), [])
    assert.deepEqual(byPath('missing'), [], 'a 404 with a JSON message is fine')
    assert.ok(byPath('text-error').some((e) => /error status 404 without a JSON body/.test(e)))
    assert.ok(byPath('crash').some((e) => /status 500: the server failed/.test(e)))
    assert.ok(byPath('not-json').some((e) => /not valid JSON/.test(e)))
    assert.ok(byPath('good/start').some((e) => /status 202 is not declared/.test(e)), byPath('good/start').join('\n'))
    // The answer the client got is the server's, unchanged but for the toolbox URL.
    const good = await (await fetch(`${proxy.apiUrl}/sandbox/good`)).json()
    assert.equal(good.toolboxProxyUrl, `${proxy.origin}/toolbox`)
  } finally {
    await proxy.close()
    await target.close()
  }
})

test('WebSocket upgrades below a toolbox URL are validated and piped both ways; bodies stream', async () => {
  let origin
  const target = await tinyServer((req, res, body) => {
    const p = new URL(req.url, 'http://x').pathname
    if (p === '/api/sandbox/good') return json(res, 200, SANDBOX(origin, 'good'))
    if (p === '/toolbox/good/files/upload-v2') return json(res, 200, { name: 'f', path: '/tmp/f', type: String(body.length) })
    return json(res, 404, { message: 'nope' })
  })
  origin = target.origin
  const proxy = await startValidatingProxy({ apiUrl: `${target.origin}/api` })
  try {
    const sb = await (await fetch(`${proxy.apiUrl}/sandbox/good`)).json()
    const base = sb.toolboxProxyUrl.replace(/^http/, 'ws')
    const ws = new WebSocket(`${base}/good/process/session/s/command/c/logs?follow=true`)
    const got = await new Promise((resolve, reject) => {
      ws.on('open', () => ws.send('ping'))
      ws.on('message', (m) => resolve(String(m)))
      ws.on('error', reject)
    })
    ws.close()
    assert.equal(got, 'echo:ping')
    // A handshake outside the spec (unknown query key) is recorded, and still forwarded.
    const ws2 = new WebSocket(`${base}/good/process/session/s/command/c/logs?follow=true&bogus=1`)
    await new Promise((resolve, reject) => (ws2.on('open', resolve), ws2.on('error', reject)))
    ws2.close()
    // The PTY's create-connect route (not in the spec, checked by the proxy's own rule).
    for (const q of ['id=p&cols=80&rows=24', 'id=p&cols=wide']) {
      const ws3 = new WebSocket(`${base}/good/process/pty/create-connect?${q}`)
      await new Promise((resolve, reject) => (ws3.on('open', resolve), ws3.on('error', reject)))
      ws3.close()
    }
    const pty = proxy.records.filter((r) => r.op === 'CreateConnectPty')
    assert.deepEqual(pty.map((r) => r.violations), [[], ['request: query cols: required, an integer', 'request: query rows: required, an integer']])
    const up = proxy.records.filter((r) => r.upgrade && r.op !== 'CreateConnectPty')
    assert.equal(up.length, 2)
    assert.equal(up[0].status, 101)
    assert.equal(up[0].op, 'GetSessionCommandLogs')
    assert.deepEqual(up[0].violations, [])
    assert.ok(up[1].violations.some((v) => /unknown parameter "bogus"/.test(v)), up[1].violations.join('\n'))
    // A streamed multipart upload (chunked, no length) arrives whole.
    const part = Buffer.alloc(3 << 20, 7)
    const boundary = 'b0undary'
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n`)
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
    const { Readable } = require('node:stream')
    const res = await fetch(`${sb.toolboxProxyUrl}/good/files/upload-v2?path=/tmp/f`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.toWeb(Readable.from([head, part, tail])),
      duplex: 'half',
    })
    assert.deepEqual(await res.json(), { name: 'f', path: '/tmp/f', type: String(head.length + part.length + tail.length) })
    assert.deepEqual(proxy.records[proxy.records.length - 1].violations, [])
  } finally {
    await proxy.close()
    await target.close()
  }
})
