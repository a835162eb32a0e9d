'use strict'
// The fake Daytona API of __test__/api-server/ driven by the OFFICIAL SDK (@daytonaio/sdk 0.218)
// against moto: proves that the fake accepts exactly the official wire format (no spec
// violations), pins what the official requests look like (reference §3), and tests the fake's
// own machinery (validation, state machines, log resume, faults) with plain HTTP.

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const official = require('@daytonaio/sdk')
const { listKeys, getObject, tarEntries } = require('./api-server/s3.js')
const H = require('./api-server/helpers.js')

// moto is started once, by the first test that needs it (the others run without it).
const moto = H.motoOnce()
let s3cfg
before(() => {
  moto.start()
  s3cfg = moto.config
})
const needS3 = moto.need
const { withServer, assertConforming } = H

const VERSION = require('@daytonaio/sdk/package.json').version

function assertOfficialHeaders(srv, r) {
  assert.equal(r.headers.authorization, `Bearer ${srv.apiKey}`, `${r.method} ${r.path}: Authorization`)
  assert.equal(r.headers['x-daytona-source'], 'sdk-typescript-legacy', `${r.method} ${r.path}: X-Daytona-Source`)
  assert.equal(r.headers['x-daytona-sdk-version'], VERSION, `${r.method} ${r.path}: X-Daytona-SDK-Version`)
  assert.equal(r.headers['user-agent'], `sdk-typescript-legacy/${VERSION}`, `${r.method} ${r.path}: User-Agent`)
  assert.equal(r.headers['x-daytona-organization-id'], undefined, 'no organization header with an API key')
}

test('official SDK: create from an Image uploads contexts to moto, streams the build log, sends the §3.2 body', async () => {
  needS3()
  const ctx = H.makeContexts('official')
  try {
    await withServer({ s3: 'proxy' }, async (srv) => {
      const d = H.officialClient(official, srv)
      const image = official.Image.debianSlim('3.12')
        .addLocalFile(ctx.file, '/app/data.txt')
        .addLocalDir(ctx.dir, '/app/src')
        .pipInstall(['requests'])
      const chunks = []
      const sb = await d.create(
        { image, envVars: { A: 'b' }, labels: { x: 'y' }, resources: { cpu: 2, memory: 4, disk: 8 }, autoStopInterval: 15 },
        { onSnapshotCreateLogs: (c) => chunks.push(c), timeout: 30 },
      )
      assert.equal(sb.state, 'started')

      // POST /sandbox: keys in the order of reference §3.2, undefined ones dropped.
      const post = srv.requests.find((r) => r.op === 'createSandbox')
      assert.deepEqual(Object.keys(post.body), ['buildInfo', 'env', 'labels', 'target', 'cpu', 'memory', 'disk', 'autoStopInterval'])
      assert.deepEqual(Object.keys(post.body.buildInfo), ['contextHashes', 'dockerfileContent'])
      assert.equal(post.body.buildInfo.dockerfileContent, image.dockerfile)
      assert.deepEqual(post.body.env, { A: 'b' })
      assert.deepEqual(Object.entries(post.body.labels), [['x', 'y'], ['code-toolbox-language', 'python']])
      assert.equal(post.body.target, 'us')
      assert.deepEqual([post.body.cpu, post.body.memory, post.body.disk, post.body.autoStopInterval], [2, 4, 8, 15])
      assert.match(post.headers['content-type'], /^application\/json/)
      for (const r of srv.apiRequests()) assertOfficialHeaders(srv, r)

      // Contexts: MD5 keys (official), one object each under <org>/<hash>/context.tar.
      const hashes = post.body.buildInfo.contextHashes
      assert.equal(hashes.length, 2)
      for (const h of hashes) assert.match(h, /^[0-9a-f]{32}$/)
      const org = srv.organizationId
      assert.deepEqual(await listKeys(`${org}/`), hashes.map((h) => `${org}/${h}/context.tar`).sort())
      const fileTar = tarEntries(await getObject(`${org}/${hashes[0]}/context.tar`))
      assert.deepEqual(fileTar.map((e) => e.name), [ctx.file.slice(1)])
      assert.equal(fileTar[0].data.toString(), `data ${ctx.nonce}\n`)
      const dirTar = tarEntries(await getObject(`${org}/${hashes[1]}/context.tar`)).map((e) => e.name)
      for (const n of ['main.py', 'pkg/__init__.py']) assert.ok(dirTar.includes(`${ctx.dir.slice(1)}/${n}`), `${n} in ${dirTar}`)

      // S3 traffic (through the recording proxy): ListObjectsV2 on the prefix, then one PUT, per
      // context, sequentially; signed with the STS session token.
      const s3 = srv.state.s3Requests.map((r) => `${r.method} ${r.path} ${r.query['list-type'] ? `list prefix=${r.query.prefix}` : ''}`.trim())
      assert.deepEqual(s3, [
        `GET /${s3cfg.bucket}/ list prefix=${org}/${hashes[0]}/`,
        `PUT /${s3cfg.bucket}/${org}/${hashes[0]}/context.tar`,
        `GET /${s3cfg.bucket}/ list prefix=${org}/${hashes[1]}/`,
        `PUT /${s3cfg.bucket}/${org}/${hashes[1]}/context.tar`,
      ])
      for (const r of srv.state.s3Requests) {
        assert.equal(r.headers['x-amz-security-token'], s3cfg.sessionToken)
        assert.match(r.headers.authorization, new RegExp(`^AWS4-HMAC-SHA256 Credential=${s3cfg.accessKey}/`))
      }

      // Build log: streamed with ?follow=true, delivered as trimEnd()-ed network chunks.
      assert.equal(chunks.join('\n'), srv.config.build.lines.join('\n'))
      const logsReq = srv.requests.find((r) => r.op === 'getBuildLogs')
      assert.deepEqual(logsReq.query, { follow: 'true' })
      assert.equal(logsReq.path, `/api/sandbox/${sb.id}/build-logs`)
      assert.deepEqual(H.opSequence(srv), ['getPushAccess', 'createSandbox', 'getSandbox', 'getBuildLogsUrl', 'getBuildLogs'])

      // The same image again: the existence check finds both keys, nothing is PUT.
      const mark = srv.state.s3Requests.length
      const sb2 = await d.create({ image }, { timeout: 30 })
      assert.equal(sb2.state, 'started')
      assert.deepEqual(
        srv.state.s3Requests.slice(mark).map((r) => r.method),
        ['GET', 'GET'],
        'only the two existence checks',
      )
      const post2 = srv.requests.filter((r) => r.op === 'createSandbox')[1]
      assert.deepEqual(post2.body.buildInfo.contextHashes, hashes)
      assertConforming(srv)
    })
  } finally {
    ctx.cleanup()
  }
})

