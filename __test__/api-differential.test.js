'use strict'
// Our client's Daytona API backend against the fake API of __test__/api-server/ (+ moto):
//  1. differential: one user program run through the official SDK and through ours, each
//     against a fresh server instance; the recorded request sequences must match (methods,
//     paths, query, bodies, the headers that matter) after the normalisation of
//     helpers.normaliseRequests (contextHashes values, polling repetitions, our own
//     X-Daytona-Source / User-Agent / X-Daytona-SDK-Version values), and so must the results;
//  2. the guarantees our client adds to the official SDK's (reference §8): bounded waits,
//     checked log streams, resumed log streams, no credential leaks, retries that are safe,
//     clear errors, untouched caller inputs, §4 error mapping, SHA-256 context keys.
// Every test also asserts that our requests conform to the spec (no recorded violations).

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')

const official = require('@daytonaio/sdk')
const native = require('../index.js')
const { listKeys, getObject, tarEntries } = require('./api-server/s3.js')
const H = require('./api-server/helpers.js')

// moto is started once; only the tests that upload contexts need it.
const moto = H.motoOnce()
before(() => moto.start())
const needS3 = moto.need

/**
 * Runs fn against a fresh server. A client that hangs (these tests define behaviour that may not
 * exist yet) must not hang the run: after `limitMs` the server is closed (helpers.withServer).
 */
const withServer = (options, fn, limitMs = 60_000) => H.withServer(options, fn, limitMs)

// The client's side of the conformance checks (the fake's own responses are checked in
// api-server.test.js).
const assertConforming = (srv) => H.assertConforming(srv, { responses: false })

const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }))

// ---------------------------------------------------------------------------------------------
// 1. Differential

/**
 * Timings that make the official SDK's request sequence deterministic: builds take ~2.4 s, so
 * its first poll (1 s after POST) sees them running, whatever the machine's load, and it always
 * streams their logs and polls once more afterwards.
 */
const DIFF_OPTIONS = {
  s3: 'direct',
  build: { lineIntervalMs: 400 },
  snapshotBuild: { lineIntervalMs: 400 },
}

/** The user program, written once against either SDK's exports. */
async function program(sdk, d, ctx) {
  const obs = {}
  const image = sdk.Image.debianSlim('3.12')
    .addLocalFile(ctx.file, '/app/data.txt')
    .addLocalDir(ctx.dir, '/app/src')
    .pipInstall(['requests'])
    .env({ A: 'b' })
  const logs = []
  const sb = await d.create(
    {
      image,
      name: 'diff-sb',
      envVars: { K: 'V' },
      labels: { team: 'diff' },
      resources: { cpu: 2, memory: 4, disk: 8 },
      autoStopInterval: 15,
    },
    { onSnapshotCreateLogs: (l) => logs.push(l), timeout: 60 },
  )
  obs.created = { id: sb.id, name: sb.name, state: sb.state, cpu: sb.cpu, memory: sb.memory, disk: sb.disk, target: sb.target, labels: sb.labels, env: sb.env }
  obs.buildLog = logs.join('\n')
  const r1 = await sb.process.executeCommand('echo hello', '/tmp', { X: '1' }, 10)
  obs.exec = { exitCode: r1.exitCode, result: r1.result }
  obs.exit = (await sb.process.executeCommand('exit 2')).exitCode
  await sb.fs.uploadFile(Buffer.from('payload ✓\n'), '/tmp/up.txt')
  obs.download = (await sb.fs.downloadFile('/tmp/up.txt')).toString()
  obs.got = (await d.get('diff-sb')).id
  obs.listed = []
  for await (const s of d.list({ labels: { team: 'diff' } })) obs.listed.push(s.id)
  await sb.stop()
  obs.stopped = sb.state
  await sb.start()
  obs.started = sb.state
  const snapLogs = []
  const snap = await d.snapshot.create(
    { name: 'diff-snap', image: sdk.Image.base('alpine:3.20').runCommands('echo hi') },
    { onLogs: (l) => snapLogs.push(l) },
  )
  obs.snapshot = { id: snap.id, name: snap.name, state: snap.state }
  obs.snapshotLog = snapLogs.join('\n')
  obs.snapshotGot = (await d.snapshot.get('diff-snap')).id
  const page = await d.snapshot.list()
  obs.snapshots = { names: page.items.map((s) => s.name), total: page.total }
  await d.snapshot.delete('diff-snap')
  await sb.delete()
  return obs
}

