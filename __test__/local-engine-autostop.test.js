'use strict'
// Auto-stop on the local engine: the sandbox's agent stops it once it has been idle for
// `autoStopInterval` minutes, with no process of this package involved (the client only polls
// to observe it). Takes a little over a minute: the shortest interval is one minute.

const { test, before } = require('node:test')
const assert = require('node:assert/strict')

const native = require('../index.js')
const E = require('./engine-support/engine.js')

before(() => E.ensureServices())

test('a sandbox idle for autoStopInterval minutes stops by itself; one with 0 keeps running', async () => {
  const baseline = E.containerBaseline()
  const daytona = new native.Daytona({ backend: 'local' })
  const idle = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('autostop'), autoStopInterval: 1 }, { timeout: 60 })
  const kept = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('autostop-off') }, { timeout: 60 })
  try {
    await kept.setAutostopInterval(0)
    assert.equal(idle.state, 'started')
    // One minute of idleness, checked by the agent every 5 s.
    await idle.waitUntilStopped(120)
    const fresh = await daytona.get(idle.id)
    assert.equal(fresh.state, 'stopped')
    assert.equal(fresh.autoStopInterval, 1)
    assert.equal((await daytona.get(kept.id)).state, 'started')
    // A command on the stopped sandbox says to start it.
    const e = await E.rejection(() => idle.process.executeCommand('echo stopped'))
    assert.ok(e instanceof native.DaytonaConflictError, `${e.name}: ${e.message}`)
    assert.match(e.message, /not running; start it/)
    // Started again, it keeps its setting and runs commands.
    await idle.start(60)
    assert.equal((await idle.process.executeCommand('echo back')).result, 'back\n')
  } finally {
    await idle.delete().catch(() => {})
    await kept.delete().catch(() => {})
  }
  await E.assertNoLeaks(baseline)
})

// The janitor applies these without any client (local-engine-janitor.test.js); a client that
// looks at the sandbox applies them too, whichever comes first.
test('a stopped sandbox past autoDeleteInterval is gone, one past autoArchiveInterval is archived (looked at by any process)', async () => {
  const H = require('./api-server/helpers.js')
  const baseline = E.containerBaseline()
  const daytona = new native.Daytona({ backend: 'local' })
  const deleting = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('autodelete'), autoDeleteInterval: 0 }, { timeout: 60 })
  const archiving = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('autoarchive'), autoArchiveInterval: 1 }, { timeout: 60 })
  try {
    // 0: deleted as soon as it is stopped (stop() ends with the sandbox destroyed).
    await deleting.stop()
    assert.equal(deleting.state, 'destroyed')
    assert.equal((await E.rejection(() => daytona.get(deleting.id))).name, 'DaytonaNotFoundError')
    // 1 minute after stopping: archived; start brings it back.
    await archiving.stop()
    assert.equal((await daytona.get(archiving.id)).state, 'stopped')
    await H.waitFor(async () => (await daytona.get(archiving.id)).state === 'archived', 120_000, 'the sandbox to be archived')
    await archiving.start(60)
    assert.equal(archiving.state, 'started')
  } finally {
    await deleting.delete().catch(() => {})
    await archiving.delete().catch(() => {})
  }
  await E.assertNoLeaks(baseline)
})