test('official SDK: executeCommand, uploadFile and downloadFile through the toolbox', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.officialClient(official, srv)
    const sb = await d.create()
    const post = srv.requests.find((r) => r.op === 'createSandbox')
    assert.equal(JSON.stringify(post.body), '{"env":{},"labels":{"code-toolbox-language":"python"},"target":"us"}')
    assert.equal(sb.state, 'started')

    const r1 = await sb.process.executeCommand('echo "hello  world"', '/tmp', { K: 'V' }, 5)
    assert.deepEqual(r1, { exitCode: 0, result: 'hello  world\n', artifacts: { stdout: 'hello  world\n' } })
    const r2 = await sb.process.executeCommand('exit 3')
    assert.equal(r2.exitCode, 3)
    assert.equal(r2.result, '')
    const r3 = await sb.process.executeCommand('printenv K', undefined, { K: 'from env' })
    assert.equal(r3.result, 'from env\n')
    const execs = srv.requests.filter((r) => r.op === 'ExecuteCommand')
    assert.equal(JSON.stringify(execs[0].body), '{"command":"echo \\"hello  world\\"","timeout":5,"cwd":"/tmp","envs":{"K":"V"}}')
    assert.equal(JSON.stringify(execs[1].body), '{"command":"exit 3"}')
    assert.equal(execs[0].path, `/toolbox/${sb.id}/process/execute`)

    await sb.fs.uploadFile(Buffer.from('first file\n'), '/tmp/a.txt')
    const up = srv.requests.find((r) => r.op === 'UploadFiles')
    assert.match(up.headers['content-type'], /^multipart\/form-data; boundary=/)
    assert.deepEqual(
      up.body.parts.map((p) => [p.name, p.filename, p.data.toString()]),
      [
        ['files[0].path', undefined, '/tmp/a.txt'],
        ['files[0].file', 'a.txt', 'first file\n'],
      ],
    )
    assert.equal(up.body.parts[1].contentType, 'text/plain', 'the official SDK guesses the part type from the name')
    assert.deepEqual(await sb.fs.downloadFile('/tmp/a.txt'), Buffer.from('first file\n'))
    const down = srv.requests.find((r) => r.op === 'DownloadFiles')
    assert.equal(JSON.stringify(down.body), '{"paths":["/tmp/a.txt"]}')

    // Binary content from a local file to a relative path (the daemon resolves it against the home directory).
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dtn-api-fs-'))
    const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0x80])
    fs.writeFileSync(path.join(tmp, 'b.bin'), bin)
    await sb.fs.uploadFile(path.join(tmp, 'b.bin'), 'data/b.bin')
    assert.deepEqual(srv.sandbox(sb.id).files.get('/home/daytona/data/b.bin'), bin)
    assert.deepEqual(await sb.fs.downloadFile('data/b.bin'), bin)
    await sb.fs.downloadFile('/tmp/a.txt', path.join(tmp, 'out', 'a.txt'))
    assert.equal(fs.readFileSync(path.join(tmp, 'out', 'a.txt'), 'utf8'), 'first file\n')
    fs.rmSync(tmp, { recursive: true, force: true })

    await assert.rejects(sb.fs.downloadFile('/tmp/missing.txt'), (e) => {
      assert.equal(e.name, 'DaytonaFileNotFoundError')
      assert.equal(e.message, 'file not found: /tmp/missing.txt')
      assert.equal(e.statusCode, 404)
      assert.equal(e.code, 'FILE_NOT_FOUND')
      return true
    })
    for (const r of srv.apiRequests()) assertOfficialHeaders(srv, r)
    assertConforming(srv)
  })
})

