'use strict'
// Shared helpers of the local-engine integration tests (__test__/local-engine*.test.js): the
// real Docker Engine (started by scripts/test-services.sh), a run id that names everything a
// test run creates, the docker CLI, and the leak checks (sandbox containers, intermediate build
// containers, builds still running) every test file ends with.

const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const ROOT = path.resolve(__dirname, '..', '..')
const MANAGED = 'io.daytona-native.managed'
/** Label on every sandbox a test creates: the run id. */
const RUN_LABEL = 'daytona-native-test-run'
/** Label on every sandbox a test creates: the test's own tag (for per-test leak checks). */
const TEST_LABEL = 'daytona-native-test'
const BUSYBOX = 'daytona-test/busybox:1'

/** Lowercase, image-reference safe, unique per process. */
const RUN_ID = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts })
}

function docker(...args) {
  return sh('docker', args).trim()
}

/** Makes the engine and the offline base images exist (idempotent, quick when they do). */
function ensureServices() {
  // test-services.sh takes one subcommand per call.
  for (const what of ['engine', 'images']) {
    try {
      sh('bash', [path.join(ROOT, 'scripts', 'test-services.sh'), what], { cwd: ROOT, timeout: 900_000 })
    } catch (e) {
      throw new Error(`scripts/test-services.sh ${what} failed (exit ${e.status}):\n${e.stderr || e.message}`)
    }
  }
  docker('image', 'inspect', BUSYBOX)
}

/** Labels to give a sandbox created by test `tag`. */
function labelsFor(tag, extra = {}) {
  return { [RUN_LABEL]: RUN_ID, [TEST_LABEL]: tag, ...extra }
}

/** Managed containers of this run (optionally only those of one test), any state. */
function ourContainers(tag) {
  const args = ['ps', '-a', '-q', '--no-trunc', '--filter', `label=${MANAGED}`, '--filter', `label=${RUN_LABEL}=${RUN_ID}`]
  if (tag) args.push('--filter', `label=${TEST_LABEL}=${tag}`)
  return docker(...args).split('\n').filter(Boolean)
}

/** `ID COMMAND` of containers with the given status filters, command untruncated. */
function containersByStatus(...statuses) {
  const args = ['ps', '-a', '--no-trunc', '--format', '{{.ID}}\t{{.Command}}\t{{.Status}}']
  for (const s of statuses) args.push('--filter', `status=${s}`)
  return docker(...args)
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, command, status] = l.split('\t')
      return { id, command, status }
    })
}

/**
 * Snapshot of the engine's non-running containers at the start of a test file. `check()` then
 * finds those left since: exited/created intermediate build containers of this run (their
 * command holds the run id, which every RUN step of these tests carries) and, separately, the
 * total count (informational: other processes may use the same engine).
 */
function containerBaseline() {
  const before = new Set(containersByStatus('exited', 'created', 'dead').map((c) => c.id))
  return {
    before,
    /** Containers in exited/created/dead state that appeared since the baseline. */
    newStopped() {
      return containersByStatus('exited', 'created', 'dead').filter((c) => !before.has(c.id))
    },
  }
}

/** Running containers whose command mentions `marker` (a build step still executing). */
function runningWith(marker) {
  return containersByStatus('running').filter((c) => c.command.includes(marker))
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Polls `fn` until it returns a falsy/empty value or `ms` pass; returns the last value. */
async function settle(fn, ms = 8000, step = 250) {
  const end = Date.now() + ms
  let v = fn()
  while ((Array.isArray(v) ? v.length : v) && Date.now() < end) {
    await sleep(step)
    v = fn()
  }
  return v
}

/**
 * The leak assertions: no managed container of this run (of `tag`, if given) exists, no build
 * step of this run is still running, no exited intermediate container of this run was left.
 */
async function assertNoLeaks(baseline, tag) {
  const containers = await settle(() => ourContainers(tag))
  assert.deepEqual(containers, [], `managed containers of this run${tag ? ` (test ${tag})` : ''} left behind`)
  const running = await settle(() => runningWith(RUN_ID))
  assert.deepEqual(running, [], 'a build step of this run is still running')
  const stopped = baseline.newStopped().filter((c) => c.command.includes(RUN_ID))
  assert.deepEqual(stopped, [], 'intermediate build containers of this run were left behind')
}

/** Images built by this run, by cache key, removed at the end (docker rmi, errors ignored). */
class ImageJanitor {
  constructor() {
    this.refs = new Set()
  }
  async track(image) {
    const plan = await image.plan()
    this.refs.add(plan.cacheKey)
    return plan.cacheKey
  }
  add(ref) {
    this.refs.add(ref)
  }
  cleanup() {
    for (const ref of [...this.refs].reverse()) {
      try {
        docker('rmi', ref)
      } catch {}
    }
  }
}

/** A fresh temporary directory, removed by `cleanup()`. */
function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dn-${prefix}-${RUN_ID}-`))
}

/** `docker inspect` of one container as an object. */
function inspect(id) {
  return JSON.parse(docker('inspect', id))[0]
}

/** Calls `fn`, expecting a rejection; returns the error (so tests can assert on it). */
async function rejection(fn) {
  try {
    await fn()
  } catch (e) {
    return e
  }
  assert.fail('expected a rejection')
}

module.exports = {
  ROOT,
  MANAGED,
  RUN_ID,
  RUN_LABEL,
  TEST_LABEL,
  BUSYBOX,
  sh,
  docker,
  ensureServices,
  labelsFor,
  ourContainers,
  containerBaseline,
  runningWith,
  assertNoLeaks,
  ImageJanitor,
  tempDir,
  inspect,
  rejection,
  sleep,
  settle,
}
