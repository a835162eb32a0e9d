'use strict'
// Adversarial cases on the local engine: data loss in uploads, output that is corrupted or too
// large, links in downloads, commands that outlive their timeout, an engine that stalls, drops,
// refuses or answers garbage (through the fault-injection proxy), concurrent builds of one image.

const { test, before, after, describe } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')

const E = require('../engine-support/engine.js')
const { FaultyEngine } = require('../engine-support/faulty-engine.js')
const native = require('../../index.js')
const {
  Daytona,
  Image,
  DaytonaValidationError,
  DaytonaNotFoundError,
  DaytonaTimeoutError,
  DaytonaConnectionError,
  DaytonaProcessExecutionTimeoutError,
} = native

let daytona
let baseline
let sandbox
const janitor = new E.ImageJanitor()

before(async () => {
  E.ensureServices()
  baseline = E.containerBaseline()
  daytona = new Daytona({ backend: 'local' })
  sandbox = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('hardening') }, { timeout: 60 })
})

after(async () => {
  try {
    if (sandbox) await sandbox.delete().catch(() => {})
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
  }
})

/** Settles `p` or fails after `ms` (a hang guard with a wide margin, not a timing assertion). */
function within(p, ms, what) {
  let timer
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([p, guard]).finally(() => clearTimeout(timer))
}

const outcome = (p) =>
  p.then(
    (v) => ({ value: v }),
    (e) => ({ error: e }),
  )

test('uploadFile onto an existing directory rejects and leaves the directory tree intact', async () => {
  await sandbox.process.executeCommand('mkdir -p /root/project/src && echo keep > /root/project/src/a.txt')
  for (const target of ['/root/project', '/root/project/', '/root/project/src']) {
    const { error } = await outcome(sandbox.fs.uploadFile(Buffer.from('x'), target))
    assert.ok(error instanceof DaytonaValidationError, `${target}: ${error && error.name}: ${error && error.message}`)
    assert.equal(error.statusCode, 400)
    assert.match(error.message, /is a directory/)
  }
  const r = await sandbox.process.executeCommand('cat /root/project/src/a.txt')
  assert.equal(r.result, 'keep\n', 'the directory and its files are untouched')
  // A file path inside it still works.
  await sandbox.fs.uploadFile(Buffer.from('new'), '/root/project/new.txt')
  assert.equal((await sandbox.fs.downloadFile('/root/project/new.txt')).toString(), 'new')
})

test('executeCommand: multi-byte characters split across output frames stay whole', async () => {
  const r = await sandbox.process.executeCommand(`yes '✓' | head -n 1000000 | tr -d '\\n'`)
  assert.equal(r.exitCode, 0)
  assert.equal(r.result.length, 1_000_000)
  assert.ok(!r.result.includes('\uFFFD'), `${r.result.split('\uFFFD').length - 1} replacement characters`)
  assert.equal(r.result, '✓'.repeat(1_000_000))
  // stderr and stdout are both part of the result (each in its own order; the two pipes are
  // read concurrently, so their interleaving is not defined).
  const both = await sandbox.process.executeCommand(`echo out; echo err >&2; echo 'grüße' >&2`)
  assert.equal(both.result.length, 'out\nerr\ngrüße\n'.length)
  assert.ok(both.result.includes('out\n') && both.result.replace('out\n', '') === 'err\ngrüße\n', both.result)
})

test('downloadFile follows links inside the sandbox; a dangling link is not found; kernel files are read', async () => {
  await sandbox.process.executeCommand(
    'mkdir -p /root/links && echo target-content > /root/links/target && ln -sf /root/links/target /root/links/abs && ' +
      'ln -sf target /root/links/rel && ln -sf ../links/abs /root/links/chain && ln -sf /nowhere /root/links/dangling && ' +
      'ln -sfn /root/links /root/dirlink',
  )
  for (const p of ['/root/links/abs', '/root/links/rel', '/root/links/chain', '/root/dirlink/target']) {
    assert.equal((await sandbox.fs.downloadFile(p)).toString(), 'target-content\n', p)
  }
  const dangling = await outcome(sandbox.fs.downloadFile('/root/links/dangling'))
  assert.ok(dangling.error instanceof DaytonaNotFoundError, String(dangling.error))
  assert.equal(dangling.error.code, 'FILE_NOT_FOUND')
  const missing = await outcome(sandbox.fs.downloadFile('/root/links/none'))
  assert.ok(missing.error instanceof DaytonaNotFoundError, String(missing.error))

  const cpuinfo = (await sandbox.fs.downloadFile('/proc/cpuinfo')).toString()
  assert.match(cpuinfo, /processor/)
  const status = (await sandbox.fs.downloadFile('/proc/1/status')).toString()
  assert.match(status, /^Name:/m)
  assert.equal((await sandbox.fs.downloadFile('/dev/null')).length, 0)
  const noProc = await outcome(sandbox.fs.downloadFile('/proc/no-such-file'))
  assert.ok(noProc.error instanceof DaytonaNotFoundError, String(noProc.error))
})

