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
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json'
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

test('official SDK: a declarative build with a local file, its build log followed (onSnapshotCreateLogs)', async () => {
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-ctx-'))
  try {
    fs.writeFileSync(path.join(dir, 'data.txt'), 'from the context\n')
    const image = official.Image.debianSlim('3.12').runCommands('echo built > /built.txt').addLocalFile(path.join(dir, 'data.txt'), '/app/data.txt')
    const lines = []
    const s = await daytona.create({ image, labels: E.labelsFor('serve') }, { timeout: 600, onSnapshotCreateLogs: (l) => lines.push(l) })
    created.push(s)
    assert.equal(s.state, 'started')
    assert.ok(lines.some((l) => /built|Step|RUN|#\d/.test(l)), `build log lines: ${JSON.stringify(lines.slice(0, 20))}`)
    const r = await s.process.executeCommand('cat /built.txt /app/data.txt')
    assert.equal(r.result, 'built\nfrom the context\n')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('official SDK: sessions, and a PTY over the WebSocket', async () => {
  const s = await createBusybox()
  await s.process.createSession('s1')
  const a = await s.process.executeSessionCommand('s1', { command: 'cd /tmp && export X=42' })
  assert.equal(a.exitCode, 0)
  const b = await s.process.executeSessionCommand('s1', { command: 'echo "$PWD $X"' })
  assert.equal(b.stdout ?? b.output, '/tmp 42\n')
  const bg = await s.process.executeSessionCommand('s1', { command: 'echo one; sleep 0.3; echo two', runAsync: true })
  let followed = ''
  await s.process.getSessionCommandLogs('s1', bg.cmdId, (out) => (followed += out), () => {})
  assert.equal(followed, 'one\ntwo\n')
  await s.process.deleteSession('s1')

  let output = ''
  const pty = await s.process.createPty({ id: 'p1', cols: 80, rows: 24, onData: (d) => (output += Buffer.from(d).toString()) })
  await pty.waitForConnection()
  await pty.sendInput('echo pty-$((6*7))\n')
  while (!output.includes('pty-42')) await new Promise((r) => setTimeout(r, 20))
  await pty.sendInput('exit 5\n')
  const result = await pty.wait()
  assert.equal(result.exitCode, 5)
  await pty.disconnect()
})

test('official SDK: labels, intervals, list by label, stop/start, archive', async () => {
  const tag = `serve-${process.pid}-${Date.now()}`
  const s = await createBusybox({ labels: E.labelsFor('serve', { pick: tag }) })
  await s.setLabels({ ...s.labels, extra: 'yes' })
  await s.setAutostopInterval(30)
  await s.setAutoArchiveInterval(60)
  await s.setAutoDeleteInterval(-1)
  const got = await daytona.get(s.id)
  assert.equal(got.labels.extra, 'yes')
  assert.equal(got.autoStopInterval, 30)
  assert.equal(got.autoArchiveInterval, 60)
  const listed = []
  for await (const x of daytona.list({ labels: { pick: tag } })) listed.push(x.id)
  assert.deepEqual(listed, [s.id])
  // Pages of one, as the SDK follows the cursor.
  const all = []
  for await (const x of daytona.list({ labels: E.labelsFor('serve'), limit: 1 })) all.push(x.id)
  assert.ok(all.includes(s.id) && all.length >= 1)
  await s.stop()
  assert.equal(s.state, 'stopped')
  await s.start()
  assert.equal(s.state, 'started')
  assert.equal((await s.process.executeCommand('echo back')).result.trim(), 'back')
  await s.stop()
  await s.archive()
  await s.refreshData()
  assert.equal(s.state, 'archived')
})

test('the API key is required and compared exactly; errors have the API body', async () => {
  for (const key of [null, 'wrong', server.apiKey + 'x', server.apiKey.slice(0, -1)]) {
    const r = await api('GET', '/sandbox', { key })
    assert.equal(r.status, 401)
    assert.deepEqual(Object.keys(r.json).sort(), ['error', 'message', 'statusCode'])
    assert.equal(r.json.statusCode, 401)
    assert.equal(r.json.error, 'Unauthorized')
  }
  const toolbox = await fetch(server.url.replace(/\/api$/, '/toolbox/x/process/execute'), { method: 'POST' })
  assert.equal(toolbox.status, 401)
  const bad = new official.Daytona({ apiUrl: server.url, apiKey: 'not-the-key', target: 'local' })
  await assert.rejects(bad.get('anything'), (e) => e instanceof official.DaytonaAuthenticationError || e.statusCode === 401)
  assert.equal((await api('GET', '/sandbox')).status, 200)
})

test('bad input gets 400-style errors, unknown sandboxes 404, unknown routes 404', async () => {
  const cases = [
    [{ raw: '{"name": ' }, /malformed JSON/],
    [{ raw: '[1,2]' }, /JSON object/],
    [{ body: { nope: 1 } }, /property nope should not exist/],
    [{ body: { cpu: 'two' } }, /cpu must be an integer/],
    [{ body: { labels: { a: 1 } } }, /labels\.a must be a string/],
    [{ body: { buildInfo: { dockerfileContent: 7 } } }, /dockerfileContent must be a string/],
    [{ body: { buildInfo: { dockerfileContent: 'FROM x\nRUN y', contextHashes: ['../../etc'] } } }, /contextHashes/],
  ]
  for (const [req, message] of cases) {
    const r = await api('POST', '/sandbox', req)
    assert.equal(r.status, 400, JSON.stringify(req))
    assert.equal(r.json.statusCode, 400)
    assert.equal(r.json.error, 'Bad Request')
    assert.match(r.json.message, message)
  }
  const text = await fetch(server.url + '/sandbox', { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'text/plain' }, body: '{}' })
  assert.equal(text.status, 415)
  const big = await api('POST', '/sandbox', { raw: JSON.stringify({ name: 'x'.repeat(64 << 20) }) })
  assert.equal(big.status, 413)
  assert.equal(big.json.statusCode, 413)
  const labels = await api('PUT', '/sandbox/whatever/labels', { body: { labels: 'x' } })
  assert.equal(labels.status, 400)
  const interval = await api('POST', '/sandbox/whatever/autostop/abc')
  assert.equal(interval.status, 400)
  const missing = await api('GET', '/sandbox/no-such-sandbox-here')
  assert.equal(missing.status, 404)
  assert.match(missing.json.message, /no-such-sandbox-here/)
  await assert.rejects(daytona.get('no-such-sandbox-here'), (e) => e instanceof official.DaytonaNotFoundError)
  assert.equal((await api('DELETE', '/sandbox/no-such-sandbox-here')).status, 404)
  assert.equal((await api('GET', '/volumes')).status, 404)
  const tb = await fetch(server.url.replace(/\/api$/, '/toolbox/no-such-sandbox-here/process/execute'), {
    method: 'POST',
    headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
    body: '{"command":"true"}',
  })
  assert.equal(tb.status, 404)
})

test('a sandbox removed behind the server is gone; a new server sees the same sandboxes', async () => {
  const s = await createBusybox()
  const gone = await createBusybox()
  const ids = E.docker('ps', '-aq', '--filter', `label=io.daytona-native.sandbox.id=${gone.id}`).split(/\s+/).filter(Boolean)
  assert.equal(ids.length, 1)
  E.docker('rm', '-f', ...ids)
  created.splice(created.indexOf(gone), 1)
  await assert.rejects(daytona.get(gone.id), (e) => e instanceof official.DaytonaNotFoundError)
  assert.equal((await api('POST', `/sandbox/${gone.id}/stop`)).status, 404)

  const second = await serve({ port: 0 })
  try {
    const other = new official.Daytona({ apiUrl: second.url, apiKey: second.apiKey, target: 'local' })
    const again = await other.get(s.id)
    assert.equal(again.state, 'started')
    assert.equal((await again.process.executeCommand('echo same')).result.trim(), 'same')
  } finally {
    await second.close()
  }
})

test('official SDK: snapshots from an image name and from a declarative image: create, get, list, a sandbox from it, delete', async () => {
  const name = `daytona-native-test/serve-${process.pid}-${Date.now()}:1`
  const built = `daytona-native-test/serve-built-${process.pid}-${Date.now()}:1`
  try {
    const snap = await daytona.snapshot.create({ name, image: E.BUSYBOX }, { timeout: 120 })
    assert.equal(snap.name, name)
    assert.equal(snap.state, 'active')
    assert.equal((await daytona.snapshot.get(name)).id, snap.id)
    const page = await daytona.snapshot.list(1, 1000)
    assert.ok(page.items.some((x) => x.name === name))
    const logs = []
    const image = official.Image.base(E.BUSYBOX).runCommands('echo from-snapshot > /snap.txt')
    const b = await daytona.snapshot.create({ name: built, image }, { timeout: 300, onLogs: (l) => logs.push(l) })
    assert.equal(b.state, 'active')
    assert.ok(logs.some((l) => l.includes(built)))
    const s = await daytona.create({ snapshot: built, labels: E.labelsFor('serve') }, { timeout: 120 })
    created.push(s)
    assert.equal((await s.process.executeCommand('cat /snap.txt')).result, 'from-snapshot\n')
    await s.delete()
    created.splice(created.indexOf(s), 1)
    await daytona.snapshot.delete(snap)
    await daytona.snapshot.delete(b)
    await assert.rejects(daytona.snapshot.get(name), (e) => e instanceof official.DaytonaNotFoundError)
  } finally {
    for (const n of [name, built]) {
      try {
        E.docker('image', 'rm', '-f', n)
      } catch {}
    }
  }
})

test('20 concurrent official clients create and delete; the engine is left clean', async () => {
  const labels = E.labelsFor('serve-many')
  const ours = () => E.docker('ps', '-aq', ...Object.entries(labels).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`])).split(/\s+/).filter(Boolean)
  const ids = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const client = new official.Daytona({ apiUrl: server.url, apiKey: server.apiKey, target: 'local' })
      const s = await client.create({ snapshot: E.BUSYBOX, labels }, { timeout: 300 })
      const r = await s.process.executeCommand(`echo ${s.id}`)
      assert.equal(r.result.trim(), s.id)
      await s.delete()
      return s.id
    }),
  )
  assert.equal(new Set(ids).size, 20)
  assert.deepEqual(ours(), [])
})

test('npx daytona-native serve prints the URL and key; a wrong host needs --allow-remote', async () => {
  const { spawn, spawnSync } = require('node:child_process')
  const path = require('node:path')
  const bin = path.join(__dirname, '..', 'bin', 'daytona-native.js')
  const refused = spawnSync(process.execPath, [bin, 'serve', '--port', '0', '--host', '0.0.0.0'], { encoding: 'utf8' })
  assert.equal(refused.status, 1)
  assert.match(refused.stderr, /allow-remote/)
  assert.equal(spawnSync(process.execPath, [bin, 'serve', '--bogus'], { encoding: 'utf8' }).status, 2)
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--api-key', 'k-123'], { stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    while (!/API key: .+\n/.test(out)) {
      if (child.exitCode !== null) assert.fail(`serve exited: ${out}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const url = /Daytona API: (\S+)/.exec(out)[1]
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/api$/)
    assert.match(out, /API key: k-123\n/)
    const r = await fetch(`${url}/sandbox?labels=${encodeURIComponent('{"none":"x"}')}`, { headers: { authorization: 'Bearer k-123' } })
    assert.equal(r.status, 200)
    assert.deepEqual(await r.json(), { items: [], nextCursor: null })
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
  }
})

test('a failing declarative build ends the create with the build failure; its log says why', async () => {
  const image = official.Image.base(E.BUSYBOX).runCommands(`echo failing-${process.pid} && exit 3`)
  const lines = []
  await assert.rejects(
    daytona.create({ image, labels: E.labelsFor('serve') }, { timeout: 300, onSnapshotCreateLogs: (l) => lines.push(l) }),
    (e) => /build_failed|error/.test(e.message),
  )
  assert.ok(lines.some((l) => l.includes(`failing-${process.pid}`)), JSON.stringify(lines.slice(-10)))
})

test('object storage: requests need a valid SigV4 signature with the push-access credentials', async () => {
  const access = (await api('GET', '/object-storage/push-access')).json
  assert.deepEqual(Object.keys(access).sort(), ['accessKey', 'bucket', 'organizationId', 'region', 'secret', 'sessionToken', 'storageUrl'])
  const key = `${access.organizationId}/sigv4-${process.pid}/context.tar`
  const unsigned = await fetch(`${access.storageUrl}/${access.bucket}/${key}`, { method: 'PUT', body: 'x' })
  assert.equal(unsigned.status, 403)
  const { S3Client, PutObjectCommand, ListObjectsV2Command, GetObjectCommand } = require('@aws-sdk/client-s3')
  const client = (secret, token = access.sessionToken) =>
    new S3Client({ region: access.region, endpoint: access.storageUrl, forcePathStyle: true, credentials: { accessKeyId: access.accessKey, secretAccessKey: secret, sessionToken: token } })
  const good = client(access.secret)
  const bad = client(access.secret + 'x')
  const noToken = client(access.secret, 'other-token')
  try {
    await assert.rejects(bad.send(new PutObjectCommand({ Bucket: access.bucket, Key: key, Body: 'nope' })), (e) => e.$metadata?.httpStatusCode === 403)
    await assert.rejects(noToken.send(new PutObjectCommand({ Bucket: access.bucket, Key: key, Body: 'nope' })), (e) => e.$metadata?.httpStatusCode === 403)
    await good.send(new PutObjectCommand({ Bucket: access.bucket, Key: key, Body: 'stored' }))
    const listed = await good.send(new ListObjectsV2Command({ Bucket: access.bucket, Prefix: `${access.organizationId}/sigv4-${process.pid}/` }))
    assert.deepEqual(listed.Contents.map((c) => c.Key), [key])
    const got = await good.send(new GetObjectCommand({ Bucket: access.bucket, Key: key }))
    assert.equal(await got.Body.transformToString(), 'stored')
  } finally {
    for (const c of [good, bad, noToken]) c.destroy()
  }
})

test('a sandbox deleted while its image builds: the build stops, the sandbox is gone', async () => {
  const dockerfile = `FROM ${E.BUSYBOX}\nRUN echo cancel-${process.pid} && sleep 30\n`
  const r = await api('POST', '/sandbox', { body: { buildInfo: { dockerfileContent: dockerfile, contextHashes: [] }, labels: E.labelsFor('serve-cancel') } })
  assert.equal(r.status, 200)
  assert.equal(r.json.state, 'pending_build')
  const id = r.json.id
  const url = (await api('GET', `/sandbox/${id}/build-logs-url`)).json.url
  const logs = await fetch(`${url}?follow=true`, { headers: { authorization: `Bearer ${server.apiKey}` } })
  const reader = logs.body.getReader()
  let text = ''
  while (!text.includes(`cancel-${process.pid}`)) {
    const { value, done } = await reader.read()
    if (done) break
    text += Buffer.from(value).toString()
  }
  assert.match(text, new RegExp(`cancel-${process.pid}`))
  const del = await api('DELETE', `/sandbox/${id}`)
  assert.equal(del.status, 200)
  assert.equal(del.json.state, 'destroyed')
  // The followed log ends with the build.
  while (!(await reader.read()).done);
  assert.equal((await api('GET', `/sandbox/${id}`)).status, 404)
  const ours = E.docker('ps', '-aq', ...Object.entries(E.labelsFor('serve-cancel')).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]))
  assert.equal(ours, '')
})
