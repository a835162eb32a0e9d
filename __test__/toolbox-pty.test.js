'use strict'
// PTY sessions on the local engine (the in-sandbox agent), busybox: create with size, cwd and
// envs, output to onData, input, resize, info and list, exit code, reconnecting, kill, unknown
// ids, and a PTY whose sandbox is deleted ends with an error instead of hanging.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const E = require('./engine-support/engine.js')
const { Daytona, DaytonaNotFoundError, DaytonaError, PtyHandle } = require('../index.js')

let daytona
let baseline
let sandbox

before(async () => {
  E.ensureServices()
  baseline = E.containerBaseline()
  daytona = new Daytona({ backend: 'local' })
  sandbox = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('tb-pty') }, { timeout: 60 })
})

after(async () => {
  if (sandbox) await sandbox.delete().catch(() => {})
  await E.assertNoLeaks(baseline)
})

/** Collects a PTY's output; `until(text)` resolves once the output contains `text`. */
function collector() {
  let text = ''
  const waiters = []
  return {
    onData(bytes) {
      assert.ok(bytes instanceof Uint8Array)
      text += Buffer.from(bytes).toString('utf8')
      for (const w of waiters.splice(0)) if (text.includes(w.needle)) w.resolve()
      else waiters.push(w)
    },
    until(needle) {
      if (text.includes(needle)) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ needle, resolve }))
    },
    get text() {
      return text
    },
  }
}

test('an interactive PTY: cwd, envs, input, resize, info, exit code', async () => {
  const p = sandbox.process
  const out = collector()
  const pty = await p.createPty({ id: 'tb-pty-1', cwd: '/tmp', envs: { GREETING: 'hi-there' }, cols: 100, rows: 30, onData: out.onData })
  assert.ok(pty instanceof PtyHandle)
  assert.equal(pty.sessionId, 'tb-pty-1')
  assert.equal(pty.isConnected(), true)
  await pty.waitForConnection()

  const info = await p.getPtySessionInfo('tb-pty-1')
  assert.equal(info.id, 'tb-pty-1')
  assert.equal(info.cwd, '/tmp')
  assert.equal(info.cols, 100)
  assert.equal(info.rows, 30)
  assert.equal(info.active, true)
  assert.ok((await p.listPtySessions()).some((s) => s.id === 'tb-pty-1'))

  await pty.sendInput('echo "$GREETING from $(pwd)"\n')
  await out.until('hi-there from /tmp')

  const resized = await pty.resize(120, 40)
  assert.equal(resized.cols, 120)
  assert.equal(resized.rows, 40)
  await pty.sendInput('stty size\n')
  await out.until('40 120')
  const viaProcess = await p.resizePtySession('tb-pty-1', 81, 25)
  assert.deepEqual([viaProcess.cols, viaProcess.rows], [81, 25])

  await pty.sendInput(new Uint8Array([...Buffer.from('exit 3\n')]))
  assert.deepEqual(await pty.wait(), { exitCode: 3, error: undefined })
  assert.equal(pty.exitCode, 3)
  assert.equal(pty.isConnected(), false)
  await pty.disconnect()
})

test('disconnect and connectPty again; kill ends it', async () => {
  const p = sandbox.process
  const first = collector()
  const pty = await p.createPty({ id: 'tb-pty-2', onData: first.onData })
  await pty.sendInput('MARK=kept\n')
  await pty.disconnect()
  assert.equal(pty.isConnected(), false)

  const second = collector()
  const again = await p.connectPty('tb-pty-2', { onData: second.onData })
  assert.equal(again.isConnected(), true)
  await again.sendInput('echo "mark=$MARK"\n')
  await second.until('mark=kept')

  await again.kill()
  const r = await again.wait().then(
    (v) => v,
    (e) => ({ rejected: e }),
  )
  assert.ok(r.rejected === undefined, `wait() after kill: ${r.rejected && r.rejected.message}`)
  assert.notEqual(r.exitCode, 0, 'a killed PTY does not end with 0')
  await again.disconnect()
})

test('unknown PTY ids: DaytonaNotFoundError', async () => {
  const p = sandbox.process
  await assert.rejects(p.getPtySessionInfo('no-such-pty'), DaytonaNotFoundError)
  await assert.rejects(p.connectPty('no-such-pty', { onData: () => {} }), DaytonaNotFoundError)
  await assert.rejects(p.killPtySession('no-such-pty'), DaytonaNotFoundError)
  await assert.rejects(p.resizePtySession('no-such-pty', 80, 24), DaytonaNotFoundError)
})

test('a PTY whose sandbox is deleted ends with an error, not a hang', async () => {
  const sb = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('tb-pty') }, { timeout: 60 })
  const pty = await sb.process.createPty({ id: 'doomed', onData: () => {} })
  await sb.delete()
  const r = await pty.wait().then(
    (v) => ({ value: v }),
    (e) => ({ error: e }),
  )
  if (r.error) assert.ok(r.error instanceof DaytonaError, `${r.error.constructor.name}: ${r.error.message}`)
  else assert.ok(r.value.error || r.value.exitCode !== 0, `ended without an error: ${JSON.stringify(r.value)}`)
  assert.equal(pty.isConnected(), false)
})
