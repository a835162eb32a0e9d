'use strict'
// local.removeOnExit: sandboxes (and unfinished builds) of a process are removed when it ends,
// however it ends. Real jest and ava runs whose test times out during create(), a plain Node
// process killed with SIGKILL, and one with the option off.
//
// The only timing bound asserted is the issue's: the runner exits within 2 s of its own test
// timeout firing. Engine state is polled with a deadline (the 10 s for the SIGKILL case).

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const E = require('./engine-support/engine.js')

const ROOT = path.resolve(__dirname, '..')
const FIXTURES = path.join(__dirname, 'fixtures', 'cleanup-on-exit')
const LABEL = 'daytona-native-cleanup-test'
/** The test timeout of the runner fixtures: long enough for the build's long step to start. */
const RUNNER_TIMEOUT_MS = 10_000
const EXIT_BOUND_MS = 2000

before(() => E.ensureServices())

/**
 * Runs a command to its end; resolves with its exit code, output, the time it exited and the
 * time `marker` first appeared in its output (if given).
 */
function run(cmd, args, env, marker) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let markedAt
    const collect = (d) => {
      out += d
      if (marker && markedAt === undefined && out.includes(marker)) markedAt = Date.now()
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({ code, signal, out, markedAt, exitedAt: Date.now() }))
  })
}

/** Polls until `check()` returns an empty list or the deadline passes; returns the last list and when it emptied. */
async function gone(check, deadlineMs) {
  const end = Date.now() + deadlineMs
  let left = check()
  while (left.length && Date.now() < end) {
    await E.sleep(100)
    left = check()
  }
  return { left, at: Date.now() }
}

/** What is left of a nonce's objects: its sandboxes, build containers, and the build's tag. */
function leftovers(nonce, cacheKey) {
  const sandboxes = E.docker('ps', '-a', '-q', '--filter', `label=${LABEL}=${nonce}`).split('\n').filter(Boolean)
  const buildSteps = E.docker('ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Command}}')
    .split('\n')
    .filter((l) => l.includes(nonce))
    .map((l) => `build step ${l.split(' ')[0]}`)
  let tag = []
  if (cacheKey) {
    try {
      E.docker('image', 'inspect', cacheKey)
      tag = [`image ${cacheKey}`]
    } catch {}
  }
  return [...sandboxes.map((s) => `sandbox ${s}`), ...buildSteps, ...tag]
}

/**
 * `timeoutMarker`: what the runner prints the moment its timeout fires; without one, the
 * timeout is taken to fire RUNNER_TIMEOUT_MS after the test started (jest starts the test's
 * timer just before calling it).
 */
async function runnerTimesOut(t, cmd, args, timeoutMarker) {
  const nonce = crypto.randomBytes(6).toString('hex')
  const state = path.join(E.tempDir('cleanup'), 'state.json')
  const env = { ...process.env, CLEANUP_NONCE: nonce, CLEANUP_STATE: state, CLEANUP_TIMEOUT_MS: String(RUNNER_TIMEOUT_MS) }
  // The runner decides the default itself (node:test's variable would turn it on regardless).
  delete env.NODE_TEST_CONTEXT
  delete env.DAYTONA_LOCAL_REMOVE_ON_EXIT
  const r = await run(cmd, args, env, timeoutMarker)
  const record = JSON.parse(fs.readFileSync(state, 'utf8'))
  fs.rmSync(path.dirname(state), { recursive: true, force: true })
  assert.notEqual(r.code, 0, `the runner reports the timed-out test:\n${r.out}`)
  assert.ok(record.stepStarted, `the build's long step started before the timeout:\n${r.out}`)
  const timeoutAt = timeoutMarker ? r.markedAt : record.started + RUNNER_TIMEOUT_MS
  assert.ok(timeoutAt, `the runner said its timeout fired ("${timeoutMarker}"):\n${r.out}`)
  assert.ok(record.stepStarted < timeoutAt, 'the timeout fired during the build')
  const exitDelay = r.exitedAt - timeoutAt
  const after = await gone(() => leftovers(nonce, record.cacheKey), 30_000)
  t.diagnostic(`exit ${exitDelay} ms after the test timeout; engine clean ${after.at - r.exitedAt} ms after exit`)
  assert.ok(exitDelay < EXIT_BOUND_MS, `the runner exited ${exitDelay} ms after the test timeout fired:\n${r.out}`)
  assert.deepEqual(after.left, [], 'nothing of the timed-out create() is left')
}

test('jest: a test that times out during create() exits within 2 s and leaves nothing behind', async (t) => {
  const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js')
  // --runInBand: the test runs in jest's own process, which exits only when nothing keeps
  // Node's event loop alive (jest's workers would be killed instead).
  await runnerTimesOut(t, process.execPath, [jest, '--rootDir', FIXTURES, '--testMatch', '**/timeout.jest.js', '--runInBand', '--ci'])
})