/** Runs the program through one SDK against a fresh server; never throws. */
function runProgram(sdk, client, ctx) {
  return withServer(DIFF_OPTIONS, async (srv) => {
    const result = await settle((async () => program(sdk, client(sdk, srv), ctx))())
    return { result, lines: H.normaliseRequests(srv), srv }
  })
}

test('differential: the same program sends the same requests through the official SDK and ours', async () => {
  needS3()
  const ctx = H.makeContexts('diff')
  try {
    const runs = {
      official: await runProgram(official, H.officialClient, ctx),
      native: await runProgram(native, H.nativeClient, ctx),
    }
    // The harness first: the official run worked and has the shape of reference §3.
    assert.equal(runs.official.result.error, undefined, `the official SDK failed: ${runs.official.result.error && runs.official.result.error.stack}`)
    assertConforming(runs.official.srv)
    const sb = '/api/sandbox/5a000000-0000-4000-8000-000000000001'
    const snap = '/api/snapshots/5b000000-0000-4000-8000-000000000001'
    assert.deepEqual(
      runs.official.lines.map((l) => l.split('  ')[0]),
      [
        'GET /api/object-storage/push-access',
        'POST /api/sandbox',
        `GET ${sb}`,
        `GET ${sb}/build-logs-url`,
        `GET ${sb}/build-logs?follow=true`,
        `GET ${sb}`,
        `POST /toolbox/5a000000-0000-4000-8000-000000000001/process/execute`,
        `POST /toolbox/5a000000-0000-4000-8000-000000000001/process/execute`,
        `POST /toolbox/5a000000-0000-4000-8000-000000000001/files/bulk-upload`,
        `POST /toolbox/5a000000-0000-4000-8000-000000000001/files/bulk-download`,
        'GET /api/sandbox/diff-sb',
        'GET /api/sandbox?labels={"team":"diff"}',
        `POST ${sb}/stop?force=false`,
        `GET ${sb}`,
        `POST ${sb}/start`,
        `GET ${sb}`,
        'POST /api/snapshots',
        'GET /api/snapshots/diff-snap',
        `GET ${snap}/build-logs-url`,
        `GET ${snap}/build-logs?follow=true`,
        'GET /api/snapshots/diff-snap',
        'GET /api/snapshots',
        'GET /api/snapshots/diff-snap',
        `DELETE ${snap}`,
        `DELETE ${sb}`,
      ],
      'the official sequence (harness check: timings keep it deterministic)',
    )
    assert.equal(runs.native.result.error, undefined, `ours failed: ${runs.native.result.error && runs.native.result.error.stack}`)
    assert.deepEqual(runs.native.lines, runs.official.lines, 'request sequences (ours vs official)')
    assert.deepEqual(runs.native.result.value, runs.official.result.value, 'what the program observed')
    assertConforming(runs.native.srv)
  } finally {
    ctx.cleanup()
  }
})

