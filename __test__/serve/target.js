'use strict'
// The server the serve-* tests judge, and the harness around it.
//
//   startTarget(options)   `serve()` of this package when it exists, else the fake Daytona API of
//                          ../api-server/ (whose toolbox routes go to the agent of one real local
//                          sandbox). DAYTONA_SERVE_TARGET=fake forces the fake, =serve forces serve
//                          (and fails when the package has none). Resolves with
//                          { kind: 'serve'|'fake', url, apiKey, close(), fake?, backing? }.
//   startHarness(options)  startTarget + the validating proxy in front of it; `env` is what a user
//                          sets to point an official SDK at it (DAYTONA_API_URL, DAYTONA_API_KEY).
//
// The fake runs no builds and no containers of its own: every sandbox it reports shares one
// toolbox, that of a "backing" sandbox made on the local engine with this package's local backend
// (options.backing: { image, name? }, default the busybox test image). Tests that run a
// scenario whose commands depend on the image (files it adds, env, pip packages) give a backing
// image that has them; against `serve` the option is ignored (the server builds for real).

const path = require('node:path')
const crypto = require('node:crypto')
const { startValidatingProxy } = require('./validating-proxy.js')

const ROOT = path.resolve(__dirname, '..', '..')
const AGENT_IN_SANDBOX = '/.daytona-native/daytona-native-agent'
/** Label on every sandbox a serve-* test asks for (through the SDKs' `labels`), the run's id. */
const RUN_LABEL = 'daytona-native-serve-test-run'
const RUN_ID = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`

let nativeModule
const native = () => (nativeModule ??= require(ROOT))

/** 'serve' or 'fake': what startTarget() will start in this process. */
function targetKind() {
  const want = process.env.DAYTONA_SERVE_TARGET || ''
  if (want === 'fake') return 'fake'
  let hasServe = false
  try {
    hasServe = typeof native().serve === 'function'
  } catch (e) {
    if (want === 'serve') throw e
  }
  if (want === 'serve' && !hasServe) throw new Error('DAYTONA_SERVE_TARGET=serve but this build of daytona-native exports no serve()')
  return hasServe ? 'serve' : 'fake'
}

async function startTarget(options = {}) {
  const kind = targetKind()
  if (kind === 'serve') {
    const handle = await native().serve({ port: 0, host: '127.0.0.1', ...(options.apiKey ? { apiKey: options.apiKey } : {}) })
    return { kind, url: handle.url, apiKey: handle.apiKey, handle, close: () => handle.close() }
  }
  return startFake(options)
}

async function startFake(options) {
  const E = require('../engine-support/engine.js')
  const { startApiServer } = require('../api-server/server.js')
  const { relayThrough } = require('../api-server/agent.js')
  const { readS3Config } = require('../api-server/s3.js')
  E.ensureServices()
  const b = options.backing || {}
  const backing = await new (native().Daytona)({ backend: 'local' }).create(
    { image: b.image || 'daytona-test/busybox:1', labels: E.labelsFor('serve-backing') },
    { timeout: b.timeout || 600, ...(b.onLogs ? { onSnapshotCreateLogs: b.onLogs } : {}) },
  )
  let fake
  try {
    let s3 = 'none'
    if (options.s3) {
      require('../api-server/s3.js').ensureMoto()
      s3 = 'direct'
    }
    fake = await startApiServer({
      s3,
      ...(s3 === 'direct' ? { s3Config: readS3Config() } : {}),
      apiKey: options.apiKey,
      timings: { creatingMs: 5, startingMs: 5, pendingBuildMs: 10, stoppingMs: 5, destroyingMs: 5, destroyedVisibleMs: 0, snapshotPendingMs: 10, snapshotPullMs: 10 },
      build: { lineIntervalMs: 1 },
      snapshotBuild: { lineIntervalMs: 1 },
      toolboxAgent: { connect: () => relayThrough('docker', ['exec', '-i', backing.name, AGENT_IN_SANDBOX, 'relay']) },
    })
  } catch (e) {
    await backing.delete().catch(() => {})
    throw e
  }
  return {
    kind: 'fake',
    url: fake.apiUrl,
    apiKey: fake.apiKey,
    fake,
    backing,
    close: async () => {
      await fake.close()
      await backing.delete().catch(() => {})
    },
  }
}

/**
 * The target behind the validating proxy. `env`: what a user exports to point an official SDK at
 * it. Polling instead of the TypeScript SDK's socket.io event stream (not in the spec).
 */
async function startHarness(options = {}) {
  const target = await startTarget(options)
  let proxy
  try {
    proxy = await startValidatingProxy({ apiUrl: target.url })
  } catch (e) {
    await target.close()
    throw e
  }
  const env = {
    DAYTONA_API_URL: proxy.apiUrl,
    DAYTONA_API_KEY: target.apiKey,
    DAYTONA_TARGET: 'us',
    DAYTONA_USE_DEPRECATED_POLLING: 'true',
  }
  return {
    target,
    proxy,
    env,
    kind: target.kind,
    close: async () => {
      await proxy.close()
      await target.close()
    },
  }
}

/** Sets `env` in process.env for the duration of fn (restoring what was there). */
async function withEnv(env, fn) {
  const saved = {}
  for (const k of Object.keys(env)) {
    saved[k] = process.env[k]
    process.env[k] = env[k]
  }
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** `docker ps -a` ids of containers of this package carrying this run's label (any state). */
function runContainers() {
  const { execFileSync } = require('node:child_process')
  const out = execFileSync('docker', ['ps', '-a', '-q', '--no-trunc', '--filter', 'label=io.daytona-native.managed', '--filter', `label=${RUN_LABEL}=${RUN_ID}`], { encoding: 'utf8' })
  return out.split('\n').filter(Boolean)
}

module.exports = { targetKind, startTarget, startHarness, withEnv, runContainers, RUN_LABEL, RUN_ID, ROOT }
