'use strict'
// BuildKit on the local engine (`local: { builder: 'buildkit' }`): features only BuildKit has
// (cache mounts, `COPY --chmod`), its progress as whole plain-format lines, a failing step as a
// DaytonaBuildError naming the step and exit code, an abort that stops the running step (BuildKit
// steps are processes of the engine, not containers: checked in the host's process list), and
// the fallback to the classic builder, said once, on an engine that answers without BuildKit.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const native = require('../index.js')
const E = require('./engine-support/engine.js')
const { FaultyEngine } = require('./engine-support/faulty-engine.js')

let daytona, janitor, baseline
before(() => {
  E.ensureServices()
  baseline = E.containerBaseline()
  janitor = new E.ImageJanitor()
  daytona = new native.Daytona({ backend: 'local', local: { builder: 'buildkit' } })
})
after(async () => {
  try {
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
  }
})

/** Host processes whose command line mentions `marker`. */
function processesWith(marker) {
  return execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(marker) && !l.includes('ps -eo'))
}

test('cache mounts and COPY --chmod build; progress comes as whole plain-format lines', async () => {
  const dir = E.tempDir('bk')
  try {
    fs.writeFileSync(path.join(dir, 'run.sh'), 'echo run\n')
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      [
        `FROM ${E.BUSYBOX}`,
        `RUN --mount=type=cache,target=/cache echo bk-${E.RUN_ID} > /cache/marker && cat /cache/marker`,
        'COPY --chmod=750 run.sh /run.sh',
        '',
      ].join('\n'),
    )
    const image = native.Image.fromDockerfile(path.join(dir, 'Dockerfile'))
    await janitor.track(image)
    const lines = []
    const events = []
    const sb = await daytona.create(
      { image, labels: E.labelsFor('bk-features') },
      { onSnapshotCreateLogs: (l) => lines.push(l), onBuildEvent: (e) => events.push(e), timeout: 120 },
    )
    try {
      const mode = await sb.process.executeCommand('stat -c %a /run.sh')
      assert.equal(mode.result.trim(), '750')
      // The cache mount is not part of the image.
      const cache = await sb.process.executeCommand('cat /cache/marker 2>&1 || echo absent')
      assert.match(cache.result, /absent|No such file/)
    } finally {
      await sb.delete()
    }
    const step = lines.find((l) => /^#\d+ \[(stage-0 )?2\/3\] RUN --mount=type=cache/.test(l))
    assert.ok(step, `the RUN step is announced:\n${lines.join('\n')}`)
    const n = step.split(' ')[0]
    assert.ok(lines.some((l) => l.startsWith(`${n} `) && l.endsWith(` bk-${E.RUN_ID}`)), 'its output, prefixed with its number')
    assert.ok(lines.some((l) => l.startsWith(`${n} DONE `)), 'its end')
    assert.ok(lines.every((l) => !l.includes('\n')), 'whole lines')
    assert.equal(lines.filter((l) => l === step).length, 1, 'announced once')
    // The build events come from BuildKit's progress too.
    const started = events.find((e) => e.type === 'stepStarted' && e.index === 2)
    assert.deepEqual(started && { total: started.total, run: started.instruction.startsWith('RUN --mount=type=cache') }, { total: 3, run: true })
    assert.ok(events.some((e) => e.type === 'stepFinished' && e.index === 2 && e.durationMs >= 0))
    assert.ok(events.some((e) => e.type === 'log' && e.step === 2 && e.line.endsWith(` bk-${E.RUN_ID}`)))
    assert.equal(events.at(-1).type, 'buildFinished')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a failing RUN: DaytonaBuildError with the step, the exit code and its last output lines', async () => {
  const image = native.Image.base(E.BUSYBOX).runCommands(`echo bk-last-words-${E.RUN_ID} && exit 3`)
  await janitor.track(image)
  const events = []
  const e = await E.rejection(() => daytona.create({ image, labels: E.labelsFor('bk-fail') }, { timeout: 120, onBuildEvent: (ev) => events.push(ev) }))
  const failed = events.find((ev) => ev.type === 'buildFailed')
  assert.deepEqual(failed && [failed.step, failed.exitCode], [2, 3])
  assert.ok(e instanceof native.DaytonaBuildError, `${e.name}: ${e.message}`)
  assert.equal(e.exitCode, 3)
  assert.match(e.step, /^\[(stage-0 )?2\/2\] RUN echo bk-last-words-/)
  assert.ok(e.logTail.some((l) => l.includes(`bk-last-words-${E.RUN_ID}`)), `tail: ${e.logTail}`)
  assert.deepEqual(E.ourContainers('bk-fail'), [])
})

test('aborted during a step: the step stops, no container, no image tag', async () => {
  const marker = `bk-abort-${E.RUN_ID}`
  const image = native.Image.base(E.BUSYBOX).runCommands(`echo ${marker}-go && sleep 97`)
  const cacheKey = await janitor.track(image)
  const ac = new AbortController()
  const reason = new Error('stop the build')
  const pending = daytona.create(
    { image, labels: E.labelsFor('bk-abort') },
    {
      timeout: 0,
      signal: ac.signal,
      onSnapshotCreateLogs: (l) => {
        if (l.endsWith(` ${marker}-go`)) setTimeout(() => ac.abort(reason), 300)
      },
    },
  )
  await assert.rejects(pending, (e) => e === reason)
  assert.deepEqual(await E.settle(() => processesWith(`${marker}-go && sleep 97`)), [], 'the step still runs')
  assert.deepEqual(E.ourContainers('bk-abort'), [])
  assert.throws(() => E.docker('image', 'inspect', cacheKey))
})

test('an engine without BuildKit: the classic builder builds, said once', async () => {
  const proxy = new FaultyEngine()
  await proxy.start()
  try {
    proxy.fault('nobuildkit', { match: /^POST \/v[\d.]+\/build\?.*version=2/ })
    const client = new native.Daytona({ backend: 'local', local: { builder: 'buildkit', dockerHost: proxy.host, removeOnExit: false } })
    const first = native.Image.base(E.BUSYBOX).runCommands(`echo bk-fallback-${E.RUN_ID}`)
    await janitor.track(first)
    const lines = []
    const sb = await client.create({ image: first, labels: E.labelsFor('bk-fallback') }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 120 })
    await sb.delete()
    assert.ok(lines.some((l) => /cannot build with BuildKit .*using the classic builder/.test(l)), lines.join('\n'))
    assert.ok(lines.some((l) => /^Step 2\/\d+ : RUN echo bk-fallback-/.test(l)), 'the classic builder built it')
    assert.equal(proxy.fired.nobuildkit, 1)
    // The same engine again: straight to the classic builder, no second notice.
    const second = native.Image.base(E.BUSYBOX).runCommands(`echo bk-fallback-again-${E.RUN_ID}`)
    await janitor.track(second)
    const again = []
    const sb2 = await client.create({ image: second, labels: E.labelsFor('bk-fallback') }, { onSnapshotCreateLogs: (l) => again.push(l), timeout: 120 })
    await sb2.delete()
    assert.ok(!again.some((l) => l.includes('cannot build with BuildKit')))
    assert.equal(proxy.fired.nobuildkit, 1)
  } finally {
    await proxy.stop()
  }
})

