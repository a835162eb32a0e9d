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
const { program } = require('./api-server/toolbox-program.js')

const withServer = (options, fn, limitMs = 60_000) => H.withServer(options, fn, limitMs)
const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }))

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

function runProgram(sdk, client) {
  return withServer({ s3: 'none' }, async (srv) => {
    const result = await settle(program(sdk, client(sdk, srv)))
    return { result, lines: H.normaliseRequests(srv, { accept: true, ids: true }), srv }
  })
}

test('differential: the same toolbox program sends the same requests through the official SDK and ours', async (t) => {
  const officialRun = await runProgram(official, H.officialClient)
  assert.equal(officialRun.result.error, undefined, `the official SDK failed: ${officialRun.result.error && officialRun.result.error.stack}`)
  H.assertConforming(officialRun.srv)
  // The harness: what the official SDK observed on the fake.
  const obs = officialRun.result.value
  assert.equal(obs.codeRun.result, 'hi\nargv=a,b\nK=V\n')
  assert.deepEqual(obs.pwd, { stdout: '/tmp\n1\n', stderr: 'oops\n', exitCode: 0, output: '\x01\x01\x01/tmp\n\x01\x01\x011\n\x02\x02\x02oops\n' })
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