test('official SDK: get, list (labels, states, cursor pages), stop, start, delete', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.officialClient(official, srv)
    const made = []
    for (let i = 1; i <= 3; i++) made.push(await d.create({ name: `lc-${i}`, labels: { team: 'a' } }))
    await d.create({ name: 'other', labels: { team: 'b' } })

    const byName = await d.get('lc-2')
    assert.equal(byName.id, made[1].id)
    assert.equal(srv.requests.filter((r) => r.op === 'getSandbox').pop().path, '/api/sandbox/lc-2')

    const mark = srv.requests.length
    const ids = []
    for await (const s of d.list({ labels: { team: 'a' }, limit: 2, states: ['started', 'stopped'] })) ids.push(s.id)
    assert.deepEqual(ids, made.map((s) => s.id))
    const lists = srv.requests.slice(mark).filter((r) => r.op === 'listSandboxes')
    assert.deepEqual(
      lists.map((r) => r.rawQuery),
      [
        'limit=2&labels=%7B%22team%22%3A%22a%22%7D&states=started&states=stopped',
        'cursor=c2&limit=2&labels=%7B%22team%22%3A%22a%22%7D&states=started&states=stopped',
      ],
    )
    assert.deepEqual(lists[0].query.states, ['started', 'stopped'])
    assert.equal(srv.requests.slice(mark).filter((r) => r.op === 'getToolboxProxyUrl').length, 0, 'list items carry toolboxProxyUrl')

    const sb = made[0]
    const m1 = srv.requests.length
    await sb.stop()
    assert.equal(sb.state, 'stopped')
    const stop = srv.requests[m1]
    assert.equal(stop.op, 'stopSandbox')
    assert.deepEqual(stop.query, { force: 'false' })
    assert.equal(stop.rawBody.length, 0)
    assert.deepEqual(H.opSequence({ apiRequests: () => srv.requests.slice(m1) }), ['stopSandbox', 'getSandbox'])

    await sb.start()
    assert.equal(sb.state, 'started')
    assert.deepEqual(srv.sandbox(sb.id).history.slice(-4), ['stopping', 'stopped', 'starting', 'started'])

    const m2 = srv.requests.length
    await sb.delete()
    assert.deepEqual(srv.requests.slice(m2).map((r) => `${r.method} ${r.op}`), ['DELETE deleteSandbox'], 'delete() does not wait by default')
    await H.waitFor(async () => {
      try {
        await d.get(sb.id)
        return false
      } catch (e) {
        assert.equal(e.name, 'DaytonaNotFoundError')
        assert.equal(e.message, `Sandbox with ID or name ${sb.id} not found`)
        return true
      }
    }, 3000, 'the deleted sandbox to be gone')
    assertConforming(srv)
  })
})