/** Sandbox settings: labels, activity, intervals, waits, fresh data. */
async function settingsProgram(sdk, d) {
  const obs = {}
  const sb = await d.create({ name: 'diff-settings', labels: { team: 'diff' } }, { timeout: 30 })
  obs.labels = await sb.setLabels({ b: '2', a: '1', 'code-toolbox-language': 'python' })
  obs.ownLabels = { ...sb.labels }
  await sb.refreshActivity()
  await sb.setAutostopInterval(30)
  await sb.setAutoArchiveInterval(60)
  await sb.setAutoDeleteInterval(-1)
  obs.intervals = [sb.autoStopInterval, sb.autoArchiveInterval, sb.autoDeleteInterval]
  obs.badInterval = await sb.setAutostopInterval(2.5).then(() => 'resolved', (e) => `${e.name}: ${e.message}`)
  await sb.resize({ cpu: 2, memory: 4 })
  obs.resized = [sb.cpu, sb.memory, sb.disk, sb.state]
  await sb.waitForResizeComplete()
  obs.resizeGpu = await sb.resize({ gpu: 1 }).then(() => 'resolved', (e) => `${e.name}: ${e.message}`)
  const fork = await sb.fork({ name: 'diff-fork' })
  obs.fork = { name: fork.name, state: fork.state, labels: fork.labels }
  const unnamed = await sb.fork()
  obs.unnamed = unnamed.state
  await fork.delete()
  await unnamed.delete()
  obs.dirs = [await sb.getWorkDir(), await sb.getUserHomeDir(), await sb.getUserRootDir()]
  await sb.updateEnv({ DIFF_A: '1', DIFF_B: '2' })
  await sb.updateEnv({ DIFF_C: '3' }, { unset: ['DIFF_A'] })
  obs.env = (await sb.process.executeCommand('echo "$DIFF_A|$DIFF_B|$DIFF_C"')).result
  obs.preview = await sb.getPreviewLink(3000)
  obs.signed = await sb.getSignedPreviewUrl(3000, 120)
  obs.signedDefault = await sb.getSignedPreviewUrl(8080)
  await sb.createSnapshot('diff-sb-snap')
  obs.snapshotState = sb.state
  obs.snapshotConflict = await sb.createSnapshot('diff-sb-snap').then(() => 'resolved', (e) => `${e.name}: ${e.message}`)
  await sb.refreshData()
  obs.fresh = { labels: sb.labels, autoStopInterval: sb.autoStopInterval, autoArchiveInterval: sb.autoArchiveInterval, autoDeleteInterval: sb.autoDeleteInterval, activity: typeof sb.lastActivityAt }
  await sb.stop()
  await sb.waitUntilStopped()
  obs.stopped = sb.state
  await sb.recover()
  obs.recovered = sb.state
  await sb.stop()
  await sb.archive()
  obs.archived = sb.state
  await sb.delete()
  return obs
}

test('differential: sandbox settings send the same requests (setLabels, refreshActivity, interval setters, waitUntilStopped)', async () => {
  // archivingMs: both clients' refresh right after the archive request sees 'archiving'.
  const options = { s3: 'none', timings: { creatingMs: 0, startingMs: 0, stoppingMs: 0, destroyingMs: 0, archivingMs: 1000 } }
  const run = (sdk, client) =>
    withServer(options, async (srv) => {
      const result = await settle(settingsProgram(sdk, client(sdk, srv)))
      return { result, lines: H.normaliseRequests(srv), srv }
    })
  const off = await run(official, H.officialClient)
  const ours = await run(native, H.nativeClient)
  assert.equal(off.result.error, undefined, `the official SDK failed: ${off.result.error && off.result.error.stack}`)
  assertConforming(off.srv)
  const sb = '/api/sandbox/5a000000-0000-4000-8000-000000000001'
  const seq = off.lines.map((l) => l.split('  ')[0])
  for (const expected of [`GET ${sb}/ports/3000/preview-url`, `GET ${sb}/ports/3000/signed-preview-url?expiresInSeconds=120`, `POST ${sb}/archive`, `POST ${sb}/recover`, `POST ${sb}/fork`, `POST ${sb}/snapshot`, `POST ${sb}/resize`, `PUT ${sb}/labels`, `POST ${sb}/last-activity`, `POST ${sb}/autostop/30`, `POST ${sb}/autoarchive/60`, `POST ${sb}/autodelete/-1`]) {
    assert.ok(seq.includes(expected), `harness: the official sequence has ${expected}: ${seq.join('\n')}`)
  }
  assert.equal(ours.result.error, undefined, `ours failed: ${ours.result.error && ours.result.error.stack}`)
  assert.deepEqual(ours.lines, off.lines, 'request sequences (ours vs official)')
  assert.deepEqual(ours.result.value, off.result.value, 'what the program observed')
  assertConforming(ours.srv)
})

// ---------------------------------------------------------------------------------------------
// 2. Guarantees of our client

