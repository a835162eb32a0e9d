'use strict'
// Loading the package again in the same process (jest's resetModules/isolateModules; a cleared
// require cache): instanceof works for every loaded copy and nothing is wrapped twice. Runs a real
// jest on __test__/fixtures/jest-reload (jest is a devDependency).

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const E = require('./engine-support/engine.js')

const ROOT = path.resolve(__dirname, '..')

before(() => E.ensureServices())

test('a cleared require cache: the same error classes, one wrapper', async () => {
  const first = require(ROOT)
  for (const k of Object.keys(require.cache)) {
    if (k.startsWith(ROOT) && !k.endsWith('.node') && !k.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[k]
  }
  const second = require(ROOT)
  assert.notEqual(first, second)
  assert.equal(first.DaytonaError, second.DaytonaError)
  const err = await new first.Daytona({ backend: 'local' }).get('no-such-sandbox-reload').then(
    () => null,
    (e) => e,
  )
  assert.ok(err instanceof second.DaytonaNotFoundError && err instanceof first.DaytonaNotFoundError)
})

test('jest: resetModules and isolateModules keep instanceof working and wrap nothing twice', () => {
  const args = [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--rootDir', path.join(__dirname, 'fixtures', 'jest-reload'), '--testMatch', '**/*.jest.js', '--ci', '--json']
  let report
  try {
    report = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })
  } catch (e) {
    assert.fail(`jest failed (exit ${e.status}):\n${e.stderr}\n${e.stdout}`)
  }
  const r = JSON.parse(report)
  assert.equal(r.numFailedTests, 0)
  assert.equal(r.numPassedTests, 2)
})
