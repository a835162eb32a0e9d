'use strict'
// Backend selection of `new Daytona()`: the local engine when no credentials are configured and
// an engine answers, an authentication error naming both ways out when none does.

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const os = require('node:os')
const path = require('node:path')

const { ROOT, RUN_ID, ensureServices } = require('./engine-support/engine.js')
const { Daytona, DaytonaInvalidArgumentError, DaytonaError } = require('../index.js')

before(() => ensureServices())

/** Runs `script` in a child `node -e` with a clean environment (no DAYTONA_*, no DOCKER_*). */
function child(script, extraEnv = {}) {
  const env = { PATH: process.env.PATH, HOME: os.tmpdir(), ...extraEnv }
  const r = spawnSync(process.execPath, ['-e', script], { env, cwd: os.tmpdir(), encoding: 'utf8', timeout: 30_000 })
  assert.equal(r.error, undefined, `child failed to run: ${r.error}`)
  return r
}

const INDEX = JSON.stringify(path.join(ROOT, 'index.js'))

test('no credentials and no engine: DaytonaAuthenticationError naming both ways out', () => {
  const script = `
    const { Daytona, DaytonaAuthenticationError, DaytonaError } = require(${INDEX})
    try {
      new Daytona()
      console.log(JSON.stringify({ constructed: true }))
    } catch (e) {
      console.log(JSON.stringify({ name: e.name, message: e.message, auth: e instanceof DaytonaAuthenticationError,
        base: e instanceof DaytonaError, statusCode: e.statusCode }))
    }`
  const r = child(script, { DOCKER_HOST: `unix:///tmp/daytona-native-missing-${RUN_ID}.sock` })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  assert.equal(out.constructed, undefined, 'new Daytona() must not succeed without credentials or engine')
  assert.equal(out.name, 'DaytonaAuthenticationError')
  assert.ok(out.auth && out.base, 'instanceof DaytonaAuthenticationError and DaytonaError')
  assert.match(out.message, /DAYTONA_API_KEY/, 'names the platform way out')
  assert.match(out.message, /DOCKER_HOST/, 'names DOCKER_HOST')
  assert.match(out.message, /start a Docker Engine/i, 'says to start an engine')
  assert.match(out.message, new RegExp(`daytona-native-missing-${RUN_ID}\\.sock`), 'names the address it tried')
  assert.equal(r.stderr, '', 'no notice when nothing was chosen')
})

test('no credentials, engine reachable: local backend, notice printed once on stderr', () => {
  const script = `
    const { Daytona } = require(${INDEX})
    const a = new Daytona()
    const b = new Daytona()
    console.log(JSON.stringify({ a: a.backend, b: b.backend }))`
  const r = child(script)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim())
  assert.match(out.a, /local Docker Engine/)
  assert.equal(out.a, out.b)
  const notices = r.stderr.split('\n').filter((l) => /daytona-native: .*local Docker Engine/.test(l))
  assert.equal(notices.length, 1, `expected exactly one notice, stderr was:\n${r.stderr}`)
  assert.match(notices[0], /DAYTONA_API_KEY/)
  assert.equal(r.stderr.trim(), notices[0].trim(), 'nothing else on stderr')
})

test('explicit backend: local is silent, bogus is DaytonaInvalidArgumentError', () => {
  const r = child(`
    const { Daytona } = require(${INDEX})
    const d = new Daytona({ backend: 'local' })
    console.log(d.backend)`)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /local Docker Engine/)
  assert.equal(r.stderr, '', 'an explicit choice prints no notice')

  assert.throws(
    () => new Daytona({ backend: 'bogus' }),
    (e) => {
      assert.ok(e instanceof DaytonaInvalidArgumentError, `got ${e && e.name}: ${e && e.message}`)
      assert.ok(e instanceof DaytonaError)
      assert.match(e.message, /bogus/)
      assert.match(e.message, /local/)
      return true
    },
  )
})