test('native: every wait has a deadline (endless build log, stuck pending build, endless snapshot build)', async () => {
  await withServer({ s3: 'none', build: { outcome: 'hang', lineIntervalMs: 50 }, snapshotBuild: { outcome: 'hang', lineIntervalMs: 50 } }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const lines = []
    let t0 = Date.now()
    const { error } = await settle(d.create({ image: 'alpine:3.20' }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 2 }))
    let elapsed = Date.now() - t0
    assert.ok(error instanceof native.DaytonaTimeoutError, `DaytonaTimeoutError, got ${util.inspect(error)}`)
    assert.equal(error.message, 'Failed to create and start sandbox within 2 seconds. Operation timed out.')
    assert.ok(elapsed >= 1900 && elapsed < 4500, `bounded by the timeout (${elapsed} ms)`)
    assert.ok(lines.length >= 5, `the log was delivered while waiting (${lines.length} lines)`)
    assert.deepEqual(lines.slice(0, srv.config.build.lines.length), srv.config.build.lines)
    await H.waitFor(() => srv.openLogStreams() === 0, 2000, 'the client to close its log stream')

    // A build that never leaves pending_build.
    srv.config.timings.pendingBuildMs = 600_000
    t0 = Date.now()
    const stuck = await settle(d.create({ image: 'alpine:3.21' }, { onSnapshotCreateLogs: () => {}, timeout: 1 }))
    elapsed = Date.now() - t0
    assert.ok(stuck.error instanceof native.DaytonaTimeoutError, util.inspect(stuck.error))
    assert.ok(elapsed < 3500, `bounded (${elapsed} ms)`)

    // snapshot.create honours its timeout, with and without onLogs (the official poll ignores it).
    for (const onLogs of [() => {}, undefined]) {
      t0 = Date.now()
      const image = native.Image.base('alpine:3.20').runCommands(`echo ${onLogs ? 'logs' : 'quiet'}`)
      const snap = await settle(d.snapshot.create({ name: `hang-${onLogs ? 'logs' : 'quiet'}`, image }, { onLogs, timeout: 2 }))
      elapsed = Date.now() - t0
      assert.ok(snap.error instanceof native.DaytonaTimeoutError, util.inspect(snap.error))
      assert.ok(elapsed >= 1900 && elapsed < 4500, `bounded (${elapsed} ms)`)
    }
    await H.waitFor(() => srv.openLogStreams() === 0, 2000, 'the client to close its log streams')
    assertConforming(srv)
  }, 30_000)
})

test('native: the log stream status is checked (a 404 is an error, not log lines)', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    srv.faults.status(/BuildLogs$/, 404, { message: 'logs not found' }, { count: 10 })
    const lines = []
    const { error } = await settle(d.create({ image: 'alpine:3.20' }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 30 }))
    assert.ok(error instanceof native.DaytonaError, `a DaytonaError, got ${util.inspect(error)}`)
    assert.match(error.message, /log/i, 'says it is about the build log')
    assert.match(error.message, /404|logs not found/, 'says what the server answered')
    assert.deepEqual(lines.filter((l) => /logs not found|statusCode/.test(l)), [], 'the error body is not delivered as log output')
    assertConforming(srv)
  })
})

/** Byte offset at which line `i` (0-based) of `lines` starts. */
const lineOffset = (lines, i) => Buffer.byteLength(lines.slice(0, i).map((l) => `${l}\n`).join(''))

const RESUME_LINES = [
  'Step 1/5 : FROM python:3.12.10-slim-bookworm',
  ' ---> 3f2a9c1b7d4e',
  'Step 2/5 : RUN echo "grüße ✓ — ünïcödé"',
  'grüße ✓ — ünïcödé',
  'Step 3/5 : COPY /tmp/x /app/x',
  'Step 4/5 : RUN pip install requests',
  'Collecting requests',
  'Step 5/5 : WORKDIR /home/daytona',
  'Successfully built 3f2a9c1b7d4e',
]

