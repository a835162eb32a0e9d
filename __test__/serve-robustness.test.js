'use strict'
// What a Daytona-compatible server must survive (issue "daytona-native serve", Must hold), against
// the server of `serve` (or the fake API until this package has one: ./serve/target.js):
//   - requests without the key or with a wrong one: 401 with the API's error body;
//   - malformed JSON, unknown fields, wrong types, a wrong media type, oversized bodies: a 4xx
//     with a JSON error body (`message`), never a crash: the server answers the next request
//     (the toolbox: malformed JSON, wrong types, missing fields);
//   - 100 clients (official SDK instances) creating and deleting sandboxes from a small snapshot at
//     once leave no container of this run in the engine;
//   - a sandbox removed behind the server's back (docker rm -f) is gone for get (404) and list,
//     and the server keeps serving;
//   - (serve only) a restarted server shows the sandboxes `list` showed before, with their labels.
// Malformed requests go to the server directly; the SDK traffic goes through the validating proxy
// and must conform to the specs.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')

const official = require('@daytonaio/sdk')
const { startHarness, startTarget, targetKind, withEnv, runContainers, RUN_LABEL, RUN_ID, ROOT } = require('./serve/target.js')

const SMALL_IMAGE = 'daytona-test/busybox:1'
const CLIENTS = Number(process.env.SERVE_TEST_CLIENTS || 100)
const SERVE_ONLY = targetKind() === 'serve' ? false : 'this package exports no serve() yet, or DAYTONA_SERVE_TARGET=fake: the fake API keeps its state in memory'

const NO_BODY_LIMIT = targetKind() === 'serve' ? false : 'the fake API (a test server) takes bodies of any size; `serve` must not'

let h
before(async () => {
  h = await startHarness({})
})
after(async () => {
  if (!h) return
  try {
    console.log(`# serve-robustness: target=${h.kind} ${JSON.stringify(h.proxy.summary())}`)
    h.proxy.assertClean('the official SDK and the server')
  } finally {
    await h.close()
  }
})

const labels = (tag, extra = {}) => ({ [RUN_LABEL]: RUN_ID, 'serve-test': tag, ...extra })
const client = () => new official.Daytona({ apiKey: h.env.DAYTONA_API_KEY, apiUrl: h.env.DAYTONA_API_URL, target: 'us', useDeprecatedPolling: true })

/** A raw request to the server itself (not through the proxy). */
async function raw(path, { method = 'GET', headers = {}, body, key = h.target.apiKey } = {}) {
  const hs = { ...headers }
  if (key !== null) hs.authorization = `Bearer ${key}`
  const res = await fetch(`${h.target.url}${path}`, { method, headers: hs, body, ...(body && typeof body !== 'string' && !Buffer.isBuffer(body) ? { duplex: 'half' } : {}) })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, type: res.headers.get('content-type') || '', text, json }
}

/** An API error answer: the status expected, a JSON object with a message. */
function assertApiError(r, statuses, what) {
  statuses = [].concat(statuses)
  assert.ok(statuses.includes(r.status), `${what}: status ${r.status} (expected ${statuses.join(' or ')}): ${r.text.slice(0, 300)}`)
  assert.match(r.type, /^application\/json/, `${what}: Content-Type`)
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `${what}: a JSON object body, got ${r.text.slice(0, 300)}`)
  assert.ok(typeof r.json.message === 'string' || Array.isArray(r.json.message), `${what}: a message, got ${r.text.slice(0, 300)}`)
  if (r.json.statusCode !== undefined) assert.equal(r.json.statusCode, r.status, `${what}: statusCode in the body`)
}

/** Ids of the sandboxes the server lists with this test's labels (GET /sandbox?labels=...). */
async function listed(tag) {
  const r = await raw(`/sandbox?labels=${encodeURIComponent(JSON.stringify(labels(tag)))}`)
  assert.equal(r.status, 200, r.text.slice(0, 200))
  return r.json.items.map((x) => x.id)
}

async function assertServing(what) {
  const r = await raw('/sandbox')
  assert.equal(r.status, 200, `the server answers after ${what}: ${r.status} ${r.text.slice(0, 200)}`)
  assert.ok(r.json && Array.isArray(r.json.items), `GET /sandbox gives a list after ${what}: ${r.text.slice(0, 200)}`)
}

