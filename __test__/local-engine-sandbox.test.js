'use strict'
// Sandbox operations on the local engine: env and labels, executeCommand, files, lifecycle,
// lookup, resources and network settings. busybox only (fast).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const E = require('./engine-support/engine.js')
const {
  Daytona,
  Image,
  DaytonaNotFoundError,
  DaytonaProcessExecutionTimeoutError,
  DaytonaTimeoutError,
  DaytonaError,
} = require('../index.js')

let daytona
let baseline
let sandbox
let dir
const janitor = new E.ImageJanitor()
const userEnv = { GREETING: 'hello world', QUOTED: `it's "quoted" $HOME` }
const userLabels = { team: 'sdk', purpose: `ops-${E.RUN_ID}` }

before(async () => {
  E.ensureServices()
  baseline = E.containerBaseline()
  daytona = new Daytona({ backend: 'local' })
  dir = E.tempDir('sandbox')
  sandbox = await daytona.create(
    { image: E.BUSYBOX, envVars: userEnv, labels: E.labelsFor('ops', userLabels), language: 'typescript' },
    { timeout: 60 },
  )
})

after(async () => {
  try {
    if (sandbox && sandbox.state !== 'destroyed') await sandbox.delete().catch(() => {})
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('envVars and labels: on the sandbox and in the container, sandbox.env only the user vars', async () => {
  assert.equal(sandbox.state, 'started')
  assert.deepEqual({ ...sandbox.env }, userEnv, 'sandbox.env holds exactly the user vars')
  assert.deepEqual({ ...sandbox.labels }, { ...E.labelsFor('ops', userLabels), 'code-toolbox-language': 'typescript' })

  const r = await sandbox.process.executeCommand('printf "%s|%s" "$GREETING" "$QUOTED"')
  assert.equal(r.exitCode, 0)
  assert.equal(r.result, `${userEnv.GREETING}|${userEnv.QUOTED}`)

  const c = E.inspect(sandbox.name)
  for (const [k, v] of Object.entries(userLabels)) assert.equal(c.Config.Labels[k], v, `container label ${k}`)
  assert.equal(c.Config.Labels[E.MANAGED], 'true')
  for (const [k, v] of Object.entries(userEnv)) assert.ok(c.Config.Env.includes(`${k}=${v}`), `container env ${k}`)
  // The image's own variables (PATH) are in the container but not in sandbox.env.
  assert.ok(!('PATH' in sandbox.env))
})

test('executeCommand: cwd, env, exit code, stdout and stderr', async () => {
  const r = await sandbox.process.executeCommand('mkdir -p /tmp/wd && cd /tmp/wd && pwd', undefined, undefined)
  assert.equal(r.exitCode, 0)
  assert.equal(r.result.trim(), '/tmp/wd')

  const inCwd = await sandbox.process.executeCommand('pwd; echo "$ONE-$TWO"; echo to-stderr >&2; exit 7', '/tmp/wd', {
    ONE: '1',
    TWO: 'two words',
  })
  assert.equal(inCwd.exitCode, 7)
  assert.match(inCwd.result, /^\/tmp\/wd$/m, 'ran in cwd')
  assert.match(inCwd.result, /^1-two words$/m, 'got env')
  assert.match(inCwd.result, /^to-stderr$/m, 'stderr is in the result too')
  assert.equal(inCwd.artifacts.stdout, inCwd.result)

  // The per-command env does not stick.
  const after = await sandbox.process.executeCommand('echo "[$ONE]"')
  assert.equal(after.result.trim(), '[]')
})

test('executeCommand timeout: DaytonaProcessExecutionTimeoutError within seconds, process killed', async () => {
  const marker = `${7000 + Math.floor(Math.random() * 999)}`
  const t0 = Date.now()
  const e = await E.rejection(() => sandbox.process.executeCommand(`sleep ${marker}`, undefined, undefined, 1))
  const elapsed = Date.now() - t0
  assert.ok(e instanceof DaytonaProcessExecutionTimeoutError, `got ${e.name}: ${e.message}`)
  assert.ok(e instanceof DaytonaTimeoutError)
  assert.ok(elapsed < 5000, `took ${elapsed} ms`)
  const ps = await E.settle(() => E.docker('exec', sandbox.name, 'ps').includes(`sleep ${marker}`), 3000)
  assert.equal(ps, false, 'the timed-out command is no longer running')

  // A compound command: its children go too, not just the shell running it.
  const e2 = await E.rejection(() => sandbox.process.executeCommand(`sleep ${marker}1; echo after`, undefined, undefined, 1))
  assert.ok(e2 instanceof DaytonaProcessExecutionTimeoutError, `got ${e2.name}: ${e2.message}`)
  const ps2 = await E.settle(() => E.docker('exec', sandbox.name, 'ps').includes(`sleep ${marker}1`), 3000)
  assert.equal(ps2, false, 'the children of a timed-out command are no longer running')
  // The sandbox still works afterwards.
  assert.equal((await sandbox.process.executeCommand('echo ok')).result.trim(), 'ok')
})

test('files: upload Buffer and local path to nested relative paths, download to Buffer and path', async () => {
  const content = Buffer.from(`binary \u0000\u00ff\n${E.RUN_ID}\n`, 'latin1')
  await sandbox.fs.uploadFile(content, 'nested/a/b/buffer.bin')
  const local = path.join(dir, 'source.txt')
  fs.writeFileSync(local, 'from a local file\n')
  await sandbox.fs.uploadFile(local, 'nested/c/file.txt')

  // Relative paths land in the working directory (busybox: /).
  const ls = await sandbox.process.executeCommand('cat /nested/c/file.txt && wc -c < /nested/a/b/buffer.bin')
  assert.equal(ls.exitCode, 0, ls.result)
  assert.equal(ls.result, `from a local file\n${content.length}\n`)

  const back = await sandbox.fs.downloadFile('nested/a/b/buffer.bin')
  assert.ok(Buffer.isBuffer(back))
  assert.deepEqual(back, content)

  const target = path.join(dir, 'deep', 'er', 'copy.txt')
  const res = await sandbox.fs.downloadFile('/nested/c/file.txt', target)
  assert.equal(res, undefined)
  assert.equal(fs.readFileSync(target, 'utf8'), 'from a local file\n')

  // As through the Daytona toolbox: its error part has code FILE_NOT_FOUND but no source, so
  // the official SDK's class is the one of status 404.
  const e = await E.rejection(() => sandbox.fs.downloadFile('/nested/does-not-exist.txt'))
  assert.ok(e instanceof DaytonaNotFoundError, `got ${e.name}: ${e.message}`)
  assert.equal(e.code, 'FILE_NOT_FOUND')
  assert.equal(e.statusCode, 404)
})

test('lifecycle and lookup: stop, start, get by id and name, list by labels', async () => {
  await sandbox.stop()
  assert.equal(sandbox.state, 'stopped')
  assert.equal(E.inspect(sandbox.name).State.Running, false)
  assert.equal((await daytona.get(sandbox.id)).state, 'stopped')

  await sandbox.start()
  assert.equal(sandbox.state, 'started')
  assert.equal(E.inspect(sandbox.name).State.Running, true)
  assert.equal((await sandbox.process.executeCommand('echo $GREETING')).result.trim(), userEnv.GREETING)

  const byId = await daytona.get(sandbox.id)
  const byName = await daytona.get(sandbox.name)
  assert.equal(byId.id, sandbox.id)
  assert.equal(byName.id, sandbox.id)
  assert.equal(byId.state, 'started')
  assert.deepEqual({ ...byId.env }, userEnv)

  const found = []
  for await (const s of daytona.list({ labels: { purpose: userLabels.purpose } })) found.push(s.id)
  assert.deepEqual(found, [sandbox.id])
  const none = []
  for await (const s of daytona.list({ labels: { purpose: `nobody-${E.RUN_ID}` } })) none.push(s.id)
  assert.deepEqual(none, [])
})

test('named sandbox: get by name; delete makes get throw DaytonaNotFoundError', async () => {
  const name = `dn-test-${E.RUN_ID}-named`
  const sb = await daytona.create({ image: E.BUSYBOX, name, labels: E.labelsFor('named') })
  try {
    assert.equal(sb.name, name)
    assert.notEqual(sb.id, name)
    assert.equal((await daytona.get(name)).id, sb.id)
  } finally {
    await sb.delete()
  }
  assert.equal(sb.state, 'destroyed')
  for (const key of [sb.id, name]) {
    const e = await E.rejection(() => daytona.get(key))
    assert.ok(e instanceof DaytonaNotFoundError, `get(${key}) after delete: ${e.name}: ${e.message}`)
  }
  assert.deepEqual(E.ourContainers('named'), [])
})

test('image whose CMD exits at once still gives a running sandbox; resources and networkBlockAll', async () => {
  const image = Image.base(E.BUSYBOX).cmd(['true'])
  await janitor.track(image)
  const sb = await daytona.create(
    { image, labels: E.labelsFor('cmd-true'), resources: { cpu: 1, memory: 1 }, networkBlockAll: true },
    { timeout: 60 },
  )
  try {
    assert.equal(sb.state, 'started')
    assert.equal(sb.cpu, 1)
    assert.equal(sb.memory, 1)
    assert.equal(sb.networkBlockAll, true)
    await E.sleep(1500)
    await sb.refreshData()
    assert.equal(sb.state, 'started', 'still running after its CMD would have exited')
    const c = E.inspect(sb.name)
    assert.equal(c.State.Running, true)
    assert.equal(c.HostConfig.NanoCpus, 1e9)
    assert.equal(c.HostConfig.Memory, 1024 ** 3)
    assert.equal(c.HostConfig.NetworkMode, 'none')
    const r = await sb.process.executeCommand('ls /sys/class/net')
    assert.equal(r.result.trim(), 'lo', 'only loopback with networkBlockAll')
  } finally {
    await sb.delete()
  }
  assert.deepEqual(E.ourContainers('cmd-true'), [])
})

test('delete the shared sandbox: get throws DaytonaNotFoundError, container gone', async () => {
  const { id, name } = sandbox
  await sandbox.delete()
  assert.equal(sandbox.state, 'destroyed')
  const e = await E.rejection(() => daytona.get(id))
  assert.ok(e instanceof DaytonaNotFoundError, `${e.name}: ${e.message}`)
  assert.ok(e instanceof DaytonaError)
  assert.throws(() => E.inspect(name))
  const e2 = await E.rejection(() => sandbox.process.executeCommand('true'))
  assert.ok(e2 instanceof DaytonaNotFoundError, `exec on a deleted sandbox: ${e2.name}: ${e2.message}`)
})
