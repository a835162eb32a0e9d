'use strict'
// The official TypeScript SDK (@daytonaio/sdk 0.218) against the server of `serve` (or, until
// this package has one, the fake API: see ./serve/target.js), through the validating proxy
// (./serve/validating-proxy.js): every request the SDK sends and every answer it gets is checked
// against daytona-api.json / daytona-toolbox.json, and the run must end with none outside them.
//
// The flows are the examples of this repository, run unchanged with the official import: both
// declarative-builder scenarios (dynamic-image: a sandbox from an Image with its build logs;
// prebuilt-snapshot: snapshot.create from an Image, a sandbox from it, snapshot.delete), and the
// official exec-command (codeRun, executeCommand, sessions with followed logs, the code
// interpreter), file-operations, lifecycle, PTY and README examples; then the settings calls, a
// sandbox from an image name and snapshot.list, which no example makes. Each is transpiled with its import of
// 'daytona-native' pointed at @daytonaio/sdk and run in a child process with only the
// environment a user sets (DAYTONA_API_URL, DAYTONA_API_KEY, and DAYTONA_USE_DEPRECATED_POLLING:
// the SDK's socket.io event stream is not in the spec; one more run of lifecycle without it shows
// that the SDK's defaults work too).
//
// Against the fake, every sandbox shares the toolbox of one real local sandbox (the "backing"
// sandbox), made from an image that has what the examples' commands look for (six, the example
// file, the env variables, node); against `serve` every example's own image is built for real.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const ts = require('typescript')

const official = require('@daytonaio/sdk')
const { startHarness, withEnv, ROOT } = require('./serve/target.js')

const OFFICIAL_ENTRY = require.resolve('@daytonaio/sdk')
const EXAMPLE_FILE_DIR = path.join(os.tmpdir(), 'daytona-native-example')

let h
let work
let timing = {}
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-official-'))
  h = await startHarness({ s3: true, backing: { image: backingImage() } })
})
after(async () => {
  if (!h) return fs.rmSync(work, { recursive: true, force: true })
  try {
    // Every sandbox the flows created is gone (404 or destroyed), through the same SDK.
    const created = h.proxy.records.filter((r) => r.op === 'createSandbox' && r.status >= 200 && r.status < 300).length
    assert.ok(created >= 9, `the flows created ${created} sandboxes`)
    await withEnv(h.env, async () => {
      const d = new official.Daytona()
      for (const id of createdSandboxIds()) {
        const got = await d.get(id).then(
          (sb) => sb.state,
          (e) => e.constructor.name,
        )
        assert.ok(got === 'DaytonaNotFoundError' || got === 'destroyed', `sandbox ${id} is still there after the flows: ${got}`)
      }
      const snapshots = h.proxy.records.filter((r) => r.op === 'createSnapshot' && r.response && r.response.name).map((r) => r.response.name)
      assert.equal(snapshots.length, 1)
      for (const name of snapshots) {
        const got = await d.snapshot.get(name).then((s) => s.state, (e) => e.constructor.name)
        assert.equal(got, 'DaytonaNotFoundError', `snapshot ${name} is still there after the flows`)
      }
    })
    console.log(`# serve-official-sdk: target=${h.kind} ${JSON.stringify(h.proxy.summary())} timings=${JSON.stringify(timing)}`)
    h.proxy.assertClean('the official TypeScript SDK and the server')
  } finally {
    await h.close()
    fs.rmSync(work, { recursive: true, force: true })
  }
})

/** The ids of every sandbox created through the proxy so far. */
function createdSandboxIds() {
  return h.proxy.records.filter((r) => r.op === 'createSandbox' && r.response && r.response.id).map((r) => r.response.id)
}

/** The fake's backing image: what every example's commands expect to find (see the header). */
function backingImage() {
  const { Image } = require(ROOT)
  fs.mkdirSync(EXAMPLE_FILE_DIR, { recursive: true })
  const file = path.join(EXAMPLE_FILE_DIR, 'file_example.txt')
  fs.writeFileSync(file, 'Hello, World!\n')
  return Image.debianSlim('3.12')
    .pipInstall(['six'])
    .runCommands('mkdir -p /home/daytona/project')
    .workdir('/home/daytona/project')
    .env({ ENV_VAR: 'My Environment Variable', MY_ENV_VAR: 'My Environment Variable' })
    .addLocalFile(file, '/home/daytona/project/file_example.txt')
    .addLocalFile(process.execPath, '/usr/local/bin/node')
}

/** examples/<name>.ts with the official import, as CommonJS in the scratch directory. */
function officialExample(name) {
  const src = fs.readFileSync(path.join(ROOT, 'examples', `${name}.ts`), 'utf8')
  const n = (src.match(/from 'daytona-native'/g) || []).length
  assert.equal(n, 1, `examples/${name}.ts imports daytona-native once`)
  const rewritten = src.replace(/from 'daytona-native'/, `from ${JSON.stringify(OFFICIAL_ENTRY)}`)
  const out = ts.transpileModule(rewritten, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: `${name}.ts` })
  const file = path.join(work, `${name}.js`)
  fs.writeFileSync(file, out.outputText)
  return file
}

