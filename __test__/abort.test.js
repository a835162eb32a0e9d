'use strict'
// AbortSignal on long operations, on both backends: an already-aborted signal does nothing and
// rejects with its reason; aborting during the build, the upload, the start, a command or a
// transfer stops the work, rejects with `signal.reason`, and leaves nothing behind (no
// container, no build step still running, no image tag of the cancelled build, no sandbox on the
// fake API, no command still running in the sandbox).

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('../index.js')
const E = require('./engine-support/engine.js')
const H = require('./api-server/helpers.js')
const { startApiServer } = require('./api-server/server.js')
const { relayThrough } = require('./api-server/agent.js')

const reasonFor = (what) => Object.assign(new Error(`aborted: ${what}`), { what })

/** An AbortController aborted with `reason` when `when(resolve)` calls its argument. */
function abortWhen(reason) {
  const ac = new AbortController()
  return { signal: ac.signal, abort: () => ac.abort(reason) }
}

/** Awaits `promise`, expecting a rejection with exactly `reason` (the same object). */
async function rejectsWith(promise, reason) {
  let settled
  try {
    await promise
    settled = 'resolved'
  } catch (e) {
    settled = e
  }
  assert.equal(settled, reason, `expected the rejection to be signal.reason, got ${settled && settled.stack ? settled.stack : settled}`)
}

/** The processes of a sandbox whose command line mentions `marker`. */
async function processesWith(sb, marker) {
  const r = await sb.process.executeCommand('ps -o pid,args')
  return r.result.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -o'))
}

