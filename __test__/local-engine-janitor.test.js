'use strict'
// autoArchiveInterval and autoDeleteInterval on the local engine with no process of this package
// alive: a child process creates sandboxes, gives them intervals, stops them and exits; from then
// on only the engine's janitor container acts. This process only watches the engine with the
// docker CLI (never through the package, whose `get` would apply the intervals itself), until
// the sandboxes are archived / removed, and until the janitor leaves once nothing is left to
// watch. Takes a little over a minute: the shortest interval is one minute.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const E = require('./engine-support/engine.js')

const JANITOR_LABEL = 'io.daytona-native.janitor'
/** The janitor's sweep period when this test starts it (a running one keeps its own, 20 s by default). */
const PERIOD_SECONDS = '2'

// Janitors started by this process sweep every 2 s too.
process.env.DAYTONA_LOCAL_JANITOR_PERIOD = PERIOD_SECONDS

let made = null
let dir = null

before(() => {
  E.ensureServices()
  dir = E.tempDir('janitor')
})

after(() => {
  for (const s of Object.values(made || {})) {
    try {
      E.docker('rm', '-f', s.name)
    } catch {}
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs `script` in a child Node process with the package loaded as `native`; returns its JSON output. */
function child(script) {
  const env = { ...process.env, DAYTONA_LOCAL_REMOVE_ON_EXIT: '0', DAYTONA_LOCAL_JANITOR_PERIOD: PERIOD_SECONDS }
  // Not a test worker: its sandboxes must outlive it.
  delete env.NODE_TEST_CONTEXT
  const code = `const native = require(${JSON.stringify(path.join(E.ROOT, 'index.js'))});
    (async () => { ${script} })().then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0) }, (e) => { console.error(e); process.exit(1) })`
  const r = spawnSync(process.execPath, ['-e', code], { env, encoding: 'utf8', timeout: 300_000 })
  assert.equal(r.status, 0, `the child failed:\n${r.stderr}`)
  return JSON.parse(r.stdout)
}

function exists(name) {
  try {
    E.docker('inspect', '--format', '{{.Id}}', name)
    return true
  } catch {
    return false
  }
}

/** Seconds since the epoch when the container stopped. */
function finishedAt(name) {
  return Date.parse(E.docker('inspect', '--format', '{{.State.FinishedAt}}', name)) / 1000
}

/** The sandbox's settings file, copied out of its (stopped) container with the docker CLI. */
function settingsOf(name) {
  const to = path.join(dir, `${name}.json`)
  E.docker('cp', `${name}:/.daytona-native/state/settings.json`, to)
  return JSON.parse(fs.readFileSync(to, 'utf8'))
}

function janitors() {
  return E.docker('ps', '-a', '-q', '--filter', `label=${JANITOR_LABEL}`).split('\n').filter(Boolean)
}

async function waitFor(what, ms, fn) {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() > end) assert.fail(`timed out after ${ms / 1000} s waiting for ${what}`)
    await E.sleep(1000)
  }
}

test('a stopped sandbox is archived / removed after its interval by the janitor alone, which then leaves', async () => {
  const labels = (tag) => JSON.stringify(E.labelsFor(tag))
  made = child(`
    const daytona = new native.Daytona({ backend: 'local' })
    const image = ${JSON.stringify(E.BUSYBOX)}
    const archiving = await daytona.create({ image, labels: ${labels('janitor-archive')} }, { timeout: 60 })
    await archiving.setAutoArchiveInterval(1)
    await archiving.stop()
    const deleting = await daytona.create({ image, labels: ${labels('janitor-delete')}, autoDeleteInterval: 1 }, { timeout: 60 })
    await deleting.stop()
    // Left running: stopped later from outside, as its own auto-stop would.
    const atOnce = await daytona.create({ image, labels: ${labels('janitor-at-once')} }, { timeout: 60 })
    await atOnce.setAutoDeleteInterval(0)
    const pick = (s) => ({ id: s.id, name: s.name, state: s.state })
    return { archiving: pick(archiving), deleting: pick(deleting), atOnce: pick(atOnce) }
  `)
  assert.equal(made.archiving.state, 'stopped')
  assert.equal(made.deleting.state, 'stopped')
  assert.equal(made.atOnce.state, 'started')

  // The child is gone; its janitor is not (nothing of the child's holds it).
  const [janitor] = janitors()
  assert.ok(janitor, 'a janitor container exists after the child exited')
  assert.equal(E.docker('inspect', '--format', '{{.State.Running}}', janitor), 'true')
  assert.equal(janitors().length, 1, 'one janitor per engine')

  // autoDeleteInterval 0, stopped with no client at all: removed at the janitor's next sweep.
  E.docker('stop', '-t', '1', made.atOnce.name)
  await waitFor('the sandbox with autoDeleteInterval 0 to be removed once stopped', 90_000, () => !exists(made.atOnce.name))

  // autoDeleteInterval 1: removed a minute after it stopped, not before.
  const deletingStopped = finishedAt(made.deleting.name)
  await waitFor('the sandbox with autoDeleteInterval 1 to be removed', 240_000, () => !exists(made.deleting.name))
  const removedAfter = Date.now() / 1000 - deletingStopped
  assert.ok(removedAfter >= 59, `removed ${removedAfter} s after stopping, before its interval`)

  // autoArchiveInterval 1: marked archived in its settings a minute after it stopped; the
  // container stays, stopped.
  const archivingStopped = finishedAt(made.archiving.name)
  const settings = await waitFor('the sandbox with autoArchiveInterval 1 to be archived', 240_000, () => {
    const s = settingsOf(made.archiving.name)
    return s.archived === true ? s : null
  })
  assert.ok(Date.parse(settings.updatedAt) / 1000 - archivingStopped >= 59, `archived at ${settings.updatedAt}, before its interval`)
  assert.equal(settings.autoArchiveInterval, 1)
  assert.equal(E.docker('inspect', '--format', '{{.State.Status}}', made.archiving.name), 'exited')

  // The package reports it archived, from any process.
  const native = require('../index.js')
  const daytona = new native.Daytona({ backend: 'local' })
  const archived = await daytona.get(made.archiving.id)
  assert.equal(archived.state, 'archived')
  await archived.delete()

  // Nothing left to watch: the janitor leaves and removes itself.
  await waitFor('the janitor to leave', 120_000, () => janitors().length === 0 || null).catch((e) => {
    const left = janitors()
    const logs = left.length ? E.sh('docker', ['logs', '--tail', '20', left[0]], { stdio: ['ignore', 'pipe', 'pipe'] }) : ''
    throw new Error(`${e.message}\njanitor log (another process's sandboxes with intervals on this engine keep it, rightly):\n${logs}`)
  })
  await E.assertNoLeaks(E.containerBaseline())
})

test('clients racing to start the janitor make one; it leaves as soon as the last watched sandbox is gone', async () => {
  const native = require('../index.js')
  // Several clients (each its own engine connection, as in several processes) at once.
  const clients = [0, 1, 2, 3].map(() => new native.Daytona({ backend: 'local' }))
  const sandbox = await clients[0].create({ image: E.BUSYBOX, labels: E.labelsFor('janitor-race') }, { timeout: 60 })
  try {
    // No interval yet: it needs no janitor (one may run for other sandboxes on this engine).
    const before = janitors().length
    await Promise.all(clients.map(async (d) => (await d.get(sandbox.id)).setAutoDeleteInterval(5)))
    const after = janitors()
    assert.equal(after.length, 1, `one janitor (there were ${before} before): ${after}`)
    assert.equal(E.docker('inspect', '--format', '{{.Name}} {{.State.Running}} {{.HostConfig.AutoRemove}}', after[0]), '/daytona-native-janitor true true')
  } finally {
    await sandbox.delete()
  }
  await waitFor('the janitor to leave', 120_000, () => janitors().length === 0 || null)
  await E.assertNoLeaks(E.containerBaseline(), 'janitor-race')
})
