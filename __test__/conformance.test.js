'use strict'
// One script of operations, run against both backends: the local engine (the real Docker Engine,
// busybox) and the API backend (against the fake Daytona API of __test__/api-server/). Each case
// asserts the same observable results on both; where the backends legitimately differ, the
// harness normalises explicitly (see `normalise` and the comments on each backend).
//
// Every backend operation added from now on gets a case in CASES first.
//
// Cases run in order and share state (`t.state`): one sandbox per backend is created by the first
// case and reused by the following ones, so the file stays fast.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('../index.js')
const E = require('./engine-support/engine.js')
const { startApiServer } = require('./api-server/server.js')
const H = require('./api-server/helpers.js')

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const pickResources = (s) => ({ cpu: s.cpu, mem: s.mem, disk: s.disk })

/**
 * A backend harness: `start()` returns { daytona, image, labels(tag), snapshotName, expected }
 * (`expected`: the values that differ by design), `stop()` deletes what is left and runs that
 * backend's checks (leaks on the engine, spec conformance on the fake), `settleDelete` waits
 * for a deleted sandbox to be gone where the backend deletes asynchronously.
 */
const BACKENDS = [
  {
    name: 'local engine',
    async start() {
      E.ensureServices()
      this.baseline = E.containerBaseline()
      this.janitor = new E.ImageJanitor()
      const snapshotName = `dn-test-conf-${E.RUN_ID}:1`
      this.janitor.add(snapshotName)
      return {
        daytona: new native.Daytona({ backend: 'local' }),
        image: E.BUSYBOX,
        labels: (tag) => E.labelsFor(`conf-${tag}`),
        snapshotName,
        // The local backend has no region or organisation: both are the constant 'local'.
        expected: { target: 'local', organizationId: 'local' },
      }
    },
    async stop(h) {
      try {
        for (const sb of h.created) await sb.delete().catch(() => {})
        await E.assertNoLeaks(this.baseline)
      } finally {
        this.janitor.cleanup()
      }
    },
    // The engine removes the container before delete resolves: nothing to wait for.
    async settleDelete() {},
  },
  {
    name: 'API',
    async start() {
      // s3: 'none': no case uploads a build context (images by name only). State timings of 0
      // and no "destroyed" grace period (destroyedVisibleMs), so the fake's state machine moves
      // as soon as it can; the cases never depend on how long a state lasts.
      this.srv = await startApiServer({
        s3: 'none',
        timings: { creatingMs: 0, startingMs: 0, stoppingMs: 0, destroyingMs: 0, destroyedVisibleMs: 0, snapshotPendingMs: 0, snapshotPullMs: 0 },
      })
      return {
        daytona: H.nativeClient(native, this.srv),
        image: E.BUSYBOX,
        // Labels only matter to the local leak checks; the same ones are sent to the fake.
        labels: (tag) => E.labelsFor(`conf-${tag}`),
        snapshotName: `dn-test-conf-${E.RUN_ID}:1`,
        // The fake's organisation is a random UUID per server; the target is the client's ('us').
        expected: { target: 'us', organizationId: this.srv.organizationId },
      }
    },
    async stop(h) {
      const srv = this.srv
      try {
        for (const sb of h.created) await sb.delete().catch(() => {})
        H.assertConforming(srv)
      } finally {
        await srv.close()
      }
    },
    // The API answers DELETE while the sandbox is still 'destroying' (202), and the client's
    // delete does not wait for it to go, so a get right after may still find it: wait (bounded)
    // until the fake answers 404, then assert on the same terms as locally.
    async settleDelete(h, id) {
      await H.waitFor(() => h.daytona.get(id).then(() => false, () => true), 5000, `sandbox ${id} to be gone`)
    },
  },
]

/** What a sandbox looks like, without the values that differ by design (see each key). */
function sandboxView(sb) {
  return {
    // Ids differ by design (a fresh UUID per local sandbox; the fake numbers its sandboxes in
    // UUID form): only their shape is compared.
    idIsUuid: UUID.test(sb.id),
    state: sb.state,
    labels: { ...sb.labels },
  }
}