/** Runs an example as a user does, with only the official SDK's environment; { code, out }. */
function run(name, { polling = true, doneMarker } = {}) {
  const file = officialExample(name)
  const cwd = fs.mkdtempSync(path.join(work, `${name}-cwd-`))
  const env = { ...process.env, ...h.env }
  delete env.DAYTONA_BACKEND
  if (!polling) delete env.DAYTONA_USE_DEPRECATED_POLLING
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let lingered = false
    let grace = null
    const onOutput = (c) => {
      out += c
      // With doneMarker: once the flow printed it, the process gets a few seconds to exit on its
      // own; one still running then (timers of a client library) is ended and reported.
      if (doneMarker && !grace && out.includes(doneMarker)) {
        grace = setTimeout(() => {
          lingered = true
          child.kill('SIGTERM')
        }, 5000)
      }
    }
    child.stdout.on('data', onOutput)
    child.stderr.on('data', onOutput)
    const timer = setTimeout(() => child.kill('SIGKILL'), 900_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      clearTimeout(grace)
      timing[polling ? name : `${name} (events)`] = Date.now() - t0
      resolve({ code: lingered ? 0 : code ?? signal, lingered, out, cwd })
    })
  })
}

function inOrder(out, markers) {
  let at = 0
  for (const m of markers) {
    const i = out.indexOf(m, at)
    assert.ok(i >= 0, `missing ${JSON.stringify(m)} after offset ${at} in:\n${out}`)
    at = i + m.length
  }
}

/** The proxy saw no violation since `mark` (records.length before the flow). */
function cleanSince(mark) {
  const v = h.proxy.violations.filter((x) => x.seq >= mark)
  assert.deepEqual(
    v.map((x) => `#${x.seq} ${x.method} ${x.path} (${x.op}) -> ${x.status}: ${x.where}: ${x.errors.join('; ')}`),
    [],
    'requests or answers outside the specs',
  )
}

test('declarative builder, dynamic image: create({ image }) with build logs, commands in the built sandbox', async () => {
  const mark = h.proxy.records.length
  const { code, out } = await run('dynamic-image')
  assert.equal(code, 0, out)
  inOrder(out, ['Creating a sandbox on', 'is started', 'import six', '(exit 0)', 'Hello, World!', 'My Environment Variable', '/home/daytona/project'])
  assert.ok(/\n {2}\| /.test(out), `build logs were streamed:\n${out}`)
  const ops = h.proxy.records.slice(mark).map((r) => r.op)
  for (const op of ['getPushAccess', 'createSandbox', 'getBuildLogsUrl', 'ExecuteCommand', 'deleteSandbox']) assert.ok(ops.includes(op), `${op} in ${ops}`)
  cleanSince(mark)
})

test('declarative builder, pre-built snapshot: snapshot.create from an Image, a sandbox from it, delete both', async () => {
  const mark = h.proxy.records.length
  const { code, out } = await run('prebuilt-snapshot')
  assert.equal(code, 0, out)
  inOrder(out, ['=== Creating snapshot python-example:', 'Hello, World!'])
  const ops = h.proxy.records.slice(mark).map((r) => r.op)
  for (const op of ['createSnapshot', 'createSandbox', 'ExecuteCommand', 'deleteSandbox', 'removeSnapshot']) assert.ok(ops.includes(op), `${op} in ${ops}`)
  cleanSince(mark)
})

test('exec-command: codeRun, executeCommand, sessions with input and followed logs, the interpreter', async () => {
  const mark = h.proxy.records.length
  const { code, out } = await run('exec-command')
  assert.equal(code, 0, out)
  assert.ok(!out.includes('Error executing commands'), out)
  inOrder(out, [
    'Hello World from code!',
    'Hello World from CMD!',
    'FOO=BAR',
    '[STDOUT]: Hello, Alice',
    'Count: 3',
    'Initialized counter = 1',
    'Counter after second call = 2',
    'Isolated context value: stored in isolated context',
    'Value still available: stored in isolated context',
    "[ERROR] NameError: name 'value' is not defined",
    'Timed out as expected',
  ])
  const recs = h.proxy.records.slice(mark)
  assert.ok(recs.some((r) => r.upgrade && r.status === 101), 'WebSockets went through the proxy')
  for (const op of ['CreateSession', 'SessionExecuteCommand', 'GetSessionCommandLogs', 'CodeRun']) assert.ok(recs.some((r) => r.op === op), `${op} in ${recs.map((r) => r.op)}`)
  cleanSince(mark)
})

test('file-operations: list, create, upload many, search, replace, download many, streams both ways', async () => {
  const mark = h.proxy.records.length
  const { code, out, cwd } = await run('file-operations')
  assert.equal(code, 0, out)
  assert.ok(!out.includes('Error:') && !out.includes('Error downloading'), out)
  inOrder(out, [
    'Initial files:',
    'Verifying uploaded files:',
    'config.json',
    'Running script:',
    'Hello from script!',
    'project-files/config.json',
    'Downloaded project-files/config.json to local-config.json',
    'Downloaded project-files/example.txt to memory (50 bytes)',
    'Config content:',
    '"debug": false',
    'uploaded 49152 / 49152 bytes',
    'Streamed content:',
    '"debug": false',
  ])
  assert.deepEqual(fs.readdirSync(cwd), [])
  cleanSince(mark)
})