test('official SDK: snapshot create (Image and image name), get, list, delete; build failure', async () => {
  // Long enough for the official 1 s poll to see `building` and stream the log.
  await withServer({ s3: 'none', snapshotBuild: { lineIntervalMs: 250 } }, async (srv) => {
    const d = H.officialClient(official, srv)
    const image = official.Image.base('alpine:3.20').runCommands('echo hi')
    const logs = []
    const snap = await d.snapshot.create({ name: 'snap-a', image, resources: { cpu: 1 } }, { onLogs: (l) => logs.push(l) })
    assert.equal(snap.state, 'active')
    const post = srv.requests.find((r) => r.op === 'createSnapshot')
    assert.equal(JSON.stringify(post.body), '{"name":"snap-a","buildInfo":{"contextHashes":[],"dockerfileContent":"FROM alpine:3.20\\nRUN echo hi\\n"},"cpu":1,"regionId":"us"}')
    assert.equal(srv.requests.filter((r) => r.op === 'getPushAccess').length, 0, 'no contexts, no push access')
    assert.deepEqual(logs.slice(0, 2), ['Creating snapshot snap-a (pending)', 'Creating snapshot snap-a (building)'])
    assert.equal(logs[logs.length - 1], 'Created snapshot snap-a (active)')
    assert.equal(logs.slice(2, -1).join('\n'), srv.config.snapshotBuild.lines.join('\n'))
    for (const r of srv.requests.filter((x) => x.op === 'getSnapshot')) assert.equal(r.path, '/api/snapshots/snap-a', 'polled by name')
    assert.deepEqual(H.opSequence(srv), ['createSnapshot', 'getSnapshot', 'getSnapshotBuildLogsUrl', 'getSnapshotBuildLogs', 'getSnapshot'])

    srv.config.snapshotBuild.lineIntervalMs = 10
    const snapB = await d.snapshot.create({ name: 'snap-b', image: 'python:3.12-slim', entrypoint: ['sleep', 'infinity'] })
    assert.equal(snapB.state, 'active')
    const postB = srv.requests.filter((r) => r.op === 'createSnapshot')[1]
    assert.equal(JSON.stringify(postB.body), '{"name":"snap-b","imageName":"python:3.12-slim","entrypoint":["sleep","infinity"],"regionId":"us"}')
    assert.deepEqual(srv.snapshot('snap-b').history, ['pending', 'pulling', 'active'])

    assert.equal((await d.snapshot.get('snap-a')).id, snap.id)
    srv.snapshot('snap-b').state = 'inactive'
    const m0 = srv.requests.length
    const activated = await d.snapshot.activate('snap-b')
    assert.equal(activated.state, 'active')
    assert.deepEqual(srv.requests.slice(m0).map((r) => `${r.method} ${r.path}`), ['GET /api/snapshots/snap-b', `POST /api/snapshots/${snapB.id}/activate`])
    const all = await d.snapshot.list()
    assert.deepEqual([all.total, all.page, all.totalPages, all.items.map((s) => s.name)], [2, 1, 1, ['snap-a', 'snap-b']])
    const page2 = await d.snapshot.list(2, 1)
    assert.deepEqual([page2.total, page2.page, page2.totalPages, page2.items.map((s) => s.name)], [2, 2, 2, ['snap-b']])
    assert.equal(srv.requests.filter((r) => r.op === 'getAllSnapshots').pop().rawQuery, 'page=2&limit=1')

    const m = srv.requests.length
    await d.snapshot.delete('snap-a')
    assert.deepEqual(srv.requests.slice(m).map((r) => `${r.method} ${r.path}`), ['GET /api/snapshots/snap-a', `DELETE /api/snapshots/${snap.id}`])
    const m2 = srv.requests.length
    await d.snapshot.delete(snapB)
    assert.deepEqual(srv.requests.slice(m2).map((r) => `${r.method} ${r.path}`), [`DELETE /api/snapshots/${snapB.id}`])
    await assert.rejects(d.snapshot.get('snap-a'), { name: 'DaytonaNotFoundError', message: 'Snapshot snap-a not found' })

    srv.config.snapshotBuild.outcome = 'build_failed'
    await assert.rejects(d.snapshot.create({ name: 'snap-c', image }), {
      name: 'DaytonaError',
      message: `Failed to create snapshot. Name: snap-c Reason: ${srv.config.snapshotBuild.errorReason}`,
    })
    assertConforming(srv)
  })
})

