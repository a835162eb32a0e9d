'use strict'
// onBuildEvent: typed build progress beside the string log callbacks. On the real local engine
// (cached and uncached steps, a failing RUN, a throwing callback that cancels and leaves nothing
// behind) and on the fake Daytona API (context planned, upload progress, the steps its log
// stream gives, a failed build). busybox only; every RUN carries the run id.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const E = require('./engine-support/engine.js')
const H = require('./api-server/helpers.js')
const native = require('../index.js')
const { Daytona, Image, DaytonaBuildError } = native

let daytona
let baseline
let dir
const janitor = new E.ImageJanitor()
const moto = H.motoOnce()

before(() => {
  E.ensureServices()
  moto.start()
  baseline = E.containerBaseline()
  // The classic builder's step events (its output parsed by StepParser); BuildKit's are
  // checked in buildkit.test.js.
  daytona = new Daytona({ backend: 'local', local: { builder: 'classic' } })
  dir = E.tempDir('events')
})

after(async () => {
  try {
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** Options that record lines and events in one sequence, in the order they arrive. */
function recorder(key = 'onSnapshotCreateLogs') {
  const seq = []
  return {
    seq,
    options: { [key]: (l) => seq.push(l), onBuildEvent: (e) => seq.push(e) },
    events: () => seq.filter((x) => typeof x === 'object'),
    lines: () => seq.filter((x) => typeof x === 'string'),
    ofType: (t) => seq.filter((x) => typeof x === 'object' && x.type === t),
  }
}

/** Every string line is followed by its `log` event, and every `log` event follows its line. */
function assertLinesPaired(seq) {
  for (let i = 0; i < seq.length; i++) {
    if (typeof seq[i] === 'string') {
      assert.equal(seq[i + 1] && seq[i + 1].type, 'log', `line ${JSON.stringify(seq[i])} is not followed by its log event`)
      assert.equal(seq[i + 1].line, seq[i])
    } else if (seq[i].type === 'log') {
      assert.equal(seq[i - 1], seq[i].line, `log event ${JSON.stringify(seq[i].line)} without its line before it`)
    }
  }
}

test('local: cached and uncached steps, their log lines, durations, then a build that is not needed', async () => {
  const file = path.join(dir, 'ctx.txt')
  fs.writeFileSync(file, `context ${E.RUN_ID}\n`)
  const warm = Image.base(E.BUSYBOX).addLocalFile(file, '/ctx.txt').runCommands(`echo warm-${E.RUN_ID}`)
  await janitor.track(warm)
  const first = await daytona.create({ image: warm, labels: E.labelsFor('ev-warm') }, { timeout: 120 })
  await first.delete()

  const image = Image.base(E.BUSYBOX).addLocalFile(file, '/ctx.txt').runCommands(`echo warm-${E.RUN_ID}`, `echo fresh-${E.RUN_ID} && echo second-line`)
  const key = await janitor.track(image)
  const r = recorder()
  const sb = await daytona.create({ image, labels: E.labelsFor('ev-build') }, { timeout: 120, ...r.options })
  await sb.delete()

  const events = r.events()
  assert.deepEqual(events[0], {
    type: 'contextPlanned',
    files: 1,
    bytes: fs.statSync(file).size,
    keys: events[0].keys,
    contexts: [{ key: events[0].keys[0], sourcePath: file, files: 1, bytes: fs.statSync(file).size }],
  })
  assert.match(events[0].keys[0], /^[0-9a-f]{64}$/)

  // The image's four instructions, then the engine's LABEL steps for the build's labels.
  const started = r.ofType('stepStarted')
  const total = started.length
  assert.ok(total >= 4, JSON.stringify(started))
  assert.deepEqual(started.map((e) => [e.index, e.total]), started.map((_, i) => [i + 1, total]))
  assert.equal(started[0].instruction, `FROM ${E.BUSYBOX}`)
  assert.match(started[1].instruction, /^COPY /)
  assert.equal(started[2].instruction, `RUN echo warm-${E.RUN_ID}`)
  assert.equal(started[3].instruction, `RUN echo fresh-${E.RUN_ID} && echo second-line`)
  for (const s of started.slice(4)) assert.match(s.instruction, /^LABEL /)
  // COPY and the first RUN come from the warm-up build's layers; the new RUN runs.
  const cached = r.ofType('stepCached').map((e) => e.index)
  assert.deepEqual(cached.filter((i) => i <= 4), [2, 3])
  const finished = r.ofType('stepFinished')
  assert.deepEqual(finished.map((e) => e.index), started.map((e) => e.index))
  for (const f of finished) assert.ok(typeof f.durationMs === 'number' && f.durationMs >= 0, JSON.stringify(f))
  // Each step is finished before the next one starts.
  const order = events.filter((e) => e.type === 'stepStarted' || e.type === 'stepFinished').map((e) => `${e.type}:${e.index}`)
  assert.deepEqual(order, started.flatMap((e) => [`stepStarted:${e.index}`, `stepFinished:${e.index}`]))

  // The step's output carries its step; the client's own notices carry none.
  const logs = r.ofType('log')
  assert.equal(logs.find((e) => e.line === `fresh-${E.RUN_ID}`).step, 4)
  assert.equal(logs.find((e) => e.line === 'second-line').step, 4)
  assert.equal(logs.find((e) => e.line.startsWith('Building image ')).step, null)
  assert.equal(logs.find((e) => e.line.startsWith('Successfully built')).step, null)
  assert.equal(logs.find((e) => e.line.startsWith('Successfully tagged')).step, null)
  assertLinesPaired(r.seq)

  // Once, after the last step.
  const [done, ...more] = r.ofType('buildFinished')
  assert.deepEqual(more, [])
  assert.ok(events.indexOf(done) > events.indexOf(finished[finished.length - 1]))
  assert.equal(done.cached, false)
  assert.equal(done.image, key)
  assert.ok(done.durationMs > 0)

  // The same image again: nothing is built, and the events say so.
  const again = recorder()
  const sb2 = await daytona.create({ image, labels: E.labelsFor('ev-cached') }, { timeout: 120, ...again.options })
  await sb2.delete()
  assert.deepEqual(
    again.events().filter((e) => e.type !== 'log').map((e) => e.type),
    ['contextPlanned', 'buildFinished'],
  )
  assert.equal(again.ofType('buildFinished')[0].cached, true)
  assert.equal(again.ofType('buildFinished')[0].image, key)
  // The string callback gets the same lines with or without onBuildEvent.
  const alone = []
  const sb3 = await daytona.create({ image, labels: E.labelsFor('ev-cached') }, { timeout: 120, onSnapshotCreateLogs: (l) => alone.push(l) })
  await sb3.delete()
  assert.deepEqual(alone, again.lines())
  await E.assertNoLeaks(baseline, 'ev-build')
})

test('local: a failing RUN gives buildFailed with its step and exit code; onBuildEvent alone gets the lines as log events', async () => {
  const image = Image.base(E.BUSYBOX).runCommands(`echo ok-${E.RUN_ID}`, `echo about-to-fail-${E.RUN_ID} && exit 3`)
  await janitor.track(image)
  const events = []
  const e = await E.rejection(() => daytona.snapshot.create({ name: `dn-events-fail-${E.RUN_ID}`, image }, { onBuildEvent: (ev) => events.push(ev) }))
  assert.ok(e instanceof DaytonaBuildError, `${e.name}: ${e.message}`)
  const failed = events[events.length - 1]
  assert.deepEqual({ ...failed, message: undefined }, { type: 'buildFailed', step: 3, exitCode: 3, message: undefined })
  // The build error's message; snapshot.create rejects with it inside its official wording.
  assert.match(failed.message, /failed at Step 3\/\d+ : RUN echo about-to-fail-.* exited with code 3/)
  assert.ok(e.message.includes(failed.message), e.message)
  // No step finished after the failing one started, and its output is there with its step.
  assert.deepEqual(events.filter((x) => x.type === 'stepFinished').map((x) => x.index), [1, 2])
  assert.equal(events.find((x) => x.type === 'log' && x.line === `about-to-fail-${E.RUN_ID}`).step, 3)
  assert.ok(!events.some((x) => x.type === 'buildFinished'))
  await E.assertNoLeaks(baseline)
})

test('local: an onBuildEvent that throws cancels the create: rejected with that value, no more calls, no container', async () => {
  class Stop extends Error {}
  const thrown = new Stop('stop at the long step')
  const image = Image.base(E.BUSYBOX).runCommands(`echo events-throw-${E.RUN_ID} && for i in $(seq 1 50); do echo x-$i; sleep 0.02; done && sleep 30`)
  await janitor.track(image)
  let calls = 0
  let afterThrow = 0
  let threw = false
  const lines = []
  const e = await E.rejection(() =>
    daytona.create(
      { image, labels: E.labelsFor('ev-throw') },
      {
        timeout: 120,
        onSnapshotCreateLogs: (l) => {
          lines.push(l)
          if (threw) afterThrow++
        },
        onBuildEvent: (ev) => {
          if (threw) afterThrow++
          calls++
          if (ev.type === 'log' && ev.line === 'x-3') {
            threw = true
            throw thrown
          }
        },
      },
    ),
  )
  assert.equal(e, thrown, `rejected with ${e && e.name}: ${e && e.message}`)
  assert.equal(afterThrow, 0, 'a callback was called after onBuildEvent threw')
  // The string callback got x-3 just before its event threw, nothing after.
  assert.equal(lines[lines.length - 1], 'x-3')
  await E.sleep(500)
  assert.equal(afterThrow, 0)
  await E.assertNoLeaks(baseline, 'ev-throw')
})

// ---------------------------------------------------------------------------------------------
// The Daytona API backend, against the fake API (and moto for the contexts).

test('api: contextPlanned, uploadProgress per context (multipart and already stored), steps from the log stream', async () => {
  moto.need()
  const root = fs.mkdtempSync(path.join(dir, 'api-'))
  const big = path.join(root, 'big.bin')
  fs.writeFileSync(big, crypto.randomBytes(6 * 1024 * 1024 + 123))
  const small = path.join(root, 'small.txt')
  fs.writeFileSync(small, `small ${crypto.randomBytes(8).toString('hex')}\n`)
  await H.withServer({}, async (srv) => {
    const d = H.nativeClient(native, srv)
    const image = Image.base('python:3.12-slim-bookworm').addLocalFile(big, '/big.bin').addLocalFile(small, '/small.txt')
    const r = recorder()
    const sb = await d.create({ image }, { timeout: 60, ...r.options })
    assert.equal(sb.state, 'started')

    const planned = r.ofType('contextPlanned')
    assert.equal(planned.length, 1)
    assert.equal(planned[0].files, 2)
    assert.equal(planned[0].keys.length, 2)
    assert.equal(planned[0].bytes, fs.statSync(big).size + fs.statSync(small).size)

    // Per key: starts at 0, never goes back, ends at the total (the archive's size in the bucket).
    const progress = r.ofType('uploadProgress')
    for (const k of planned[0].keys) {
      const mine = progress.filter((p) => p.key === k)
      assert.ok(mine.length >= 2, `${k}: ${JSON.stringify(mine)}`)
      assert.equal(mine[0].bytesSent, 0)
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i].bytesSent >= mine[i - 1].bytesSent)
      const last = mine[mine.length - 1]
      assert.equal(last.bytesSent, last.totalBytes)
      assert.equal(last.skipped, false)
    }
    // The big context went in parts: progress in between.
    const bigKey = planned[0].contexts.find((c) => c.sourcePath === big).key
    assert.ok(progress.filter((p) => p.key === bigKey).length >= 3, JSON.stringify(progress))

    // The log stream: the classic builder's steps (fake: Step 1/4, 2/4, 3/4, "Successfully built").
    assert.deepEqual(r.ofType('stepStarted').map((e) => [e.index, e.total, e.instruction]), [
      [1, 4, 'FROM python:3.12.10-slim-bookworm'],
      [2, 4, 'RUN python -m pip install requests'],
      [3, 4, 'WORKDIR /home/daytona'],
    ])
    assert.deepEqual(r.ofType('stepFinished').map((e) => e.index), [1, 2, 3])
    assert.equal(r.ofType('log').find((e) => e.line.startsWith('Collecting requests')).step, 2)
    assertLinesPaired(r.seq)
    const [done, ...more] = r.ofType('buildFinished')
    assert.deepEqual(more, [])
    assert.ok(r.seq.indexOf(done) > r.seq.indexOf(r.ofType('stepFinished')[2]))
    assert.equal(done.cached, false)
    await sb.delete()

    // The same contexts again: already stored, reported once each as skipped.
    const again = recorder()
    const sb2 = await d.create({ image }, { timeout: 60, onBuildEvent: again.options.onBuildEvent })
    const skipped = again.ofType('uploadProgress')
    assert.equal(skipped.length, 2, JSON.stringify(skipped))
    for (const p of skipped) assert.deepEqual([p.skipped, p.bytesSent], [true, p.totalBytes])
    // onBuildEvent alone follows the log too (the lines come as log events).
    assert.ok(again.ofType('log').some((e) => e.line.startsWith('Collecting requests')))
    await sb2.delete()
    H.assertConforming(srv)
  })
  fs.rmSync(root, { recursive: true, force: true })
})

test('api: a failed snapshot build gives buildFailed with the step and the exit code the log printed', async () => {
  const lines = ['Step 1/2 : FROM alpine:3.20', ' ---> 3f2a9c1b7d4e', 'Step 2/2 : RUN exit 3', ' ---> Running in 0c6f1d2e9a77', "The command '/bin/sh -c exit 3' returned a non-zero code: 3"]
  await H.withServer({ s3: 'none', snapshotBuild: { lines, lineIntervalMs: 300, outcome: 'build_failed', errorReason: 'Step 2/2 failed' } }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const r = recorder('onLogs')
    const e = await E.rejection(() => d.snapshot.create({ name: 'events-fail', image: Image.base('alpine:3.20').runCommands('exit 3') }, { timeout: 30, ...r.options }))
    assert.match(e.message, /Failed to create snapshot/)
    const events = r.events()
    assert.deepEqual(events[0], { type: 'contextPlanned', files: 0, bytes: 0, keys: [], contexts: [] })
    assert.deepEqual(events[events.length - 1], { type: 'buildFailed', step: 2, exitCode: 3, message: 'Step 2/2 failed' })
    assert.deepEqual(r.ofType('stepStarted').map((x) => x.index), [1, 2])
    assertLinesPaired(r.seq)
  })
})