test('lifecycle: create, setLabels, stop, start, get, executeCommand, list with filters, delete', async () => {
  const mark = h.proxy.records.length
  const { code, out } = await run('lifecycle')
  assert.equal(code, 0, out)
  assert.ok(!/Error/.test(out), out)
  inOrder(out, ['Sandbox created', 'Sandbox stopped', 'Sandbox started', 'Got existing sandbox', 'Hello World from exec!', 'Sandbox deleted'])
  const ops = h.proxy.records.slice(mark).map((r) => r.op)
  for (const op of ['replaceLabels', 'stopSandbox', 'startSandbox', 'listSandboxes', 'deleteSandbox']) assert.ok(ops.includes(op), `${op} in ${ops}`)
  cleanSince(mark)
})

test('lifecycle with the SDK\'s defaults: its socket.io event stream (not in the spec) is tried, the flow completes', async () => {
  const mark = h.proxy.records.length
  const { code, out, lingered } = await run('lifecycle', { polling: false, doneMarker: 'Sandbox deleted' })
  assert.equal(code, 0, out)
  // Without an answer on socket.io the SDK keeps reconnecting (up to its reconnection limit, with
  // delays up to 30 s) and its process cannot exit for minutes after the flow: a server should
  // accept the event stream (even if it sends no events) so that users' scripts end.
  if (lingered) console.log(`# serve-official-sdk: the SDK's process did not exit within 5 s of its last output (socket.io reconnecting); ended by the test`)
  assert.ok(!/Error/.test(out), out)
  inOrder(out, ['Sandbox created', 'Sandbox stopped', 'Sandbox started', 'Got existing sandbox', 'Hello World from exec!', 'Sandbox deleted'])
  const recs = h.proxy.records.slice(mark)
  assert.ok(recs.some((r) => r.kind === 'unspecified' && r.path.endsWith('/socket.io/')), 'the SDK tried its event stream')
  cleanSince(mark)
})

test('pty: an interactive session over the toolbox WebSocket that exits, and one that is killed', async () => {
  const mark = h.proxy.records.length
  const { code, out } = await run('pty')
  assert.equal(code, 0, out)
  inOrder(out, ['Hello, Bob', 'PTY session resized to 80x25', 'PTY session exited with code: 0', 'PTY session terminated'])
  const recs = h.proxy.records.slice(mark)
  assert.ok(recs.some((r) => r.upgrade && r.status === 101 && r.op === 'CreateConnectPty'), recs.map((r) => r.op).join(' '))
  cleanSince(mark)
})

test("the README's first example: codeRun in a JavaScript sandbox and executeCommand", async () => {
  const mark = h.proxy.records.length
  const { code, out } = await run('readme')
  assert.equal(code, 0, out)
  inOrder(out, ['Hello World!', 'Hello, World!', 'Sum: 30'])
  cleanSince(mark)
})

test('settings, image names and snapshots: the calls the examples do not make', async () => {
  const mark = h.proxy.records.length
  await withEnv(h.env, async () => {
    const d = new official.Daytona()
    const sb = await d.create({ image: 'daytona-test/busybox:1', labels: { 'serve-test': 'settings' }, envVars: { A: 'b' } }, { timeout: 300 })
    try {
      await sb.setAutostopInterval(30)
      await sb.setAutoArchiveInterval(60)
      await sb.setAutoDeleteInterval(-1)
      await sb.refreshData()
      assert.equal(sb.autoStopInterval, 30)
      assert.equal(sb.autoArchiveInterval, 60)
      assert.equal(sb.autoDeleteInterval, -1)
      assert.deepEqual(await sb.setLabels({ 'serve-test': 'settings', more: 'yes' }), { 'serve-test': 'settings', more: 'yes' })
      const found = await d.list({ labels: { more: 'yes' } })
      const ids = []
      for await (const x of found) ids.push(x.id)
      assert.ok(ids.includes(sb.id), `list by label finds it: ${ids}`)
      const echoed = (await sb.process.executeCommand('echo $A')).result.trim()
      // (The fake's sandboxes all share the backing sandbox's toolbox, which has no A.)
      if (h.kind === 'serve') assert.equal(echoed, 'b', 'envVars reach the sandbox')
      assert.ok((await sb.getUserHomeDir()).startsWith('/'))
      assert.ok((await sb.getWorkDir()).startsWith('/'))
      const snaps = await d.snapshot.list()
      assert.ok(Array.isArray(snaps.items), 'snapshot.list gives a page')
    } finally {
      await sb.delete()
    }
  })
  const ops = h.proxy.records.slice(mark).map((r) => r.op)
  for (const op of ['setAutostopInterval', 'setAutoArchiveInterval', 'setAutoDeleteInterval', 'replaceLabels', 'getAllSnapshots']) assert.ok(ops.includes(op), `${op} in ${ops}`)
  cleanSince(mark)
})