test('native: a log stream cut mid-line is reopened; every line arrives once and whole', async () => {
  for (const variant of ['range', 'range-ignored']) {
    await withServer({ s3: 'none', build: { lines: RESUME_LINES, lineIntervalMs: 20 }, logChunking: 'split' }, async (srv) => {
      const d = H.nativeClient(native, srv)
      srv.faults.cutLogs({ atLine: 3 })
      if (variant === 'range-ignored') srv.faults.ignoreRange({ when: (r) => r.headers.range !== undefined })
      const lines = []
      const sb = await d.create({ image: 'alpine:3.20' }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 30 })
      assert.equal(sb.state, 'started')
      assert.deepEqual(lines, RESUME_LINES, `${variant}: each line once, whole, in order`)
      const logReqs = srv.requests.filter((r) => r.op === 'getBuildLogs')
      assert.ok(logReqs.length >= 2, `${variant}: the stream was reopened (${logReqs.length} requests)`)
      const cutAt = logReqs[0].cutAt
      assert.ok(cutAt > lineOffset(RESUME_LINES, 3) && cutAt < lineOffset(RESUME_LINES, 4), 'the first stream was cut inside line 3')
      const range = logReqs[1].headers.range
      if (range !== undefined) {
        const m = /^bytes=(\d+)-$/.exec(range)
        assert.ok(m, `Range ${range}`)
        assert.ok(Number(m[1]) <= cutAt, 'resumes at or before the cut')
      }
      assertConforming(srv)
    })
  }
})

function assertNoKey(key, e, what) {
  for (const text of [e && e.message, e && e.stack, util.inspect(e, { depth: 5 }), JSON.stringify(e)]) {
    assert.ok(!String(text).includes(key), `${what}: the API key appears in the error: ${text}`)
  }
}

test('native: the API key is never sent to a foreign log host, nor shown in errors', async () => {
  await withServer({ s3: 'none', logsHost: 'foreign' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const lines = []
    const sb = await d.create({ image: 'alpine:3.20' }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 30 })
    assert.equal(lines.join('\n'), srv.config.build.lines.join('\n'), 'the log came from the foreign host')
    const foreign = srv.requests.filter((r) => r.listener === 'foreign')
    assert.ok(foreign.length >= 1)
    for (const r of foreign) {
      assert.equal(r.headers.authorization, undefined, 'no Authorization to the foreign host')
      for (const v of Object.values(r.headers)) assert.ok(!String(v).includes(srv.apiKey), 'no header carries the key')
      assert.ok(!r.rawQuery.includes(srv.apiKey))
    }
    assert.equal(srv.state.authorizationSeenBy[srv.foreignOrigin], undefined)

    // Errors of every kind, none showing the key.
    assertNoKey(srv.apiKey, (await settle(d.get('missing'))).error, '404')
    srv.faults.status('getSandbox', 500, { message: `upstream said Bearer ${'x'.repeat(8)}` }, { count: 10 })
    assertNoKey(srv.apiKey, (await settle(d.get(sb.id))).error, '500')
    srv.faults.clear()
    srv.faults.garbage('getSandbox', { count: 10 })
    assertNoKey(srv.apiKey, (await settle(d.get(sb.id))).error, 'garbage')
    srv.faults.clear()
    srv.faults.status('foreignBuildLogs', 403, { message: 'token expired' }, { count: 10 })
    assertNoKey(srv.apiKey, (await settle(d.create({ image: 'alpine:3.21' }, { onSnapshotCreateLogs: () => {}, timeout: 30 }))).error, 'foreign 403')
    srv.faults.clear()
    const wrongKey = `dtn-wrong-${Date.now()}`
    const wrong = new native.Daytona({ apiKey: wrongKey, apiUrl: srv.apiUrl, target: 'us' })
    const unauth = (await settle(wrong.get(sb.id))).error
    assert.ok(unauth instanceof native.DaytonaAuthenticationError, util.inspect(unauth))
    assertNoKey(wrongKey, unauth, '401')
    const closedKey = `dtn-closed-${Date.now()}`
    const closed = new native.Daytona({ apiKey: closedKey, apiUrl: 'http://127.0.0.1:9/api', target: 'us' })
    const conn = (await settle(closed.get('x'))).error
    assert.ok(conn instanceof native.DaytonaConnectionError, util.inspect(conn))
    assertNoKey(closedKey, conn, 'connection refused')
  })
})