test('authentication: no key and a wrong key get 401 with the API error body, on the API and the toolbox', async () => {
  assertApiError(await raw('/sandbox', { key: null }), 401, 'no Authorization')
  assertApiError(await raw('/sandbox', { key: 'not-the-key' }), 401, 'a wrong key')
  assertApiError(await raw('/sandbox', { key: null, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, 'another scheme')
  assertApiError(await raw('/sandbox', { key: `${h.target.apiKey}x` }), 401, 'the key with one more character')
  assertApiError(await raw('/sandbox', { key: h.target.apiKey.slice(0, -1) }), 401, 'the key less its last character')
  // The official SDK with a wrong key: its authentication error, nothing created.
  const d = new official.Daytona({ apiKey: 'wrong', apiUrl: h.env.DAYTONA_API_URL, target: 'us', useDeprecatedPolling: true })
  const e = await d.create({ labels: labels('auth') }, { timeout: 30 }).then(() => null, (err) => err)
  assert.ok(e, 'create with a wrong key must fail')
  assert.equal(e.constructor.name, 'DaytonaAuthenticationError', `${e.constructor.name}: ${e.message}`)
  // The toolbox of a real sandbox, without the key.
  const sb = await client().create({ labels: labels('auth') }, { timeout: 120 })
  try {
    const url = `${sb.toolboxProxyUrl.replace(/\/$/, '')}/${sb.id}/process/execute`
    // toolboxProxyUrl points at the proxy: send to the server's own toolbox URL instead.
    const direct = (await raw(`/sandbox/${sb.id}/toolbox-proxy-url`)).json
    const target = direct && direct.url ? `${direct.url.replace(/\/$/, '')}/${sb.id}/process/execute` : url
    for (const auth of [undefined, 'Bearer wrong']) {
      const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify({ command: 'echo hi' }) })
      const text = await res.text()
      let json
      try {
        json = JSON.parse(text)
      } catch {}
      assertApiError({ status: res.status, type: res.headers.get('content-type') || '', text, json }, 401, `toolbox with ${auth || 'no key'}`)
    }
  } finally {
    await sb.delete()
  }
  await assertServing('requests without the key')
})

test('malformed requests get a 4xx JSON error, never a crash, and the server keeps serving', async () => {
  const json = { 'content-type': 'application/json' }
  const cases = [
    ['malformed JSON', { method: 'POST', headers: json, body: '{"name": "x",' }, 400],
    ['a JSON array', { method: 'POST', headers: json, body: '[1,2]' }, 400],
    ['JSON null', { method: 'POST', headers: json, body: 'null' }, 400],
    ['an unknown field', { method: 'POST', headers: json, body: JSON.stringify({ name: 'x', labels: labels('bad'), noSuchField: true }) }, 400],
    ['a wrong type (cpu as text)', { method: 'POST', headers: json, body: JSON.stringify({ cpu: 'many', labels: labels('bad') }) }, 400],
    ['a wrong type (labels as a list)', { method: 'POST', headers: json, body: JSON.stringify({ labels: ['a'] }) }, 400],
    ['a wrong type (env values as numbers)', { method: 'POST', headers: json, body: JSON.stringify({ env: { A: 1 }, labels: labels('bad') }) }, 400],
    ['invalid UTF-8', { method: 'POST', headers: json, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) }, 400],
    ['a wrong media type', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ labels: labels('bad') }) }, [400, 415]],
  ]
  for (const [what, req, status] of cases) {
    assertApiError(await raw('/sandbox', req), status, what)
    await assertServing(what)
  }
  // Query and path parameters of the wrong type.
  assertApiError(await raw('/sandbox/paginated?page=abc'), [400, 404], 'a page number that is not a number')
  assertApiError(await raw('/sandbox/no-such-sandbox-id'), 404, 'an unknown sandbox')
  assertApiError(await raw(`/sandbox/x/autostop/not-a-number`, { method: 'POST' }), [400, 404], 'an interval that is not a number')
  // Nothing was created by any of them.
  assert.deepEqual(await listed('bad'), [], 'no sandbox from a rejected request')
})