test('local.builder must be buildkit, classic or auto', async () => {
  const client = new native.Daytona({ backend: 'local', local: { builder: 'kaniko' } })
  const image = native.Image.base(E.BUSYBOX).runCommands(`echo bk-bad-setting-${E.RUN_ID}`)
  const e = await E.rejection(() => client.create({ image }))
  assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
  assert.match(e.message, /'buildkit', 'classic' or 'auto', not 'kaniko'/)
})

test('a secret mount: the step reads the value, no layer, history entry, label or log line holds it', async () => {
  const crypto = require('node:crypto')
  const secrets = { tok: `bk-secret-value-${crypto.randomBytes(16).toString('hex')}`, env: `bk-env-${crypto.randomBytes(16).toString('hex')}`, file: `bk-file-${crypto.randomBytes(16).toString('hex')}` }
  const dir = E.tempDir('bk-secret')
  const envName = `DAYTONA_TEST_SECRET_${E.RUN_ID}`.toUpperCase()
  process.env[envName] = secrets.env
  try {
    const secretFile = path.join(dir, 'secret.txt')
    fs.writeFileSync(secretFile, secrets.file)
    const client = new native.Daytona({
      backend: 'local',
      local: { builder: 'buildkit', buildSecrets: { tok: secrets.tok, 'from-env': { env: envName }, 'from-file': { file: secretFile } } },
    })
    const image = native.Image.base(E.BUSYBOX).runCommands(
      `--mount=type=secret,id=tok --mount=type=secret,id=from-env --mount=type=secret,id=from-file,required=true ` +
        `sha256sum /run/secrets/tok /run/secrets/from-env /run/secrets/from-file > /sums && echo bk-secret-${E.RUN_ID}`,
    )
    const tag = await janitor.track(image)
    const lines = []
    const sb = await client.create({ image, labels: E.labelsFor('bk-secret') }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 120 })
    try {
      const sums = (await sb.process.executeCommand('cat /sums')).result.trim().split('\n')
      const sha = (v) => crypto.createHash('sha256').update(v).digest('hex')
      assert.deepEqual(
        sums.map((l) => l.split(/\s+/)[0]),
        [sha(secrets.tok), sha(secrets.env), sha(secrets.file)],
        'the step saw each secret',
      )
      assert.equal((await sb.process.executeCommand('ls /run/secrets 2>/dev/null | wc -l')).result.trim(), '0', 'no secret file is left in the image')
    } finally {
      await sb.delete()
    }
    // Every layer, the history and the config, as the engine exports them.
    const saved = execFileSync('docker', ['save', tag], { maxBuffer: 256 << 20 })
    assert.ok(saved.length > 100_000, 'the export holds the layers')
    const history = E.docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', tag)
    const inspected = E.docker('image', 'inspect', tag)
    assert.match(history, /sha256sum \/run\/secrets\/tok/, 'the history shows the step')
    for (const value of Object.values(secrets)) {
      for (const form of [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')]) {
        assert.ok(!saved.includes(Buffer.from(form)), 'the export holds a secret')
        assert.ok(!history.includes(form) && !inspected.includes(form), 'history or config holds a secret')
      }
      assert.ok(!lines.some((l) => l.includes(value)), 'a log line holds a secret')
    }
    assert.ok(lines.some((l) => l.endsWith(` bk-secret-${E.RUN_ID}`)), lines.join('\n'))
  } finally {
    delete process.env[envName]
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('build secrets: a missing source or the classic builder is a DaytonaInvalidArgumentError that shows no value', async () => {
  const image = native.Image.base(E.BUSYBOX).runCommands(`--mount=type=secret,id=tok cat /run/secrets/tok && echo bk-secret-err-${E.RUN_ID}`)
  await janitor.track(image)
  const value = `bk-never-shown-${E.RUN_ID}`
  const classic = new native.Daytona({ backend: 'local', local: { builder: 'classic', buildSecrets: { tok: value } } })
  let e = await E.rejection(() => classic.create({ image, labels: E.labelsFor('bk-secret-err') }, { timeout: 60 }))
  assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
  assert.match(e.message, /mounts a build secret .*only BuildKit can build.*local\.builder/)
  assert.ok(!e.message.includes(value))
  const unset = `DAYTONA_TEST_UNSET_${E.RUN_ID}`.toUpperCase()
  const missing = new native.Daytona({ backend: 'local', local: { builder: 'buildkit', buildSecrets: { tok: { env: unset }, other: value } } })
  e = await E.rejection(() => missing.create({ image, labels: E.labelsFor('bk-secret-err') }, { timeout: 60 }))
  assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
  assert.match(e.message, new RegExp(`secret 'tok' comes from the environment variable ${unset}, which is not set`))
  assert.ok(!e.message.includes(value))
  const malformed = new native.Daytona({ backend: 'local', local: { builder: 'buildkit', buildSecrets: { tok: 42 } } })
  e = await E.rejection(() => malformed.create({ image, labels: E.labelsFor('bk-secret-err') }, { timeout: 60 }))
  assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
  assert.deepEqual(E.ourContainers('bk-secret-err'), [])
})

test('the API backend refuses an image that mounts a secret when local.buildSecrets is set, before any request', async () => {
  // Nothing listens there: an attempted upload or request would be a connection error.
  const client = new native.Daytona({ backend: 'api', apiKey: 'k', apiUrl: 'http://127.0.0.1:9/api', local: { buildSecrets: { tok: 'v' } } })
  const image = native.Image.base(E.BUSYBOX).runCommands('--mount=type=secret,id=tok cat /run/secrets/tok')
  for (const call of [() => client.create({ image }), () => client.snapshot.create({ name: `bk-secret-api-${E.RUN_ID}`, image })]) {
    const e = await E.rejection(call)
    assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
    assert.match(e.message, /Daytona's servers take no build secrets/)
    assert.ok(!e.message.includes("'v'"))
  }
})