const failure = E.rejection
/** The labels a sandbox reports: the user's plus the default code-toolbox-language (python). */
const withLanguage = (labels) => ({ ...labels, 'code-toolbox-language': 'python' })

/**
 * The script. Each case: [title, async (h, backend) => {...}]; `h` is the harness of start()
 * plus `created` (sandboxes to delete at the end) and `state` (shared between cases).
 */
const CASES = [
  [
    'create from an image: started, labels kept, target and organisation',
    async (h) => {
      const sb = await h.daytona.create({ image: h.image, labels: h.labels('main') }, { timeout: 60 })
      h.created.push(sb)
      h.state.sandbox = sb
      assert.deepEqual(sandboxView(sb), { idIsUuid: true, state: 'started', labels: withLanguage(h.labels('main')) })
      assert.equal(sb.target, h.expected.target)
      assert.equal(sb.organizationId, h.expected.organizationId)
    },
  ],
  [
    'get by id and by name: the same sandbox',
    async (h) => {
      const sb = h.state.sandbox
      const byId = await h.daytona.get(sb.id)
      assert.equal(byId.id, sb.id)
      assert.equal(byId.name, sb.name)
      assert.deepEqual(sandboxView(byId), sandboxView(sb))
      const byName = await h.daytona.get(sb.name)
      assert.equal(byName.id, sb.id)
    },
  ],
  [
    'list (async iterator, by labels): exactly the sandbox',
    async (h) => {
      const sb = h.state.sandbox
      const ids = []
      for await (const s of h.daytona.list({ labels: h.labels('main') })) ids.push(s.id)
      assert.deepEqual(ids, [sb.id])
    },
  ],
  [
    'executeCommand: stdout of echo, exit codes',
    async (h) => {
      const sb = h.state.sandbox
      // The fake toolbox interprets a few commands itself (echo, exit, true, false, pwd,
      // printenv, cat, sleep: see toolboxHandlers.ExecuteCommand in api-server/); the commands
      // here are among them, so their output is compared exactly, not normalised.
      const r = await sb.process.executeCommand('echo hello conformance')
      assert.equal(r.exitCode, 0)
      assert.equal(r.result, 'hello conformance\n')
      assert.equal(r.artifacts.stdout, r.result)
      const f = await sb.process.executeCommand('false')
      assert.equal(f.exitCode, 1)
      assert.equal(f.result, '')
      const x = await sb.process.executeCommand('exit 7')
      assert.equal(x.exitCode, 7)
    },
  ],
  [
    'uploadFile and downloadFile: bytes round-trip',
    async (h) => {
      const sb = h.state.sandbox
      const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0x80, ...Buffer.from('grüße ✓\n')])
      await sb.fs.uploadFile(bytes, '/tmp/conf.bin')
      const back = await sb.fs.downloadFile('/tmp/conf.bin')
      assert.ok(Buffer.isBuffer(back))
      assert.deepEqual([...back], [...bytes])
      // What was uploaded is what a command sees.
      const text = Buffer.from('line one\nline two\n')
      await sb.fs.uploadFile(text, '/tmp/conf.txt')
      const r = await sb.process.executeCommand('cat /tmp/conf.txt')
      assert.equal(r.exitCode, 0)
      assert.equal(r.result, text.toString('utf8'))
    },
  ],
  [
    'downloadFile of a missing file: DaytonaNotFoundError (subclass)',
    async (h) => {
      const e = await failure(() => h.state.sandbox.fs.downloadFile('/tmp/conf-no-such-file'))
      assert.ok(e instanceof native.DaytonaNotFoundError, `${e.name}: ${e.message}`)
      assert.ok(e instanceof native.DaytonaError)
    },
  ],
  [
    'stop and start: states',
    async (h) => {
      const sb = h.state.sandbox
      await sb.stop(60)
      assert.equal(sb.state, 'stopped')
      assert.equal((await h.daytona.get(sb.id)).state, 'stopped')
      await sb.start(60)
      assert.equal(sb.state, 'started')
      assert.equal((await h.daytona.get(sb.id)).state, 'started')
      const r = await sb.process.executeCommand('echo again')
      assert.equal(r.result, 'again\n')
    },
  ],
  [
    'get of an unknown sandbox: DaytonaNotFoundError',
    async (h) => {
      const e = await failure(() => h.daytona.get(`conf-missing-${E.RUN_ID}`))
      assert.equal(e.name, 'DaytonaNotFoundError')
      assert.ok(e instanceof native.DaytonaNotFoundError)
    },
  ],
  [
    'invalid arguments: DaytonaInvalidArgumentError with the same message',
    async (h) => {
      for (const [params, options, message] of [
        [{ image: h.image }, { timeout: -1 }, 'Timeout must be a non-negative number'],
        [{ image: h.image, autoStopInterval: 1.5 }, {}, 'autoStopInterval must be a non-negative integer'],
      ]) {
        const e = await failure(() => h.daytona.create({ ...params, labels: h.labels('invalid') }, options))
        assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
        assert.equal(e.message, message)
      }
    },
  ],
  [
    'snapshot create/get/list with resources',
    async (h) => {
      const name = h.snapshotName
      const snap = await h.daytona.snapshot.create({ name, image: h.image, resources: { cpu: 2, memory: 4, disk: 8 } }, { timeout: 60 })
      h.state.snapshot = snap
      assert.equal(snap.name, name)
      assert.equal(snap.state, 'active')
      assert.deepEqual(pickResources(snap), { cpu: 2, mem: 4, disk: 8 })
      const got = await h.daytona.snapshot.get(name)
      assert.equal(got.id, snap.id)
      assert.equal(got.state, 'active')
      assert.deepEqual(pickResources(got), { cpu: 2, mem: 4, disk: 8 })
      const listed = (await h.daytona.snapshot.list()).items.filter((s) => s.name === name)
      assert.equal(listed.length, 1)
      assert.equal(listed[0].id, snap.id)
      assert.deepEqual(pickResources(listed[0]), { cpu: 2, mem: 4, disk: 8 })
    },
  ],
  [
    'create from a snapshot: started, runs commands',
    async (h) => {
      const sb = await h.daytona.create({ snapshot: h.snapshotName, labels: h.labels('from-snap') }, { timeout: 60 })
      h.created.push(sb)
      assert.deepEqual(sandboxView(sb), { idIsUuid: true, state: 'started', labels: withLanguage(h.labels('from-snap')) })
      const r = await sb.process.executeCommand('echo from snapshot')
      assert.equal(r.exitCode, 0)
      assert.equal(r.result, 'from snapshot\n')
      await sb.delete()
      h.created.splice(h.created.indexOf(sb), 1)
    },
  ],
  [
    'snapshot.get of an unknown snapshot: DaytonaNotFoundError',
    async (h) => {
      const e = await failure(() => h.daytona.snapshot.get(`dn-test-conf-missing-${E.RUN_ID}:1`))
      assert.equal(e.name, 'DaytonaNotFoundError')
      assert.ok(e instanceof native.DaytonaNotFoundError)
    },
  ],
  [
    'snapshot delete: gone from get and list',
    async (h) => {
      await h.daytona.snapshot.delete(h.state.snapshot)
      const e = await failure(() => h.daytona.snapshot.get(h.snapshotName))
      assert.equal(e.name, 'DaytonaNotFoundError')
      const listed = (await h.daytona.snapshot.list()).items.filter((s) => s.name === h.snapshotName)
      assert.deepEqual(listed, [])
    },
  ],
  [
    'delete: the sandbox is gone from get and list',
    async (h, backend) => {
      const sb = h.state.sandbox
      await sb.delete()
      h.created.splice(h.created.indexOf(sb), 1)
      await backend.settleDelete(h, sb.id)
      const e = await failure(() => h.daytona.get(sb.id))
      assert.equal(e.name, 'DaytonaNotFoundError')
      const ids = []
      for await (const s of h.daytona.list({ labels: h.labels('main') })) ids.push(s.id)
      assert.deepEqual(ids, [])
    },
  ],
]

for (const backend of BACKENDS) {
  describe(`conformance: ${backend.name}`, () => {
    let h
    before(async () => {
      h = { ...(await backend.start()), created: [], state: {} }
    })
    after(async () => {
      if (h) await backend.stop(h)
    })
    for (const [title, fn] of CASES) test(title, () => fn(h, backend))
  })
}