test('api: a build the client never saw running gives buildFinished { cached: true } and no step events', async () => {
  await H.withServer({ s3: 'none', snapshotBuild: { lines: [], lineIntervalMs: 1 } }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const r = recorder('onLogs')
    const snap = await d.snapshot.create({ name: 'events-quick', image: Image.base('alpine:3.20').runCommands('true') }, { timeout: 30, ...r.options })
    assert.equal(snap.state, 'active')
    const events = r.events().filter((e) => e.type !== 'log')
    assert.deepEqual(events.map((e) => e.type), ['contextPlanned', 'buildFinished'])
    assert.equal(events[1].cached, true)
    assert.equal(events[1].image, 'events-quick')
  })
})

test('api: an onBuildEvent that throws rejects snapshot.create with that value and stops delivery', async () => {
  const lines = Array.from({ length: 40 }, (_, i) => (i % 10 === 0 ? `Step ${i / 10 + 1}/4 : RUN step-${i}` : `out-${i}`))
  await H.withServer({ s3: 'none', snapshotBuild: { lines, lineIntervalMs: 50 } }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const thrown = new Error('enough')
    let afterThrow = 0
    let threw = false
    const e = await E.rejection(() =>
      d.snapshot.create(
        { name: 'events-throw', image: Image.base('alpine:3.20').runCommands('true') },
        {
          timeout: 30,
          onLogs: () => threw && afterThrow++,
          onBuildEvent: (ev) => {
            if (threw) afterThrow++
            if (ev.type === 'stepStarted' && ev.index === 2) {
              threw = true
              throw thrown
            }
          },
        },
      ),
    )
    assert.equal(e, thrown)
    await E.sleep(300)
    assert.equal(afterThrow, 0)
  })
})