test('ava: a test that times out during create() exits within 2 s and leaves nothing behind', async (t) => {
  const ava = path.join(ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs')
  // ava's run timeout (inactivity, 10 s by default) is what ends a stuck test file: it stops
  // the file's worker. (A t.timeout() only fails the test; ava then waits for the worker to
  // exit on its own, as for any pending I/O, until this timeout.)
  const file = path.relative(ROOT, path.join(FIXTURES, 'timeout.ava.cjs'))
  await runnerTimesOut(t, process.execPath, [ava, file, `--timeout=${RUNNER_TIMEOUT_MS}ms`], 'Timed out while running tests')
})

test('ava: sandboxes left by several test files (worker threads) are removed when ava ends', async (t) => {
  const nonce = crypto.randomBytes(6).toString('hex')
  const env = { ...process.env, CLEANUP_NONCE: nonce }
  delete env.NODE_TEST_CONTEXT
  delete env.DAYTONA_LOCAL_REMOVE_ON_EXIT
  const ava = path.join(ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs')
  const files = ['leave-1.ava.cjs', 'leave-2.ava.cjs'].map((f) => path.relative(ROOT, path.join(FIXTURES, f)))
  const r = await run(process.execPath, [ava, '--concurrency=1', '--verbose', ...files], env)
  assert.equal(r.code, 0, r.out)
  const ids = [...r.out.matchAll(/created (\S+)/g)].map((m) => m[1])
  assert.equal(ids.length, 2, r.out)
  const after = await gone(() => sandboxesLeft(ids), 10_000)
  t.diagnostic(`sandboxes gone ${after.at - r.exitedAt} ms after ava exited`)
  assert.deepEqual(after.left, [], 'sandboxes of the ended ava run left behind')
})

/** Starts holder.js; resolves with the child and the sandbox ids it printed. */
function holder(count, then, env, build) {
  const args = [path.join(FIXTURES, 'holder.js'), String(count), then, ...(build ? ['build'] : [])]
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.stdout.on('data', (d) => {
      out += d
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) resolve({ child, ...JSON.parse(line), stderr: () => err })
    })
    child.on('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`holder.js exited (${code}) before creating its sandboxes:\n${err}`))
    })
  })
}

function sandboxesLeft(ids) {
  return ids.filter((id) => E.docker('ps', '-a', '-q', '--filter', `label=io.daytona-native.sandbox.id=${id}`) !== '')
}

test('SIGKILL: the sandboxes of a killed process are removed (three, within 10 s)', async (t) => {
  const nonce = crypto.randomBytes(6).toString('hex')
  const env = { ...process.env, CLEANUP_NONCE: nonce, CLEANUP_REMOVE_ON_EXIT: 'true' }
  delete env.NODE_TEST_CONTEXT
  const { child, ids } = await holder(3, 'wait', env)
  assert.equal(sandboxesLeft(ids).length, 3)
  const exited = new Promise((r) => child.on('exit', r))
  const killedAt = Date.now()
  child.kill('SIGKILL')
  await exited
  const after = await gone(() => sandboxesLeft(ids), 10_000)
  t.diagnostic(`sandboxes gone ${after.at - killedAt} ms after SIGKILL`)
  assert.deepEqual(after.left, [], 'sandboxes of the killed process left behind')
})

test('normal exit: the sandbox is removed, the image of a build that finished stays as cache', async (t) => {
  const nonce = crypto.randomBytes(6).toString('hex')
  const env = { ...process.env, CLEANUP_NONCE: nonce, CLEANUP_REMOVE_ON_EXIT: 'true' }
  delete env.NODE_TEST_CONTEXT
  const { child, ids, cacheKey } = await holder(1, 'exit', env, true)
  try {
    const code = await new Promise((r) => (child.exitCode === null ? child.on('exit', r) : r(child.exitCode)))
    assert.equal(code, 0)
    const exitedAt = Date.now()
    const session = JSON.parse(E.docker('image', 'inspect', cacheKey))[0].Config.Labels['io.daytona-native.session']
    assert.ok(session, 'the build carried the session label')
    const after = await gone(() => sandboxesLeft(ids), 10_000)
    t.diagnostic(`sandbox gone ${after.at - exitedAt} ms after exit`)
    assert.deepEqual(after.left, [], 'the sandbox of the ended process is left behind')
    // Once the reaper has removed itself its sweeps are over: the finished build is the cache.
    const reaper = await gone(() => E.docker('ps', '-a', '-q', '--filter', `label=io.daytona-native.reaper=${session}`).split('\n').filter(Boolean), 30_000)
    assert.deepEqual(reaper.left, [], 'the reaper removed itself')
    E.docker('image', 'inspect', cacheKey)
  } finally {
    try {
      E.docker('rmi', cacheKey)
    } catch {}
  }
})

test('removeOnExit off (a plain script, not under a test runner): its sandbox stays', async () => {
  const nonce = crypto.randomBytes(6).toString('hex')
  const env = { ...process.env, CLEANUP_NONCE: nonce }
  delete env.NODE_TEST_CONTEXT
  delete env.DAYTONA_LOCAL_REMOVE_ON_EXIT
  const { child, ids } = await holder(1, 'exit', env)
  const code = await new Promise((r) => (child.exitCode === null ? child.on('exit', r) : r(child.exitCode)))
  assert.equal(code, 0)
  try {
    const labels = E.inspect(E.docker('ps', '-a', '-q', '--filter', `label=io.daytona-native.sandbox.id=${ids[0]}`)).Config.Labels
    assert.equal(labels['io.daytona-native.session'], undefined, 'no cleanup session on a sandbox of a plain script')
    assert.deepEqual(sandboxesLeft(ids), ids)
  } finally {
    for (const id of ids) E.docker('rm', '-f', '-v', E.docker('ps', '-a', '-q', '--filter', `label=io.daytona-native.sandbox.id=${id}`) || id)
  }
})
