'use strict'
// Image builds on the local engine: the cache, log delivery (volume, order, a throwing
// callback), build failures and their errors, timeouts and argument validation. busybox only.
// Every RUN step carries the run id, so nothing comes from an earlier run's layer cache and
// leftover build containers of this run can be recognised by their command.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const E = require('./engine-support/engine.js')
const {
  Daytona,
  Image,
  DaytonaError,
  DaytonaBuildError,
  DaytonaNotFoundError,
  DaytonaInvalidArgumentError,
  DaytonaTimeoutError,
} = require('../index.js')

let daytona
let baseline
let dir
const janitor = new E.ImageJanitor()

before(() => {
  E.ensureServices()
  baseline = E.containerBaseline()
  daytona = new Daytona({ backend: 'local' })
  dir = E.tempDir('build')
})

after(async () => {
  try {
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

// A step's announcement: `Step 2/4 : RUN …` (classic builder) or `#5 [stage-0 2/4] RUN …`
// (BuildKit, the default where the engine has it).
const isStep = (l) => /^Step \d+\/\d+ : /.test(l) || /^#\d+ \[(\S+ )?\d+\/\d+\] /.test(l)
/** The output a step printed, without BuildKit's `#5 0.231 ` prefix. */
const text = (l) => l.replace(/^#\d+ \d+\.\d{3} /, '')
/** `Step 2/N : RUN …` or `[stage-0 2/N] RUN …`, as a pattern for step `k`. */
const stepPattern = (k) => `(Step ${k}\\/\\d+ : |\\[(stage-0 )?${k}\\/\\d+\\] )`

/** Creates a sandbox from `image` collecting its log lines, deletes it, returns the lines. */
async function buildAndRun(image, tag, check) {
  await janitor.track(image)
  const lines = []
  const sb = await daytona.create({ image, labels: E.labelsFor(tag) }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 120 })
  try {
    if (check) await check(sb)
  } finally {
    await sb.delete()
  }
  return lines
}

test('cache: an unchanged image is not rebuilt; changed content or mode is', async () => {
  const file = path.join(dir, 'cached.txt')
  fs.writeFileSync(file, 'version one\n')
  const make = () => Image.base(E.BUSYBOX).runCommands(`echo cache-test-${E.RUN_ID}`).addLocalFile(file, '/ctx/cached.txt')
  const cat = (expected) => async (sb) => {
    const r = await sb.process.executeCommand('cat /ctx/cached.txt')
    assert.equal(r.result, expected)
  }

  const first = await buildAndRun(make(), 'cache', cat('version one\n'))
  assert.ok(first.some(isStep), 'first create builds')
  assert.ok(first.some((l) => l.includes(`echo cache-test-${E.RUN_ID}`)))

  const second = await buildAndRun(make(), 'cache', cat('version one\n'))
  assert.deepEqual(second.filter(isStep), [], `second create must not build; logs:\n${second.join('\n')}`)
  assert.ok(second.some((l) => /cached image/i.test(l)), `second create mentions the cached image; logs:\n${second.join('\n')}`)
  const key1 = (await make().plan()).cacheKey
  assert.ok(second.some((l) => l.includes(key1)), 'names the cache key')

  fs.writeFileSync(file, 'version two\n')
  const key2 = (await make().plan()).cacheKey
  assert.notEqual(key2, key1)
  const third = await buildAndRun(make(), 'cache', cat('version two\n'))
  assert.ok(third.some(isStep), `changed content rebuilds; logs:\n${third.join('\n')}`)
  assert.ok(!third.some((l) => /cached image/i.test(l)))

  fs.chmodSync(file, 0o755)
  const key3 = (await make().plan()).cacheKey
  assert.notEqual(key3, key2, 'mode is part of the cache key')
  const fourth = await buildAndRun(make(), 'cache', async (sb) => {
    const r = await sb.process.executeCommand('test -x /ctx/cached.txt && echo executable')
    assert.equal(r.result.trim(), 'executable')
  })
  assert.ok(fourth.some(isStep), `chmod +x rebuilds; logs:\n${fourth.join('\n')}`)
  await E.assertNoLeaks(baseline, 'cache')
})

test('logs: 3000 lines of one RUN step arrive complete, in order, each a single line', async () => {
  const image = Image.base(E.BUSYBOX).runCommands(`echo many-${E.RUN_ID} && for i in $(seq 1 3000); do echo line-$i; done`)
  const lines = await buildAndRun(image, 'many')
  for (const l of lines) assert.ok(typeof l === 'string' && !l.includes('\n'))
  const numbered = lines.map(text).filter((l) => /^line-\d+$/.test(l))
  assert.equal(numbered.length, 3000)
  numbered.forEach((l, i) => assert.equal(l, `line-${i + 1}`))
  // They come between their step and the end of the build.
  const step = lines.findIndex((l) => isStep(l) && l.includes(`many-${E.RUN_ID}`))
  assert.ok(step >= 0 && lines.map(text).indexOf('line-1') > step)
})

test('logs: a callback that throws rejects create with that very object and stops delivery', async () => {
  class MyErr extends Error {}
  const thrown = new MyErr('stop at line 5')
  const image = Image.base(E.BUSYBOX).runCommands(`echo throw-${E.RUN_ID} && for i in $(seq 1 200); do echo t-$i; sleep 0.01; done && sleep 20`)
  await janitor.track(image)
  let calls = 0
  const seen = []
  const e = await E.rejection(() =>
    daytona.create(
      { image, labels: E.labelsFor('throw') },
      {
        timeout: 60,
        onSnapshotCreateLogs: (l) => {
          calls++
          seen.push(l)
          if (calls === 5) throw thrown
        },
      },
    ),
  )
  assert.equal(e, thrown, `rejected with ${e && e.name}: ${e && e.message}`)
  assert.ok(e instanceof MyErr)
  assert.equal(calls, 5, `called after throwing: ${seen.slice(5).join(' | ')}`)
  await E.sleep(1000)
  assert.equal(calls, 5, 'not called again later either')
  await E.assertNoLeaks(baseline, 'throw')
})

test('logs: a slow callback that throws on the last build line still leaves no sandbox', async () => {
  // The build finishes long before a slow callback reaches its last line; the create must not
  // go on to create a sandbox that the rejected Promise never hands out.
  class LateErr extends Error {}
  const thrown = new LateErr('at the end')
  const image = Image.base(E.BUSYBOX).runCommands(`echo late-${E.RUN_ID} && for i in $(seq 1 300); do echo l-$i; done`)
  await janitor.track(image)
  let calls = 0
  const e = await E.rejection(() =>
    daytona.create(
      { image, labels: E.labelsFor('late-throw') },
      {
        onSnapshotCreateLogs: (l) => {
          calls++
          const until = Date.now() + 3
          while (Date.now() < until);
          if (l.startsWith('Successfully tagged')) throw thrown
        },
      },
    ),
  )
  assert.equal(e, thrown, `rejected with ${e && e.name}: ${e && e.message}`)
  assert.ok(calls > 300)
  await E.sleep(500)
  await E.assertNoLeaks(baseline, 'late-throw')
})

test('build failure: RUN exits 3 -> DaytonaBuildError with exitCode, step and last output lines', async () => {
  const image = Image.base(E.BUSYBOX).runCommands(`echo last-words-${E.RUN_ID} && echo to-stderr-${E.RUN_ID} >&2 && exit 3`)
  const lines = []
  const e = await E.rejection(() =>
    daytona.create({ image, labels: E.labelsFor('exit3') }, { onSnapshotCreateLogs: (l) => lines.push(l) }),
  )
  assert.ok(e instanceof DaytonaBuildError, `${e.name}: ${e.message}`)
  assert.ok(e instanceof DaytonaError)
  assert.equal(e.exitCode, 3)
  assert.equal(e.reason, 'step_failed')
  assert.match(e.step, new RegExp(`^${stepPattern(2)}RUN echo last-words-\\w+ && .*exit 3$`))
  assert.match(e.message, new RegExp(`last-words-${E.RUN_ID}`), 'the message shows the output')
  assert.match(e.message, new RegExp(`to-stderr-${E.RUN_ID}`), 'including stderr')
  assert.match(e.message, /exit 3|code 3/)
  assert.match(e.message, new RegExp(`^The sandbox image failed at ${stepPattern(2)}RUN `))
  // The engine relays a step's stdout and stderr through separate pipes: their order varies.
  assert.deepEqual([...e.logTail].sort(), [`last-words-${E.RUN_ID}`, `to-stderr-${E.RUN_ID}`], 'the tail is the step\'s output only')
  assert.ok(lines.map(text).includes(`last-words-${E.RUN_ID}`), 'the output was also logged')
  await E.assertNoLeaks(baseline, 'exit3')
})

test('build failure: missing base image -> DaytonaBuildError base_image_unavailable', async () => {
  const missing = `daytona-test/does-not-exist-${E.RUN_ID}:1`
  const t0 = Date.now()
  const e = await E.rejection(() => daytona.create({ image: Image.base(missing).runCommands(`echo ${E.RUN_ID}`), labels: E.labelsFor('nobase') }))
  assert.ok(e instanceof DaytonaBuildError, `${e.name}: ${e.message}`)
  assert.equal(e.reason, 'base_image_unavailable')
  assert.ok(e.message.includes(missing), `names the image: ${e.message}`)
  assert.ok(Date.now() - t0 < 30_000)
  await E.assertNoLeaks(baseline, 'nobase')
})

test('build failure: a missing COPY source is a DaytonaNotFoundError from planning, before any build', async () => {
  const lines = []
  const e = await E.rejection(() =>
    daytona.create(
      { image: Image.base(E.BUSYBOX).dockerfileCommands([`RUN echo ${E.RUN_ID}`, `COPY nope-${E.RUN_ID}.txt /x`]), labels: E.labelsFor('nocopy') },
      { onSnapshotCreateLogs: (l) => lines.push(l) },
    ),
  )
  assert.ok(e instanceof DaytonaNotFoundError, `${e.name}: ${e.message}`)
  assert.ok(!(e instanceof DaytonaBuildError))
  assert.ok(e.message.includes(`nope-${E.RUN_ID}.txt`), `names the path: ${e.message}`)
  assert.deepEqual(lines.filter(isStep), [], 'nothing was built')
  assert.ok(!lines.some((l) => /^Building image/.test(l)), `no build started: ${lines.join(' | ')}`)
  await E.assertNoLeaks(baseline, 'nocopy')
})

test('build failure: Dockerfile syntax error -> DaytonaInvalidArgumentError with the parse error', async () => {
  const e = await E.rejection(() =>
    daytona.create({ image: Image.base(E.BUSYBOX).dockerfileCommands([`FOOBAR x-${E.RUN_ID}`]), labels: E.labelsFor('syntax') }),
  )
  assert.ok(e instanceof DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
  assert.match(e.message, /parse error/i)
  assert.match(e.message, /FOOBAR/i)
  await E.assertNoLeaks(baseline, 'syntax')
})

test('timeout: a build longer than timeout rejects with DaytonaTimeoutError and leaves nothing running', async () => {
  const image = Image.base(E.BUSYBOX).runCommands(`sleep 30 && echo slow-${E.RUN_ID}`)
  const key = await janitor.track(image)
  const t0 = Date.now()
  const e = await E.rejection(() => daytona.create({ image, labels: E.labelsFor('timeout') }, { timeout: 3 }))
  const elapsed = Date.now() - t0
  assert.ok(e instanceof DaytonaTimeoutError, `${e.name}: ${e.message}`)
  assert.equal(e.message, 'Failed to create and start sandbox within 3 seconds. Operation timed out.')
  assert.ok(elapsed >= 2900 && elapsed < 15_000, `rejected after ${elapsed} ms`)
  // The build was cancelled: its step container goes away within a short grace period.
  const running = await E.settle(() => E.runningWith(`slow-${E.RUN_ID}`), 8000)
  assert.deepEqual(running, [], 'the build step is still running')
  await E.assertNoLeaks(baseline, 'timeout')
  // And the image was not finished behind our back.
  assert.throws(() => E.docker('image', 'inspect', key))
})

test('timeout: deadlines that expire while the container is being created leave nothing behind', async () => {
  // No build: the deadline falls into creating/starting the container (a few hundred ms).
  let created = 0
  let timedOut = 0
  for (let i = 0; i < 16; i++) {
    const timeout = 0.01 + i * 0.02
    try {
      const sb = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('short-deadline') }, { timeout })
      created++
      await sb.delete()
    } catch (e) {
      assert.ok(e instanceof DaytonaTimeoutError, `${e.name}: ${e.message}`)
      timedOut++
    }
  }
  assert.ok(timedOut > 0, 'some deadlines expired')
  assert.equal(created + timedOut, 16)
  await E.assertNoLeaks(baseline, 'short-deadline')
})

test('validation: timeout, autoStopInterval and language errors as in the official SDK', async () => {
  const cases = [
    [{ image: E.BUSYBOX }, { timeout: -1 }, 'Timeout must be a non-negative number'],
    [{ image: E.BUSYBOX, autoStopInterval: 1.5 }, {}, 'autoStopInterval must be a non-negative integer'],
    [{ image: E.BUSYBOX, autoStopInterval: -1 }, {}, 'autoStopInterval must be a non-negative integer'],
    [{ image: E.BUSYBOX, language: 'cobol' }, {}, 'Invalid code-toolbox-language: cobol. Supported languages: python, typescript, javascript'],
    [{ image: E.BUSYBOX, autoStopInterval: 5, autoPauseInterval: 5 }, {}, 'autoStopInterval and autoPauseInterval are mutually exclusive. Set at most one of them to a non-zero value'],
  ]
  for (const [params, options, message] of cases) {
    const e = await E.rejection(() => daytona.create({ ...params, labels: E.labelsFor('validation') }, options))
    assert.ok(e instanceof DaytonaInvalidArgumentError, `${JSON.stringify(params)}: ${e.name}: ${e.message}`)
    assert.equal(e.message, message)
    assert.equal(e.statusCode, undefined)
  }
  assert.deepEqual(E.ourContainers('validation'), [])
})