test('an exec timeout kills the command even where /tmp is not writable', async () => {
  const sb = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('no-tmp') }, { timeout: 60 })
  try {
    // No /tmp at all: nothing can be written there.
    await sb.process.executeCommand('rm -rf /tmp')
    assert.equal((await sb.process.executeCommand('test -e /tmp')).exitCode, 1)
    const marker = `survivor-${E.RUN_ID}`
    const { error } = await outcome(sb.process.executeCommand(`sleep 300; echo ${marker}`, undefined, undefined, 1))
    assert.ok(error instanceof DaytonaProcessExecutionTimeoutError, String(error))
    assert.match(error.message, /was killed/)
    const ps = await sb.process.executeCommand('ps -o pid,args')
    assert.ok(!ps.result.includes('sleep 300'), `the command survived:\n${ps.result}`)
  } finally {
    await sb.delete()
  }
})

test('executeCommand output beyond what a JS string can hold is a typed error naming the limit, in bounded memory', async () => {
  // In a child process so its peak RSS is the operation's alone.
  const script = `
    const { Daytona } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'index.js'))})
    ;(async () => {
      const d = new Daytona({ backend: 'local' })
      const sb = await d.get(${JSON.stringify(sandbox.id)})
      const before = process.memoryUsage().rss
      const r = await sb.process.executeCommand('head -c 600000000 /dev/zero | tr "\\\\0" a').then((v) => ({ ok: v.result.length }), (e) => ({ name: e.name, code: e.code, message: e.message }))
      r.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024)
      r.beforeMb = Math.round(before / 1048576)
      const after = await sb.process.executeCommand('ps -o args')
      r.survivor = after.result.includes('head -c 600000000')
      console.log(JSON.stringify(r))
    })().catch((e) => { console.error(e); process.exit(1) })`
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  )
  const r = JSON.parse(out.trim().split('\n').pop())
  assert.equal(r.name, 'DaytonaError', JSON.stringify(r))
  assert.equal(r.code, 'OUTPUT_TOO_LARGE')
  assert.match(r.message, /268435456 bytes/)
  assert.equal(r.survivor, false, 'the command was killed')
  // The output read is bounded by the limit (256 MiB) plus the process's own footprint.
  assert.ok(r.maxRssMb < 1200, `peak RSS ${r.maxRssMb} MB`)
})

test('twenty concurrent creates of one uncached image run one build and leave no untagged image', async () => {
  const token = `concurrent-${E.RUN_ID}`
  const image = Image.base(E.BUSYBOX).runCommands(`echo ${token}`)
  await janitor.track(image)
  const logs = Array.from({ length: 20 }, () => [])
  const results = await Promise.all(
    logs.map((lines) =>
      outcome(daytona.create({ image, labels: E.labelsFor('concurrent') }, { timeout: 120, onSnapshotCreateLogs: (l) => lines.push(l) })),
    ),
  )
  try {
    for (const r of results) assert.ok(r.value, String(r.error))
    const built = logs.filter((lines) => lines.some((l) => l.includes(`RUN echo ${token}`)))
    assert.equal(built.length, 1, 'exactly one create ran the build')
    const dangling = E.docker('images', '-q', '--no-trunc', '--filter', 'dangling=true').split('\n').filter(Boolean)
    const ours = dangling.filter((id) => E.docker('history', '--no-trunc', id).includes(token))
    assert.deepEqual(ours, [], 'untagged images of this build')
  } finally {
    await Promise.all(results.filter((r) => r.value).map((r) => r.value.delete()))
  }
})