test('official SDK: a failed sandbox build rejects create with the state and reason', async () => {
  await withServer({ s3: 'none', build: { outcome: 'build_failed' } }, async (srv) => {
    const d = H.officialClient(official, srv)
    const err = await d.create({ image: 'alpine:3.20' }, { timeout: 30 }).then(() => null, (e) => e)
    const id = [...srv.state.sandboxes.keys()][0]
    assert.equal(err.name, 'DaytonaError')
    assert.equal(err.message, `Sandbox ${id} failed to start with status: build_failed, error reason: ${srv.config.build.errorReason}`)
    const post = srv.requests.find((r) => r.op === 'createSandbox')
    assert.equal(JSON.stringify(post.body.buildInfo), '{"dockerfileContent":"FROM alpine:3.20\\n"}', 'a string image has no contextHashes key')
    assertConforming(srv)
  })
})

test('official SDK: HTTP errors map to the §4 classes', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.officialClient(official, srv)
    const sb = await d.create()
    for (const c of H.ERROR_CASES) {
      srv.faults.status('getSandbox', c.status, c.body, { count: 10 })
      const e = await d.get(sb.id).then(() => null, (x) => x)
      srv.faults.clear()
      assert.ok(e instanceof official.DaytonaError, `${c.status}: a DaytonaError`)
      assert.equal(e.name, c.name, `${c.status} ${JSON.stringify(c.body)}`)
      assert.equal(e.message, c.message)
      assert.equal(e.statusCode, c.status)
      assert.equal(e.code, c.code)
      assert.equal(e.source, c.source)
    }
    assertConforming(srv)
  })
})

test('official SDK 0.218 weaknesses the fake makes visible (reference §8), pinned', async () => {
  await withServer({ s3: 'none', logsHost: 'foreign' }, async (srv) => {
    const d = H.officialClient(official, srv)
    // §8.16: the API key goes to whatever host the build-logs URL names.
    const lines = []
    await d.create({ image: 'alpine:3.20' }, { onSnapshotCreateLogs: (l) => lines.push(l) })
    const foreign = srv.requests.filter((r) => r.listener === 'foreign')
    assert.equal(foreign.length, 1)
    assert.equal(foreign[0].headers.authorization, `Bearer ${srv.apiKey}`)
    assert.ok(srv.state.authorizationSeenBy[srv.foreignOrigin] >= 1)
    assert.equal(foreign[0].rawQuery, 'follow=true')

    // §8.13: the log stream's status is not checked; an error body is printed as log output.
    srv.config.logsHost = 'same'
    srv.faults.status(/BuildLogs$/, 404, { message: 'logs not found' })
    const lines2 = []
    await d.create({ image: 'alpine:3.21' }, { onSnapshotCreateLogs: (l) => lines2.push(l) })
    assert.deepEqual(lines2, ['{"message":"logs not found"}'])

    // §8.15: the caller's labels are mutated.
    const labels = { team: 'x' }
    await d.create({ labels })
    assert.deepEqual(labels, { team: 'x', 'code-toolbox-language': 'python' })

    // Not in §8: a 200 whose body is not JSON is taken as a string by axios, and the SDK fails
    // later with an error that is not a DaytonaError.
    const sb = await d.create()
    srv.faults.garbage('getSandbox')
    const e = await d.get(sb.id).then(() => null, (x) => x)
    assert.ok(e && !(e instanceof official.DaytonaError), 'not a DaytonaError')
    assert.match(e.message, /Required parameter sandboxId/)

    // A reset POST /sandbox is not retried (one request), a reset GET is.
    srv.faults.reset('createSandbox', { phase: 'after' })
    const posts = srv.requests.filter((r) => r.op === 'createSandbox').length
    await assert.rejects(d.create(), { name: 'DaytonaConnectionError' })
    assert.equal(srv.requests.filter((r) => r.op === 'createSandbox').length, posts + 1)
    srv.faults.reset('getSandbox')
    const gets = srv.requests.filter((r) => r.op === 'getSandbox').length
    assert.equal((await d.get(sb.id)).id, sb.id)
    assert.equal(srv.requests.filter((r) => r.op === 'getSandbox').length, gets + 2)
    assertConforming(srv)
  })
})