test('native: 429/503 with Retry-After on GET are retried; a reset POST /sandbox is not', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const sb = await d.create({ name: 'retry' }, { timeout: 30 })
    const gets = () => srv.requests.filter((r) => r.op === 'getSandbox').length

    let n = gets()
    srv.faults.status('getSandbox', 429, { message: 'slow down' }, { headers: { 'Retry-After': '1' } })
    let t0 = Date.now()
    assert.equal((await d.get(sb.id)).id, sb.id)
    assert.ok(Date.now() - t0 >= 900, 'waited as Retry-After said')
    assert.equal(gets(), n + 2)

    n = gets()
    srv.faults.status('getSandbox', 503, { message: 'unavailable' }, { headers: { 'Retry-After': '0' } })
    assert.equal((await d.get(sb.id)).id, sb.id)
    assert.equal(gets(), n + 2)

    // A connection reset on GET is retried (as the official SDK does).
    n = gets()
    srv.faults.reset('getSandbox')
    assert.equal((await d.get(sb.id)).id, sb.id)
    assert.equal(gets(), n + 2)

    // The server created the sandbox, the reply was lost: retrying would create a second one.
    const posts = () => srv.requests.filter((r) => r.op === 'createSandbox').length
    n = posts()
    srv.faults.reset('createSandbox', { phase: 'after' })
    const { error } = await settle(d.create({ name: 'once' }, { timeout: 30 }))
    assert.ok(error instanceof native.DaytonaConnectionError, util.inspect(error))
    assert.equal(posts(), n + 1, 'exactly one POST /sandbox')
    assert.equal([...srv.state.sandboxes.values()].filter((s) => s.name === 'once').length, 1)
    assertConforming(srv)
  })
})

test('native: a body that is not JSON is a DaytonaError with a clear message', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const sb = await d.create({}, { timeout: 30 })
    for (const op of ['getSandbox', 'listSandboxes']) {
      srv.faults.garbage(op, { count: 10 })
      const { error } = await settle(op === 'getSandbox' ? d.get(sb.id) : (async () => {
        for await (const s of d.list()) void s
      })())
      srv.faults.clear()
      assert.ok(error instanceof native.DaytonaError, `${op}: ${util.inspect(error)}`)
      assert.match(error.message, /json/i, `${op}: says the response was not valid JSON: ${error.message}`)
    }
    srv.faults.garbage('createSandbox')
    const { error } = await settle(d.create({}, { timeout: 30 }))
    assert.ok(error instanceof native.DaytonaError, util.inspect(error))
    assert.match(error.message, /json/i)
    assertConforming(srv)
  })
})

test("native: the caller's params, labels and Image are not mutated", async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const image = native.Image.base('alpine:3.20').runCommands('echo hi')
    const labels = { team: 'x' }
    const envVars = { K: 'V' }
    const params = { image, labels, envVars, resources: { cpu: 1 }, ephemeral: true }
    const before = JSON.stringify({ ...params, image: null })
    const dockerfile = image.dockerfile
    await d.create(params, { timeout: 30 })
    assert.equal(JSON.stringify({ ...params, image: null }), before)
    assert.equal(params.image, image)
    assert.equal(image.dockerfile, dockerfile)
    assert.deepEqual(labels, { team: 'x' })
    assert.equal('language' in params, false)
    // ... while the request carries what the official SDK sends.
    const post = srv.requests.find((r) => r.op === 'createSandbox')
    assert.deepEqual(post.body.labels, { team: 'x', 'code-toolbox-language': 'python' })
    assert.equal(post.body.autoDeleteInterval, 0, 'ephemeral')

    const snapImage = native.Image.base('alpine:3.20').runCommands('echo snap')
    const snapDockerfile = snapImage.dockerfile
    await d.snapshot.create({ name: 'ep', image: snapImage, entrypoint: ['sleep', 'infinity'] }, { timeout: 30 })
    assert.equal(snapImage.dockerfile, snapDockerfile, 'entrypoint did not touch the Image')
    const snapPost = srv.requests.find((r) => r.op === 'createSnapshot')
    assert.equal(snapPost.body.buildInfo.dockerfileContent, `${snapDockerfile}ENTRYPOINT ["sleep", "infinity"]\n`)
    assertConforming(srv)
  })
})