// (Unknown fields are not among the toolbox cases: the in-sandbox agent, like Daytona's daemon,
// ignores them, and clients newer than the spec may send some.)
test('malformed toolbox requests get a 4xx JSON error and the sandbox keeps serving', async () => {
  const sb = await client().create({ labels: labels('bad-toolbox') }, { timeout: 120 })
  try {
    const base = (await raw(`/sandbox/${sb.id}/toolbox-proxy-url`)).json.url.replace(/\/$/, '')
    const post = async (p, body, type = 'application/json') => {
      const res = await fetch(`${base}/${sb.id}${p}`, { method: 'POST', headers: { authorization: `Bearer ${h.target.apiKey}`, 'content-type': type }, body })
      const text = await res.text()
      let json
      try {
        json = JSON.parse(text)
      } catch {}
      return { status: res.status, type: res.headers.get('content-type') || '', text, json }
    }
    const cases = [
      ['malformed JSON', '/process/execute', '{"command": '],
      ['a wrong type (command as a number)', '/process/execute', JSON.stringify({ command: 42 })],
      ['a wrong type (timeout as text)', '/process/execute', JSON.stringify({ command: 'echo x', timeout: 'soon' })],
      ['a missing required field', '/process/session', JSON.stringify({})],
    ]
    for (const [what, p, body] of cases) assertApiError(await post(p, body), 400, `toolbox ${p}: ${what}`)
    assert.equal((await sb.process.executeCommand('echo fine')).result.trim(), 'fine')
  } finally {
    await sb.delete()
  }
})

test('oversized bodies: a 4xx JSON error (400 or 413), the server keeps serving', { skip: NO_BODY_LIMIT }, async () => {
  const big = 'x'.repeat(64 << 20)
  const body = JSON.stringify({ labels: labels('big', { big }) })
  const r = await raw('/sandbox', { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch((e) => ({ error: e }))
  // A server may also close the connection after its answer; what it must not do is take it.
  if (r.error) assert.fail(`the server dropped the connection instead of answering: ${r.error.cause ? r.error.cause.message : r.error.message}`)
  assertApiError(r, [400, 413], 'a 64 MiB JSON body')
  await assertServing('a 64 MiB body')
  assert.deepEqual(await listed('big'), [], 'no sandbox from an oversized request')
})

test(`${CLIENTS} clients creating and deleting sandboxes at once leave the engine clean`, async () => {
  const d = client()
  const name = `serve-small-${RUN_ID}`
  await d.snapshot.create({ name, image: SMALL_IMAGE }, { timeout: 300 })
  try {
    const before = runContainers()
    let created = 0
    let release
    const all = new Promise((r) => (release = r))
    let seen = null
    const results = await Promise.allSettled(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const c = client()
        const sb = await c.create({ snapshot: name, labels: labels('many', { client: String(i) }) }, { timeout: 600 })
        try {
          created += 1
          if (created === CLIENTS) {
            seen = runContainers().length - before.length
            release()
          }
          let timer
          await Promise.race([all, new Promise((r) => (timer = setTimeout(r, 600_000)))])
          clearTimeout(timer)
        } finally {
          await c.delete(sb, 600)
        }
      }),
    )
    if (created < CLIENTS) release()
    const failed = results.filter((r) => r.status === 'rejected').map((r) => `${r.reason && r.reason.constructor.name}: ${r.reason && r.reason.message}`)
    assert.deepEqual(failed, [], `${failed.length} of ${CLIENTS} clients failed`)
    if (h.kind === 'serve') assert.equal(seen, CLIENTS, 'while every client held its sandbox, the engine had one container per client with its labels')
    // Nothing left: no container of this run, no sandbox listed.
    const deadline = Date.now() + 60_000
    let left = runContainers()
    while (left.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500))
      left = runContainers()
    }
    assert.deepEqual(left, [], 'containers of this run left in the engine')
    const listed = []
    for await (const sb of d.list({ labels: labels('many') })) listed.push(sb.id)
    assert.deepEqual(listed, [], 'sandboxes still listed')
  } finally {
    await d.snapshot.delete(await d.snapshot.get(name)).catch(() => {})
  }
})

/** Removes a sandbox behind the server's back: its container (serve), its record (the fake). */
function removeBehindBack(id) {
  if (h.kind === 'serve') {
    const ids = execFileSync('docker', ['ps', '-a', '-q', '--filter', `label=io.daytona-native.sandbox.id=${id}`], { encoding: 'utf8' }).split('\n').filter(Boolean)
    assert.equal(ids.length, 1, `one container carries io.daytona-native.sandbox.id=${id}`)
    execFileSync('docker', ['rm', '-f', ids[0]], { stdio: 'ignore' })
  } else {
    h.target.fake.sandbox(id).gone = true
  }
}