// ---------------------------------------------------------------------------------------------
// The fake itself, over plain HTTP.

async function call(srv, method, p, { body, headers = {}, auth = true, raw } = {}) {
  const h = { ...headers }
  if (auth) h.authorization = `Bearer ${srv.apiKey}`
  let payload = raw
  if (body !== undefined) {
    payload = JSON.stringify(body)
    h['content-type'] = 'application/json'
  }
  const res = await fetch(p.startsWith('http') ? p : `${srv.apiUrl}${p}`, { method, headers: h, body: payload })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

test('test server: requests outside the spec get 400 and are recorded; known drift is accepted', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    let r = await call(srv, 'POST', '/sandbox', { body: { labels: { a: 'b' }, kvm: true } })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(srv.state.violations, [])

    const bad = [
      ['POST', '/sandbox', { body: { labels: { a: 1 } } }, /body\/labels\/a: must be string/],
      ['POST', '/sandbox', { body: { language: 'python' } }, /additional properties \("language"\)/],
      ['POST', '/sandbox', { body: { cpu: 1.5 } }, /body\/cpu: must be integer/],
      ['POST', '/sandbox', { body: { buildInfo: { contextHashes: [] } } }, /dockerfileContent/],
      ['POST', '/sandbox', { raw: '{"name":', headers: { 'content-type': 'application/json' } }, /not valid JSON/],
      ['POST', '/sandbox', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, /must be application\/json/],
      ['GET', '/sandbox?states=runing', {}, /query states: .*allowed values/],
      ['GET', '/sandbox?limit=0', {}, /query limit: must be >= 1/],
      ['GET', '/sandbox?limit=ten', {}, /query limit: "ten" is not a number/],
      ['GET', '/sandbox?cursor=a&cursor=b', {}, /repeated 2 times/],
      ['GET', '/sandbox?offset=3', {}, /unknown parameter "offset"/],
      ['POST', `/sandbox/${r.json.id}/stop?force=maybe`, {}, /not a boolean/],
      ['POST', `/sandbox/${r.json.id}/start`, { body: {} }, /takes no request body/],
      ['GET', '/snapshots?page=0', {}, /query page: must be >= 1/],
      ['POST', '/snapshots', { body: { imageName: 'x' } }, /required property 'name'/],
      ['GET', '/sandboxes', {}, /no operation in the spec/],
      ['PUT', '/sandbox', {}, /method PUT not defined/],
    ]
    for (const [method, p, opts, re] of bad) {
      const before = srv.state.violations.length
      r = await call(srv, method, p, opts)
      assert.ok(r.status === 400 || r.status === 404 || r.status === 405, `${method} ${p}: ${r.status} ${r.text}`)
      assert.equal(srv.state.violations.length, before + 1, `${method} ${p} recorded`)
      assert.match(srv.state.violations[before].errors.join('\n'), re, `${method} ${p}`)
    }

    r = await call(srv, 'GET', '/sandbox', { auth: false })
    assert.equal(r.status, 401)
    r = await call(srv, 'GET', '/sandbox', { headers: { authorization: 'Bearer nope' }, auth: false })
    assert.equal(r.status, 401)
    assert.deepEqual(srv.state.authFailures.map((f) => f.header), ['missing', 'wrong'])
  })
})