test('native: HTTP errors map to the §4 classes, messages and fields', async () => {
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const sb = await d.create({}, { timeout: 30 })
    for (const c of H.ERROR_CASES) {
      srv.faults.status('getSandbox', c.status, c.body, { count: 10 })
      const { error } = await settle(d.get(sb.id))
      srv.faults.clear()
      const what = `${c.status} ${JSON.stringify(c.body)}`
      assert.ok(error instanceof native.DaytonaError, `${what}: ${util.inspect(error)}`)
      assert.ok(error instanceof native[c.name], `${what}: instanceof ${c.name}`)
      assert.equal(error.name, c.name, what)
      assert.equal(error.message, c.message, what)
      assert.equal(error.statusCode, c.status, what)
      assert.equal(error.code, c.code, what)
      assert.equal(error.source, c.source, what)
    }
    srv.config.build.outcome = 'build_failed'
    const { error } = await settle(d.create({ image: 'alpine:3.20' }, { timeout: 30 }))
    assert.ok(error instanceof native.DaytonaError, util.inspect(error))
    assert.ok(error.message.includes(srv.config.build.errorReason), `names the reason: ${error.message}`)
    assertConforming(srv)
  })
})

test('native: contexts go to moto under <org>/<sha256 key>/context.tar; existing keys are not uploaded again', async () => {
  needS3()
  const ctx = H.makeContexts('native')
  try {
    await withServer({ s3: 'proxy' }, async (srv) => {
      const d = H.nativeClient(native, srv)
      const image = native.Image.debianSlim('3.12')
        .addLocalFile(ctx.file, '/app/data.txt')
        .addLocalDir(ctx.dir, '/app/src')
        .pipInstallFromRequirements(ctx.extra)
      const plan = await image.plan()
      assert.equal(plan.contexts.length, 3)
      const sb = await d.create({ image }, { timeout: 30 })
      assert.equal(sb.state, 'started')

      const post = srv.requests.find((r) => r.op === 'createSandbox')
      const hashes = post.body.buildInfo.contextHashes
      assert.deepEqual(hashes, plan.contexts.map((c) => c.key), 'our SHA-256 keys, in context order')
      for (const h of hashes) assert.match(h, /^[0-9a-f]{64}$/)
      assert.equal(post.body.buildInfo.dockerfileContent, image.dockerfile)
      assert.equal(srv.requests.filter((r) => r.op === 'getPushAccess').length, 1, 'push access fetched once')

      const org = srv.organizationId
      const bucket = srv.s3.bucket
      assert.deepEqual(await listKeys(`${org}/`), hashes.map((h) => `${org}/${h}/context.tar`).sort())
      for (const c of plan.contexts) {
        const names = tarEntries(await getObject(`${org}/${c.key}/context.tar`)).map((e) => e.name.replace(/\/$/, ''))
        const ap = c.archivePath.replace(/^\/+/, '')
        assert.ok(names.some((n) => n === ap || n.startsWith(`${ap}/`)), `${ap} in ${names}`)
      }
      const writes = (reqs) => reqs.filter((r) => r.method === 'PUT' || r.method === 'POST')
      // A finished object write: a plain PUT, or the completion of a multipart upload.
      const completed = srv.state.s3Requests
        .filter((r) => r.status === 200)
        .filter((r) => (r.method === 'PUT' && !('partNumber' in r.query)) || (r.method === 'POST' && 'uploadId' in r.query))
        .map((r) => r.path)
      for (const h of hashes) {
        assert.equal(completed.filter((p) => p === `/${bucket}/${org}/${h}/context.tar`).length, 1, `${h} written once`)
      }
      for (const r of srv.state.s3Requests) assert.equal(r.headers['x-amz-security-token'], srv.s3.sessionToken, 'STS session token sent')

      // Same image again: every key exists, nothing is written.
      const mark = srv.state.s3Requests.length
      const sb2 = await d.create({ image }, { timeout: 30 })
      assert.equal(sb2.state, 'started')
      assert.deepEqual(writes(srv.state.s3Requests.slice(mark)).map((r) => `${r.method} ${r.path}`), [], 'no upload for existing keys')
      const post2 = srv.requests.filter((r) => r.op === 'createSandbox')[1]
      assert.deepEqual(post2.body.buildInfo.contextHashes, hashes)
      assertConforming(srv)
    })
  } finally {
    ctx.cleanup()
  }
})