test('a sandbox removed behind the server\'s back: get says not found, list omits it, the server keeps serving', async () => {
  const d = client()
  const keep = await d.create({ labels: labels('behind', { which: 'keep' }) }, { timeout: 120 })
  const lost = await d.create({ labels: labels('behind', { which: 'lost' }) }, { timeout: 120 })
  try {
    removeBehindBack(lost.id)
    const e = await d.get(lost.id).then(() => null, (err) => err)
    assert.ok(e, 'get of a removed sandbox must fail')
    assert.equal(e.constructor.name, 'DaytonaNotFoundError', `${e.constructor.name}: ${e.message}`)
    const listed = []
    for await (const sb of d.list({ labels: labels('behind') })) listed.push(sb.id)
    assert.deepEqual(listed, [keep.id])
    // Operations on it fail cleanly.
    const stop = await lost.stop().then(() => null, (err) => err)
    assert.ok(stop && stop.constructor.name === 'DaytonaNotFoundError', `stop: ${stop && `${stop.constructor.name}: ${stop.message}`}`)
    // The server keeps serving: the other sandbox works, a new one can be made.
    assert.equal((await keep.process.executeCommand('echo still here')).result.trim(), 'still here')
    const again = await d.create({ labels: labels('behind', { which: 'again' }) }, { timeout: 120 })
    await again.delete()
  } finally {
    await keep.delete().catch(() => {})
    await lost.delete().catch(() => {})
  }
})

test('a restarted server shows the sandboxes list showed, with their labels, settings and state', { skip: SERVE_ONLY }, async () => {
  const native = require(ROOT)
  const first = await native.serve({ port: 0, host: '127.0.0.1' })
  let second
  const mk = (s) => new official.Daytona({ apiKey: s.apiKey, apiUrl: s.url, target: 'us', useDeprecatedPolling: true })
  const made = []
  const view = (x) => ({ id: x.id, name: x.name, labels: x.labels, state: x.state, autoStopInterval: x.autoStopInterval, autoDeleteInterval: x.autoDeleteInterval })
  const listAll = async (s) => {
    const out = []
    for await (const x of mk(s).list({ labels: labels('restart') })) out.push(view(x))
    return out.sort((a, b) => a.id.localeCompare(b.id))
  }
  try {
    const running = await mk(first).create({ labels: labels('restart', { n: '1' }), autoStopInterval: 0 }, { timeout: 120 })
    made.push(running.id)
    await running.process.executeCommand('echo kept > /tmp/kept')
    // Labels and settings changed after creation (not creation labels).
    await running.setLabels(labels('restart', { n: '1', changed: 'yes' }))
    await running.setAutostopInterval(45)
    const stopped = await mk(first).create({ labels: labels('restart', { n: '2' }) }, { timeout: 120 })
    made.push(stopped.id)
    await stopped.stop()
    const before = await listAll(first)
    assert.equal(before.length, 2)
    await first.close()
    second = await native.serve({ port: 0, host: '127.0.0.1', apiKey: first.apiKey })
    assert.deepEqual(await listAll(second), before)
    const again = await mk(second).get(running.id)
    assert.deepEqual(again.labels, labels('restart', { n: '1', changed: 'yes' }))
    assert.equal(again.autoStopInterval, 45)
    assert.equal((await again.process.executeCommand('cat /tmp/kept')).result.trim(), 'kept')
    const other = await mk(second).get(stopped.id)
    assert.equal(other.state, 'stopped')
    await other.start()
    assert.equal(other.state, 'started')
  } finally {
    const s = second || first
    for (const id of made) await mk(s).get(id).then((x) => x.delete()).catch(() => {})
    if (second) await second.close()
    else await first.close().catch(() => {})
  }
})

test('serve() handle: url, apiKey, close(); a given key is used; a closed server refuses connections', { skip: SERVE_ONLY }, async () => {
  const native = require(ROOT)
  const s = await native.serve({ port: 0, host: '127.0.0.1', apiKey: 'a-key-given-by-the-user' })
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/api$/)
    assert.equal(s.apiKey, 'a-key-given-by-the-user')
    const ok = await fetch(`${s.url}/sandbox`, { headers: { authorization: 'Bearer a-key-given-by-the-user' } })
    assert.equal(ok.status, 200)
    await ok.arrayBuffer()
  } finally {
    await s.close()
  }
  await assert.rejects(fetch(`${s.url}/sandbox`), 'a closed server refuses connections')
  const gen = await native.serve({ port: 0 })
  try {
    assert.ok(typeof gen.apiKey === 'string' && gen.apiKey.length >= 16, 'a key is generated when none is given')
    assert.match(gen.url, /^http:\/\/127\.0\.0\.1:\d+\/api$/, 'loopback by default')
  } finally {
    await gen.close()
  }
})
