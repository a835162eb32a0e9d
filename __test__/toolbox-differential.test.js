'use strict'
// The sandbox toolbox over the Daytona API backend, differentially: one user program of
// processes, sessions, PTY, codeRun and the code interpreter, run through the official SDK and
// through ours, each against a fresh fake API (__test__/api-server/, whose toolbox routes are
// validated against daytona-toolbox.json). The recorded requests — HTTP calls and WebSocket
// handshakes: method, path, query, body, Accept, subprotocols, the headers that matter — must
// be identical, and so must what the program observed. Then the guarantees ours adds: following
// logs survives a dropped WebSocket without losing or repeating output.

const { test } = require('node:test')
const assert = require('node:assert/strict')

const official = require('@daytonaio/sdk')
// Loaded lazily: the harness half (the official SDK on the fake) runs without a built addon.
let nativeModule
const loadNative = () => (nativeModule ??= require('../index.js'))
const H = require('./api-server/helpers.js')

const withServer = (options, fn, limitMs = 60_000) => H.withServer(options, fn, limitMs)
const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }))
const errorShape = (e) => e && { name: e.constructor.name, message: e.message, statusCode: e.statusCode }

/** Whether this build of ours has the toolbox surface yet (the glue adds it). */
function nativeHasToolbox() {
  let native
  try {
    native = loadNative()
  } catch {
    return false
  }
  return typeof (native.Process && native.Process.prototype && native.Process.prototype.createSession) === 'function'
}

/** The user program, written once against either SDK's exports. */
async function program(sdk, d) {
  const obs = {}
  const sb = await d.create({ name: 'tb-sb', language: 'python' }, { timeout: 60 })
  const p = sb.process

  // codeRun with argv, env and a chart.
  const run = await p.codeRun('print("hi")\nimport matplotlib.pyplot as plt\nplt.show()', { argv: ['a', 'b'], env: { K: 'V' } }, 10)
  obs.codeRun = { exitCode: run.exitCode, result: run.result, charts: run.artifacts.charts.map((c) => ({ type: c.type, title: c.title, elements: c.elements })) }

  // Sessions: state persists, async commands, logs both ways, input.
  await p.createSession('s1')
  obs.cd = await p.executeSessionCommand('s1', { command: 'cd /tmp && export A=1' })
  const pwd = await p.executeSessionCommand('s1', { command: 'pwd; echo $A; echo oops >&2' }, 10)
  obs.pwd = { stdout: pwd.stdout, stderr: pwd.stderr, exitCode: pwd.exitCode, output: pwd.output }
  const bg = await p.executeSessionCommand('s1', { command: 'echo start; sleep 0.3; echo done; echo warn >&2', runAsync: true })
  obs.bgKeys = Object.keys(bg).sort()
  const followed = { out: '', err: '' }
  await p.getSessionCommandLogs('s1', bg.cmdId, (t) => (followed.out += t), (t) => (followed.err += t))
  obs.followed = followed
  obs.snapshot = await p.getSessionCommandLogs('s1', bg.cmdId)
  obs.command = await p.getSessionCommand('s1', bg.cmdId)
  const reader = await p.executeSessionCommand('s1', { command: 'read X; echo got $X', runAsync: true, suppressInputEcho: true })
  await p.sendSessionCommandInput('s1', reader.cmdId, 'typed\n')
  await p.getSessionCommandLogs('s1', reader.cmdId, () => {}, () => {})
  obs.reader = (await p.getSessionCommandLogs('s1', reader.cmdId)).stdout
  const session = await p.getSession('s1')
  obs.session = { sessionId: session.sessionId, commands: session.commands.map((c) => ({ command: c.command, exitCode: c.exitCode })) }
  obs.sessions = (await p.listSessions()).map((s) => s.sessionId)
  obs.entrypoint = (await p.getEntrypointSession()).sessionId
  obs.entrypointLogs = await p.getEntrypointLogs()
  obs.missing = errorShape((await settle(p.getSession('nope'))).error)
  await p.deleteSession('s1')

  // PTY.
  let text = ''
  const pty = await p.createPty({ id: 'pty1', cwd: '/tmp', envs: { TERM: 'xterm-256color' }, cols: 100, rows: 30, onData: (b) => (text += Buffer.from(b).toString()) })
  await pty.sendInput('echo pty-hello\n')
  obs.resized = (({ cols, rows }) => ({ cols, rows }))(await pty.resize(120, 40))
  obs.ptyInfo = (({ id, cwd, envs, active }) => ({ id, cwd, envs, active }))(await p.getPtySessionInfo('pty1'))
  obs.ptyList = (await p.listPtySessions()).map((s) => s.id)
  await pty.sendInput('exit 3\n')
  obs.ptyResult = await pty.wait()
  obs.ptyExit = pty.exitCode
  obs.ptySawEcho = text.includes('pty-hello')
  await pty.disconnect()
  const pty2 = await p.createPty({ id: 'pty2' })
  await p.killPtySession('pty2')
  obs.killed = (await pty2.wait()).exitCode
  await pty2.disconnect()

  // The code interpreter: state within a context, streaming callbacks, errors, timeout.
  const ci = sb.codeInterpreter
  const ctx = await ci.createContext('/tmp')
  obs.context = { cwd: ctx.cwd, language: ctx.language }
  await ci.runCode('x = 42', { context: ctx })
  const events = []
  const r = await ci.runCode('print(x)\nimport sys\nsys.stderr.write("e")', {
    context: ctx,
    envs: { A: 'B' },
    onStdout: (m) => events.push(['out', m.output]),
    onStderr: (m) => events.push(['err', m.output]),
  })
  obs.interp = { stdout: r.stdout, stderr: r.stderr, error: r.error, events }
  const failed = await ci.runCode("raise ValueError('bad')", { onError: (e) => events.push(['error', e.name, e.value]) })
  obs.interpError = failed.error && { name: failed.error.name, value: failed.error.value }
  obs.interpTimeout = errorShape((await settle(ci.runCode('import time\ntime.sleep(5)', { timeout: 1 }))).error)
  obs.emptyCode = errorShape((await settle(ci.runCode('  '))).error)
  obs.contexts = (await ci.listContexts()).map((c) => c.id)
  await ci.deleteContext(ctx)
  obs.contextsAfter = (await ci.listContexts()).length

  await sb.delete()
  return obs
}