describe('AbortSignal on the local engine', () => {
  let daytona, baseline, janitor, sandbox
  before(async () => {
    E.ensureServices()
    baseline = E.containerBaseline()
    janitor = new E.ImageJanitor()
    daytona = new native.Daytona({ backend: 'local' })
    sandbox = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('abort-main') })
  })
  after(async () => {
    try {
      if (sandbox) await sandbox.delete().catch(() => {})
      await E.assertNoLeaks(baseline)
    } finally {
      janitor.cleanup()
    }
  })

  test('already aborted: create does nothing (no build, no log line, no container) and rejects with the reason', async () => {
    const reason = reasonFor('before start')
    const ac = new AbortController()
    ac.abort(reason)
    const image = native.Image.base(E.BUSYBOX).runCommands(`echo never-built-${E.RUN_ID}`)
    const cacheKey = await janitor.track(image)
    const lines = []
    await rejectsWith(
      daytona.create({ image, labels: E.labelsFor('abort-pre') }, { signal: ac.signal, onSnapshotCreateLogs: (l) => lines.push(l) }),
      reason,
    )
    await rejectsWith(daytona.snapshot.create({ name: `dn-abort-pre-${E.RUN_ID}:1`, image }, { signal: ac.signal }), reason)
    assert.deepEqual(lines, [])
    assert.deepEqual(E.ourContainers('abort-pre'), [])
    assert.throws(() => E.docker('image', 'inspect', cacheKey), 'the image was not built')
    // A command with an aborted signal never runs.
    const marker = `/tmp/abort-pre-${process.pid}`
    await rejectsWith(sandbox.process.executeCommand(`touch ${marker}`, undefined, undefined, undefined, { signal: ac.signal }), reason)
    await rejectsWith(sandbox.fs.uploadFile(Buffer.from('x'), `${marker}.up`, undefined, { signal: ac.signal }), reason)
    const r = await sandbox.process.executeCommand(`ls ${marker} ${marker}.up`)
    assert.notEqual(r.exitCode, 0, `nothing was created: ${r.result}`)
  })

  test('a signal that is not an AbortSignal: DaytonaInvalidArgumentError before anything happens', async () => {
    const e = await E.rejection(() => sandbox.process.executeCommand('true', undefined, undefined, undefined, { signal: 'soon' }))
    assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
    assert.match(e.message, /signal must be an AbortSignal \(got string\)/)
  })

  test('during the build: the build stops, no container, no build step, no image tag; rejects with the reason', async () => {
    const marker = `abort-build-${E.RUN_ID}`
    const image = native.Image.base(E.BUSYBOX).runCommands(`echo ${marker}-started`, `sleep 120 && echo ${marker}`)
    const cacheKey = await janitor.track(image)
    const reason = reasonFor('during build')
    const ac = abortWhen(reason)
    const t0 = Date.now()
    await rejectsWith(
      daytona.create(
        { image, labels: E.labelsFor('abort-build') },
        {
          timeout: 0,
          signal: ac.signal,
          onSnapshotCreateLogs: (line) => {
            if (line.includes(`${marker}-started`)) setTimeout(ac.abort, 300)
          },
        },
      ),
      reason,
    )
    assert.ok(Date.now() - t0 < 100_000, 'the create did not wait for the build step to end')
    assert.deepEqual(await E.settle(() => E.runningWith(marker)), [], 'the build step still runs')
    assert.deepEqual(await E.settle(() => E.ourContainers('abort-build')), [])
    assert.throws(() => E.docker('image', 'inspect', cacheKey), 'no image tag for the cancelled build')
  })

  test('during the context upload to the engine: no build, no container, no image tag', async () => {
    const dir = E.tempDir('abort-ctx')
    try {
      const big = require('node:path').join(dir, 'big.bin')
      const fd = require('node:fs').openSync(big, 'w')
      for (let i = 0; i < 24; i++) require('node:fs').writeSync(fd, require('node:crypto').randomBytes(8 * 1024 * 1024))
      require('node:fs').closeSync(fd)
      const image = native.Image.base(E.BUSYBOX).addLocalFile(big, '/big.bin').runCommands(`echo ctx-${E.RUN_ID}`)
      const cacheKey = await janitor.track(image)
      const reason = reasonFor('during upload')
      const ac = abortWhen(reason)
      setTimeout(ac.abort, 100)
      await rejectsWith(daytona.create({ image, labels: E.labelsFor('abort-ctx') }, { timeout: 0, signal: ac.signal }), reason)
      assert.deepEqual(await E.settle(() => E.ourContainers('abort-ctx')), [])
      assert.throws(() => E.docker('image', 'inspect', cacheKey), 'no image tag for the cancelled build')
    } finally {
      require('node:fs').rmSync(dir, { recursive: true, force: true })
    }
  })

  test('during executeCommand: the command is killed in the sandbox', async () => {
    const marker = `abort-exec-${process.pid}`
    const reason = reasonFor('during exec')
    const ac = abortWhen(reason)
    setTimeout(ac.abort, 500)
    await rejectsWith(sandbox.process.executeCommand(`sleep 113 # ${marker}`, undefined, undefined, undefined, { signal: ac.signal }), reason)
    assert.deepEqual(await settleAsync(() => processesWith(sandbox, marker)), [], 'the command still runs')
  })

  test('during a session command: the command is killed in the sandbox, the session stays usable', async () => {
    const marker = `abort-session-${process.pid}`
    await sandbox.process.createSession('abort-s')
    const reason = reasonFor('during session command')
    const ac = abortWhen(reason)
    setTimeout(ac.abort, 500)
    await rejectsWith(sandbox.process.executeSessionCommand('abort-s', { command: `sleep 114 # ${marker}` }, undefined, { signal: ac.signal }), reason)
    assert.deepEqual(await settleAsync(() => processesWith(sandbox, marker)), [], 'the command still runs')
    const next = await sandbox.process.executeSessionCommand('abort-s', { command: 'echo next' })
    assert.equal(next.exitCode, 0)
    assert.equal(next.stdout, 'next\n')
    await sandbox.process.deleteSession('abort-s')
  })

  test('during an upload and a download: rejects with the reason, the sandbox stays usable', async () => {
    const big = Buffer.alloc(96 * 1024 * 1024, 7)
    const upReason = reasonFor('during upload')
    const up = abortWhen(upReason)
    setTimeout(up.abort, 20)
    await rejectsWith(sandbox.fs.uploadFile(big, '/tmp/abort-up.bin', undefined, { signal: up.signal }), upReason)
    await sandbox.fs.uploadFile(big, '/tmp/abort-down.bin')
    const downReason = reasonFor('during download')
    const down = abortWhen(downReason)
    setTimeout(down.abort, 20)
    await rejectsWith(sandbox.fs.downloadFile('/tmp/abort-down.bin', undefined, { signal: down.signal }), downReason)
    const r = await sandbox.process.executeCommand('rm -f /tmp/abort-up.bin /tmp/abort-down.bin && echo ok')
    assert.equal(r.result, 'ok\n')
  })

  test('during start: rejects with the reason; the sandbox is left in a state a later start or delete handles', async () => {
    const sb = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('abort-start') })
    try {
      await sb.stop()
      const ac = new AbortController()
      const reason = reasonFor('during start')
      const pending = sb.start(60, { signal: ac.signal })
      ac.abort(reason)
      await rejectsWith(pending, reason)
      await sb.start(60)
      assert.equal(sb.state, 'started')
    } finally {
      await sb.delete()
    }
    assert.deepEqual(E.ourContainers('abort-start'), [])
  })

  test('a signal aborted after the operation finished changes nothing', async () => {
    const ac = new AbortController()
    const r = await sandbox.process.executeCommand('echo done', undefined, undefined, undefined, { signal: ac.signal })
    ac.abort()
    assert.equal(r.result, 'done\n')
    // The sandbox object handed out keeps working: it does not carry the aborted signal.
    assert.equal((await sandbox.process.executeCommand('echo again')).result, 'again\n')
  })
})

/** `E.settle` for an async probe. */
async function settleAsync(fn, ms = 8000, step = 250) {
  const end = Date.now() + ms
  let v = await fn()
  while (v.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, step))
    v = await fn()
  }
  return v
}