test('test server: toolbox multipart uploads are checked field by field', async () => {
  const { buildMultipart } = require('./api-server/multipart.js')
  await withServer({ s3: 'none', timings: { creatingMs: 0, startingMs: 0 } }, async (srv) => {
    const sb = (await call(srv, 'POST', '/sandbox', { body: {} })).json
    await H.waitFor(() => srv.sandbox(sb.id).state === 'started')
    const upload = async (parts) => {
      const mp = buildMultipart(parts)
      return call(srv, 'POST', `${srv.toolboxUrl}/${sb.id}/files/bulk-upload`, { raw: mp.body, headers: { 'content-type': mp.contentType } })
    }
    let r = await upload([
      { name: 'files[0].path', data: '/x' },
      { name: 'files[0].file', filename: 'x', data: 'X' },
      { name: 'files[1].path', data: 'rel/y' },
      { name: 'files[1].file', filename: 'y', data: 'Y' },
    ])
    assert.equal(r.status, 200, r.text)
    assert.deepEqual([...srv.sandbox(sb.id).files.keys()], ['/x', '/home/daytona/rel/y'])
    for (const [parts, re] of [
      [[{ name: 'files[0].path', data: '/x' }], /files\[0\]\.file missing/],
      [[{ name: 'files[0].path', data: '/x' }, { name: 'files[0].file', data: 'no filename' }], /must be a file part/],
      [[{ name: 'file', filename: 'x', data: 'X' }], /unexpected field "file"/],
      [[{ name: 'files[1].path', data: '/x' }, { name: 'files[1].file', filename: 'x', data: 'X' }], /index 0 missing/],
    ]) {
      const before = srv.state.violations.length
      r = await upload(parts)
      assert.equal(r.status, 400)
      assert.match(srv.state.violations[before].errors.join('\n'), re)
    }
    r = await call(srv, 'POST', `${srv.toolboxUrl}/${sb.id}/process/execute`, { body: { command: 'echo a', timeout: 1.5 } })
    assert.equal(r.status, 400)
    r = await call(srv, 'POST', `${srv.toolboxUrl}/${sb.id}/process/execute`, { body: { command: 'echo $HOME_X ok', envs: { HOME_X: 'h' } } })
    assert.deepEqual(r.json, { exitCode: 0, result: 'h ok\n' })
  })
})

test('test server: state machines follow the configured timings', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const built = (await call(srv, 'POST', '/sandbox', { body: { buildInfo: { dockerfileContent: 'FROM x\n' } } })).json
    assert.equal(built.state, 'pending_build')
    const plain = (await call(srv, 'POST', '/sandbox', { body: {} })).json
    assert.equal(plain.state, 'creating')
    await H.waitFor(() => srv.sandbox(built.id).state === 'started' && srv.sandbox(plain.id).state === 'started')
    assert.deepEqual(srv.sandbox(built.id).history, ['pending_build', 'building_snapshot', 'starting', 'started'])
    assert.deepEqual(srv.sandbox(plain.id).history, ['creating', 'starting', 'started'])
    assert.deepEqual(srv.sandbox(built.id).log.lines, srv.config.build.lines)

    srv.config.build.outcome = 'error'
    const failed = (await call(srv, 'POST', '/sandbox', { body: { buildInfo: { dockerfileContent: 'FROM y\n' } } })).json
    await H.waitFor(() => srv.sandbox(failed.id).state === 'error')
    assert.equal((await call(srv, 'GET', `/sandbox/${failed.id}`)).json.errorReason, srv.config.build.errorReason)

    let r = await call(srv, 'POST', `/sandbox/${plain.id}/stop?force=false`)
    assert.equal(r.json.state, 'stopping')
    await H.waitFor(() => srv.sandbox(plain.id).state === 'stopped')
    r = await call(srv, 'DELETE', `/sandbox/${plain.id}`)
    assert.equal(r.json.state, 'destroying')
    await H.waitFor(async () => (await call(srv, 'GET', `/sandbox/${plain.id}`)).json.state === 'destroyed')
    await H.waitFor(async () => (await call(srv, 'GET', `/sandbox/${plain.id}`)).status === 404)
    assert.equal((await call(srv, 'GET', '/sandbox')).json.items.some((s) => s.id === plain.id), false)
    assert.deepEqual(srv.state.violations, [])
    assert.deepEqual(srv.state.responseViolations, [])
  })
})