function runProgram(sdk, client) {
  return withServer({ s3: 'none' }, async (srv) => {
    const result = await settle(program(sdk, client(sdk, srv)))
    return { result, lines: H.normaliseRequests(srv, { accept: true }), srv }
  })
}

test('differential: the same toolbox program sends the same requests through the official SDK and ours', async (t) => {
  const officialRun = await runProgram(official, H.officialClient)
  assert.equal(officialRun.result.error, undefined, `the official SDK failed: ${officialRun.result.error && officialRun.result.error.stack}`)
  H.assertConforming(officialRun.srv)
  // The harness: what the official SDK observed on the fake.
  const obs = officialRun.result.value
  assert.equal(obs.codeRun.result, 'hi\nargv=a,b\nK=V\n')
  assert.deepEqual(obs.pwd, { stdout: '/tmp\n1\n', stderr: 'oops\n', exitCode: 0, output: '/tmp\n1\noops\n' })
  assert.deepEqual(obs.followed, { out: 'start\ndone\n', err: 'warn\n' })
  assert.equal(obs.reader, 'got typed\n')
  assert.equal(obs.missing.name, 'DaytonaNotFoundError')
  assert.deepEqual(obs.ptyResult, { exitCode: 3, error: undefined })
  assert.equal(obs.interpTimeout.name, 'DaytonaTimeoutError')
  assert.equal(obs.emptyCode.name, 'DaytonaInvalidArgumentError')
  assert.ok(officialRun.lines.some((l) => l.includes('ws protocols=X-Daytona-Pty-Envs~')), 'the harness records WebSocket handshakes')

  if (!nativeHasToolbox()) {
    t.skip('this build of ours has no toolbox surface yet')
    return
  }
  const nativeRun = await runProgram(loadNative(), H.nativeClient)
  assert.equal(nativeRun.result.error, undefined, `ours failed: ${nativeRun.result.error && nativeRun.result.error.stack}`)
  assert.deepEqual(nativeRun.lines, officialRun.lines, 'request sequences (ours vs official)')
  assert.deepEqual(nativeRun.result.value, officialRun.result.value, 'what the program observed')
  H.assertConforming(nativeRun.srv)
})

test('native: following logs survives dropped WebSockets without losing or repeating output', { skip: !nativeHasToolbox() && 'no toolbox surface yet' }, async () => {
  const native = loadNative()
  await withServer({ s3: 'none' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const sb = await d.create({ name: 'tb-cut' }, { timeout: 60 })
    await sb.process.createSession('s')
    const cmd = await sb.process.executeSessionCommand('s', { command: 'echo één; echo twee >&2; sleep 0.2; echo drie; echo vier >&2', runAsync: true })
    // Cut inside the first marker, then inside a multi-byte character of the replay, then late.
    srv.faults.cutSocket('GetSessionCommandLogs', { afterBytes: 2 })
    srv.faults.cutSocket('GetSessionCommandLogs', { afterBytes: 6 })
    srv.faults.cutSocket('GetSessionCommandLogs', { afterBytes: 17 })
    const got = { out: '', err: '' }
    await sb.process.getSessionCommandLogs('s', cmd.cmdId, (t) => (got.out += t), (t) => (got.err += t))
    assert.deepEqual(got, { out: 'één\ndrie\n', err: 'twee\nvier\n' })
    const follows = srv.requests.filter((r) => r.op === 'GetSessionCommandLogs' && r.upgrade)
    assert.equal(follows.length, 4, 'three cuts, three reconnections')
    H.assertConforming(srv)
  })
})