describe('an engine that stalls, drops, refuses or answers garbage', () => {
  let proxy
  let client
  let sb

  before(async () => {
    proxy = await new FaultyEngine().start()
    client = new Daytona({ backend: 'local', requestTimeoutMs: 2000, local: { dockerHost: proxy.host } })
    sb = await client.get(sandbox.id)
  })
  after(async () => {
    await proxy.stop()
  })

  const bounded = [
    ['daytona.get', () => client.get(sandbox.id)],
    ['daytona.list', () => client.list().next()],
    ['sandbox.refreshData', () => sb.refreshData()],
    ['snapshot.get', () => client.snapshot.get(E.BUSYBOX)],
    ['snapshot.list', () => client.snapshot.list()],
    ['executeCommand(…, 3)', () => sb.process.executeCommand('echo hi', undefined, undefined, 3)],
    ['stop(3)', () => sb.stop(3)],
    ['start(3)', () => sb.start(3)],
    ['delete(3)', () => sb.delete(3)],
    ['create({ timeout: 3 })', () => client.create({ image: E.BUSYBOX, labels: E.labelsFor('stalled') }, { timeout: 3 })],
    ['uploadFile(…, 3)', () => sb.fs.uploadFile(Buffer.from('x'), '/root/x', 3)],
    ['downloadFile(…, 3)', () => sb.fs.downloadFile('/etc/hostname', 3)],
  ]

  test('every operation is bounded by its timeout or the request timeout: DaytonaTimeoutError', async () => {
    proxy.fault('stall')
    try {
      // All at once: each is bounded on its own.
      const settled = await Promise.all(
        bounded.map(async ([name, call]) => {
          const t0 = Date.now()
          const r = await within(outcome(call()), 30_000, name)
          return { name, ...r, ms: Date.now() - t0 }
        }),
      )
      for (const { name, error, ms } of settled) {
        assert.ok(error instanceof DaytonaTimeoutError, `${name}: ${error && `${error.name}: ${error.message}`}`)
        if (process.env.DAYTONA_TEST_VERBOSE) console.log(`${name}: ${error.name} after ${ms} ms`)
      }
    } finally {
      proxy.clear()
    }
    assert.ok(proxy.fired.stall > 0)
    // The real engine is untouched by what the stalled client tried.
    assert.equal((await daytona.get(sandbox.id)).state, 'started')
  })

  for (const kind of ['drop', 'garbage', 'badjson']) {
    test(`a reply that is ${kind === 'drop' ? 'a dropped connection' : kind === 'garbage' ? 'not HTTP' : 'not the JSON of the Engine API'}: DaytonaConnectionError`, async () => {
      proxy.fault(kind)
      try {
        for (const [name, call] of [
          ['daytona.get', () => client.get(sandbox.id)],
          ['snapshot.get', () => client.snapshot.get(E.BUSYBOX)],
          ['create from an image name', () => client.create({ image: E.BUSYBOX, labels: E.labelsFor('garbage') }, { timeout: 10 })],
        ]) {
          const { error } = await within(outcome(call()), 30_000, name)
          assert.ok(error instanceof DaytonaConnectionError, `${name}: ${error && `${error.name}: ${error.message}`}`)
          assert.doesNotMatch(error.message, /could not be pulled|hyper legacy/)
        }
      } finally {
        proxy.clear()
      }
    })
  }

  test('a refused connection: DaytonaConnectionError', async () => {
    const dead = await new FaultyEngine().start()
    const c = new Daytona({ backend: 'local', local: { dockerHost: dead.host } })
    await dead.refuse()
    try {
      for (const [name, call] of [
        ['daytona.get', () => c.get(sandbox.id)],
        ['create', () => c.create({ image: E.BUSYBOX }, { timeout: 10 })],
      ]) {
        const { error } = await within(outcome(call()), 30_000, name)
        assert.ok(error instanceof DaytonaConnectionError, `${name}: ${error && `${error.name}: ${error.message}`}`)
        assert.ok(!(error instanceof DaytonaNotFoundError))
      }
    } finally {
      await dead.stop()
    }
  })
})