describe('AbortSignal on the API backend (fake Daytona API)', () => {
  const moto = H.motoOnce()
  before(() => moto.start())

  test('already aborted: no request reaches the API', async () => {
    await H.withServer({ s3: 'none' }, async (srv) => {
      const daytona = H.nativeClient(native, srv)
      const ac = new AbortController()
      const reason = reasonFor('before start')
      ac.abort(reason)
      const before = srv.requests.length
      await rejectsWith(daytona.create({ image: E.BUSYBOX }, { signal: ac.signal }), reason)
      assert.equal(srv.requests.length, before)
    })
  })

  test('during the context upload: no sandbox is left on the server', async () => {
    moto.need()
    await H.withServer({ s3: 'direct', s3Config: moto.config }, async (srv) => {
      const daytona = H.nativeClient(native, srv)
      const ctx = H.makeContexts('abort-up')
      try {
        const big = require('node:path').join(ctx.root, 'big.bin')
        require('node:fs').writeFileSync(big, require('node:crypto').randomBytes(48 * 1024 * 1024))
        const image = native.Image.base('python:3.12-slim-bookworm').addLocalFile(big, '/big.bin')
        const reason = reasonFor('during upload')
        const ac = abortWhen(reason)
        setTimeout(ac.abort, 150)
        await rejectsWith(daytona.create({ image }, { signal: ac.signal }), reason)
        await H.waitFor(() => [...srv.state.sandboxes.values()].every((s) => s.state === 'destroyed' || s.state === 'destroying'), 5000, 'no live sandbox')
      } finally {
        ctx.cleanup()
      }
    })
  })

  test('during the build: the sandbox (and with it its build) is deleted', async () => {
    moto.need()
    await H.withServer({ s3: 'direct', s3Config: moto.config, build: { outcome: 'hang', lineIntervalMs: 10 } }, async (srv) => {
      const daytona = H.nativeClient(native, srv)
      const reason = reasonFor('during build')
      const ac = abortWhen(reason)
      let id
      await rejectsWith(
        daytona.create(
          { image: native.Image.debianSlim('3.12').runCommands('echo abort') },
          {
            timeout: 0,
            signal: ac.signal,
            onSnapshotCreateLogs: () => ac.abort(),
          },
        ),
        reason,
      )
      id = [...srv.state.sandboxes.keys()][0]
      assert.ok(id, 'the sandbox had been created')
      await H.waitFor(() => {
        const s = srv.sandbox(id)
        return !s || s.state === 'destroyed' || s.state === 'destroying'
      }, 5000, 'the aborted sandbox to be deleted')
      assert.ok(srv.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/sandbox/${id}`)), 'a DELETE was sent')
    })
  })

  test('during the wait after create: the sandbox is deleted', async () => {
    await H.withServer({ s3: 'none', timings: { creatingMs: 60_000, startingMs: 60_000 } }, async (srv) => {
      const daytona = H.nativeClient(native, srv)
      const reason = reasonFor('during start')
      const ac = abortWhen(reason)
      setTimeout(ac.abort, 300)
      // From the default snapshot: creating -> starting -> started, each state a minute here.
      await rejectsWith(daytona.create({}, { signal: ac.signal }), reason)
      assert.equal(srv.state.sandboxes.size, 1, 'the sandbox had been created')
      await H.waitFor(() => [...srv.state.sandboxes.values()].every((s) => s.state === 'destroyed' || s.state === 'destroying'), 5000, 'no live sandbox')
    })
  })

  test('during executeCommand and a session command: rejects with the reason', async () => {
    E.ensureServices()
    const local = new native.Daytona({ backend: 'local' })
    const box = await local.create({ image: E.BUSYBOX, labels: E.labelsFor('abort-api-exec') })
    try {
      const toolboxAgent = { connect: () => relayThrough('docker', ['exec', '-i', box.id, '/.daytona-native/daytona-native-agent', 'relay']) }
      await H.withServer({ s3: 'none', toolboxAgent }, async (srv) => {
        const daytona = H.nativeClient(native, srv)
        const sb = await daytona.create({ image: E.BUSYBOX })
        const execReason = reasonFor('during exec')
        const ac = abortWhen(execReason)
        setTimeout(ac.abort, 300)
        await rejectsWith(sb.process.executeCommand('sleep 30', undefined, undefined, undefined, { signal: ac.signal }), execReason)
        await sb.process.createSession('abort-api')
        const sessionReason = reasonFor('during session command')
        const ac2 = abortWhen(sessionReason)
        setTimeout(ac2.abort, 300)
        await rejectsWith(sb.process.executeSessionCommand('abort-api', { command: 'sleep 30' }, undefined, { signal: ac2.signal }), sessionReason)
        await sb.delete()
        H.assertConforming(srv)
      })
    } finally {
      await box.delete()
    }
  })
})