test('test server: build-log streaming, Range resume, cut and ignoreRange faults, foreign host', async () => {
  const lines = ['one', 'two: grüße', 'three', 'four ✓', 'five']
  await withServer({ s3: 'none', build: { lines, lineIntervalMs: 5 }, logChunking: 'split' }, async (srv) => {
    const sb = (await call(srv, 'POST', '/sandbox', { body: { buildInfo: { dockerfileContent: 'FROM x\n' } } })).json
    const full = lines.map((l) => `${l}\n`).join('')
    const fullBytes = Buffer.from(full)
    // follow: stays open until the build is over, then holds every line once.
    let r = await call(srv, 'GET', `/sandbox/${sb.id}/build-logs?follow=true`)
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-type'), /^text\/plain/)
    assert.equal(r.text, full)
    assert.equal(srv.sandbox(sb.id).log.done, true)

    // Resume from a byte offset (the end of line 2).
    const off = Buffer.byteLength('one\ntwo: grüße\n')
    r = await call(srv, 'GET', `/sandbox/${sb.id}/build-logs?follow=true`, { headers: { range: `bytes=${off}-` } })
    assert.equal(r.status, 206)
    assert.equal(r.text, fullBytes.slice(off).toString())
    r = await call(srv, 'GET', `/sandbox/${sb.id}/build-logs`, { headers: { range: `bytes=${fullBytes.length + 1}-` } })
    assert.equal(r.status, 416)

    // A server that ignores Range answers 200 from byte 0.
    srv.faults.ignoreRange()
    r = await call(srv, 'GET', `/sandbox/${sb.id}/build-logs?follow=true`, { headers: { range: `bytes=${off}-` } })
    assert.equal(r.status, 200)
    assert.equal(r.text, full)

    // Cut mid-line: half of line 3 (0-based), then the connection dies.
    srv.faults.cutLogs({ atLine: 3 })
    const res = await fetch(`${srv.apiUrl}/sandbox/${sb.id}/build-logs?follow=true`, { headers: { authorization: `Bearer ${srv.apiKey}` } })
    const got = []
    const reader = res.body.getReader()
    let failure = null
    for (;;) {
      try {
        const { done, value } = await reader.read()
        if (done) break
        got.push(Buffer.from(value))
      } catch (e) {
        failure = e
        break
      }
    }
    assert.ok(failure, 'the stream ends with an error, not a clean end')
    const partial = Buffer.concat(got)
    const line3 = Buffer.byteLength('one\ntwo: grüße\nthree\n')
    assert.ok(partial.length > line3 && partial.length < fullBytes.length - Buffer.byteLength('five\n'), `cut inside line 3 (${partial.length})`)
    assert.deepEqual(partial, fullBytes.slice(0, partial.length))
    // ... and a resume from the last complete line gets the rest exactly.
    r = await call(srv, 'GET', `/sandbox/${sb.id}/build-logs?follow=true`, { headers: { range: `bytes=${line3}-` } })
    assert.equal(r.text, fullBytes.slice(line3).toString())

    // Foreign host: the token in the path is the credential; no Authorization needed.
    srv.config.logsHost = 'foreign'
    const url = (await call(srv, 'GET', `/sandbox/${sb.id}/build-logs-url`)).json.url
    assert.ok(url.startsWith(srv.foreignOrigin), url)
    assert.notEqual(new URL(url).origin, new URL(srv.apiUrl).origin)
    r = await call(srv, 'GET', `${url}?follow=true`, { auth: false })
    assert.equal(r.text, full)
    r = await call(srv, 'GET', url.replace(srv.state.logsToken, 'x'.repeat(32)), { auth: false })
    assert.equal(r.status, 403)
    assert.equal(srv.state.authorizationSeenBy[srv.foreignOrigin], undefined)
    assert.deepEqual(srv.state.violations, [])
  })
})

test('test server: faults (status + Retry-After, reset after handling, garbage, delay) are consumed by count', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    srv.faults.status('listSandboxes', 429, { message: 'slow down' }, { headers: { 'Retry-After': '1' }, count: 2 })
    let r = await call(srv, 'GET', '/sandbox')
    assert.equal(r.status, 429)
    assert.equal(r.headers.get('retry-after'), '1')
    assert.equal((await call(srv, 'GET', '/sandbox')).status, 429)
    assert.equal((await call(srv, 'GET', '/sandbox')).status, 200)

    srv.faults.reset('createSandbox', { phase: 'after' })
    await assert.rejects(call(srv, 'POST', '/sandbox', { body: { name: 'lost' } }))
    assert.equal(srv.state.sandboxes.size, 1, 'the server created it; the reply was lost')
    r = await call(srv, 'POST', '/sandbox', { body: { name: 'lost' } })
    assert.equal(r.status, 409)

    srv.faults.garbage('getSandbox')
    r = await call(srv, 'GET', '/sandbox/lost')
    assert.equal(r.status, 200)
    assert.equal(r.json, undefined)

    srv.faults.delay('getSandbox', 150)
    const t0 = Date.now()
    r = await call(srv, 'GET', '/sandbox/lost')
    assert.ok(Date.now() - t0 >= 140)
    assert.equal(r.json.name, 'lost')
    assert.deepEqual(srv.faults.list.map((f) => f.fired), [2, 1, 1, 1])
  })
})
