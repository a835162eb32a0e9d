'use strict'
// `daytona-native serve` (crates/server) driven by the official TypeScript SDK, unchanged:
// create from a snapshot name, executeCommand, file upload/download, sessions, PTY over
// WebSocket, a declarative build with its followed build log, lifecycle and labels; then the
// server's own rules: the API key, bad input, unknown sandboxes, a sandbox removed behind the
// server's back, and a restarted server seeing the same sandboxes.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const E = require('./engine-support/engine.js')
const { serve } = require('../index.js')
const official = require('@daytonaio/sdk')

let server
let baseline
let daytona
const created = []

before(async () => {
  E.ensureServices()
  baseline = E.containerBaseline()
  server = await serve({ port: 0 })
  daytona = new official.Daytona({ apiUrl: server.url, apiKey: server.apiKey, target: 'local' })
})

after(async () => {
  try {
    for (const s of created) await s.delete().catch(() => {})
    if (server) await server.close()
    await E.assertNoLeaks(baseline)
  } finally {
    // nothing else to clean
  }
})

/** A raw API request with the server's key (or `key`). */
async function api(method, path, { body, key = server.apiKey, raw } = {}) {
  const headers = {}
  if (key !== null) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const r = await fetch(server.url + path, { method, headers, body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body) })
  const text = await r.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: r.status, json, text }
}

async function createBusybox(extra = {}) {
  const s = await daytona.create({ snapshot: E.BUSYBOX, labels: E.labelsFor('serve'), ...extra }, { timeout: 120 })
  created.push(s)
  return s
}

test('official SDK: create from a snapshot, executeCommand, uploadFile/downloadFile, delete', async () => {
  const s = await createBusybox()
  assert.equal(s.state, 'started')
  assert.match(s.toolboxProxyUrl, /^http:\/\/127\.0\.0\.1:\d+\/toolbox$/)
  const r = await s.process.executeCommand('echo hi')
  assert.equal(r.exitCode, 0)
  assert.equal(r.result.trim(), 'hi')
  const failing = await s.process.executeCommand('exit 3')
  assert.equal(failing.exitCode, 3)
  const data = Buffer.from('hello through the server\n'.repeat(1000))
  await s.fs.uploadFile(data, '/tmp/up.txt')
  const back = await s.fs.downloadFile('/tmp/up.txt')
  assert.ok(Buffer.from(back).equals(data))
  const cat = await s.process.executeCommand('wc -c < /tmp/up.txt')
  assert.equal(cat.result.trim(), String(data.length))
  await s.delete()
  created.splice(created.indexOf(s), 1)
  await assert.rejects(daytona.get(s.id), (e) => e instanceof official.DaytonaNotFoundError)
})
