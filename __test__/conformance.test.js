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
const { relayThrough } = require('./api-server/agent.js')

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
      const ensureName = `dn-test-conf-ensure-${E.RUN_ID}:1`
      this.janitor.add(snapshotName)
      this.janitor.add(ensureName)
      const sandboxSnapshotName = `dn-test-conf-sb-${E.RUN_ID}:1`
      this.janitor.add(sandboxSnapshotName)
      return {
        daytona: new native.Daytona({ backend: 'local' }),
        image: E.BUSYBOX,
        labels: (tag) => E.labelsFor(`conf-${tag}`),
        snapshotName,
        ensureName,
        sandboxSnapshotName,
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
        ensureName: `dn-test-conf-ensure-${E.RUN_ID}:1`,
        sandboxSnapshotName: `dn-test-conf-sb-${E.RUN_ID}:1`,
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
    'setLabels: replaces the labels; the object, get and list (by the new labels) see them',
    async (h) => {
      const sb = h.state.sandbox
      const wanted = { ...h.labels('main'), 'code-toolbox-language': 'python', 'conf-set': `v-${E.RUN_ID}` }
      const returned = await sb.setLabels(wanted)
      assert.deepEqual(returned, wanted)
      assert.deepEqual({ ...sb.labels }, wanted)
      assert.deepEqual({ ...(await h.daytona.get(sb.id)).labels }, wanted)
      const ids = []
      for await (const s of h.daytona.list({ labels: { 'conf-set': `v-${E.RUN_ID}` } })) ids.push(s.id)
      assert.deepEqual(ids, [sb.id])
      const none = []
      for await (const s of h.daytona.list({ labels: { ...h.labels('main'), 'conf-set': 'other' } })) none.push(s.id)
      assert.deepEqual(none, [])
      const e = await failure(() => sb.setLabels({ a: 5 }))
      assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
    },
  ],
  [
    'interval setters: the object and get see the values; non-integers rejected with the official messages',
    async (h) => {
      const sb = h.state.sandbox
      await sb.setAutostopInterval(30)
      await sb.setAutoArchiveInterval(60)
      await sb.setAutoDeleteInterval(120)
      assert.deepEqual([sb.autoStopInterval, sb.autoArchiveInterval, sb.autoDeleteInterval], [30, 60, 120])
      const got = await h.daytona.get(sb.id)
      assert.deepEqual([got.autoStopInterval, got.autoArchiveInterval, got.autoDeleteInterval], [30, 60, 120])
      for (const [call, message] of [
        [() => sb.setAutostopInterval(1.5), 'autoStopInterval must be a non-negative integer'],
        [() => sb.setAutostopInterval(-1), 'autoStopInterval must be a non-negative integer'],
        [() => sb.setAutoArchiveInterval(-2), 'autoArchiveInterval must be a non-negative integer'],
      ]) {
        const e = await failure(call)
        assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
        assert.equal(e.message, message)
      }
      await sb.setAutostopInterval(0)
      assert.equal((await h.daytona.get(sb.id)).autoStopInterval, 0)
    },
  ],
  [
    'resize: cpu and memory change in place; the object and get see them; gpu is refused',
    async (h, backend) => {
      const sb = h.state.sandbox
      await sb.resize({ cpu: 2, memory: 2 })
      assert.deepEqual([sb.cpu, sb.memory, sb.state], [2, 2, 'started'])
      await sb.waitForResizeComplete()
      const got = await h.daytona.get(sb.id)
      assert.deepEqual([got.cpu, got.memory, got.state], [2, 2, 'started'])
      if (backend.name === 'local engine') {
        const limits = require('node:child_process').execFileSync('docker', ['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}', sb.name]).toString().trim()
        assert.equal(limits, `${2e9} ${2 * 1024 ** 3}`)
      }
      const e = await failure(() => sb.resize({ cpu: 1, gpu: 1 }))
      assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
      assert.equal(e.message, 'Resize does not support changes to gpu or gpuType \u2014 to change GPU, create a new Sandbox')
      assert.equal((await failure(() => sb.resize({ cpu: 1 }, -1))).message, 'Timeout must be a non-negative number')
    },
  ],
  [
    'createSnapshot: an active snapshot of the sandbox; a sandbox created from it starts; a taken name is a conflict',
    async (h, backend) => {
      const sb = h.state.sandbox
      const name = h.sandboxSnapshotName
      if (backend.name === 'local engine') await sb.process.executeCommand('echo kept > /snapshot-marker')
      await sb.createSnapshot(name)
      assert.equal(sb.state, 'started')
      const snap = await h.daytona.snapshot.get(name)
      assert.equal(snap.state, 'active')
      const from = await h.daytona.create({ snapshot: name, labels: h.labels('from-sb-snap') }, { timeout: 60 })
      h.created.push(from)
      assert.equal(from.state, 'started')
      if (backend.name === 'local engine') assert.equal((await from.process.executeCommand('cat /snapshot-marker')).result, 'kept\n')
      await from.delete()
      h.created.splice(h.created.indexOf(from), 1)
      const e = await failure(() => sb.createSnapshot(name))
      assert.equal(e.name, 'DaytonaConflictError', `${e.name}: ${e.message}`)
      await h.daytona.snapshot.delete(name)
    },
  ],
  [
    'fork: a started sandbox with the source\'s labels and files; deleting it leaves the source',
    async (h, backend) => {
      const sb = h.state.sandbox
      await sb.fs.uploadFile(Buffer.from('forked file\n'), '/tmp/conf-fork.txt')
      const fork = await sb.fork({ name: `conf-fork-${E.RUN_ID}` })
      h.created.push(fork)
      assert.equal(fork.name, `conf-fork-${E.RUN_ID}`)
      assert.notEqual(fork.id, sb.id)
      assert.equal(fork.state, 'started')
      assert.deepEqual({ ...fork.labels }, { ...sb.labels })
      assert.equal((await fork.fs.downloadFile('/tmp/conf-fork.txt')).toString(), 'forked file\n')
      await fork.delete()
      h.created.splice(h.created.indexOf(fork), 1)
      await backend.settleDelete(h, fork.id)
      assert.equal((await h.daytona.get(sb.id)).state, 'started')
      const e = await failure(() => sb.fork({ name: sb.name }))
      assert.equal(e.name, 'DaytonaConflictError', `${e.name}: ${e.message}`)
    },
  ],
  [
    'getPreviewLink and getSignedPreviewUrl: the official shapes; a bad port is refused',
    async (h) => {
      const sb = h.state.sandbox
      const link = await sb.getPreviewLink(3000)
      assert.deepEqual(Object.keys(link), ['sandboxId', 'url', 'token'])
      assert.equal(link.sandboxId, sb.id)
      assert.match(link.url, /^https?:\/\//)
      const signed = await sb.getSignedPreviewUrl(3000, 30)
      assert.deepEqual(Object.keys(signed), ['sandboxId', 'port', 'token', 'url'])
      assert.deepEqual([signed.sandboxId, signed.port], [sb.id, 3000])
      assert.equal(typeof signed.token, 'string')
      const e = await failure(() => sb.getPreviewLink(70000))
      assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
    },
  ],
  [
    'refreshActivity: lastActivityAt is an ISO timestamp afterwards',
    async (h) => {
      const sb = h.state.sandbox
      await sb.refreshActivity()
      const got = await h.daytona.get(sb.id)
      assert.match(got.lastActivityAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    },
  ],
  [
    'JSON.stringify and util.inspect show the data in the official order',
    async (h) => {
      const sb = h.state.sandbox
      const json = JSON.parse(JSON.stringify(sb))
      assert.equal(json.id, sb.id)
      assert.equal(json.state, 'started')
      assert.deepEqual(json.labels, { ...sb.labels })
      const order = ['id', 'name', 'organizationId', 'user', 'labels', 'public', 'target', 'cpu', 'gpu', 'memory', 'disk', 'state', 'desiredState', 'createdAt']
      assert.deepEqual(Object.keys(json).filter((k) => order.includes(k)), order)
      assert.equal(json.desiredState, 'started')
      const shown = require('node:util').inspect(sb)
      assert.ok(shown.startsWith('Sandbox {'), shown)
      assert.ok(shown.includes(`id: '${sb.id}'`), shown)
      assert.ok(!/apiKey|Authorization/.test(JSON.stringify(sb) + shown))
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
      await sb.waitUntilStopped()
      const again = await h.daytona.get(sb.id)
      await again.waitUntilStopped(5)
      await sb.start(60)
      assert.equal(sb.state, 'started')
      assert.equal((await h.daytona.get(sb.id)).state, 'started')
      const timedOut = await failure(() => sb.waitUntilStopped(1))
      assert.ok(timedOut instanceof native.DaytonaTimeoutError, `${timedOut.name}: ${timedOut.message}`)
      assert.equal(timedOut.message, 'Sandbox failed to become stopped within the timeout period')
      const r = await sb.process.executeCommand('echo again')
      assert.equal(r.result, 'again\n')
    },
  ],
  [
    'archive a stopped sandbox: archived; start brings it back; recover starts a stopped one',
    async (h) => {
      const sb = h.state.sandbox
      await sb.stop(60)
      await sb.archive()
      // The API moves through 'archiving'; both end 'archived'.
      await H.waitFor(async () => (await h.daytona.get(sb.id)).state === 'archived', 10000, 'the sandbox to be archived')
      await sb.refreshData()
      assert.equal(sb.state, 'archived')
      await sb.start(60)
      assert.equal(sb.state, 'started')
      assert.equal((await sb.process.executeCommand('echo unarchived')).result, 'unarchived\n')
      await sb.stop(60)
      await sb.recover(60)
      assert.equal(sb.state, 'started')
      assert.equal((await h.daytona.get(sb.id)).state, 'started')
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
    'snapshot.ensure: the existing snapshot as it is; a missing one created once (ensured twice: one build)',
    async (h) => {
      const existing = await h.daytona.snapshot.ensure({ name: h.snapshotName, image: h.image })
      assert.equal(existing.id, h.state.snapshot.id)
      assert.equal(existing.state, 'active')
      const lines = []
      const first = await h.daytona.snapshot.ensure({ name: h.ensureName, image: h.image }, { onLogs: (l) => lines.push(l), timeout: 60 })
      assert.equal(first.state, 'active')
      assert.ok(lines.length > 0, 'the first ensure built (and logged)')
      const built = lines.length
      const second = await h.daytona.snapshot.ensure({ name: h.ensureName, image: h.image }, { onLogs: (l) => lines.push(l) })
      assert.equal(second.id, first.id)
      assert.equal(second.state, 'active')
      assert.equal(lines.length, built, 'the second ensure built nothing')
      await h.daytona.snapshot.delete(second)
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

// ---------------------------------------------------------------------------------------------
// The sandbox toolbox (processes, sessions, PTY, codeRun, the code interpreter). On the local
// engine a sandbox's toolbox is the agent inside it; the fake API forwards its process routes to
// the agent of a real local sandbox (`toolboxAgent.connect`: a `docker exec ... relay`), so both
// backends run the same commands in the same kind of sandbox and must report the same results
// through their own wire (the API backend: the official SDK's requests to the toolbox proxy).

const PYTHON_IMAGE = 'python:3.13.3-slim-bookworm'
const AGENT_IN_SANDBOX = '/.daytona-native/daytona-native-agent'

const TOOLBOX_BACKENDS = [
  {
    name: 'local engine',
    async start() {
      E.ensureServices()
      this.daytona = new native.Daytona({ backend: 'local' })
      this.sandbox = await this.daytona.create({ image: PYTHON_IMAGE, labels: E.labelsFor('conf-toolbox') }, { timeout: 120 })
      return { sandbox: this.sandbox }
    },
    async stop() {
      if (this.sandbox) await this.sandbox.delete().catch(() => {})
    },
  },
  {
    name: 'API',
    async start() {
      E.ensureServices()
      // The sandbox whose agent serves the fake's toolbox.
      this.host = await new native.Daytona({ backend: 'local' }).create({ image: PYTHON_IMAGE, labels: E.labelsFor('conf-toolbox-host') }, { timeout: 120 })
      const container = this.host.name
      this.srv = await startApiServer({
        s3: 'none',
        timings: { creatingMs: 0, startingMs: 0, stoppingMs: 0, destroyingMs: 0, destroyedVisibleMs: 0, snapshotPendingMs: 0, snapshotPullMs: 0 },
        toolboxAgent: { connect: () => relayThrough('docker', ['exec', '-i', container, AGENT_IN_SANDBOX, 'relay']) },
      })
      const daytona = H.nativeClient(native, this.srv)
      return { sandbox: await daytona.create({ image: PYTHON_IMAGE }, { timeout: 60 }) }
    },
    async stop() {
      try {
        if (this.srv) H.assertConforming(this.srv)
      } finally {
        if (this.srv) await this.srv.close()
        if (this.host) await this.host.delete().catch(() => {})
      }
    },
  },
]

const TOOLBOX_CASES = [
  [
    'sessions: state persists, exit codes per command, command records, snapshot logs, delete',
    async ({ sandbox }) => {
      const p = sandbox.process
      await p.createSession('conf')
      const first = await p.executeSessionCommand('conf', { command: 'cd /tmp && export CONF=1 && V=two' })
      assert.equal(first.exitCode, 0)
      const r = await p.executeSessionCommand('conf', { command: 'pwd; echo "$CONF $V"; echo warn >&2' })
      assert.deepEqual([r.exitCode, r.stdout, r.stderr], [0, '/tmp\n1 two\n', 'warn\n'])
      const failed = await p.executeSessionCommand('conf', { command: '(exit 5)' })
      assert.equal(failed.exitCode, 5)
      const cmd = await p.getSessionCommand('conf', failed.cmdId)
      assert.deepEqual([cmd.id, cmd.command, cmd.exitCode], [failed.cmdId, '(exit 5)', 5])
      const session = await p.getSession('conf')
      assert.deepEqual(session.commands.map((c) => c.exitCode), [0, 0, 5])
      assert.ok((await p.listSessions()).some((x) => x.sessionId === 'conf'))
      const logs = await p.getSessionCommandLogs('conf', r.cmdId)
      assert.deepEqual([logs.stdout, logs.stderr], ['/tmp\n1 two\n', 'warn\n'])
      await p.deleteSession('conf')
      assert.equal((await failure(() => p.getSession('conf'))).name, 'DaytonaNotFoundError')
    },
  ],
  [
    'sessions: an async command takes input and its logs are followed to the end',
    async ({ sandbox }) => {
      const p = sandbox.process
      await p.createSession('conf-async')
      const c = await p.executeSessionCommand('conf-async', {
        command: 'read name; echo "hi $name"; for i in 1 2 3; do echo "n$i"; done; echo done >&2; exit 3',
        runAsync: true,
      })
      assert.equal(typeof c.cmdId, 'string')
      await p.sendSessionCommandInput('conf-async', c.cmdId, 'Ann\n')
      const out = []
      const err = []
      await p.getSessionCommandLogs('conf-async', c.cmdId, (x) => out.push(x), (x) => err.push(x))
      assert.equal(out.join('').replace(/^Ann\n/, ''), 'hi Ann\nn1\nn2\nn3\n')
      assert.equal(err.join(''), 'done\n')
      assert.equal((await p.getSessionCommand('conf-async', c.cmdId)).exitCode, 3)
      await p.deleteSession('conf-async')
    },
  ],
  [
    'sessions: unknown session and command ids are DaytonaNotFoundError',
    async ({ sandbox }) => {
      const p = sandbox.process
      assert.equal((await failure(() => p.getSession('conf-nope'))).name, 'DaytonaNotFoundError')
      assert.equal((await failure(() => p.executeSessionCommand('conf-nope', { command: 'true' }))).name, 'DaytonaNotFoundError')
      await p.createSession('conf-ids')
      assert.equal((await failure(() => p.getSessionCommand('conf-ids', 'nope'))).name, 'DaytonaNotFoundError')
      assert.equal((await failure(() => p.getSessionCommandLogs('conf-ids', 'nope'))).name, 'DaytonaNotFoundError')
      await p.deleteSession('conf-ids')
    },
  ],
  [
    'the entrypoint session of an image without ENTRYPOINT: DaytonaNotFoundError',
    async ({ sandbox }) => {
      assert.equal((await failure(() => sandbox.process.getEntrypointSession())).name, 'DaytonaNotFoundError')
    },
  ],
  [
    'the entrypoint logs of an image without ENTRYPOINT: DaytonaNotFoundError',
    async ({ sandbox }) => {
      assert.equal((await failure(() => sandbox.process.getEntrypointLogs())).name, 'DaytonaNotFoundError')
    },
  ],
  [
    'connectPty: a second handle on a running PTY sees its output; killPtySession ends it',
    async ({ sandbox }) => {
      const p = sandbox.process
      const first = await p.createPty({ id: 'conf-pty2', onData: () => {} })
      let seen = ''
      const second = await p.connectPty('conf-pty2', { onData: (d) => (seen += Buffer.from(d).toString('utf8')) })
      await first.sendInput('echo via-"first"-handle\n')
      await H.waitFor(() => seen.includes('via-first-handle'), 10000, 'the second handle to see the output')
      await p.killPtySession('conf-pty2')
      await second.wait()
      await first.wait()
      assert.equal((await failure(() => p.connectPty('conf-pty-nope', { onData: () => {} }))).name, 'DaytonaNotFoundError')
    },
  ],
  [
    'getWorkDir, getUserHomeDir, getUserRootDir: the image has no WORKDIR, so its home',
    async ({ sandbox }) => {
      assert.equal(await sandbox.getWorkDir(), '/root')
      assert.equal(await sandbox.getUserHomeDir(), '/root')
      assert.equal(await sandbox.getUserRootDir(), '/root')
    },
  ],
  [
    'updateEnv: sessions and code runs started later see set variables and not unset ones',
    async ({ sandbox }) => {
      const p = sandbox.process
      await sandbox.updateEnv({ CONF_ENV_A: 'one', CONF_ENV_B: 'two' })
      await p.createSession('conf-env1')
      assert.equal((await p.executeSessionCommand('conf-env1', { command: 'echo "$CONF_ENV_A $CONF_ENV_B"' })).stdout, 'one two\n')
      await sandbox.updateEnv({ CONF_ENV_C: 'three' }, { unset: ['CONF_ENV_A'] })
      await p.createSession('conf-env2')
      assert.equal((await p.executeSessionCommand('conf-env2', { command: 'echo "[$CONF_ENV_A] $CONF_ENV_B $CONF_ENV_C"' })).stdout, '[] two three\n')
      const code = await p.codeRun('import os\nprint(os.environ.get("CONF_ENV_C"), os.environ.get("CONF_ENV_A"))')
      assert.equal(code.result, 'three None\n')
      await p.deleteSession('conf-env1')
      await p.deleteSession('conf-env2')
      await sandbox.updateEnv({}, { unset: ['CONF_ENV_B', 'CONF_ENV_C'] })
      const e = await failure(() => sandbox.updateEnv({ X: 5 }))
      assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
    },
  ],
  [
    'updateEnv: executeCommand sees the variables set, and not those unset; its own env wins',
    async ({ sandbox }) => {
      await sandbox.updateEnv({ CONF_EXEC_ENV: 'seen by exec' })
      const r = await sandbox.process.executeCommand('echo $CONF_EXEC_ENV')
      assert.deepEqual([r.exitCode, r.result], [0, 'seen by exec\n'])
      const own = await sandbox.process.executeCommand('echo $CONF_EXEC_ENV', undefined, { CONF_EXEC_ENV: 'from the call' })
      assert.equal(own.result, 'from the call\n')
      await sandbox.updateEnv({}, { unset: ['CONF_EXEC_ENV'] })
      assert.equal((await sandbox.process.executeCommand('echo "[$CONF_EXEC_ENV]"')).result, '[]\n')
    },
  ],
  [
    'codeRun (python): output, argv, env and exit code',
    async ({ sandbox }) => {
      const ok = await sandbox.process.codeRun('import sys, os\nprint(sys.argv[1:], os.environ["CONF_X"])', { argv: ['a', 'b'], env: { CONF_X: 'x1' } })
      assert.deepEqual([ok.exitCode, ok.result, ok.artifacts.stdout], [0, "['a', 'b'] x1\n", "['a', 'b'] x1\n"])
      const bad = await sandbox.process.codeRun('import sys\nsys.exit(4)')
      assert.equal(bad.exitCode, 4)
    },
  ],
  [
    'codeInterpreter: state kept per context, contexts listed and deleted, errors reported',
    async ({ sandbox }) => {
      const ci = sandbox.codeInterpreter
      const ctx = await ci.createContext()
      await ci.runCode('conf_value = 41', { context: ctx })
      const r = await ci.runCode('print(conf_value + 1)', { context: ctx })
      assert.equal(r.stdout, '42\n')
      assert.ok((await ci.listContexts()).some((c) => c.id === ctx.id))
      const other = await ci.runCode('print(conf_value)')
      assert.equal(other.error.name, 'NameError')
      await ci.deleteContext(ctx)
      assert.ok(!(await ci.listContexts()).some((c) => c.id === ctx.id))
    },
  ],
  [
    'PTY: input echoed back, info, list, resize, kill ends it',
    async ({ sandbox }) => {
      const p = sandbox.process
      let seen = ''
      const pty = await p.createPty({ id: 'conf-pty', cols: 80, rows: 24, onData: (d) => (seen += Buffer.from(d).toString('utf8')) })
      await pty.sendInput('echo conf-"pty"-ok\n')
      await H.waitFor(() => seen.includes('conf-pty-ok'), 10000, 'the PTY to echo')
      const info = await p.getPtySessionInfo('conf-pty')
      assert.deepEqual([info.id, info.cols, info.rows, info.active], ['conf-pty', 80, 24, true])
      assert.ok((await p.listPtySessions()).some((s) => s.id === 'conf-pty'))
      await p.resizePtySession('conf-pty', 100, 30)
      const resized = await p.getPtySessionInfo('conf-pty')
      assert.deepEqual([resized.cols, resized.rows], [100, 30])
      await pty.kill()
      const result = await pty.wait()
      assert.equal(typeof result, 'object')
      await H.waitFor(async () => !(await p.listPtySessions()).some((s) => s.id === 'conf-pty' && s.active), 10000, 'the PTY to end')
    },
  ],
]

// sandbox.fs: every operation, through the toolbox on both backends (the API backend: the
// official SDK's requests, which the fake forwards to the sandbox's agent).
const FS_ROOT = '/tmp/conf-fs'
const readAll = async (readable) => {
  const chunks = []
  for await (const c of readable) chunks.push(c)
  return Buffer.concat(chunks)
}
const FILESYSTEM_CASES = [
  [
    'fs: createFolder, uploadFile, getFileDetails, listFiles with depth, deleteFile',
    async ({ sandbox }) => {
      const fs = sandbox.fs
      await fs.createFolder(`${FS_ROOT}/a/b`, '750')
      await fs.uploadFile(Buffer.from('hello'), `${FS_ROOT}/a/one.txt`)
      await fs.uploadFile(Buffer.from('deep'), `${FS_ROOT}/a/b/two.txt`)
      const info = await fs.getFileDetails(`${FS_ROOT}/a/one.txt`)
      assert.deepEqual([info.name, info.size, info.isDir, typeof info.modTime, typeof info.permissions], ['one.txt', 5, false, 'string', 'string'])
      const dir = await fs.getFileDetails(`${FS_ROOT}/a/b`)
      assert.deepEqual([dir.isDir, dir.permissions], [true, '0750'])
      const top = await fs.listFiles(`${FS_ROOT}/a`)
      assert.deepEqual(top.map((f) => [f.name, f.isDir]).sort(), [['b', true], ['one.txt', false]])
      const deep = await fs.listFiles(`${FS_ROOT}/a`, { depth: 2 })
      assert.ok(deep.some((f) => f.path === `${FS_ROOT}/a/b/two.txt`), JSON.stringify(deep))
      assert.equal((await failure(() => fs.listFiles(FS_ROOT, { depth: 0 }))).message, 'depth must be an integer of at least 1')
      await fs.deleteFile(`${FS_ROOT}/a/one.txt`)
      assert.equal((await failure(() => fs.getFileDetails(`${FS_ROOT}/a/one.txt`))).name, 'DaytonaNotFoundError')
      // A directory needs `recursive`.
      assert.ok(await failure(() => fs.deleteFile(`${FS_ROOT}/a`)))
      await fs.deleteFile(`${FS_ROOT}/a`, true)
      assert.equal((await failure(() => fs.listFiles(`${FS_ROOT}/a`))).name, 'DaytonaNotFoundError')
    },
  ],
  [
    'fs: moveFiles, searchFiles, findFiles, replaceInFiles',
    async ({ sandbox }) => {
      const fs = sandbox.fs
      await fs.uploadFiles([
        { source: Buffer.from('x = 1\nTODO: one\n'), destination: `${FS_ROOT}/s/a.py` },
        { source: Buffer.from('TODO: two\n'), destination: `${FS_ROOT}/s/sub/b.txt` },
      ])
      await fs.moveFiles(`${FS_ROOT}/s/sub/b.txt`, `${FS_ROOT}/s/sub/c.txt`)
      assert.equal((await fs.downloadFile(`${FS_ROOT}/s/sub/c.txt`)).toString(), 'TODO: two\n')
      const found = await fs.searchFiles(`${FS_ROOT}/s`, '*.py')
      assert.deepEqual(found, { files: [`${FS_ROOT}/s/a.py`] })
      const matches = await fs.findFiles(`${FS_ROOT}/s`, 'TODO:')
      assert.deepEqual(
        matches.map((m) => [m.file, m.line, m.content]).sort(),
        [[`${FS_ROOT}/s/a.py`, 2, 'TODO: one'], [`${FS_ROOT}/s/sub/c.txt`, 1, 'TODO: two']],
      )
      const replaced = await fs.replaceInFiles([`${FS_ROOT}/s/a.py`, `${FS_ROOT}/s/missing.py`], 'x = 1', 'x = 2')
      assert.equal(replaced.length, 2)
      assert.deepEqual([replaced[0].file, replaced[0].success], [`${FS_ROOT}/s/a.py`, true])
      assert.equal(replaced[1].success, false)
      assert.equal((await fs.downloadFile(`${FS_ROOT}/s/a.py`)).toString(), 'x = 2\nTODO: one\n')
      assert.equal((await failure(() => fs.moveFiles(`${FS_ROOT}/s/nope`, `${FS_ROOT}/s/x`))).name, 'DaytonaNotFoundError')
      await fs.deleteFile(`${FS_ROOT}/s`, true)
    },
  ],
  [
    'fs: setFilePermissions by mode; a mode that is not octal is refused',
    async ({ sandbox }) => {
      const fs = sandbox.fs
      await fs.uploadFile(Buffer.from('#!/bin/sh\necho ok\n'), `${FS_ROOT}/p/run.sh`)
      await fs.setFilePermissions(`${FS_ROOT}/p/run.sh`, { mode: '755' })
      assert.equal((await fs.getFileDetails(`${FS_ROOT}/p/run.sh`)).permissions, '0755')
      assert.equal((await sandbox.process.executeCommand(`${FS_ROOT}/p/run.sh`)).result.trim(), 'ok')
      const bad = await failure(() => fs.setFilePermissions(`${FS_ROOT}/p/run.sh`, { mode: 'rwx' }))
      assert.equal(bad.name, 'DaytonaValidationError')
      assert.equal((await fs.getFileDetails(`${FS_ROOT}/p/run.sh`)).permissions, '0755')
      assert.equal((await failure(() => fs.setFilePermissions(`${FS_ROOT}/p/nope`, { mode: '644' }))).name, 'DaytonaNotFoundError')
      await fs.deleteFile(`${FS_ROOT}/p`, true)
    },
  ],
  [
    'fs: uploadFiles and downloadFiles: buffers and local files, to memory and to paths, per-file errors',
    async ({ sandbox }) => {
      const nodeFs = require('node:fs')
      const os = require('node:os')
      const path = require('node:path')
      const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'conf-fs-'))
      try {
        nodeFs.writeFileSync(path.join(dir, 'local.txt'), 'from disk')
        await sandbox.fs.uploadFiles([
          { source: path.join(dir, 'local.txt'), destination: `${FS_ROOT}/m/local.txt` },
          { source: Buffer.from('from memory'), destination: `${FS_ROOT}/m/mem.txt` },
        ])
        const results = await sandbox.fs.downloadFiles([
          { source: `${FS_ROOT}/m/local.txt` },
          { source: `${FS_ROOT}/m/mem.txt`, destination: path.join(dir, 'out', 'mem.txt') },
          { source: `${FS_ROOT}/m/missing.txt` },
        ])
        assert.deepEqual(results.map((r) => Object.keys(r).sort()), Array(3).fill(['error', 'errorDetails', 'result', 'source']))
        assert.deepEqual([results[0].source, results[0].result.toString(), results[0].error], [`${FS_ROOT}/m/local.txt`, 'from disk', undefined])
        assert.deepEqual([results[1].result, results[1].error], [path.join(dir, 'out', 'mem.txt'), undefined])
        assert.equal(nodeFs.readFileSync(path.join(dir, 'out', 'mem.txt'), 'utf8'), 'from memory')
        assert.equal(results[2].result, undefined)
        assert.match(results[2].error, /missing\.txt/)
        assert.equal(results[2].errorDetails.statusCode, 404)
        // A missing file: nothing written locally, DaytonaNotFoundError.
        const missing = await failure(() => sandbox.fs.downloadFile(`${FS_ROOT}/m/missing.txt`, path.join(dir, 'never.txt')))
        assert.equal(missing.name, 'DaytonaNotFoundError')
        assert.deepEqual(nodeFs.readdirSync(dir).sort(), ['local.txt', 'out'])
        // A directory where a file is expected.
        assert.ok(await failure(() => sandbox.fs.downloadFile(`${FS_ROOT}/m`)))
        // `..` is resolved inside the sandbox.
        assert.equal((await sandbox.fs.downloadFile(`${FS_ROOT}/m/../m/mem.txt`)).toString(), 'from memory')
        // A local file that does not exist: nothing is sent.
        assert.equal((await failure(() => sandbox.fs.uploadFile(path.join(dir, 'nope.bin'), `${FS_ROOT}/m/nope.bin`))).name, 'DaytonaNotFoundError')
        assert.equal((await failure(() => sandbox.fs.getFileDetails(`${FS_ROOT}/m/nope.bin`))).name, 'DaytonaNotFoundError')
        assert.deepEqual(await sandbox.fs.downloadFiles([]), [])
      } finally {
        nodeFs.rmSync(dir, { recursive: true, force: true })
        await sandbox.fs.deleteFile(`${FS_ROOT}/m`, true).catch(() => {})
      }
    },
  ],
  [
    'fs: uploadFileStream and downloadFileStream: Node streams both ways, with progress',
    async ({ sandbox }) => {
      const { Readable } = require('node:stream')
      const payload = Buffer.alloc(3 << 20)
      for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i)
      const sent = []
      await sandbox.fs.uploadFileStream(
        Readable.from((function* () {
          for (let i = 0; i < payload.length; i += 100_000) yield payload.subarray(i, i + 100_000)
        })()),
        `${FS_ROOT}/st/big.bin`,
        { onProgress: ({ bytesSent }) => sent.push(bytesSent) },
      )
      assert.equal(sent[sent.length - 1], payload.length)
      assert.equal((await sandbox.fs.getFileDetails(`${FS_ROOT}/st/big.bin`)).size, payload.length)
      const received = []
      const stream = await sandbox.fs.downloadFileStream(`${FS_ROOT}/st/big.bin`, { onProgress: ({ bytesReceived }) => received.push(bytesReceived) })
      assert.ok(stream instanceof Readable)
      assert.ok((await readAll(stream)).equals(payload))
      assert.equal(received[received.length - 1], payload.length)
      await sandbox.fs.uploadFileStream(Buffer.from('small'), `${FS_ROOT}/st/small.txt`)
      assert.equal((await readAll(await sandbox.fs.downloadFileStream(`${FS_ROOT}/st/small.txt`, 30))).toString(), 'small')
      assert.equal((await failure(() => sandbox.fs.downloadFileStream(`${FS_ROOT}/st/nope`))).name, 'DaytonaNotFoundError')
      // A source that fails breaks the upload off: nothing is left in the sandbox.
      const broken = new Readable({ read() {} })
      broken.push(Buffer.from('partial'))
      setTimeout(() => broken.destroy(new Error('source failed')), 50)
      assert.equal((await failure(() => sandbox.fs.uploadFileStream(broken, `${FS_ROOT}/st/broken.bin`))).message, 'source failed')
      assert.equal((await failure(() => sandbox.fs.getFileDetails(`${FS_ROOT}/st/broken.bin`))).name, 'DaytonaNotFoundError')
      // Aborted.
      const controller = new AbortController()
      controller.abort()
      assert.equal((await failure(() => sandbox.fs.uploadFileStream(Buffer.from('x'), `${FS_ROOT}/st/x`, { signal: controller.signal }))).message, `Upload cancelled: ${FS_ROOT}/st/x`)
      await sandbox.fs.deleteFile(`${FS_ROOT}/st`, true)
    },
  ],
]
TOOLBOX_CASES.push(...FILESYSTEM_CASES)

for (const backend of TOOLBOX_BACKENDS) {
  describe(`conformance (toolbox): ${backend.name}`, () => {
    let h
    before(async () => {
      h = await backend.start()
    })
    after(async () => {
      await backend.stop()
    })
    for (const [title, fn] of TOOLBOX_CASES) test(title, () => fn(h, backend))
  })
}

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
